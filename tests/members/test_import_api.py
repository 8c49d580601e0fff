"""Member import through the API: CSV (UTF-8 or GB18030) and XLSX with Chinese headers, all
rows or none, every bad row named, progress visible while a big file goes in."""

from __future__ import annotations

import asyncio
import io

import pytest
from openpyxl import Workbook

from gridpoints.audit.tables import AuditEntry
from gridpoints.jobs.runner import run_job
from gridpoints.members.tables import Member, MemberRegistration
from tests.conftest import bearer

HEADER = ["姓名", "手机号", "类别", "所在网格", "工作单位"]
IMPORT = "/api/v1/members/import"


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    lines = [",".join(HEADER), *(",".join(row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD_ROWS = [
    ["张一", "135 0000 0001", "居民党员", "A1-B1-U1", ""],
    ["李二", "13500000002", "在职党员", "甲一小区/1号楼/1单元", "测试供电公司党委"],
    ["王三", "+86 135-0000-0003", "志愿者", "甲一小区", ""],
]


async def _upload(client, world, filename: str, content: bytes, unit: str = "A", who=None):
    return await client.post(
        IMPORT,
        files={"file": (filename, content)},
        data={"org_unit_id": str(world.units[unit])},
        headers=bearer(client, who or world.leader_a),
    )


async def _finished_job(client, world, job_id: int) -> dict:
    await client.app.state.job_queue.wait_idle()
    response = await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(client, world.leader_a))
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        pytest.param("成员.csv", _csv(GOOD_ROWS), id="csv-utf8-bom"),
        pytest.param("成员.csv", _csv(GOOD_ROWS, "gb18030"), id="csv-gb18030"),
        pytest.param("成员.xlsx", _xlsx(GOOD_ROWS), id="xlsx"),
    ],
)
async def test_a_good_file_imports_every_row(client, world, filename, content):
    audit_before = await AuditEntry.count()
    started = await _upload(client, world, filename, content)
    assert started.status_code == 202, started.text
    job = await _finished_job(client, world, started.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == 100
    assert job["result"]["imported"] == 3
    assert job["result"]["errors"] == []
    rows = await Member.select(Member.name, Member.category, Member.org_unit).where(
        Member.phone.is_in(["13500000001", "13500000002", "13500000003"])
    )
    assert {(r["name"], r["category"]) for r in rows} == {
        ("张一", "resident"),
        ("李二", "in_service"),
        ("王三", "volunteer"),
    }
    by_name = {r["name"]: r["org_unit"] for r in rows}
    assert by_name["张一"] == by_name["李二"] == world.units["A1-B1-U1"]
    assert by_name["王三"] == world.units["A1"]
    # The in-service member reports to the community, with the employer as partner unit.
    li = await Member.select(Member.id, Member.partner_unit).where(Member.name == "李二").first()
    assert li["partner_unit"] == world.partner
    registration = (
        await MemberRegistration.select().where(MemberRegistration.member == li["id"]).first()
    )
    assert registration["community"] == world.units["C"]
    created = await AuditEntry.count().where(AuditEntry.action == "member.create")
    assert created >= 3 and await AuditEntry.count() > audit_before


async def test_bad_rows_are_all_listed_and_nothing_is_imported(client, world):
    rows = [
        ["好人", "13500000011", "居民党员", "A1-B1-U1", ""],
        ["坏号", "1234", "居民党员", "A1-B1-U1", ""],
        ["无网格", "13500000013", "居民党员", "不存在的网格", ""],
        ["重复甲", "13500000014", "居民党员", "A1-B1-U1", ""],
        ["重复乙", "135 0000 0014", "居民党员", "A1-B1-U1", ""],
        ["已登记", world.phones["member_a"], "居民党员", "A1-B1-U1", ""],
        ["怪类别", "13500000017", "外星人", "A1-B1-U1", ""],
        ["乙网格", "13500000018", "居民党员", "B1-B1-U1", ""],
    ]
    members_before = await Member.count()
    started = await _upload(client, world, "members.csv", _csv(rows))
    assert started.status_code == 202
    job = await _finished_job(client, world, started.json()["job_id"])
    assert job["status"] == "failed"
    assert "未导入任何数据" in job["error"]
    problems = {(e["row"], e["column"]): e["reason"] for e in job["result"]["errors"]}
    # Spreadsheet row numbers: the header is row 1.
    assert (3, "手机号") in problems
    assert problems[(4, "所在网格")] == "未知网格"
    assert problems[(6, "手机号")] == "与第 5 行手机号重复"
    assert problems[(7, "手机号")] == "手机号已登记"
    assert (8, "类别") in problems
    # A grid outside the importing leader's subtree is unknown to them.
    assert problems[(9, "所在网格")] == "未知网格"
    assert {row for row, _ in problems} == {3, 4, 6, 7, 8, 9}
    assert await Member.count() == members_before


async def test_a_file_with_a_missing_column_fails_naming_the_column(client, world):
    content = "姓名,手机号,所在网格\r\n张一,13500000021,A1-B1-U1\r\n".encode()
    started = await _upload(client, world, "members.csv", content)
    job = await _finished_job(client, world, started.json()["job_id"])
    assert job["status"] == "failed"
    assert "类别" in job["error"]


@pytest.mark.parametrize(
    ("filename", "content", "status"),
    [
        pytest.param("members.pdf", b"%PDF-1.4", 400, id="not-a-spreadsheet"),
        pytest.param("members.csv", b"", 400, id="empty"),
    ],
)
async def test_uploads_that_are_not_member_lists_get_a_problem_naming_the_file(
    client, world, filename, content, status
):
    response = await _upload(client, world, filename, content)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == ["file"]


async def test_an_upload_over_the_size_limit_gets_413(client, world, settings):
    too_big = _csv([["张一", "13500000031", "居民党员", "A1-B1-U1", "x" * 90]] * 1) + b"#" * (
        settings.upload_max_bytes + 1
    )
    response = await _upload(client, world, "members.csv", too_big)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_importing_into_a_sibling_grid_is_not_found(client, world):
    response = await _upload(client, world, "members.csv", _csv(GOOD_ROWS), unit="B")
    assert response.status_code == 404


async def test_ten_thousand_rows_import_with_visible_progress(client, world):
    rows = [[f"队员{n}", f"1370000{n:04d}", "居民党员", "A1-B1-U1", ""] for n in range(10_000)]
    started = await _upload(client, world, "big.csv", _csv(rows))
    job_id = started.json()["job_id"]
    seen: list[int] = []
    headers = bearer(client, world.leader_a)
    while True:
        job = (await client.get(f"/api/v1/jobs/{job_id}", headers=headers)).json()
        if not seen or seen[-1] != job["progress"]:
            seen.append(job["progress"])
        if job["status"] in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.005)
    assert job["status"] == "succeeded", job
    assert job["result"]["imported"] == 10_000
    assert seen == sorted(seen), "progress never goes back"
    assert any(0 < p < 100 for p in seen), f"no progress seen between 0 and 100: {seen}"
    assert await Member.count().where(Member.phone.like("1370000%")) == 10_000


async def test_a_second_delivery_of_a_finished_import_changes_nothing(client, world, settings):
    started = await _upload(client, world, "members.csv", _csv(GOOD_ROWS))
    job_id = started.json()["job_id"]
    await client.app.state.job_queue.wait_idle()
    counts = (await Member.count(), await AuditEntry.count())
    assert (await run_job(job_id, settings)).value == "succeeded"
    assert (await Member.count(), await AuditEntry.count()) == counts
