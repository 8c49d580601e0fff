"""Acting on another member needs authority that strictly covers theirs, on every route.

Every pair of the demo's role holders (caller × target) over every member-changing route:
allowed exactly when the caller's roles strictly cover the target's home unit and each of the
target's roles (the rule as the issue states it, computed here from the data on its own), 404
when the target is out of the caller's view, 403 otherwise. Reported: the demo's building
head reset the password of the community admin who lives in his building, signed in as her
and made himself admin.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from gridpoints.auth.permissions import ROLE_CAPABILITIES, Capability
from gridpoints.auth.roles import Role
from gridpoints.demo.builder import build_demo
from gridpoints.members.tables import Member, RoleAssignment
from tests.conftest import bearer

# The order, highest first, written out here so the test does not read it from the
# code it checks.
RANK = [
    "admin",
    "committee_member",
    "branch_secretary",
    "grid_leader",
    "building_head",
    "unit_head",
    "building_steward",
    "volunteer",
]
NEW_PASSWORD = "Lantern-river-42"


@dataclass
class Person:
    label: str
    id: int
    home_id: int
    home: str
    category: str
    grants: list[tuple[str, str]]  # (role, unit path)


def _can(person: Person, capability: Capability, path: str) -> bool:
    return any(
        capability in ROLE_CAPABILITIES[Role(role)] and path.startswith(unit)
        for role, unit in person.grants
    )


def expected_covered(caller: Person, target: Person, capability: Capability) -> bool:
    """The issue's rule: for the target's home unit, and for each role R the target holds on
    U, the caller holds R' (with the capability) on U' with U inside U''s subtree and either
    U' strictly above U or R' ranking above R. Nobody covers themselves."""
    if caller.id == target.id or not _can(caller, capability, target.home):
        return False
    return all(
        any(
            capability in ROLE_CAPABILITIES[Role(mine)]
            and unit.startswith(mine_unit)
            and (mine_unit != unit or RANK.index(mine) < RANK.index(role))
            for mine, mine_unit in caller.grants
        )
        for role, unit in target.grants
    )


def expected_status(caller: Person, target: Person, capability: Capability, ok: int) -> int:
    if expected_covered(caller, target, capability):
        return ok
    visible = caller.id == target.id or _can(caller, Capability.VIEW, target.home)
    return 403 if visible else 404


async def _person(label: str, member_id: int) -> Person:
    member = (
        await Member.select(
            Member.id,
            Member.category,
            Member.org_unit,
            Member.org_unit._.path.as_alias("home"),
        )
        .where(Member.id == member_id)
        .first()
    )
    grants = await RoleAssignment.select(
        RoleAssignment.role, RoleAssignment.org_unit._.path.as_alias("path")
    ).where(RoleAssignment.member == member_id)
    return Person(
        label=label,
        id=member_id,
        home_id=member["org_unit"],
        home=member["home"],
        category=member["category"],
        grants=[(g["role"], g["path"]) for g in grants],
    )


async def _people() -> dict[str, Person]:
    """The demo's featured account of each role, and the two pairs the issue names: the
    community admin with the building head of the building she lives in, and the
    sub-district admin."""
    report_accounts = {
        a["phone"]: a["id"]
        for a in await Member.select(Member.phone, Member.id).where(
            Member.phone.like("1380000000%")
        )
    }
    people = {}
    for phone, member_id in sorted(report_accounts.items()):
        person = await _person(phone, member_id)
        people[f"{phone}:{person.grants[0][0]}"] = person
    admins = await RoleAssignment.select(
        RoleAssignment.member, RoleAssignment.org_unit._.path.as_alias("path")
    ).where(RoleAssignment.role == "admin")
    top = min(admins, key=lambda a: len(a["path"]))
    people["sub-district admin"] = await _person("sub-district admin", top["member"])
    community_admin = people["13800000001:admin"]
    heads = await RoleAssignment.select(
        RoleAssignment.member, RoleAssignment.org_unit._.path.as_alias("path")
    ).where(RoleAssignment.role == "building_head")
    own_head = next(h for h in heads if community_admin.home.startswith(h["path"]))
    people["head of the admin's building"] = await _person(
        "head of the admin's building", own_head["member"]
    )
    return people


@pytest.fixture
async def demo_people(db, settings) -> dict[str, Person]:
    await build_demo(settings, "demo-pass-for-tests-1")
    return await _people()


async def test_a_building_head_cannot_take_over_the_admin_who_lives_in_his_building(
    client, demo_people
):
    admin = demo_people["13800000001:admin"]
    head = demo_people["head of the admin's building"]
    assert admin.home.startswith(next(u for r, u in head.grants if r == "building_head"))
    as_head = bearer(client, head.id)
    reset = await client.post(
        f"/api/v1/members/{admin.id}/password", json={"password": NEW_PASSWORD}, headers=as_head
    )
    assert reset.status_code == 403, reset.text
    for change in ({"phone": "17700000001"}, {"status": "inactive"}):
        patched = await client.patch(f"/api/v1/members/{admin.id}", json=change, headers=as_head)
        assert patched.status_code == 403, patched.text
    # Nor can he make himself admin, or anything at all.
    community = admin.grants[0][1]
    unit_id = int(community.strip("/").split("/")[-1])
    for role in ("admin", "building_head"):
        granted = await client.post(
            f"/api/v1/members/{head.id}/roles",
            json={"role": role, "org_unit_id": unit_id},
            headers=as_head,
        )
        assert granted.status_code == 403, granted.text
    # The sub-district admin does cover the community admin.
    top = demo_people["sub-district admin"]
    reset = await client.post(
        f"/api/v1/members/{admin.id}/password",
        json={"password": NEW_PASSWORD},
        headers=bearer(client, top.id),
    )
    assert reset.status_code == 204, reset.text


def _routes(target: Person, fresh_phone: str):
    """(name, capability, method, path, body, success status) of each member-changing route
    but revoke (which needs a role to remove; see the walk)."""
    member = f"/api/v1/members/{target.id}"
    mm, mr = Capability.MANAGE_MEMBERS, Capability.MANAGE_ROLES
    return [
        ("password", mm, "POST", f"{member}/password", {"password": NEW_PASSWORD}, 204),
        ("phone", mm, "PATCH", member, {"phone": fresh_phone}, 200),
        ("status", mm, "PATCH", member, {"status": "active"}, 200),
        ("org_unit", mm, "PATCH", member, {"org_unit_id": target.home_id}, 200),
        ("category", mm, "PATCH", member, {"category": target.category}, 200),
        (
            "grant",
            mr,
            "POST",
            f"{member}/roles",
            {"role": "volunteer", "org_unit_id": target.home_id},
            201,
        ),
    ]


async def test_every_pair_of_roles_on_every_member_changing_route(client, demo_people):
    people = list(demo_people.values())
    phones = (f"177{n:08d}" for n in itertools.count(1))
    mismatches = []
    checked = 0

    async def attempt(caller, target, name, capability, method, path, body, ok) -> None:
        nonlocal checked
        response = await client.request(method, path, json=body, headers=bearer(client, caller.id))
        expected = expected_status(caller, target, capability, ok)
        checked += 1
        if response.status_code != expected:
            mismatches.append(
                f"{caller.label} -> {target.label} {name}: "
                f"{response.status_code} (expected {expected}) {response.text[:160]}"
            )
        await _restore(client, target)

    for caller, target in itertools.product(people, people):
        for route in _routes(target, next(phones)):
            await attempt(caller, target, *route)
        # Revoke: a volunteer role on the target's own grid, put there for the caller to
        # remove; the rule then weighs it with the target's other roles.
        extra = await RoleAssignment.insert(
            RoleAssignment(member=target.id, role="volunteer", org_unit=target.home_id)
        ).returning(RoleAssignment.id)
        holding = Person(
            **{**target.__dict__, "grants": [*target.grants, ("volunteer", target.home)]}
        )
        path = f"/api/v1/members/{target.id}/roles/{extra[0]['id']}"
        await attempt(caller, holding, "revoke", Capability.MANAGE_ROLES, "DELETE", path, None, 204)
    assert checked == len(people) ** 2 * 7
    assert not mismatches, f"{len(mismatches)} of {checked}:\n" + "\n".join(mismatches)


async def _restore(client, target: Person) -> None:
    """Undo what an allowed change did to the people the walk goes on using: a reset
    password must be changed before anything else; a reset or a removed role ends the
    target's sessions; a granted role stays until removed."""
    await Member.update({Member.must_change_password: False}).where(Member.id == target.id)
    await RoleAssignment.delete().where(
        (RoleAssignment.member == target.id)
        & (RoleAssignment.role == "volunteer")
        & (RoleAssignment.org_unit == target.home_id)
    )
    client.forget_sign_ins()


