"""Capacity holds under concurrency: a crowd scanning an activity with room for five at once
stores five check-ins, and the others are told plainly that it is full."""

from __future__ import annotations

import asyncio

from gridpoints.audit.services import verify
from gridpoints.audit.tables import AuditEntry
from gridpoints.checkins.tables import CheckIn
from gridpoints.members import services as members
from gridpoints.members.schemas import MemberCreate
from gridpoints.members.vocab import Category
from tests.checkins.scans import current_code, scan_body
from tests.checkins.test_checkin_api import _activity
from tests.conftest import bearer
from tests.world import SYSTEM

CROWD = 50
CAPACITY = 5


async def test_fifty_simultaneous_scans_of_an_activity_for_five_store_five(client, world, settings):
    crowd = []
    for n in range(CROWD):
        member = await members.create_member(
            SYSTEM,
            MemberCreate(
                name=f"队员{n}",
                phone=f"1380000{n:04d}",
                category=Category.RESIDENT,
                org_unit_id=world.units["A1-B1-U1"],
            ),
            settings,
        )
        crowd.append(member.id)
    for member_id in crowd:  # signed in before the event
        await client.token_for(member_id)
    activity = await _activity(client, world, capacity=CAPACITY)
    # Another activity without a capacity, scanned by the same crowd at the same moment.
    open_door = await _activity(client, world, title="不限人数")
    token = await current_code(client, world, activity["id"])
    free_token = await current_code(client, world, open_door["id"])
    scans = [
        client.post(
            "/api/v1/checkins", json=scan_body(activity["id"], token), headers=bearer(client, m)
        )
        for m in crowd
    ] + [
        client.post(
            "/api/v1/checkins",
            json=scan_body(open_door["id"], free_token),
            headers=bearer(client, m),
        )
        for m in crowd[:10]
    ]
    answers = await asyncio.gather(*scans)
    limited, free = answers[:CROWD], answers[CROWD:]

    assert sorted(a.status_code for a in limited) == [201] * CAPACITY + [409] * (CROWD - CAPACITY)
    full = [a.json() for a in limited if a.status_code == 409]
    assert {(p["code"], p["detail"]) for p in full} == {
        ("activity_full", "活动人数已满，无法再签到")
    }
    assert await CheckIn.count().where(CheckIn.activity == activity["id"]) == CAPACITY
    assert [a.status_code for a in free] == [201] * 10
    assert await CheckIn.count().where(CheckIn.activity == open_door["id"]) == 10
    audited = await AuditEntry.count().where(AuditEntry.action == "checkin.create")
    assert audited == CAPACITY + 10
    assert (await verify()).intact

    # One of the five checks out and scans again: still one of the five, let in.
    inside = next(a.json() for a in limited if a.status_code == 201)
    headers = bearer(client, inside["member_id"])
    await client.post(f"/api/v1/checkins/{inside['id']}/checkout", json={}, headers=headers)
    again = await client.post(
        "/api/v1/checkins",
        json=scan_body(activity["id"], await current_code(client, world, activity["id"])),
        headers=headers,
    )
    assert again.status_code == 201, again.text
