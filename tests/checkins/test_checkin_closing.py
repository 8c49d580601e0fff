"""Open check-ins and how they close: a member lists their own open ones (with the activity's
times); the no-check-out job closes at the activity's end, never later; a proxy check-in
recorded after the end waits for a second leader."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from gridpoints.checkins import services
from gridpoints.checkins.tables import CheckIn
from gridpoints.clock import utcnow
from tests.checkins.scans import current_code, scan_body, token_at
from tests.checkins.test_checkin_api import _activity
from tests.conftest import bearer
from tests.world import SYSTEM


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_a_member_lists_their_own_open_check_ins_with_the_activitys_times(client, world):
    first = await _activity(client, world)
    second = await _activity(client, world, title="第二个活动")
    member = bearer(client, world.member_a)
    made = {}
    for activity in (first, second):
        token = await current_code(client, world, activity["id"])
        answer = await client.post(
            "/api/v1/checkins", json=scan_body(activity["id"], token), headers=member
        )
        made[activity["id"]] = answer.json()
    left = made[first["id"]]["id"]
    await client.post(f"/api/v1/checkins/{left}/checkout", json={}, headers=member)

    listed = await client.get("/api/v1/checkins/open", headers=member)
    assert listed.status_code == 200, listed.text
    assert [c["id"] for c in listed.json()] == [made[second["id"]]["id"]]
    [open_one] = listed.json()
    assert open_one["checked_out_at"] is None
    assert _at(open_one["activity_starts_at"]) == _at(second["starts_at"])
    assert _at(open_one["activity_ends_at"]) == _at(second["ends_at"])
    assert open_one["activity_ends_at"] == made[second["id"]]["activity_ends_at"]
    one = await client.get(
        "/api/v1/checkins/open", params={"activity_id": first["id"]}, headers=member
    )
    assert one.json() == []
    # Others' open check-ins are not the caller's, even for the activity's organiser.
    leader = await client.get("/api/v1/checkins/open", headers=bearer(client, world.leader_a))
    assert leader.json() == []


async def test_the_no_check_out_job_closes_at_the_activitys_end_never_later(
    client, world, settings
):
    now = utcnow()
    activity = await _activity(
        client,
        world,
        starts_at=(now - timedelta(hours=2)).isoformat(),
        ends_at=(now - timedelta(minutes=10)).isoformat(),
    )
    # Scanned before the end, sent by a phone's queue after it.
    scanned = now - timedelta(minutes=30)
    queued = scan_body(
        activity["id"], await token_at(settings, activity["id"], scanned), at=scanned.isoformat()
    )
    batch = await client.post(
        "/api/v1/checkins/batch",
        json={"items": [queued], "sent_at": utcnow().isoformat()},
        headers=bearer(client, world.member_a),
    )
    [item] = batch.json()["items"]
    assert item["status"] == 201, item
    later = now + timedelta(hours=10)
    assert await services.close_stale(SYSTEM, ended_before=later, now=later) == 1
    row = await CheckIn.select().where(CheckIn.id == item["checkin"]["id"]).first()
    assert row["checked_out_at"] == _at(activity["ends_at"])
    assert row["received_at"] > row["checked_out_at"]
    assert "no_checkout" in row["flags"]


async def test_a_check_in_after_the_end_closed_by_the_job_credits_nothing(client, world, settings):
    now = utcnow()
    activity = await _activity(
        client,
        world,
        starts_at=(now - timedelta(hours=2)).isoformat(),
        ends_at=(now - timedelta(minutes=10)).isoformat(),
    )
    token = await current_code(client, world, activity["id"])
    late = await client.post(
        "/api/v1/checkins",
        json=scan_body(activity["id"], token),
        headers=bearer(client, world.member_a),
    )
    assert late.status_code == 201
    later = now + timedelta(hours=10)
    await services.close_stale(SYSTEM, ended_before=later, now=later)
    closed = await client.get(
        f"/api/v1/checkins/{late.json()['id']}", headers=bearer(client, world.member_a)
    )
    assert closed.json()["checked_out_at"] == closed.json()["checked_in_at"]
    assert closed.json()["minutes"] == 0


async def test_a_proxy_check_in_after_the_end_is_flagged_for_review(client, world):
    now = utcnow()
    ended = await _activity(
        client,
        world,
        starts_at=(now - timedelta(hours=3)).isoformat(),
        ends_at=(now - timedelta(minutes=1)).isoformat(),
    )
    leader = bearer(client, world.leader_a)
    body = {
        "client_id": str(uuid.uuid4()),
        "activity_id": ended["id"],
        "member_id": world.viewer_a,
        "reason": "老人没有智能手机",
    }
    proxied = await client.post("/api/v1/checkins/proxy", json=body, headers=leader)
    assert proxied.status_code == 201, proxied.text
    assert proxied.json()["flags"] == ["proxy_after_end"]
    assert proxied.json()["flag_labels"] == ["活动结束后代签到"]
    assert proxied.json()["review"] == "pending"
    # The leader who recorded it does not rule on it.
    ruled = await client.post(
        f"/api/v1/checkins/{proxied.json()['id']}/review",
        json={"decision": "accepted"},
        headers=leader,
    )
    assert ruled.status_code == 403
    own = await client.post(
        "/api/v1/checkins/proxy",
        json={**body, "client_id": str(uuid.uuid4()), "member_id": world.leader_a},
        headers=leader,
    )
    assert own.status_code == 400
    assert own.json()["detail"] == "不能为自己代签到，请扫码签到"
