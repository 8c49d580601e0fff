"""Members through the API: adding, reading, listing within the caller's grids, editing and
setting passwords; phones normalised and masked; refusals that name the field, leave nothing
half-written and add nothing to the audit log."""

from __future__ import annotations

import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.auth.passwords import hash_password
from gridpoints.auth.roles import Role
from gridpoints.members import services
from gridpoints.members.schemas import RoleGrantIn
from gridpoints.members.tables import Member, MemberRegistration
from tests.conftest import bearer
from tests.world import PASSWORD, SYSTEM

MEMBERS = "/api/v1/members"
NOWHERE = 987_654_321


def _new(world, **fields) -> dict:
    return {
        "name": "新成员",
        "phone": "137 1234 0001",
        "category": "resident",
        "org_unit_id": world.units["A1-B1-U1"],
        **fields,
    }


def _refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        named = [e["field"] for e in body.get("errors", [])]
        # An unknown field is named only in `detail` (msgspec gives no path for it).
        assert field in named or f"`{field}`" in body["detail"], body
    return body


async def _counts() -> tuple[int, int, int]:
    return (await Member.count(), await MemberRegistration.count(), await AuditEntry.count())


async def _audit(client, world, object_id: int) -> list[dict]:
    response = await client.get(
        "/api/v1/audit-log",
        params={"object_type": "member", "object_id": object_id},
        headers=bearer(client, world.admin),
    )
    assert response.status_code == 200, response.text
    return response.json()


# --- create ------------------------------------------------------------------------------


async def test_a_leader_adds_a_member_with_a_normalised_phone_and_the_create_is_audited(
    client, world
):
    before = await _counts()
    created = await client.post(
        MEMBERS, json=_new(world, phone="+86 137-1234-0001"), headers=bearer(client, world.leader_a)
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["phone"] == "13712340001" and body["phone_masked"] is False
    assert body["category"] == "resident" and body["status"] == "active"
    assert body["org_unit_name"] == "1单元" and body["registration"] is None
    assert await _counts() == (before[0] + 1, before[1], before[2] + 1)
    [entry] = await _audit(client, world, body["id"])
    assert entry["action"] == "member.create" and entry["actor_id"] == world.leader_a
    assert entry["before"] is None
    assert entry["after"]["phone"] == "13712340001" and entry["after"]["name"] == "新成员"
    assert entry["org_unit_id"] == world.units["A1-B1-U1"]


async def test_an_in_service_member_is_dual_registered_with_the_community(client, world):
    created = await client.post(
        MEMBERS,
        json=_new(world, category="in_service", partner_unit_id=world.partner, employer="供电"),
        headers=bearer(client, world.leader_a),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["employer"] == "供电" and body["partner_unit_id"] == world.partner
    registration = body["registration"]
    assert registration["community_id"] == world.units["C"]
    assert registration["partner_unit_id"] == world.partner
    assert registration["state"] == "active" and registration["ended_on"] is None


@pytest.mark.parametrize(
    "written",
    ["139 0000 0006", "+86 139-0000-0006", "0086 13900000006", "+86 (139) 0000 0006"],
)
async def test_a_phone_already_registered_is_refused_however_it_is_written(client, world, written):
    counts = await _counts()
    response = await client.post(
        MEMBERS, json=_new(world, phone=written), headers=bearer(client, world.admin)
    )
    body = _refused(response, 409, "phone")
    assert body["code"] == "phone_taken"
    assert await _counts() == counts


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"phone": "12345"}, "phone", id="too-short-phone"),
        pytest.param({"phone": "139 0000 000"}, "phone", id="ten-digit-phone"),
        pytest.param({"phone": "010 6512 3456"}, "phone", id="landline"),
        pytest.param({"phone": "call me maybe"}, "phone", id="letters-in-phone"),
        pytest.param({"category": "martian"}, "category", id="unknown-category"),
        pytest.param({"category": None}, "category", id="null-category"),
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": "   "}, "name", id="blank-name"),
        pytest.param({"org_unit_id": NOWHERE}, "org_unit_id", id="unknown-org-unit"),
        pytest.param({"org_unit_id": 0}, "org_unit_id", id="zero-org-unit"),
        pytest.param({"partner_unit_id": NOWHERE}, "partner_unit_id", id="unknown-partner"),
        pytest.param({"password": "short"}, "password", id="short-password"),
        pytest.param({"unexpected": 1}, "unexpected", id="unknown-field"),
    ],
)
async def test_bad_members_are_refused_naming_the_field_and_write_nothing(
    client, world, fields, field
):
    counts = await _counts()
    response = await client.post(
        MEMBERS, json=_new(world, **fields), headers=bearer(client, world.admin)
    )
    _refused(response, 400, field)
    assert await _counts() == counts


