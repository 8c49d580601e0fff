"""The check-in list narrowed to one member's (`member_id`): a leader's 我的记录 fetches its own
check-ins, not every check-in of the grids it leads; the narrowing never widens what is seen."""

from __future__ import annotations

from datetime import timedelta

from gridpoints.clock import utcnow
from tests.checkins.scans import SITE, current_code, scan_body
from tests.conftest import bearer


async def test_member_id_narrows_the_list_to_that_members_check_ins(client, world):
    now = utcnow()
    leader = bearer(client, world.leader_a)
    created = await client.post(
        "/api/v1/activities",
        json={
            "org_unit_id": world.units["A"],
            "title": "楼道清理",
            "category": "corridor_facilities",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat(),
            "radius_m": 150,
            **SITE,
        },
        headers=leader,
    )
    activity_id = created.json()["id"]
    token = await current_code(client, world, activity_id)
    for member in (world.member_a, world.leader_a):
        stored = await client.post(
            "/api/v1/checkins",
            json=scan_body(activity_id, token),
            headers=bearer(client, member),
        )
        assert stored.status_code == 201, stored.text

    everyone = await client.get("/api/v1/checkins", headers=leader)
    assert {c["member_id"] for c in everyone.json()["items"]} == {world.member_a, world.leader_a}
    own = await client.get(f"/api/v1/checkins?member_id={world.leader_a}", headers=leader)
    assert [c["member_id"] for c in own.json()["items"]] == [world.leader_a]
    assert own.json()["total"] == 1
    # A member sees no one else's by naming them.
    other = await client.get(
        f"/api/v1/checkins?member_id={world.leader_a}", headers=bearer(client, world.member_a)
    )
    assert other.status_code == 200 and other.json()["items"] == []
