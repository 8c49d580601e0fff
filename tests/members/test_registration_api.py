"""Members' dual registration through the API: their reports to their community, with dates
and a state; created, listed and ended by those who may; one active registration per member,
also when requests race; the report follows the member's category, grid and employer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.members.tables import MemberRegistration
from tests.conftest import bearer
from tests.dual_registration import (
    MEMBERS,
    NOWHERE,
    day,
    last_audit,
    refused,
    row_counts,
)

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
    refused(await _registrations(client, world, world.leader_b), 404)


async def test_a_member_has_one_active_registration_and_a_new_one_after_the_last_ends(
    client, world
):
    admin = bearer(client, world.admin)
    path = f"{MEMBERS}/{world.member_a}/registrations"
    reported = day((await _registrations(client, world)).json()[0]["reported_on"])
    counts = await row_counts()
    duplicate = await client.post(path, json={"reported_on": str(reported)}, headers=admin)
    assert refused(duplicate, 409)["code"] == "registration_exists"
    assert await row_counts() == counts
    ended = await client.post(
        f"{path}/{world.registration_a}/end",
        json={"ended_on": str(reported + timedelta(days=30))},
        headers=admin,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["state"] == "ended"
    assert ended.json()["ended_on"] == str(reported + timedelta(days=30))
    entry = await last_audit()
    assert entry["action"] == "registration.end" and entry["object_id"] == world.registration_a
    assert '"active"' in entry["before"] and '"ended"' in entry["after"]
    fresh = await client.post(
        path,
        json={"reported_on": str(reported + timedelta(days=31)), "partner_unit_id": world.partner},
        headers=admin,
    )
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["state"] == "active" and fresh.json()["partner_unit_id"] == world.partner
    assert await row_counts() == (counts[0], counts[1], counts[2] + 1, counts[3] + 2)
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
    counts = await row_counts()
    response = await client.post(
        f"{MEMBERS}/{world.member_b}/registrations", json=body, headers=bearer(client, world.admin)
    )
    refused(response, 400, field)
    assert await row_counts() == counts


async def test_only_a_manager_of_the_member_records_or_ends_registrations(client, world):
    counts = await row_counts()
    path = f"{MEMBERS}/{world.member_a}/registrations"
    end = f"{path}/{world.registration_a}/end"
    viewer = bearer(client, world.viewer_a)
    refused(await client.post(path, json={"reported_on": "2026-05-01"}, headers=viewer), 403)
    refused(await client.post(end, json={"ended_on": "2030-01-01"}, headers=viewer), 403)
    leader_b = bearer(client, world.leader_b)
    refused(await client.post(end, json={"ended_on": "2030-01-01"}, headers=leader_b), 404)
    # A registration id under another member is not found.
    wrong = f"{MEMBERS}/{world.viewer_a}/registrations/{world.registration_a}/end"
    refused(
        await client.post(
            wrong, json={"ended_on": "2030-01-01"}, headers=bearer(client, world.admin)
        ),
        404,
    )
    assert await row_counts() == counts


async def test_a_registration_cannot_end_before_it_began_or_end_twice(client, world):
    admin = bearer(client, world.admin)
    end = f"{MEMBERS}/{world.member_a}/registrations/{world.registration_a}/end"
    reported = day((await _registrations(client, world)).json()[0]["reported_on"])
    counts = await row_counts()
    early = await client.post(
        end, json={"ended_on": str(reported - timedelta(days=1))}, headers=admin
    )
    refused(early, 400, "ended_on")
    refused(await client.post(end, json={"ended_on": "soon"}, headers=admin), 400, "ended_on")
    assert await row_counts() == counts
    assert (
        await client.post(end, json={"ended_on": str(reported)}, headers=admin)
    ).status_code == 200
    again = await client.post(end, json={"ended_on": str(reported)}, headers=admin)
    assert refused(again, 409)["code"] == "already_ended"


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
