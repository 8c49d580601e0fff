"""Member import within bounds: an XLSX that unpacks beyond the limits is refused before it is
parsed, rows are read as a stream (a run of empty rows ends the table, a row limit refuses the
file), the job's peak memory stays under 200 MB for hostile uploads within the size limit, and a
bad-row report never grows beyond a fixed size."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import msgspec
import pytest
from bench.import_memory import (
    INPUTS,
    LIMIT_MB,
    gridpoints_command,
    gridpoints_env,
    one_huge_row,
    peak_of,
)

from gridpoints.auth.principal import Principal
from gridpoints.jobs.dispatch import RunByCaller, start_job
from gridpoints.jobs.runner import run_job
from gridpoints.jobs.services import get_job
from gridpoints.jobs.tables import Job
from gridpoints.members.roster_import.job import KIND
from gridpoints.members.roster_import.reading import ImportFileError, ImportLimits, read_table
from gridpoints.members.tables import Member
from tests.conftest import bearer

HEADER = ["姓名", "手机号", "类别", "所在网格", "工作单位"]
IMPORT = "/api/v1/members/import"


def _xlsx(rows: list[list[object]], *, at: dict[int, list[object]] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    for number, cells in (at or {}).items():
        for column, value in enumerate(cells, start=1):
            sheet.cell(row=number, column=column, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    lines = [",".join(HEADER), *(",".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


def _with_part(xlsx: bytes, name: str, data: bytes) -> bytes:
    """The workbook with one part added (or its content replaced)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    parts = {i.filename: source.read(i) for i in source.infolist()}
    return _zip({**parts, name: data})


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("import-bombs")
    made: dict[str, Path] = {}
    for name in ("shared-string-100mb", "long-cells", "csv-wide-row"):
        suffix, make = INPUTS[name]
        made[name] = folder / f"{name}{suffix}"
        make(made[name])
    # A million cells in one row: 19 MB of sheet XML (a tree of it took 600 MB on the old code).
    made["one-huge-row"] = folder / "one-huge-row.xlsx"
    one_huge_row(made["one-huge-row"], batches=100)
    return made


async def _upload(client, world, filename: str, content: bytes):
    return await client.post(
        IMPORT,
        files={"file": (filename, content)},
        data={"org_unit_id": str(world.units["A"])},
        headers=bearer(client, world.leader_a),
    )


async def _job_of(client, world, started) -> dict:
    assert started.status_code == 202, started.text
    await client.app.state.job_queue.wait_idle()
    job_id = started.json()["job_id"]
    response = await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(client, world.leader_a))
    return response.json()


# --- refused before parsing ---------------------------------------------------------------


async def test_the_reported_shared_string_bomb_is_refused_at_upload_naming_the_file(
    client, world, bombs
):
    jobs_before = await Job.count()
    response = await _upload(client, world, "成员.xlsx", bombs["shared-string-100mb"].read_bytes())
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    (error,) = response.json()["errors"]
    assert error["field"] == "file"
    assert "解压后超过 50 MB" in error["detail"] or "压缩比" in error["detail"]
    assert await Job.count() == jobs_before, "no job is started for a refused file"


async def test_a_part_compressed_beyond_the_ratio_is_refused_though_small_unpacked(client, world):
    # 5 MB of "A" unpacks well under the 50 MB limit but compresses about 1000:1.
    bomb = _with_part(
        _xlsx([["张一", "13500000001", "居民党员", "A1-B1-U1", ""]]),
        "xl/sharedStrings.xml",
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        + b"A" * (5 * 1024 * 1024)
        + b"</t></si></sst>",
    )
    response = await _upload(client, world, "成员.xlsx", bomb)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "file" and "压缩比" in error["detail"]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"PK\x03\x04 not really a zip", id="not-a-zip"),
        pytest.param(_zip({"hello.txt": b"hello"}), id="zip-without-workbook"),
        pytest.param(
            _zip({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>"}),
            id="package-without-workbook",
        ),
    ],
)
async def test_an_xlsx_that_is_no_workbook_is_refused_at_upload(client, world, content):
    response = await _upload(client, world, "成员.xlsx", content)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["field"] == "file" and "XLSX" in error["detail"]


