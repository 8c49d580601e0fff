"""Member import: the header row is found among the sheet's first rows by the known column
names, below titles, dates and blank rows and right of blank columns, in XLSX and CSV; rows
are reported by the sheet's own numbers; a sheet without a header says what was sought where."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from gridpoints.members.roster_import.reading import (
    HEADER_SEARCH_ROWS,
    ImportFileError,
    read_table,
)
from gridpoints.members.tables import Member
from tests.conftest import bearer

HEADER = ["姓名", "手机号", "类别", "所在网格", "工作单位"]
IMPORT = "/api/v1/members/import"
TITLE = "阳光小区党员花名册"
ROWS = [
    ["张一", "135 0000 0001", "居民党员", "A1-B1-U1", ""],
    # Typed on a phone keyboard in full-width digits: stored as 13500000002.
    ["李二", "１３５０００００００２", "在职党员", "甲一小区/1号楼/1单元", "测试供电公司党委"],
    ["王三", "+86 135-0000-0003", "志愿者", "甲一小区", ""],
]
PHONES = ["13500000001", "13500000002", "13500000003"]


def _xlsx(
    rows: list[list[object]],
    *,
    header: list[str] = HEADER,
    above: list[list[object]] = (),
    skip_columns: int = 0,
    merged_title: str | None = None,
) -> bytes:
    """A sheet as people make them: an optional merged title in row 1, `above` rows (a date
    line, a blank row) then the header and the rows, all `skip_columns` columns right."""
    book = Workbook()
    sheet = book.active
    number = 1
    width = len(header)
    if merged_title is not None:
        sheet.cell(row=1, column=1 + skip_columns, value=merged_title)
        sheet.merge_cells(
            start_row=1, start_column=1 + skip_columns, end_row=1, end_column=skip_columns + width
        )
        number = 2
    for cells in [*above, header, *rows]:
        for column, value in enumerate(cells, start=1 + skip_columns):
            if value not in ("", None):
                sheet.cell(row=number, column=column, value=value)
        number += 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(lines: list[list[str]]) -> bytes:
    return ("\r\n".join(",".join(cells) for cells in lines) + "\r\n").encode("utf-8-sig")


async def _import(client, world, filename: str, content: bytes) -> dict:
    headers = bearer(client, world.leader_a)
    started = await client.post(
        IMPORT,
        files={"file": (filename, content)},
        data={"org_unit_id": str(world.units["A"])},
        headers=headers,
    )
    assert started.status_code == 202, started.text
    await client.app.state.job_queue.wait_idle()
    job = await client.get(f"/api/v1/jobs/{started.json()['job_id']}", headers=headers)
    assert job.status_code == 200, job.text
    return job.json()


# --- through the API, on both engines --------------------------------------------------------


async def test_an_xlsx_with_a_merged_title_above_the_header_imports_every_row(client, world):
    """The reported input: row 1 is the merged title, the header is row 2."""
    job = await _import(client, world, "花名册.xlsx", _xlsx(ROWS, merged_title=TITLE))
    assert job["status"] == "succeeded", job
    assert job["result"]["imported"] == 3 and job["result"]["errors"] == []
    assert await Member.count().where(Member.phone.is_in(PHONES)) == 3


async def test_bad_rows_below_a_title_a_date_and_blank_columns_name_the_sheets_own_rows(
    client, world
):
    rows = [
        ["张一", "13500000001", "居民党员", "A1-B1-U1", ""],
        ["坏号", "1234", "居民党员", "A1-B1-U1", ""],
        ["", "", "", "", ""],
        ["无网格", "13500000004", "居民党员", "不存在的网格", ""],
    ]
    content = _xlsx(
        rows,
        merged_title=TITLE,
        above=[["制表日期：2026年11月30日"], []],
        skip_columns=2,
    )
    job = await _import(client, world, "花名册.xlsx", content)
    assert job["status"] == "failed", job
    problems = {(e["row"], e["column"]): e["reason"] for e in job["result"]["errors"]}
    # Title row 1, date row 2, blank row 3, header row 4: the data starts at row 5.
    assert set(problems) == {(6, "手机号"), (8, "所在网格")}, problems
    assert problems[(8, "所在网格")] == "未知网格"
    assert await Member.count().where(Member.phone == "13500000001") == 0


async def test_a_csv_with_a_title_line_imports_every_row(client, world):
    content = _csv([[TITLE, "", "", "", ""], HEADER, *ROWS])
    job = await _import(client, world, "花名册.csv", content)
    assert job["status"] == "succeeded", job
    assert job["result"]["imported"] == 3
    assert await Member.count().where(Member.phone.is_in(PHONES)) == 3


async def test_a_sheet_without_a_header_names_the_columns_sought_and_the_rows_read(client, world):
    content = _xlsx([["张一", "13500000001", "居民党员", "A1-B1-U1"]], header=[TITLE])
    job = await _import(client, world, "花名册.xlsx", content)
    assert job["status"] == "failed"
    error = job["error"]
    for column in ("姓名", "手机号", "类别", "所在网格"):
        assert column in error, error
    assert "第 1–2 行" in error, error
    assert await Member.count().where(Member.phone == "13500000001") == 0


# --- reading alone -----------------------------------------------------------------------------


def _numbers(filename: str, content: bytes) -> list[tuple[int, str]]:
    return [(number, values["phone"]) for number, values in read_table(filename, content)]


MEMBER = {"name": "张一", "phone": "13500000001", "category": "居民党员", "grid": "A1"}
IN_ORDER = ["张一", "13500000001", "居民党员", "A1"]


@pytest.mark.parametrize(
    ("header", "row"),
    [
        pytest.param(
            ["姓　名", " 手机号码 ", "类　别", "所在网格"], IN_ORDER, id="full-width-spaces"
        ),
        pytest.param(["*姓名", "手机号（必填）", "党员类别：", "网格"], IN_ORDER, id="marks-notes"),
        pytest.param(["Name", "PHONE", "Category", "ｇｒｉｄ"], IN_ORDER, id="latin-full-width"),
        pytest.param(
            ["姓\u00a0名", "联系\n电话", "类\u200b别", "所属网格"], IN_ORDER, id="nbsp-zwsp"
        ),
        pytest.param(
            ["所在网格", "类别", "姓名", "手机"],
            ["A1", "居民党员", "张一", "13500000001"],
            id="any-order",
        ),
    ],
)
def test_header_cells_match_whatever_their_spacing_width_marks_and_order(header, row):
    content = _xlsx([row], header=header, above=[[TITLE]])
    [(number, values)] = list(read_table("m.xlsx", content))
    assert number == 3
    assert {key: values[key] for key in MEMBER} == MEMBER


def test_a_csv_header_below_blank_lines_and_right_of_blank_columns_is_found():
    content = _csv(
        [
            [TITLE],
            ["", "", "", "", "制表日期：2026-11-30"],
            [],
            ["", "", *HEADER],
            ["", "1", *ROWS[0]],
            ["", "2", *ROWS[1]],
        ]
    )
    assert _numbers("m.csv", content) == [(5, "135 0000 0001"), (6, ROWS[1][1])]


def test_a_header_repeated_lower_down_is_not_read_as_a_member():
    content = _xlsx([ROWS[0], HEADER, ROWS[1]], merged_title=TITLE)
    assert _numbers("m.xlsx", content) == [(3, "135 0000 0001"), (5, ROWS[1][1])]


def test_a_header_missing_a_column_is_named_with_its_row():
    content = _xlsx([ROWS[0]], header=["姓名", "手机号", "所在网格"], merged_title=TITLE)
    with pytest.raises(ImportFileError) as refused:
        list(read_table("m.xlsx", content))
    assert str(refused.value) == "缺少列：类别（表头在第 2 行）"


def test_the_header_is_sought_only_among_the_first_rows():
    notes = [[f"说明 {n}"] for n in range(HEADER_SEARCH_ROWS)]
    content = _xlsx([ROWS[0]], above=notes)
    with pytest.raises(ImportFileError) as refused:
        list(read_table("m.xlsx", content))
    message = str(refused.value)
    assert f"前 {HEADER_SEARCH_ROWS} 行" in message and f"第 1–{HEADER_SEARCH_ROWS} 行" in message
    assert "姓名、手机号、类别、所在网格" in message
    just_inside = _xlsx([ROWS[0]], above=notes[1:])
    assert _numbers("m.xlsx", just_inside) == [(HEADER_SEARCH_ROWS + 1, "135 0000 0001")]
