"""A crowd checking in at once: each member gets their own check-in, judged against their
own last sighting; copies of one scan make one row; every row is audited once, in chain."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gridpoints.audit.services import verify
from gridpoints.audit.tables import AuditEntry
from gridpoints.checkins.tables import CheckIn
from gridpoints.clock import utcnow
from gridpoints.members import services as members
from gridpoints.members.schemas import MemberCreate
from gridpoints.members.vocab import Category
from tests.checkins.scans import SITE, current_code, scan_body
from tests.checkins.test_checkin_api import _activity
from tests.conftest import bearer
from tests.world import SYSTEM

CROWD = 15


async def _crowd(world, settings) -> list[int]:
    made = []
    for n in range(CROWD):
        member = await members.create_member(
            SYSTEM,
            MemberCreate(
                name=f"队员{n}",
                phone=f"1370000{n:04d}",
                category=Category.RESIDENT,
                org_unit_id=world.units["A1-B1-U1"],
            ),
            settings,
        )
        made.append(member.id)
    return made


async def test_a_crowd_checks_in_at_once_each_judged_on_their_own(client, world, settings):
    crowd = await _crowd(world, settings)
    # The first of the crowd was checked in 60 km away two minutes ago.
    far = await _activity(client, world, lat=SITE["lat"] + 0.55, lng=SITE["lng"])
    earlier = scan_body(
        far["id"],
        await current_code(client, world, far["id"]),
        lat=far["lat"],
        lng=far["lng"],
        at=(utcnow() - timedelta(minutes=2)).isoformat(),
    )
    first = await client.post("/api/v1/checkins", json=earlier, headers=bearer(client, crowd[0]))
    assert first.status_code == 201 and first.json()["flags"] == []

    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    scans = {member: scan_body(activity["id"], token) for member in crowd}
    copies = [crowd[1]] * 3  # one phone sending its scan again and again
    answers = await asyncio.gather(
        *(
            client.post("/api/v1/checkins", json=scans[member], headers=bearer(client, member))
            for member in [*crowd, *copies]
        )
    )

    made = {a.json()["member_id"]: a.json() for a in answers if a.status_code == 201}
    assert sorted(made) == sorted(crowd)
    assert sorted(a.status_code for a in answers).count(200) == len(copies)
    assert {a.json()["id"] for a in answers if a.json()["member_id"] == crowd[1]} == {
        made[crowd[1]]["id"]
    }
    assert made[crowd[0]]["flags"] == ["impossible_speed"]
    assert all(made[m]["flags"] == [] and made[m]["review"] == "accepted" for m in crowd[1:])
    assert all(str(made[m]["client_id"]) == scans[m]["client_id"] for m in crowd)

    assert await CheckIn.count().where(CheckIn.activity == activity["id"]) == CROWD
    audited = await AuditEntry.select(AuditEntry.object_id).where(
        AuditEntry.action == "checkin.create"
    )
    assert sorted(r["object_id"] for r in audited) == sorted(
        [first.json()["id"], *(c["id"] for c in made.values())]
    )
    assert (await verify()).intact