async def test_the_import_job_refuses_the_bomb_too(db, settings, world, bombs):
    """`gridpoints import-members` hands the file straight to the job."""
    job_id = await start_job(
        RunByCaller(settings),
        Principal.system("cli"),
        KIND,
        {"org_unit_id": world.units["A"], "filename": "bomb.xlsx"},
        org_unit_id=world.units["A"],
        input_file=(
            "bomb.xlsx",
            "application/octet-stream",
            bombs["shared-string-100mb"].read_bytes(),
        ),
    )
    assert (await run_job(job_id, settings)).value == "failed"
    job = await get_job(Principal.system("cli"), job_id)
    assert "解压后超过" in job.error or "压缩比" in job.error


# --- peak memory --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["shared-string-100mb", "long-cells", "one-huge-row", "csv-wide-row"]
)
async def test_the_import_jobs_peak_memory_stays_under_200_mb(settings, world, bombs, name):
    """The job of `gridpoints import-members` runs in its own process on the test's database;
    its own peak resident memory is read when it ends."""
    env = gridpoints_env(
        settings.var_dir,
        settings.database_url,
        SECRET_KEY=settings.secret_key,
        GRIDPOINTS_AUDIT_KEY=settings.audit_key,
    )
    command = [*gridpoints_command(), "import-members"]
    unit = str(world.units["A"])
    code, peak, output = peak_of([*command, str(bombs[name]), "--org-unit", unit], env)
    assert "导入失败" in output, output[-2000:]
    assert "任务执行出错" not in output, output[-2000:]
    assert code == 1
    assert peak < LIMIT_MB, f"{name}: peak {peak:.0f} MB"


# --- streaming rows: empty runs and the row limit -------------------------------------------


def test_reading_stops_after_a_run_of_empty_rows():
    limits = ImportLimits(max_empty_rows=5)
    row = ["张一", "13500000001", "居民党员", "A1-B1-U1", ""]
    far = ["李二", "13500000002", "居民党员", "A1-B1-U1", ""]
    near = ["王三", "13500000003", "居民党员", "A1-B1-U1", ""]
    xlsx = _xlsx([row], at={7: near, 20: far, 1_048_576: far})
    assert [n for n, _ in read_table("m.xlsx", xlsx, limits)] == [2, 7]
    csv = _csv([row, *[[""] * 5] * 4, near, *[[""] * 5] * 5, far])
    assert [n for n, _ in read_table("m.csv", csv, limits)] == [2, 7]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_beyond_the_row_limit_is_refused_with_the_limit_named(kind):
    rows = [[f"队员{n}", f"1370000{n:04d}", "居民党员", "A1-B1-U1", ""] for n in range(11)]
    data = _csv(rows) if kind == "csv" else _xlsx(rows)
    limits = ImportLimits(max_rows=10)
    with pytest.raises(ImportFileError, match="数据超过 10 行"):
        list(read_table(f"m.{kind}", data, limits))
    assert len(list(read_table(f"m.{kind}", data, ImportLimits(max_rows=11)))) == 11


async def test_the_job_refuses_a_file_beyond_the_row_limit_and_imports_nothing(db, settings, world):
    rows = [[f"队员{n}", f"1370000{n:04d}", "居民党员", "A1-B1-U1", ""] for n in range(30)]
    job_id = await start_job(
        RunByCaller(settings),
        Principal.system("cli"),
        KIND,
        {"org_unit_id": world.units["A"], "filename": "m.csv"},
        org_unit_id=world.units["A"],
        input_file=("m.csv", "text/csv", _csv(rows)),
    )
    members_before = await Member.count()
    limited = msgspec.structs.replace(settings, import_max_rows=20)
    assert (await run_job(job_id, limited)).value == "failed"
    job = await get_job(Principal.system("cli"), job_id)
    assert "数据超过 20 行" in job.error
    assert await Member.count() == members_before


