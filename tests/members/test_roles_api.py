"""Roles held on org units through the API: one person holds several; they are granted and
revoked only by someone who manages roles on that unit and holds the role's powers; a grid
leader reaches nothing outside their grid; every grant and revoke is audited."""

from __future__ import annotations

import asyncio

import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.auth.roles import Role
from gridpoints.members import services
from gridpoints.members.schemas import RoleGrantIn
from gridpoints.members.tables import RoleAssignment
from tests.conftest import bearer
from tests.world import SYSTEM

MEMBERS = "/api/v1/members"
NOWHERE = 987_654_321


def _refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


async def _counts() -> tuple[int, int]:
    return (await RoleAssignment.count(), await AuditEntry.count())


async def _grant(client, actor: int, member: int, role: str, unit: int):
    return await client.post(
        f"{MEMBERS}/{member}/roles",
        json={"role": role, "org_unit_id": unit},
        headers=bearer(client, actor),
    )


async def _role_id(member: int, role: Role) -> int:
    row = (
        await RoleAssignment.select(RoleAssignment.id)
        .where((RoleAssignment.member == member) & (RoleAssignment.role == role.value))
        .first()
    )
    return row["id"]


async def _make_secretary_of_a(world) -> None:
    await services.grant_role(
        SYSTEM,
        world.leader_a,
        RoleGrantIn(role=Role.BRANCH_SECRETARY, org_unit_id=world.units["A"]),
    )


async def test_an_admin_gives_one_person_several_roles_and_each_grant_is_audited(client, world):
    counts = await _counts()
    first = await _grant(client, world.admin, world.member_a, "building_head", world.units["A1-B1"])
    assert first.status_code == 201, first.text
    assert first.json()["org_unit_name"] == "1号楼" and first.json()["role"] == "building_head"
    second = await _grant(client, world.admin, world.member_a, "volunteer", world.units["A"])
    assert second.status_code == 201, second.text
    assert await _counts() == (counts[0] + 2, counts[1] + 2)
    roles = await client.get(
        f"{MEMBERS}/{world.member_a}/roles", headers=bearer(client, world.admin)
    )
    assert roles.status_code == 200, roles.text
    assert [(r["id"], r["role"], r["org_unit_id"]) for r in roles.json()] == [
        (first.json()["id"], "building_head", world.units["A1-B1"]),
        (second.json()["id"], "volunteer", world.units["A"]),
    ]
    audit = await client.get(
        "/api/v1/audit-log",
        params={"object_type": "role_assignment", "object_id": first.json()["id"]},
        headers=bearer(client, world.admin),
    )
    [entry] = audit.json()
    assert entry["action"] == "role.grant" and entry["actor_id"] == world.admin
    assert entry["before"] is None
    assert entry["after"] == {
        "member": world.member_a,
        "role": "building_head",
        "org_unit": world.units["A1-B1"],
    }


async def test_the_same_role_on_the_same_unit_twice_is_a_conflict(client, world):
    counts = await _counts()
    again = await _grant(client, world.admin, world.leader_a, "grid_leader", world.units["A"])
    assert _refused(again, 409)["code"] == "role_exists"
    assert await _counts() == counts
    # The same role on another unit is a second role, not a duplicate.
    elsewhere = await _grant(client, world.admin, world.leader_a, "grid_leader", world.units["B"])
    assert elsewhere.status_code == 201, elsewhere.text