async def test_nobody_changes_their_own_roles_or_resets_their_own_password(client, demo_people):
    for person in demo_people.values():
        as_self = bearer(client, person.id)
        own = await client.post(
            f"/api/v1/members/{person.id}/password",
            json={"password": NEW_PASSWORD},
            headers=as_self,
        )
        assert own.status_code == 403, (person.label, own.text)
        unit_id = int(person.home.strip("/").split("/")[-1])
        grant = await client.post(
            f"/api/v1/members/{person.id}/roles",
            json={"role": "volunteer", "org_unit_id": unit_id},
            headers=as_self,
        )
        assert grant.status_code == 403, (person.label, grant.text)


async def test_equal_leaders_on_one_unit_do_not_cover_each_other(client, demo_people):
    leader = demo_people["13800000004:grid_leader"]
    unit_path = leader.grants[0][1]
    unit_id = int(unit_path.strip("/").split("/")[-1])
    holders = [r["member"] for r in await RoleAssignment.select(RoleAssignment.member)]
    other = await Member.select(Member.id).where(Member.id.not_in(holders)).first()
    await RoleAssignment.insert(
        RoleAssignment(member=other["id"], role="grid_leader", org_unit=unit_id)
    )
    # Both live in the grid they lead, so each sees the other.
    await Member.update({Member.org_unit: unit_id}).where(Member.id.is_in([other["id"], leader.id]))
    for caller, target in ((leader.id, other["id"]), (other["id"], leader.id)):
        response = await client.post(
            f"/api/v1/members/{target}/password",
            json={"password": NEW_PASSWORD},
            headers=bearer(client, caller),
        )
        assert response.status_code == 403, response.text