async def test_a_csv_field_too_long_fails_the_job_with_a_clear_message(client, world):
    content = _csv([["张一", "13500000001", "居民党员", "A1-B1-U1", "x" * 300_000]])
    job = await _job_of(client, world, await _upload(client, world, "m.csv", content))
    assert job["status"] == "failed"
    assert "第 2 行" in job["error"] and "过长" in job["error"], job["error"]


# --- the bad-row report ---------------------------------------------------------------------


async def test_a_bad_row_report_lists_the_first_thousand_rows_cut_short_with_the_total(
    client, world
):
    long_name = "名" * 2_000
    rows = [[long_name, f"1370000{n:04d}", "居民党员", "A1-B1-U1", ""] for n in range(1_500)]
    job = await _job_of(client, world, await _upload(client, world, "m.csv", _csv(rows)))
    assert job["status"] == "failed"
    assert "1500 行有误" in job["error"] and "未导入任何数据" in job["error"]
    result = job["result"]
    assert result["bad_rows"] == 1_500
    listed = sorted({e["row"] for e in result["errors"]})
    assert listed == list(range(2, 1_002)), "the first 1,000 bad rows, in order"
    values = [e["value"] for e in result["errors"]]
    assert all(len(v) <= 101 for v in values)
    assert values[0] == "名" * 100 + "…"
    assert len(json.dumps(result, ensure_ascii=False).encode()) < 1024 * 1024


def test_an_xlsx_as_excel_writes_it_reads_shared_rich_and_numeric_cells(tmp_path):
    """Excel keeps text in shared strings (rich runs, phonetic guides), phones as numbers,
    and may prefix the namespace; the streamed reader gives what openpyxl gave."""
    from bench.import_memory import _package

    ns = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    strings = [*HEADER, "张一", "居民党员", "甲一小区/1号楼/1单元"]
    shared = "".join(f"<x:si><x:t>{s}</x:t></x:si>" for s in strings[:-2])
    shared += "<x:si><x:r><x:rPr><x:b/></x:rPr><x:t>居民</x:t></x:r><x:r><x:t>党员</x:t></x:r>"
    shared += "<x:rPh sb='0' eb='1'><x:t>ジュウミン</x:t></x:rPh></x:si>"
    shared += f"<x:si><x:t xml:space='preserve'> {strings[-1]} </x:t></x:si>"
    header = "".join(f'<x:c r="{c}1" t="s"><x:v>{i}</x:v></x:c>' for i, c in enumerate("ABCDE"))
    row2 = (
        '<x:c r="A2" t="s"><x:v>5</x:v></x:c><x:c r="B2"><x:v>13500000001</x:v></x:c>'
        '<x:c r="C2" t="s"><x:v>6</x:v></x:c><x:c r="D2" t="s"><x:v>7</x:v></x:c>'
    )
    row3 = '<x:c r="B3"><x:v>1.3500000002E10</x:v></x:c>'
    sheet = f'<x:worksheet {ns}><x:sheetData><x:row r="1">{header}</x:row>'
    sheet += f'<x:row r="2">{row2}</x:row><x:row r="3">{row3}</x:row>'
    sheet += "</x:sheetData></x:worksheet>"
    path = tmp_path / "excel.xlsx"
    _package(
        path,
        sheet=lambda: iter([sheet.encode()]),
        shared=lambda: iter([f"<x:sst {ns}>{shared}</x:sst>".encode()]),
    )
    rows = list(read_table("excel.xlsx", path.read_bytes()))
    assert rows == [
        (2, {"name": "张一", "phone": "13500000001", "category": "居民党员",
             "grid": "甲一小区/1号楼/1单元", "employer": ""}),
        (3, {"name": "", "phone": "13500000002", "category": "", "grid": "", "employer": ""}),
    ]  # fmt: skip