async def test_concurrent_grants_of_the_same_role_give_one_role_and_conflicts(client, world):
    counts = await _counts()
    responses = await asyncio.gather(
        *[
            _grant(client, world.admin, world.member_a, "unit_head", world.units["A1-B1-U1"])
            for _ in range(4)
        ]
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [
        r.text for r in responses
    ]
    assert await _counts() == (counts[0] + 1, counts[1] + 1)


async def test_a_granted_role_takes_effect_and_ends_when_revoked(client, world):
    member = bearer(client, world.member_a)
    viewer_path = f"{MEMBERS}/{world.viewer_a}"
    assert (await client.get(viewer_path, headers=member)).status_code == 404
    granted = await _grant(
        client, world.admin, world.member_a, "unit_head", world.units["A1-B1-U1"]
    )
    assert granted.status_code == 201, granted.text
    seen = await client.get(viewer_path, headers=member)
    assert seen.status_code == 200 and seen.json()["phone"] == world.phones["viewer_a"]
    counts = await _counts()
    revoked = await client.delete(
        f"{MEMBERS}/{world.member_a}/roles/{granted.json()['id']}",
        headers=bearer(client, world.admin),
    )
    assert revoked.status_code == 204, revoked.text
    assert await _counts() == (counts[0] - 1, counts[1] + 1)
    entry = await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()
    assert entry["action"] == "role.revoke" and entry["object_id"] == granted.json()["id"]
    assert entry["after"] is None and '"unit_head"' in entry["before"]
    # Removing a role ends the member's sign-ins; signed in again, the role is gone.
    assert (await client.get(viewer_path, headers=member)).status_code == 401
    client.forget_sign_ins()
    assert (await client.get(viewer_path, headers=member)).status_code == 404
    listed = await client.get(MEMBERS, headers=member)
    assert listed.json()["items"] == []


async def test_a_grid_leader_can_grant_no_role_inside_their_grid_and_cannot_see_outside(
    client, world
):
    counts = await _counts()
    # Inside grid A the leader sees the unit but has no power over roles: 403.
    for unit in ("A", "A1", "A1-B1-U1"):
        inside = await _grant(
            client, world.leader_a, world.member_a, "volunteer", world.units[unit]
        )
        _refused(inside, 403)
    # The sibling grid and the community above lie outside the leader's view: 404, told
    # exactly as for a unit that does not exist.
    sibling = await _grant(client, world.leader_a, world.member_a, "volunteer", world.units["B"])
    above = await _grant(client, world.leader_a, world.member_a, "volunteer", world.units["C"])
    missing = await _grant(client, world.leader_a, world.member_a, "volunteer", NOWHERE)
    for response in (sibling, above, missing):
        _refused(response, 404, "org_unit_id")
    assert sibling.json() == {**missing.json(), "instance": sibling.json()["instance"]}
    # A member of grid B is out of view whatever the unit.
    _refused(
        await _grant(client, world.leader_a, world.member_b, "volunteer", world.units["A"]), 404
    )
    assert await _counts() == counts


async def test_a_branch_secretary_appoints_within_their_grid_up_to_their_own_powers(client, world):
    await _make_secretary_of_a(world)
    for role, unit in [("volunteer", "A1"), ("grid_leader", "A"), ("branch_secretary", "A1")]:
        granted = await _grant(client, world.leader_a, world.member_a, role, world.units[unit])
        assert granted.status_code == 201, (role, granted.text)
    counts = await _counts()
    # Roles with powers the secretary lacks (partner units, the audit log, everything).
    for role in ("admin", "committee_member"):
        _refused(await _grant(client, world.leader_a, world.member_a, role, world.units["A1"]), 403)
    _refused(
        await _grant(client, world.leader_a, world.member_a, "volunteer", world.units["B"]), 404
    )
    _refused(
        await _grant(client, world.leader_a, world.member_a, "volunteer", world.units["C"]), 404
    )
    assert await _counts() == counts


async def test_revoking_needs_power_over_roles_on_the_unit_and_over_the_role(client, world):
    viewer_role = await _role_id(world.viewer_a, Role.VOLUNTEER)
    admin_role = await _role_id(world.admin, Role.ADMIN)
    counts = await _counts()
    # A grid leader sees the role's unit but may not remove role holders.
    _refused(
        await client.delete(
            f"{MEMBERS}/{world.viewer_a}/roles/{viewer_role}",
            headers=bearer(client, world.leader_a),
        ),
        403,
    )
    # Grid B's role, seen from grid A, is not there at all.
    _refused(
        await client.delete(
            f"{MEMBERS}/{world.leader_b}/roles/{world.role_b}",
            headers=bearer(client, world.leader_a),
        ),
        404,
    )
    # A role id under the wrong member is not found, even for an admin.
    _refused(
        await client.delete(
            f"{MEMBERS}/{world.member_a}/roles/{viewer_role}", headers=bearer(client, world.admin)
        ),
        404,
    )
    await _make_secretary_of_a(world)
    counts = (counts[0] + 1, counts[1] + 1)
    # The admin's role sits on the community, above the secretary's grid. She lives in grid A,
    # so the secretary sees her: refused, not hidden.
    _refused(
        await client.delete(
            f"{MEMBERS}/{world.admin}/roles/{admin_role}", headers=bearer(client, world.leader_a)
        ),
        403,
    )
    # An admin role inside grid A.
    inner_admin = await services.grant_role(
        SYSTEM, world.member_a, RoleGrantIn(role=Role.ADMIN, org_unit_id=world.units["A1"])
    )
    counts = (counts[0] + 1, counts[1] + 1)
    # An admin role on a unit strictly below the secretary's grid is covered by the rank rule
    # (the secretary's unit lies above it), so the secretary may remove it ...
    lower = await client.delete(
        f"{MEMBERS}/{world.member_a}/roles/{inner_admin.id}",
        headers=bearer(client, world.leader_a),
    )
    assert lower.status_code == 204, lower.text
    counts = (counts[0] - 1, counts[1] + 1)
    # ... but not appoint one: nobody appoints a role with powers they do not hold there.
    _refused(await _grant(client, world.leader_a, world.member_a, "admin", world.units["A1"]), 403)
    assert await _counts() == counts
    # The volunteer role is within the secretary's powers.
    removed = await client.delete(
        f"{MEMBERS}/{world.viewer_a}/roles/{viewer_role}", headers=bearer(client, world.leader_a)
    )
    assert removed.status_code == 204, removed.text
    assert await _counts() == (counts[0] - 1, counts[1] + 1)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"role": "emperor", "org_unit_id": 1}, "role", id="unknown-role"),
        pytest.param({"role": "volunteer"}, "org_unit_id", id="missing-unit"),
        pytest.param({"role": "volunteer", "org_unit_id": 0}, "org_unit_id", id="zero-unit"),
        pytest.param({"role": "volunteer", "org_unit_id": "A"}, "org_unit_id", id="unit-name"),
    ],
)
async def test_bad_grants_name_the_field_and_write_nothing(client, world, body, field):
    counts = await _counts()
    response = await client.post(
        f"{MEMBERS}/{world.member_a}/roles", json=body, headers=bearer(client, world.admin)
    )
    _refused(response, 400, field)
    assert await _counts() == counts


async def test_roles_of_a_member_are_listed_only_to_those_who_see_the_member(client, world):
    own = await client.get(
        f"{MEMBERS}/{world.leader_a}/roles", headers=bearer(client, world.leader_a)
    )
    assert [(r["role"], r["org_unit_name"]) for r in own.json()] == [("grid_leader", "甲片区")]
    viewer = await client.get(
        f"{MEMBERS}/{world.leader_a}/roles", headers=bearer(client, world.viewer_a)
    )
    assert viewer.status_code == 200 and len(viewer.json()) == 1
    _refused(
        await client.get(
            f"{MEMBERS}/{world.leader_a}/roles", headers=bearer(client, world.leader_b)
        ),
        404,
    )