async def test_nobody_grants_above_their_reach_nor_moves_a_member_out_of_it(client, demo_people):
    secretary = demo_people["13800000003:branch_secretary"]
    area_path = secretary.grants[0][1]
    area_id = int(area_path.strip("/").split("/")[-1])
    holders = [r["member"] for r in await RoleAssignment.select(RoleAssignment.member)]
    plain = (
        await Member.select(Member.id, Member.org_unit)
        .where(Member.id.not_in(holders) & Member.org_unit._.path.like(f"{area_path}%"))
        .first()
    )
    as_secretary = bearer(client, secretary.id)
    # A role ranking above the secretary's own, on the secretary's own unit: refused.
    higher = await client.post(
        f"/api/v1/members/{plain['id']}/roles",
        json={"role": "committee_member", "org_unit_id": area_id},
        headers=as_secretary,
    )
    assert higher.status_code == 403, higher.text
    # Any role on a unit above the secretary's reach: refused, the unit named as unknown.
    community_id = int(area_path.strip("/").split("/")[-2])
    outside = await client.post(
        f"/api/v1/members/{plain['id']}/roles",
        json={"role": "volunteer", "org_unit_id": community_id},
        headers=as_secretary,
    )
    assert outside.status_code in (403, 404), outside.text
    # A member moved to a unit the secretary does not manage: refused, naming the field.
    moved = await client.patch(
        f"/api/v1/members/{plain['id']}",
        json={"org_unit_id": community_id},
        headers=as_secretary,
    )
    assert moved.status_code == 400 and moved.json()["errors"][0]["field"] == "org_unit_id"
    assert (await Member.select(Member.org_unit).where(Member.id == plain["id"]).first())[
        "org_unit"
    ] == plain["org_unit"]
    # A lower role inside the reach is granted.
    lower = await client.post(
        f"/api/v1/members/{plain['id']}/roles",
        json={"role": "grid_leader", "org_unit_id": area_id},
        headers=as_secretary,
    )
    assert lower.status_code == 201, lower.text
