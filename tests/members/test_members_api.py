"""Members, roles and dual registration through the API: scope, masking, refusals that name
the field and leave nothing half-written."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from gridpoints.audit.tables import AuditEntry
from gridpoints.members.tables import Member, MemberRegistration, RoleAssignment
from tests.conftest import bearer

MEMBERS = "/api/v1/members"


def _new(world, **fields) -> dict:
    return {
        "name": "新成员",
        "phone": "137 1234 0001",
        "category": "resident",
        "org_unit_id": world.units["A1-B1-U1"],
        **fields,
    }


async def _counts() -> tuple[int, int, int]:
    return (await Member.count(), await MemberRegistration.count(), await AuditEntry.count())


async def test_a_leader_adds_a_member_with_a_normalised_phone_and_it_is_audited(client, world):
    before = await AuditEntry.count()
    created = await client.post(
        MEMBERS, json=_new(world, phone="+86 137-1234-0001"), headers=bearer(client, world.leader_a)
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["phone"] == "13712340001" and body["phone_masked"] is False
    assert body["org_unit_name"] == "1单元"
    entry = await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()
    assert entry["action"] == "member.create" and entry["object_id"] == body["id"]
    assert entry["actor_id"] == world.leader_a
    assert await AuditEntry.count() == before + 1


async def test_an_in_service_member_is_dual_registered_with_the_community(client, world):
    created = await client.post(
        MEMBERS,
        json=_new(world, category="in_service", partner_unit_id=world.partner, employer="供电"),
        headers=bearer(client, world.admin),
    )
    assert created.status_code == 201, created.text
    registration = created.json()["registration"]
    assert registration["community_id"] == world.units["C"]
    assert registration["partner_unit_id"] == world.partner
    assert registration["state"] == "active"


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        pytest.param({"phone": "139 0000 0006"}, 409, "phone", id="phone-taken-written-otherwise"),
        pytest.param({"phone": "12345"}, 400, "phone", id="bad-phone"),
        pytest.param({"category": "martian"}, 400, "category", id="unknown-category"),
        pytest.param({"name": ""}, 400, "name", id="empty-name"),
        pytest.param({"unexpected": 1}, 400, "unexpected", id="unknown-field"),
    ],
)
async def test_bad_members_are_refused_naming_the_field_and_write_nothing(
    client, world, fields, status, field
):
    counts = await _counts()
    response = await client.post(
        MEMBERS, json=_new(world, **fields), headers=bearer(client, world.admin)
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    named = [e["field"] for e in body.get("errors", [])] or [body.get("field")]
    assert any(field in (name or "") for name in named) or field in body["detail"], body
    assert await _counts() == counts


async def test_an_in_service_member_with_a_bad_partner_unit_leaves_no_member_behind(client, world):
    counts = await _counts()
    response = await client.post(
        MEMBERS,
        json=_new(world, category="in_service", partner_unit_id=987654),
        headers=bearer(client, world.admin),
    )
    assert 400 <= response.status_code < 500
    assert await _counts() == counts


async def test_phones_are_masked_for_callers_who_do_not_manage_the_member(client, world):
    path = f"{MEMBERS}/{world.member_a}"
    leader = (await client.get(path, headers=bearer(client, world.leader_a))).json()
    viewer = (await client.get(path, headers=bearer(client, world.viewer_a))).json()
    self_view = (await client.get(path, headers=bearer(client, world.member_a))).json()
    assert leader["phone"] == self_view["phone"] == "13900000005"
    assert viewer["phone"] == "139****0005" and viewer["phone_masked"] is True
    listed = (await client.get(MEMBERS, headers=bearer(client, world.viewer_a))).json()
    assert listed["items"]
    others = [m for m in listed["items"] if m["id"] != world.viewer_a]
    assert others and all(m["phone_masked"] and "****" in m["phone"] for m in others)
    # Searching by digits cannot be used to probe a masked number.
    probe = await client.get(MEMBERS, params={"q": "0005"}, headers=bearer(client, world.viewer_a))
    assert probe.json()["items"] == []


def _sheet(content: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(r) for r in book.worksheets[0].iter_rows(values_only=True)]


async def test_the_export_masks_phones_the_same_way(client, world):
    leader = await client.get(f"{MEMBERS}/export.xlsx", headers=bearer(client, world.leader_a))
    viewer = await client.get(f"{MEMBERS}/export.xlsx", headers=bearer(client, world.viewer_a))
    assert leader.status_code == viewer.status_code == 200
    assert leader.headers["content-type"].startswith("application/vnd.openxmlformats")
    leader_rows, viewer_rows = _sheet(leader.content), _sheet(viewer.content)
    assert leader_rows[0] == ("姓名", "手机号", "类别", "所在网格", "工作单位", "状态")
    by_name = {row[0]: row for row in leader_rows[1:]}
    assert by_name["在职甲"][1] == "13900000005"
    assert by_name["在职甲"][2] == "在职党员"
    masked = {row[0]: row[1] for row in viewer_rows[1:] if row[0] != "志愿者甲"}
    assert masked["在职甲"] == "139****0005"
    assert all("****" in phone for phone in masked.values())
    # Only the caller's grids: nothing of grid B.
    assert "居民乙" not in by_name
    sibling = await client.get(
        f"{MEMBERS}/export.xlsx",
        params={"org_unit_id": world.units["B"]},
        headers=bearer(client, world.leader_a),
    )
    assert sibling.status_code == 404


async def test_patch_changes_a_member_and_refuses_a_taken_phone(client, world):
    headers = bearer(client, world.leader_a)
    renamed = await client.patch(
        f"{MEMBERS}/{world.viewer_a}", json={"name": "志愿者甲改"}, headers=headers
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "志愿者甲改"
    counts = await _counts()
    clash = await client.patch(
        f"{MEMBERS}/{world.viewer_a}", json={"phone": "13900000005"}, headers=headers
    )
    assert clash.status_code == 409
    assert await _counts() == counts


async def test_roles_are_granted_and_revoked_by_those_who_may(client, world):
    admin = bearer(client, world.admin)
    granted = await client.post(
        f"{MEMBERS}/{world.member_a}/roles",
        json={"role": "building_head", "org_unit_id": world.units["A1-B1"]},
        headers=admin,
    )
    assert granted.status_code == 201, granted.text
    second = await client.post(
        f"{MEMBERS}/{world.member_a}/roles",
        json={"role": "volunteer", "org_unit_id": world.units["A"]},
        headers=admin,
    )
    assert second.status_code == 201
    roles = (await client.get(f"{MEMBERS}/{world.member_a}/roles", headers=admin)).json()
    assert {(r["role"], r["org_unit_id"]) for r in roles} == {
        ("building_head", world.units["A1-B1"]),
        ("volunteer", world.units["A"]),
    }
    again = await client.post(
        f"{MEMBERS}/{world.member_a}/roles",
        json={"role": "building_head", "org_unit_id": world.units["A1-B1"]},
        headers=admin,
    )
    assert again.status_code == 409
    # A grid leader may not appoint (no role management) even inside their grid.
    refused = await client.post(
        f"{MEMBERS}/{world.member_a}/roles",
        json={"role": "volunteer", "org_unit_id": world.units["A1"]},
        headers=bearer(client, world.leader_a),
    )
    assert refused.status_code == 403
    revoked = await client.delete(
        f"{MEMBERS}/{world.member_a}/roles/{granted.json()['id']}", headers=admin
    )
    assert revoked.status_code == 204
    assert await RoleAssignment.count().where(RoleAssignment.member == world.member_a) == 1


async def test_registrations_end_and_only_one_is_active(client, world):
    admin = bearer(client, world.admin)
    path = f"{MEMBERS}/{world.member_a}/registrations"
    duplicate = await client.post(path, json={"reported_on": "2026-02-01"}, headers=admin)
    assert duplicate.status_code == 409
    ended = await client.post(
        f"{path}/{world.registration_a}/end", json={"ended_on": "2026-12-31"}, headers=admin
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["state"] != "active"
    fresh = await client.post(
        path, json={"reported_on": "2027-01-01", "partner_unit_id": world.partner}, headers=admin
    )
    assert fresh.status_code == 201, fresh.text
    listed = (await client.get(path, headers=admin)).json()
    assert sorted(r["state"] for r in listed) == sorted(["active", ended.json()["state"]])


async def test_partner_units_pair_with_a_community_once(client, world):
    admin = bearer(client, world.admin)
    created = await client.post(
        "/api/v1/partner-units",
        json={"name": "区税务局机关党委", "kind": "government", "org_unit_id": world.units["C"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    partner = created.json()["id"]
    pairing = {"community_id": world.units["C"], "agreement": "共建协议", "signed_on": "2026-03-01"}
    first = await client.post(
        f"/api/v1/partner-units/{partner}/pairings", json=pairing, headers=admin
    )
    assert first.status_code == 201, first.text
    second = await client.post(
        f"/api/v1/partner-units/{partner}/pairings", json=pairing, headers=admin
    )
    assert second.status_code == 409
    listed = await client.get(f"/api/v1/partner-units/{partner}/pairings", headers=admin)
    assert [p["state"] for p in listed.json()] == ["active"]