async def test_a_grid_of_another_leader_is_refused_as_if_it_did_not_exist(client, world):
    headers = bearer(client, world.leader_a)
    counts = await _counts()
    sibling = await client.post(
        MEMBERS, json=_new(world, org_unit_id=world.units["B1-B1-U1"]), headers=headers
    )
    above = await client.post(
        MEMBERS, json=_new(world, org_unit_id=world.units["C"]), headers=headers
    )
    missing = await client.post(MEMBERS, json=_new(world, org_unit_id=NOWHERE), headers=headers)
    for response in (sibling, above, missing):
        _refused(response, 400, "org_unit_id")
    assert sibling.json()["errors"] == missing.json()["errors"] == above.json()["errors"]
    # Nor may the leader name a partner unit registered in the sibling grid.
    hidden_partner = await client.post(
        MEMBERS,
        json=_new(world, category="in_service", partner_unit_id=world.partner_b),
        headers=headers,
    )
    _refused(hidden_partner, 400, "partner_unit_id")
    assert await _counts() == counts


async def test_a_failure_after_the_member_row_is_written_rolls_the_whole_create_back(client, world):
    # An admin of the whole tree may add a member at the sub-district itself, where no
    # community lies above to report to: the registration fails after the member insert.
    await services.grant_role(
        SYSTEM, world.admin, RoleGrantIn(role=Role.ADMIN, org_unit_id=world.units["R"])
    )
    counts = await _counts()
    response = await client.post(
        MEMBERS,
        json=_new(world, category="in_service", org_unit_id=world.units["R"]),
        headers=bearer(client, world.admin),
    )
    _refused(response, 400, "org_unit_id")
    assert await _counts() == counts
    assert not await Member.exists().where(Member.phone == "13712340001")


async def test_a_volunteer_may_see_a_grid_but_not_add_members_to_it(client, world):
    counts = await _counts()
    response = await client.post(MEMBERS, json=_new(world), headers=bearer(client, world.viewer_a))
    _refused(response, 403)
    unauthenticated = await client.post(MEMBERS, json=_new(world))
    _refused(unauthenticated, 401)
    assert await _counts() == counts


# --- read and list -----------------------------------------------------------------------


