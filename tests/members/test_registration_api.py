"""Dual registration through the API: partner units, their pairings with a community and
members' reports to their community, each with dates and a state; created, listed and ended
by those who may; one active pairing per partner unit and community and one active
registration per member, also when requests race."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.members.tables import MemberRegistration, PartnerUnit, UnitPairing
from tests.conftest import bearer

MEMBERS = "/api/v1/members"
PARTNERS = "/api/v1/partner-units"
NOWHERE = 987_654_321


def _refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        named = [e["field"] for e in body.get("errors", [])]
        # An unknown field is named only in `detail` (msgspec gives no path for it).
        assert field in named or f"`{field}`" in body["detail"], body
    return body


async def _counts() -> tuple[int, int, int, int]:
    return (
        await PartnerUnit.count(),
        await UnitPairing.count(),
        await MemberRegistration.count(),
        await AuditEntry.count(),
    )


async def _last_audit() -> dict:
    return await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()


def _day(text: str) -> date:
    return date.fromisoformat(text)


# --- partner units -------------------------------------------------------------------------


async def test_an_admin_registers_a_partner_unit_and_it_is_audited(client, world):
    counts = await _counts()
    created = await client.post(
        PARTNERS,
        json={
            "name": " 区税务局 机关党委 ",
            "kind": "government",
            "org_unit_id": world.units["C"],
            "contact_name": "王主任",
            "contact_phone": "+86 137-0000-8888",
        },
        headers=bearer(client, world.admin),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "区税务局 机关党委" and body["kind"] == "government"
    assert body["contact_phone"] == "13700008888" and body["member_count"] == 0
    assert await _counts() == (counts[0] + 1, counts[1], counts[2], counts[3] + 1)
    entry = await _last_audit()
    assert entry["action"] == "partner_unit.create" and entry["object_id"] == body["id"]
    assert entry["actor_id"] == world.admin and '"13700008888"' in entry["after"]
    fetched = await client.get(f"{PARTNERS}/{body['id']}", headers=bearer(client, world.admin))
    assert fetched.status_code == 200 and fetched.json() == body


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        pytest.param({"name": "测试供电公司党委"}, 409, "name", id="name-taken"),
        pytest.param({"name": " "}, 400, "name", id="blank-name"),
        pytest.param({"kind": "guild"}, 400, "kind", id="unknown-kind"),
        pytest.param({"contact_phone": "12345"}, 400, "contact_phone", id="bad-contact-phone"),
        pytest.param({"org_unit_id": NOWHERE}, 400, "org_unit_id", id="unknown-org-unit"),
        pytest.param({"since": "2026"}, 400, "since", id="unknown-field"),
    ],
)
async def test_bad_partner_units_name_the_field_and_write_nothing(
    client, world, fields, status, field
):
    counts = await _counts()
    body = {"name": "新单位", "kind": "enterprise", "org_unit_id": world.units["C"], **fields}
    response = await client.post(PARTNERS, json=body, headers=bearer(client, world.admin))
    _refused(response, status, field)
    assert await _counts() == counts


async def test_a_grid_leader_may_not_register_partner_units(client, world):
    counts = await _counts()
    headers = bearer(client, world.leader_a)
    body = {"name": "新单位", "kind": "enterprise"}
    # In view but without the power: 403; out of view: a bad field, as if it did not exist.
    _refused(
        await client.post(
            PARTNERS, json={**body, "org_unit_id": world.units["A"]}, headers=headers
        ),
        403,
    )
    for unit in (world.units["B"], world.units["C"], NOWHERE):
        response = await client.post(PARTNERS, json={**body, "org_unit_id": unit}, headers=headers)
        _refused(response, 400, "org_unit_id")
    assert await _counts() == counts


async def test_partner_units_are_listed_to_those_whose_view_meets_their_committee(client, world):
    admin = (await client.get(PARTNERS, headers=bearer(client, world.admin))).json()
    assert {p["id"] for p in admin["items"]} == {world.partner, world.partner_b}
    partner = next(p for p in admin["items"] if p["id"] == world.partner)
    assert partner["member_count"] == 1  # member_a works there
    # Grid A's leader sees the community's partner units (to pick an employer) but not B's.
    leader = (await client.get(PARTNERS, headers=bearer(client, world.leader_a))).json()
    assert [p["id"] for p in leader["items"]] == [world.partner] and leader["total"] == 1
    named = await client.get(PARTNERS, params={"q": "供电"}, headers=bearer(client, world.admin))
    assert [p["id"] for p in named.json()["items"]] == [world.partner]
    _refused(
        await client.get(PARTNERS, params={"limit": 0}, headers=bearer(client, world.admin)),
        400,
        "limit",
    )
    assert (
        await client.get(f"{PARTNERS}/{world.partner}", headers=bearer(client, world.leader_a))
    ).status_code == 200
    sibling = await client.get(
        f"{PARTNERS}/{world.partner_b}", headers=bearer(client, world.leader_a)
    )
    missing = await client.get(f"{PARTNERS}/{NOWHERE}", headers=bearer(client, world.leader_a))
    _refused(sibling, 404)
    _refused(missing, 404)


async def test_a_contact_phone_is_masked_for_those_who_do_not_manage_partner_units(client, world):
    created = await client.post(
        PARTNERS,
        json={
            "name": "联系人单位",
            "kind": "institution",
            "org_unit_id": world.units["C"],
            "contact_phone": "13700008888",
        },
        headers=bearer(client, world.admin),
    )
    assert created.status_code == 201, created.text
    path = f"{PARTNERS}/{created.json()['id']}"
    leader = (await client.get(path, headers=bearer(client, world.leader_a))).json()
    assert leader["contact_phone"] == "137****8888"
    assert (await client.get(path, headers=bearer(client, world.admin))).json()[
        "contact_phone"
    ] == "13700008888"


# --- pairings --------------------------------------------------------------------------------


def _pairing(world, **fields) -> dict:
    return {
        "community_id": world.units["C"],
        "agreement": "共建协议",
        "signed_on": "2026-03-01",
        **fields,
    }


async def test_a_partner_unit_pairs_with_a_community_once_while_the_pairing_is_active(
    client, world
):
    admin = bearer(client, world.admin)
    path = f"{PARTNERS}/{world.partner_b}/pairings"
    counts = await _counts()
    first = await client.post(path, json=_pairing(world, ends_on="2027-02-28"), headers=admin)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["community_name"] == "测试社区" and body["state"] == "active"
    assert body["signed_on"] == "2026-03-01" and body["ends_on"] == "2027-02-28"
    assert await _counts() == (counts[0], counts[1] + 1, counts[2], counts[3] + 1)
    entry = await _last_audit()
    assert entry["action"] == "pairing.create" and entry["object_id"] == body["id"]
    second = await client.post(path, json=_pairing(world, agreement="另一份"), headers=admin)
    assert _refused(second, 409)["code"] == "pairing_exists"
    assert await _counts() == (counts[0], counts[1] + 1, counts[2], counts[3] + 1)
    listed = await client.get(path, headers=admin)
    assert [(p["id"], p["state"]) for p in listed.json()] == [(body["id"], "active")]


async def test_concurrent_pairings_of_one_unit_with_one_community_give_one(client, world):
    path = f"{PARTNERS}/{world.partner_b}/pairings"
    admin = bearer(client, world.admin)
    responses = await asyncio.gather(
        *[client.post(path, json=_pairing(world), headers=admin) for _ in range(4)]
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [
        r.text for r in responses
    ]
    assert await UnitPairing.count().where(UnitPairing.partner_unit == world.partner_b) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"community_id": "grid A"}, "community_id", id="community-not-an-id"),
        pytest.param({"signed_on": "2026-02-30"}, "signed_on", id="impossible-date"),
        pytest.param({"ends_on": "2026-02-01"}, "ends_on", id="ends-before-signed"),
        pytest.param({"agreement": ""}, "agreement", id="empty-agreement"),
        pytest.param({"community_id": NOWHERE}, "community_id", id="unknown-community"),
    ],
)
async def test_bad_pairings_name_the_field_and_write_nothing(client, world, fields, field):
    counts = await _counts()
    response = await client.post(
        f"{PARTNERS}/{world.partner_b}/pairings",
        json=_pairing(world, **fields),
        headers=bearer(client, world.admin),
    )
    _refused(response, 400, field)
    assert await _counts() == counts


async def test_a_pairing_is_made_with_a_community_only(client, world):
    response = await client.post(
        f"{PARTNERS}/{world.partner_b}/pairings",
        json=_pairing(world, community_id=world.units["A"]),
        headers=bearer(client, world.admin),
    )
    _refused(response, 400, "community_id")


async def test_a_grid_leader_neither_pairs_nor_ends_pairings(client, world):
    counts = await _counts()
    headers = bearer(client, world.leader_a)
    # The community lies above grid A: out of the leader's view.
    create = await client.post(
        f"{PARTNERS}/{world.partner}/pairings", json=_pairing(world), headers=headers
    )
    _refused(create, 400, "community_id")
    # The pairing is visible to the leader (it covers their grid) but not theirs to end.
    listed = await client.get(f"{PARTNERS}/{world.partner}/pairings", headers=headers)
    assert [p["id"] for p in listed.json()] == [world.pairing]
    end = await client.post(
        f"{PARTNERS}/{world.partner}/pairings/{world.pairing}/end",
        json={"ended_on": "2026-06-30"},
        headers=headers,
    )
    _refused(end, 403)
    _refused(await client.get(f"{PARTNERS}/{world.partner_b}/pairings", headers=headers), 404)
    assert await _counts() == counts


async def test_an_ended_pairing_stays_listed_and_a_new_one_may_follow(client, world):
    admin = bearer(client, world.admin)
    base = f"{PARTNERS}/{world.partner}/pairings"
    ended = await client.post(
        f"{base}/{world.pairing}/end", json={"ended_on": "2026-06-30"}, headers=admin
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["state"] == "ended" and ended.json()["ends_on"] == "2026-06-30"
    entry = await _last_audit()
    assert entry["action"] == "pairing.end" and '"active"' in entry["before"]
    assert '"ended"' in entry["after"]
    counts = await _counts()
    again = await client.post(
        f"{base}/{world.pairing}/end", json={"ended_on": "2026-07-31"}, headers=admin
    )
    assert _refused(again, 409)["code"] == "already_ended"
    wrong_partner = await client.post(
        f"{PARTNERS}/{world.partner_b}/pairings/{world.pairing}/end",
        json={"ended_on": "2026-07-31"},
        headers=admin,
    )
    _refused(wrong_partner, 404)
    assert await _counts() == counts
    renewed = await client.post(base, json=_pairing(world, signed_on="2026-07-01"), headers=admin)
    assert renewed.status_code == 201, renewed.text
    listed = (await client.get(base, headers=admin)).json()
    assert [p["state"] for p in listed] == ["ended", "active"]


async def test_a_pairing_cannot_end_before_it_was_signed(client, world):
    counts = await _counts()
    response = await client.post(
        f"{PARTNERS}/{world.partner}/pairings/{world.pairing}/end",
        json={"ended_on": "2025-12-31"},
        headers=bearer(client, world.admin),
    )
    _refused(response, 400, "ended_on")
    assert await _counts() == counts
    assert await UnitPairing.select(UnitPairing.state).where(
        UnitPairing.id == world.pairing
    ).first() == {"state": "active"}


# --- member registrations --------------------------------------------------------------------


async def _registrations(client, world, actor: int | None = None):
    return await client.get(
        f"{MEMBERS}/{world.member_a}/registrations",
        headers=bearer(client, actor or world.admin),
    )


async def test_a_members_registration_is_listed_to_those_who_see_the_member(client, world):
    listed = await _registrations(client, world, world.viewer_a)
    assert listed.status_code == 200, listed.text
    [registration] = listed.json()
    assert registration["id"] == world.registration_a
    assert registration["community_name"] == "测试社区"
    assert registration["partner_unit_name"] == "测试供电公司党委"
    assert registration["state"] == "active" and registration["ended_on"] is None
    own = await _registrations(client, world, world.member_a)
    assert own.status_code == 200 and own.json() == listed.json()
    _refused(await _registrations(client, world, world.leader_b), 404)


async def test_a_member_has_one_active_registration_and_a_new_one_after_the_last_ends(
    client, world
):
    admin = bearer(client, world.admin)
    path = f"{MEMBERS}/{world.member_a}/registrations"
    reported = _day((await _registrations(client, world)).json()[0]["reported_on"])
    counts = await _counts()
    duplicate = await client.post(path, json={"reported_on": str(reported)}, headers=admin)
    assert _refused(duplicate, 409)["code"] == "registration_exists"
    assert await _counts() == counts
    ended = await client.post(
        f"{path}/{world.registration_a}/end",
        json={"ended_on": str(reported + timedelta(days=30))},
        headers=admin,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["state"] == "ended"
    assert ended.json()["ended_on"] == str(reported + timedelta(days=30))
    entry = await _last_audit()
    assert entry["action"] == "registration.end" and entry["object_id"] == world.registration_a
    assert '"active"' in entry["before"] and '"ended"' in entry["after"]
    fresh = await client.post(
        path,
        json={"reported_on": str(reported + timedelta(days=31)), "partner_unit_id": world.partner},
        headers=admin,
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["state"] == "active" and fresh.json()["partner_unit_id"] == world.partner
    assert await _counts() == (counts[0], counts[1], counts[2] + 1, counts[3] + 2)
    listed = (await _registrations(client, world)).json()
    assert [(r["id"], r["state"]) for r in listed] == [
        (world.registration_a, "ended"),
        (fresh.json()["id"], "active"),
    ]
    member = (await client.get(f"{MEMBERS}/{world.member_a}", headers=admin)).json()
    assert member["registration"]["id"] == fresh.json()["id"]


async def test_a_registration_without_a_partner_named_keeps_the_members_employer(client, world):
    created = await client.post(
        MEMBERS,
        json={
            "name": "在职丙",
            "phone": "13712340077",
            "category": "resident",
            "org_unit_id": world.units["A1-B1-U1"],
            "partner_unit_id": world.partner,
        },
        headers=bearer(client, world.leader_a),
    )
    assert created.status_code == 201, created.text
    assert created.json()["registration"] is None
    reported = await client.post(
        f"{MEMBERS}/{created.json()['id']}/registrations",
        json={"reported_on": "2026-05-01"},
        headers=bearer(client, world.leader_a),
    )
    assert reported.status_code == 201, reported.text
    assert reported.json()["partner_unit_id"] == world.partner
    assert reported.json()["community_id"] == world.units["C"]


async def test_concurrent_reports_of_one_member_give_one_active_registration(client, world):
    admin = bearer(client, world.admin)
    path = f"{MEMBERS}/{world.member_b}/registrations"
    responses = await asyncio.gather(
        *[client.post(path, json={"reported_on": "2026-05-01"}, headers=admin) for _ in range(4)]
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [
        r.text for r in responses
    ]
    assert await MemberRegistration.count().where(MemberRegistration.member == world.member_b) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"reported_on": "yesterday"}, "reported_on", id="not-a-date"),
        pytest.param({}, "reported_on", id="missing-date"),
        pytest.param(
            {"reported_on": "2026-05-01", "partner_unit_id": NOWHERE},
            "partner_unit_id",
            id="unknown-partner",
        ),
        pytest.param({"reported_on": "2026-05-01", "state": "ended"}, "state", id="unknown-field"),
    ],
)
async def test_bad_registrations_name_the_field_and_write_nothing(client, world, body, field):
    counts = await _counts()
    response = await client.post(
        f"{MEMBERS}/{world.member_b}/registrations", json=body, headers=bearer(client, world.admin)
    )
    _refused(response, 400, field)
    assert await _counts() == counts


async def test_only_a_manager_of_the_member_records_or_ends_registrations(client, world):
    counts = await _counts()
    path = f"{MEMBERS}/{world.member_a}/registrations"
    end = f"{path}/{world.registration_a}/end"
    viewer = bearer(client, world.viewer_a)
    _refused(await client.post(path, json={"reported_on": "2026-05-01"}, headers=viewer), 403)
    _refused(await client.post(end, json={"ended_on": "2030-01-01"}, headers=viewer), 403)
    leader_b = bearer(client, world.leader_b)
    _refused(await client.post(end, json={"ended_on": "2030-01-01"}, headers=leader_b), 404)
    # A registration id under another member is not found.
    wrong = f"{MEMBERS}/{world.viewer_a}/registrations/{world.registration_a}/end"
    _refused(
        await client.post(
            wrong, json={"ended_on": "2030-01-01"}, headers=bearer(client, world.admin)
        ),
        404,
    )
    assert await _counts() == counts


async def test_a_registration_cannot_end_before_it_began_or_end_twice(client, world):
    admin = bearer(client, world.admin)
    end = f"{MEMBERS}/{world.member_a}/registrations/{world.registration_a}/end"
    reported = _day((await _registrations(client, world)).json()[0]["reported_on"])
    counts = await _counts()
    early = await client.post(
        end, json={"ended_on": str(reported - timedelta(days=1))}, headers=admin
    )
    _refused(early, 400, "ended_on")
    _refused(await client.post(end, json={"ended_on": "soon"}, headers=admin), 400, "ended_on")
    assert await _counts() == counts
    assert (
        await client.post(end, json={"ended_on": str(reported)}, headers=admin)
    ).status_code == 200
    again = await client.post(end, json={"ended_on": str(reported)}, headers=admin)
    assert _refused(again, 409)["code"] == "already_ended"


async def _active(member_id: int) -> list[dict]:
    return await MemberRegistration.select(
        MemberRegistration.community, MemberRegistration.partner_unit
    ).where((MemberRegistration.member == member_id) & (MemberRegistration.state == "active"))


async def test_a_members_report_follows_their_category_and_employer(client, world):
    admin = bearer(client, world.admin)
    path = f"/api/v1/members/{world.member_b}"
    assert await _active(world.member_b) == []
    # Becoming in-service: a report to the community they live in, with their employer.
    joined = await client.patch(
        path, json={"category": "in_service", "partner_unit_id": world.partner_b}, headers=admin
    )
    assert joined.status_code == 200, joined.text
    assert await _active(world.member_b) == [
        {"community": world.units["C"], "partner_unit": world.partner_b}
    ]
    # A new employer: the old report ends, a new one begins.
    moved = await client.patch(path, json={"partner_unit_id": world.partner}, headers=admin)
    assert moved.status_code == 200, moved.text
    assert await _active(world.member_b) == [
        {"community": world.units["C"], "partner_unit": world.partner}
    ]
    assert await MemberRegistration.count().where(MemberRegistration.member == world.member_b) == 2
    # A move within the same community changes nothing.
    within = await client.patch(path, json={"org_unit_id": world.units["B1"]}, headers=admin)
    assert within.status_code == 200, within.text
    assert len(await _active(world.member_b)) == 1
    # No longer in service: the report ends.
    left = await client.patch(path, json={"category": "resident"}, headers=admin)
    assert left.status_code == 200, left.text
    assert await _active(world.member_b) == []
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action)
        .where(AuditEntry.object_type == "member_registration")
        .order_by(AuditEntry.id)
    ]
    assert actions[-4:] == [
        "registration.create",
        "registration.end",
        "registration.create",
        "registration.end",
    ]
