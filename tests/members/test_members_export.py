"""The member export (`GET /api/v1/members/export.xlsx`): a spreadsheet with Chinese headers
holding exactly the members the list shows the caller, phones masked exactly as the list
masks them, refused exactly as the list is refused."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from gridpoints.clock import utcnow
from gridpoints.members.tables import Member
from tests.conftest import bearer

MEMBERS = "/api/v1/members"
EXPORT = f"{MEMBERS}/export.xlsx"
HEADER = ("姓名", "手机号", "类别", "所在网格", "工作单位", "状态")
NOWHERE = 987_654_321


def _rows(response) -> list[tuple]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [tuple(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[0] == HEADER
    return rows[1:]


async def _export(client, actor: int, **params) -> list[tuple]:
    return _rows(await client.get(EXPORT, params=params, headers=bearer(client, actor)))


async def _listed(client, actor: int, **params) -> list[dict]:
    response = await client.get(
        MEMBERS, params={"limit": 500, **params}, headers=bearer(client, actor)
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


async def test_a_leader_exports_their_grid_with_full_phones_and_chinese_labels(client, world):
    response = await client.get(EXPORT, headers=bearer(client, world.leader_a))
    assert "attachment" in response.headers["content-disposition"]
    rows = _rows(response)
    assert {row[0] for row in rows} == {"管理员甲", "网格长甲", "志愿者甲", "在职甲"}
    by_name = {row[0]: row for row in rows}
    assert by_name["在职甲"] == (
        "在职甲",
        world.phones["member_a"],
        "在职党员",
        "1单元",
        "测试供电公司",
        "在册",
    )
    assert by_name["网格长甲"][2] == "离退休党员" and by_name["志愿者甲"][2] == "志愿者"
    assert by_name["志愿者甲"][4] is None  # no employer: an empty cell


async def test_phones_in_the_export_are_masked_exactly_as_in_the_list(client, world):
    for actor in (world.viewer_a, world.leader_a, world.admin, world.leader_b):
        exported = {row[0]: row[1] for row in await _export(client, actor)}
        listed = {m["name"]: m["phone"] for m in await _listed(client, actor)}
        assert exported == listed, actor
    viewer = {row[0]: row[1] for row in await _export(client, world.viewer_a)}
    assert viewer["志愿者甲"] == world.phones["viewer_a"]  # their own number
    assert viewer["在职甲"] == "139****0005"
    assert viewer["网格长甲"] == "139****0002" and viewer["管理员甲"] == "139****0001"


async def test_the_export_holds_nothing_of_grids_the_caller_cannot_see(client, world):
    leader_a = await client.get(EXPORT, headers=bearer(client, world.leader_a))
    names = {row[0] for row in _rows(leader_a)}
    assert not names & {"居民乙", "网格长乙"}
    raw = load_workbook(io.BytesIO(leader_a.content), read_only=True)
    cells = {str(c) for row in raw.worksheets[0].iter_rows(values_only=True) for c in row}
    assert world.phones["member_b"] not in cells
    # A member without a role gets the headers and nothing else.
    assert await _export(client, world.member_a) == []


async def test_the_export_filters_by_grid_and_category_like_the_list(client, world):
    in_b = await _export(client, world.admin, org_unit_id=world.units["B"])
    assert {row[0] for row in in_b} == {"网格长乙", "居民乙"}
    retired = await _export(client, world.admin, category="retired")
    assert {row[0] for row in retired} == {"网格长甲", "网格长乙"}
    both = await _export(client, world.admin, org_unit_id=world.units["A"], category="in_service")
    assert [row[0] for row in both] == ["在职甲"]


async def test_the_export_is_refused_like_the_list(client, world):
    headers = bearer(client, world.leader_a)
    sibling = await client.get(EXPORT, params={"org_unit_id": world.units["B"]}, headers=headers)
    missing = await client.get(EXPORT, params={"org_unit_id": NOWHERE}, headers=headers)
    _refused(sibling, 404)
    _refused(missing, 404)
    assert {**sibling.json(), "instance": None} == {**missing.json(), "instance": None}
    _refused(
        await client.get(EXPORT, params={"org_unit_id": 0}, headers=headers), 400, "org_unit_id"
    )
    _refused(
        await client.get(EXPORT, params={"category": "martian"}, headers=headers), 400, "category"
    )
    _refused(await client.get(EXPORT), 401)


async def test_a_member_status_is_exported_in_chinese(client, world):
    patched = await client.patch(
        f"{MEMBERS}/{world.member_a}",
        json={"status": "moved_out"},
        headers=bearer(client, world.leader_a),
    )
    assert patched.status_code == 200, patched.text
    by_name = {row[0]: row for row in await _export(client, world.leader_a)}
    assert by_name["在职甲"][5] == "已迁出"


async def test_an_export_larger_than_one_read_batch_holds_every_member_once(client, world):
    now = utcnow()
    many = 1_203
    await Member.insert(
        *[
            Member(
                name=f"批量{i:04d}",
                phone=f"1370000{i:04d}",
                category="resident",
                org_unit=world.units["A1-B1-U1"],
                status="active",
                created_at=now,
                updated_at=now,
            )
            for i in range(many)
        ]
    )
    viewer = await _export(client, world.viewer_a)
    names = [row[0] for row in viewer]
    assert len(names) == len(set(names)) == many + 4
    bulk = {row[0]: row[1] for row in viewer if row[0].startswith("批量")}
    assert bulk["批量0042"] == "137****0042" and len(bulk) == many