async def test_a_leader_reads_a_member_of_their_grid_with_roles_and_registration(client, world):
    response = await client.get(
        f"{MEMBERS}/{world.member_a}", headers=bearer(client, world.leader_a)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "在职甲" and body["phone"] == world.phones["member_a"]
    assert body["category"] == "in_service" and body["roles"] == []
    assert body["registration"]["id"] == world.registration_a
    leader = (
        await client.get(f"{MEMBERS}/{world.leader_a}", headers=bearer(client, world.leader_a))
    ).json()
    assert [(r["role"], r["org_unit_id"]) for r in leader["roles"]] == [
        ("grid_leader", world.units["A"])
    ]


async def test_a_member_of_another_grid_reads_like_one_that_does_not_exist(client, world):
    headers = bearer(client, world.leader_a)
    sibling = await client.get(f"{MEMBERS}/{world.member_b}", headers=headers)
    missing = await client.get(f"{MEMBERS}/{NOWHERE}", headers=headers)
    _refused(sibling, 404)
    _refused(missing, 404)
    assert {**sibling.json(), "instance": None} == {**missing.json(), "instance": None}
    # A member without a role reads only themselves.
    _refused(
        await client.get(f"{MEMBERS}/{world.viewer_a}", headers=bearer(client, world.member_a)), 404
    )
    own = await client.get(f"{MEMBERS}/{world.member_a}", headers=bearer(client, world.member_a))
    assert own.status_code == 200 and own.json()["phone"] == world.phones["member_a"]


async def test_a_leader_lists_only_the_members_of_their_own_subtree(client, world):
    leader = await client.get(MEMBERS, headers=bearer(client, world.leader_a))
    assert leader.status_code == 200, leader.text
    ids = {m["id"] for m in leader.json()["items"]}
    assert ids == {world.admin, world.leader_a, world.viewer_a, world.member_a}
    assert leader.json()["total"] == 4
    admin = (await client.get(MEMBERS, headers=bearer(client, world.admin))).json()
    assert {world.member_b, world.leader_b} <= {m["id"] for m in admin["items"]}
    assert admin["total"] == 6
    leader_b = (await client.get(MEMBERS, headers=bearer(client, world.leader_b))).json()
    assert {m["id"] for m in leader_b["items"]} == {world.leader_b, world.member_b}
    # A member without any role sees no list at all.
    bare = (await client.get(MEMBERS, headers=bearer(client, world.member_a))).json()
    assert bare["items"] == [] and bare["total"] == 0


async def test_the_list_filters_by_grid_category_and_name_and_pages(client, world):
    headers = bearer(client, world.admin)
    in_b = await client.get(MEMBERS, params={"org_unit_id": world.units["B"]}, headers=headers)
    assert {m["id"] for m in in_b.json()["items"]} == {world.leader_b, world.member_b}
    retired = await client.get(MEMBERS, params={"category": "retired"}, headers=headers)
    assert {m["id"] for m in retired.json()["items"]} == {world.leader_a, world.leader_b}
    by_name = await client.get(MEMBERS, params={"q": "网格长"}, headers=headers)
    assert {m["name"] for m in by_name.json()["items"]} == {"网格长甲", "网格长乙"}
    first = (await client.get(MEMBERS, params={"limit": 2}, headers=headers)).json()
    rest = (await client.get(MEMBERS, params={"limit": 10, "offset": 2}, headers=headers)).json()
    assert first["total"] == rest["total"] == 6 and len(first["items"]) == 2
    assert {m["id"] for m in first["items"]}.isdisjoint({m["id"] for m in rest["items"]})
    assert len(rest["items"]) == 4
    _refused(
        await client.get(MEMBERS, params={"category": "martian"}, headers=headers), 400, "category"
    )
    _refused(
        await client.get(MEMBERS, params={"org_unit_id": 0}, headers=headers), 400, "org_unit_id"
    )
    _refused(
        await client.get(
            MEMBERS,
            params={"org_unit_id": world.units["B"]},
            headers=bearer(client, world.leader_a),
        ),
        404,
    )


async def test_phones_are_masked_for_callers_who_do_not_manage_the_member(client, world):
    path = f"{MEMBERS}/{world.member_a}"
    leader = (await client.get(path, headers=bearer(client, world.leader_a))).json()
    viewer = (await client.get(path, headers=bearer(client, world.viewer_a))).json()
    assert leader["phone"] == "13900000005" and leader["phone_masked"] is False
    assert viewer["phone"] == "139****0005" and viewer["phone_masked"] is True
    listed = (await client.get(MEMBERS, headers=bearer(client, world.viewer_a))).json()
    by_id = {m["id"]: m for m in listed["items"]}
    # The volunteer sees their own number and every other one masked.
    assert by_id[world.viewer_a]["phone"] == world.phones["viewer_a"]
    others = [m for m in listed["items"] if m["id"] != world.viewer_a]
    assert len(others) == 3
    for member in others:
        assert member["phone_masked"] is True
        assert member["phone"] != world.phones["member_a"] and "****" in member["phone"]
    assert (
        "13900000005"
        not in (await client.get(MEMBERS, headers=bearer(client, world.viewer_a))).text
    )


async def test_searching_by_digits_cannot_probe_a_masked_number(client, world):
    viewer = await client.get(MEMBERS, params={"q": "0005"}, headers=bearer(client, world.viewer_a))
    assert viewer.json()["items"] == []
    leader = await client.get(MEMBERS, params={"q": "0005"}, headers=bearer(client, world.leader_a))
    assert [m["id"] for m in leader.json()["items"]] == [world.member_a]


# --- patch -------------------------------------------------------------------------------


async def test_a_leader_edits_a_member_and_the_patch_is_audited_with_before_and_after(
    client, world
):
    counts = await _counts()
    response = await client.patch(
        f"{MEMBERS}/{world.viewer_a}",
        json={"name": "志愿者甲改", "phone": "+86 137-0000-1234", "employer": "街道服务中心"},
        headers=bearer(client, world.leader_a),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "志愿者甲改" and body["phone"] == "13700001234"
    assert body["employer"] == "街道服务中心" and body["category"] == "volunteer"
    assert await _counts() == (counts[0], counts[1], counts[2] + 1)
    entry = (await _audit(client, world, world.viewer_a))[0]
    assert entry["action"] == "member.update" and entry["actor_id"] == world.leader_a
    assert entry["before"]["name"] == "志愿者甲" and entry["after"]["name"] == "志愿者甲改"
    assert entry["before"]["phone"] == world.phones["viewer_a"]
    assert entry["after"]["phone"] == "13700001234"
    stored = (
        await Member.select(Member.name, Member.phone).where(Member.id == world.viewer_a).first()
    )
    assert stored == {"name": "志愿者甲改", "phone": "13700001234"}


async def test_an_admin_moves_a_member_to_another_grid(client, world):
    moved = await client.patch(
        f"{MEMBERS}/{world.viewer_a}",
        json={"org_unit_id": world.units["B1-B1-U1"]},
        headers=bearer(client, world.admin),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["org_unit_id"] == world.units["B1-B1-U1"]
    # Now grid B's leader has them and grid A's has lost them.
    _refused(
        await client.get(f"{MEMBERS}/{world.viewer_a}", headers=bearer(client, world.leader_a)),
        404,
    )
    seen_by_b = await client.get(
        f"{MEMBERS}/{world.viewer_a}", headers=bearer(client, world.leader_b)
    )
    assert seen_by_b.status_code == 200


async def test_a_member_marked_moved_out_can_no_longer_use_their_token(client, world):
    headers = bearer(client, world.leader_a)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    response = await client.patch(
        f"{MEMBERS}/{world.leader_a}",
        json={"status": "moved_out"},
        headers=bearer(client, world.admin),
    )
    assert response.status_code == 200 and response.json()["status"] == "moved_out"
    _refused(await client.get("/api/v1/me", headers=headers), 401)


@pytest.mark.parametrize(
    ("patch", "status", "field"),
    [
        pytest.param({"phone": "139-0000-0006"}, 409, "phone", id="taken-phone"),
        pytest.param({"phone": "12345"}, 400, "phone", id="bad-phone"),
        pytest.param({"phone": None}, 400, "phone", id="null-phone"),
        pytest.param({"category": "martian"}, 400, "category", id="unknown-category"),
        pytest.param({"status": "asleep"}, 400, "status", id="unknown-status"),
        pytest.param({"name": " "}, 400, "name", id="blank-name"),
        pytest.param({"org_unit_id": NOWHERE}, 400, "org_unit_id", id="unknown-org-unit"),
        pytest.param(
            {"partner_unit_id": NOWHERE}, 400, "partner_unit_id", id="unknown-partner-unit"
        ),
        pytest.param({"password": "x" * 10}, 400, "password", id="password-not-patchable"),
        pytest.param({}, 400, "body", id="empty"),
    ],
)
async def test_a_bad_patch_names_the_field_and_changes_nothing(client, world, patch, status, field):
    # A valid name travels with the bad field: it must not be written either.
    body = {"name": "不应写入", **patch} if patch else patch
    before = await Member.select().where(Member.id == world.viewer_a).first()
    counts = await _counts()
    response = await client.patch(
        f"{MEMBERS}/{world.viewer_a}", json=body, headers=bearer(client, world.leader_a)
    )
    _refused(response, status, field)
    assert await Member.select().where(Member.id == world.viewer_a).first() == before
    assert await _counts() == counts


async def test_a_leader_cannot_move_a_member_out_of_their_own_grids(client, world):
    before = await Member.select().where(Member.id == world.viewer_a).first()
    counts = await _counts()
    response = await client.patch(
        f"{MEMBERS}/{world.viewer_a}",
        json={"org_unit_id": world.units["B1-B1-U1"]},
        headers=bearer(client, world.leader_a),
    )
    _refused(response, 400, "org_unit_id")
    assert await Member.select().where(Member.id == world.viewer_a).first() == before
    assert await _counts() == counts


async def test_only_a_manager_of_the_member_may_edit_them(client, world):
    counts = await _counts()
    path = f"{MEMBERS}/{world.member_a}"
    _refused(
        await client.patch(path, json={"name": "甲"}, headers=bearer(client, world.viewer_a)), 403
    )
    _refused(
        await client.patch(path, json={"name": "甲"}, headers=bearer(client, world.leader_b)), 404
    )
    # Members may not edit their own record (it is the grid's record of them); they can read
    # it, so they are told so rather than told it is not there.
    _refused(
        await client.patch(path, json={"name": "甲"}, headers=bearer(client, world.member_a)), 403
    )
    assert await _counts() == counts


# --- password ------------------------------------------------------------------------------


async def _login(client, phone: str, password: str):
    return await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})


async def test_a_leader_sets_a_members_password_and_the_member_can_sign_in(client, world):
    counts = await _counts()
    response = await client.post(
        f"{MEMBERS}/{world.member_a}/password",
        json={"password": "new-password-123"},
        headers=bearer(client, world.leader_a),
    )
    assert response.status_code == 204, response.text
    signed_in = await _login(client, "139 0000 0005", "new-password-123")
    assert signed_in.status_code == 200
    assert signed_in.json()["password_change_required"] is True, "a temporary password"
    [entry] = [
        e
        for e in await _audit(client, world, world.member_a)
        if e["action"] == "member.password_set"
    ]
    assert "new-password-123" not in str(entry) and "argon2" not in str(entry)
    assert await _counts() == (counts[0], counts[1], counts[2] + 1)


async def test_a_member_sets_their_own_password_only_with_the_current_one(client, world):
    # Reported: the member route set one's own password without the current one, so a
    # borrowed phone's open session was enough to take the account over.
    await Member.update({Member.password_hash: hash_password(PASSWORD)}).where(
        Member.id == world.viewer_a
    )
    own = await client.post(
        f"{MEMBERS}/{world.viewer_a}/password",
        json={"password": "my-own-secret-1"},
        headers=bearer(client, world.viewer_a),
    )
    _refused(own, 403)
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not-my-password", "new_password": "my-own-secret-1"},
        headers=bearer(client, world.viewer_a),
    )
    _refused(wrong, 400, "current_password")
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "my-own-secret-1"},
        headers=bearer(client, world.viewer_a),
    )
    assert changed.status_code == 204, changed.text
    assert (await _login(client, world.phones["viewer_a"], "my-own-secret-1")).status_code == 200
    counts = await _counts()
    other = await client.post(
        f"{MEMBERS}/{world.leader_a}/password",
        json={"password": "taken-over-123"},
        headers=bearer(client, world.viewer_a),
    )
    _refused(other, 403)
    sibling = await client.post(
        f"{MEMBERS}/{world.member_b}/password",
        json={"password": "taken-over-123"},
        headers=bearer(client, world.leader_a),
    )
    _refused(sibling, 404)
    short = await client.post(
        "/api/v1/me/password",
        json={"current_password": "my-own-secret-1", "new_password": "short"},
        headers=bearer(client, world.viewer_a),
    )
    _refused(short, 400, "new_password")
    assert await _counts() == counts
    assert (await _login(client, world.phones["leader_a"], PASSWORD)).status_code == 200
