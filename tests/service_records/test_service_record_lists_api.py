"""The service-record list narrowed to one member's (`member_id`), as 我的记录 asks for it; the
narrowing never widens what the caller may see."""

from __future__ import annotations

from datetime import timedelta

from gridpoints.clock import utcnow
from tests.conftest import bearer

RECORDS = "/api/v1/service-records"


def _deed() -> dict:
    return {
        "category": "resident_service",
        "hours": 1.5,
        "description": "帮独居老人买菜",
        "served_on": (utcnow() - timedelta(days=1)).isoformat(),
    }


async def test_member_id_narrows_the_list_to_that_members_records(client, world):
    leader = bearer(client, world.leader_a)
    for member in (world.member_a, world.leader_a):
        submitted = await client.post(RECORDS, json=_deed(), headers=bearer(client, member))
        assert submitted.status_code == 201, submitted.text

    everyone = await client.get(RECORDS, headers=leader)
    assert {r["member_id"] for r in everyone.json()["items"]} == {world.member_a, world.leader_a}
    own = await client.get(f"{RECORDS}?member_id={world.leader_a}", headers=leader)
    assert [r["member_id"] for r in own.json()["items"]] == [world.leader_a]
    other = await client.get(
        f"{RECORDS}?member_id={world.leader_a}", headers=bearer(client, world.member_a)
    )
    assert other.status_code == 200 and other.json()["items"] == []
