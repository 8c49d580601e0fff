"""Activities and check-ins through the API: the rotating code, replays that never double a
record, flags instead of refusals, check-out, proxy check-in and the leader's review."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gridpoints.activities.codes import make_token, slot_of
from gridpoints.activities.tables import Activity
from gridpoints.audit.services import verify
from gridpoints.audit.tables import AuditEntry
from gridpoints.checkins import services
from gridpoints.checkins.tables import CheckIn
from gridpoints.clock import utcnow
from gridpoints.events.tables import VerifiedEvent
from tests.checkins.scans import SITE, current_code, scan_body
from tests.conftest import bearer
from tests.world import SYSTEM


async def _activity(client, world, **fields) -> dict:
    now = utcnow()
    body = {
        "org_unit_id": world.units["A"],
        "title": "楼道清理",
        "category": "corridor_facilities",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "radius_m": 150,
        **SITE,
        **fields,
    }
    created = await client.post(
        "/api/v1/activities", json=body, headers=bearer(client, world.leader_a)
    )
    assert created.status_code == 201, created.text
    return created.json()


async def test_an_organiser_gets_a_code_url_and_qr_and_others_do_not(client, world):
    activity = await _activity(client, world)
    code = await client.get(
        f"/api/v1/activities/{activity['id']}/code", headers=bearer(client, world.leader_a)
    )
    body = code.json()
    assert body["slot_seconds"] == 30
    assert f"a={activity['id']}" in body["checkin_url"] and body["token"] in body["checkin_url"]
    assert code.headers["cache-control"] == "no-store"
    qr = await client.get(
        f"/api/v1/activities/{activity['id']}/qr.svg", headers=bearer(client, world.leader_a)
    )
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in qr.content
    member = await client.get(
        f"/api/v1/activities/{activity['id']}/code", headers=bearer(client, world.member_a)
    )
    assert member.status_code == 403
    sibling = await client.get(
        f"/api/v1/activities/{activity['id']}/code", headers=bearer(client, world.leader_b)
    )
    assert sibling.status_code == 404


async def test_activities_are_refused_with_named_fields(client, world):
    now = utcnow()
    bad = await client.post(
        "/api/v1/activities",
        json={
            "org_unit_id": world.units["A"],
            "title": "x",
            "category": "juggling",
            "starts_at": now.isoformat(),
            "ends_at": (now - timedelta(hours=1)).isoformat(),
            **SITE,
        },
        headers=bearer(client, world.leader_a),
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"category", "ends_at"}
    assert await Activity.count() == 0
    elsewhere = await client.post(
        "/api/v1/activities",
        json={
            "org_unit_id": world.units["B"],
            "title": "越界",
            "category": "corridor_facilities",
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            **SITE,
        },
        headers=bearer(client, world.leader_a),
    )
    assert elsewhere.status_code == 404


async def test_a_member_checks_in_once_and_a_replay_returns_the_same_record(client, world):
    activity = await _activity(client, world)
    scan = scan_body(activity["id"], await current_code(client, world, activity["id"]))
    headers = bearer(client, world.member_a)
    first = await client.post("/api/v1/checkins", json=scan, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["flags"] == [] and first.json()["review"] == "accepted"
    replay = await client.post("/api/v1/checkins", json=scan, headers=headers)
    assert replay.status_code == 200
    assert replay.json() == first.json()
    changed = await client.post(
        "/api/v1/checkins", json={**scan, "accuracy_m": 99}, headers=headers
    )
    assert changed.status_code == 409
    again = await client.post(
        "/api/v1/checkins",
        json=scan_body(activity["id"], scan["token"]),
        headers=headers,
    )
    assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
    assert await CheckIn.count() == 1


async def test_ten_concurrent_copies_of_one_check_in_make_one_row(client, world):
    activity = await _activity(client, world)
    scan = scan_body(activity["id"], await current_code(client, world, activity["id"]))
    headers = bearer(client, world.member_a)
    answers = await asyncio.gather(
        *(client.post("/api/v1/checkins", json=scan, headers=headers) for _ in range(10))
    )
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await CheckIn.count() == 1
    # The one check-in and its audit row were written together, chained onto the log.
    audited = await AuditEntry.select(AuditEntry.object_id).where(
        AuditEntry.action == "checkin.create"
    )
    assert audited == [{"object_id": answers[0].json()["id"]}]
    assert (await verify()).intact


@pytest.mark.parametrize(
    ("where", "flag"),
    [
        pytest.param({"lat": 30.30, "lng": 120.20}, "outside_fence", id="far-away"),
        pytest.param({"lat": None, "lng": None}, "no_location", id="no-fix"),
    ],
)
async def test_doubtful_check_ins_are_kept_and_flagged(client, world, where, flag):
    activity = await _activity(client, world)
    scan = scan_body(activity["id"], await current_code(client, world, activity["id"]), **where)
    response = await client.post(
        "/api/v1/checkins", json=scan, headers=bearer(client, world.member_a)
    )
    assert response.status_code == 201
    assert response.json()["flags"] == [flag]
    assert response.json()["review"] == "pending"
    queue = await client.get(
        "/api/v1/checkins", params={"review": "pending"}, headers=bearer(client, world.leader_a)
    )
    assert [c["id"] for c in queue.json()["items"]] == [response.json()["id"]]


async def test_a_check_in_outside_the_time_window_is_flagged(client, world):
    now = utcnow()
    activity = await _activity(
        client,
        world,
        starts_at=(now + timedelta(hours=3)).isoformat(),
        ends_at=(now + timedelta(hours=5)).isoformat(),
    )
    scan = scan_body(activity["id"], await current_code(client, world, activity["id"]))
    response = await client.post(
        "/api/v1/checkins", json=scan, headers=bearer(client, world.member_a)
    )
    assert response.json()["flags"] == ["outside_window"]


async def test_tokens_of_another_activity_or_an_old_slot_are_refused_with_a_reason(
    client, world, settings
):
    activity = await _activity(client, world)
    other = await _activity(client, world, title="另一个活动")
    headers = bearer(client, world.member_a)
    wrong = await client.post(
        "/api/v1/checkins",
        json=scan_body(activity["id"], await current_code(client, world, other["id"])),
        headers=headers,
    )
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "token_other_activity"
    assert wrong.json()["detail"] == "这是另一个活动的签到码"
    secret = (
        await Activity.select(Activity.code_secret).where(Activity.id == activity["id"]).first()
    )["code_secret"]
    old = make_token(
        settings.secret_key, secret, activity["id"], slot_of(utcnow() - timedelta(minutes=10), 30)
    )
    stale = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], old), headers=headers
    )
    assert stale.status_code == 400
    assert (stale.json()["code"], stale.json()["detail"]) == (
        "token_expired",
        "签到码已过期，请重新扫描现场二维码",
    )
    garbage = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], "garbage"), headers=headers
    )
    assert (garbage.json()["code"], garbage.json()["detail"]) == (
        "token_malformed",
        "签到码无法识别",
    )
    assert await CheckIn.count() == 0


async def test_an_offline_queue_sent_late_is_kept_flagged_and_once(client, world, settings):
    activity = await _activity(client, world)
    secret = (
        await Activity.select(Activity.code_secret).where(Activity.id == activity["id"]).first()
    )["code_secret"]
    scanned = utcnow() - timedelta(minutes=40)
    token = make_token(settings.secret_key, secret, activity["id"], slot_of(scanned, 30))
    queued = scan_body(activity["id"], token, at=scanned.isoformat())
    bad = scan_body(activity["id"], "garbage")
    headers = bearer(client, world.member_a)
    batch = await client.post(
        "/api/v1/checkins/batch", json={"items": [queued, queued, bad]}, headers=headers
    )
    assert batch.status_code == 200
    statuses = [(i["client_id"], i["status"]) for i in batch.json()["items"]]
    assert statuses == [
        (queued["client_id"], 201),
        (queued["client_id"], 200),
        (bad["client_id"], 400),
    ]
    problem = batch.json()["items"][2]["problem"]
    assert (problem["code"], problem["detail"]) == ("token_malformed", "签到码无法识别")
    stored = batch.json()["items"][0]["checkin"]
    assert stored["flags"] == ["late_token"]
    assert datetime.fromisoformat(stored["checked_in_at"]) == scanned
    assert await CheckIn.count() == 1


async def test_check_out_closes_it_and_an_accepted_check_in_becomes_one_event(client, world):
    activity = await _activity(client, world)
    scan = scan_body(activity["id"], await current_code(client, world, activity["id"]))
    headers = bearer(client, world.member_a)
    checkin = (await client.post("/api/v1/checkins", json=scan, headers=headers)).json()
    closed = await client.post(
        f"/api/v1/checkins/{checkin['id']}/checkout", json={}, headers=headers
    )
    assert closed.status_code == 200
    assert closed.json()["checked_out_at"] is not None
    again = await client.post(
        f"/api/v1/checkins/{checkin['id']}/checkout", json={}, headers=headers
    )
    assert again.json() == closed.json()
    events = await VerifiedEvent.select().where(VerifiedEvent.source_id == checkin["id"])
    assert [(e["kind"], e["action"], e["member"]) for e in events] == [
        ("checkin", "verified", world.member_a)
    ]
    assert events[0]["org_unit"] == world.units["A"]
    assert events[0]["category"] == "corridor_facilities"
    # Checked out, the member may check in again with a new scan.
    second = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], scan["token"]), headers=headers
    )
    assert second.status_code == 201


async def test_a_leader_rules_on_flagged_check_ins_and_events_follow(client, world):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    member = bearer(client, world.member_a)
    leader = bearer(client, world.leader_a)
    far = (
        await client.post(
            "/api/v1/checkins",
            json=scan_body(activity["id"], token, lat=30.4, lng=120.4),
            headers=member,
        )
    ).json()
    await client.post(f"/api/v1/checkins/{far['id']}/checkout", json={}, headers=member)
    assert await VerifiedEvent.count() == 0, "a pending check-in does not count yet"
    no_reason = await client.post(
        f"/api/v1/checkins/{far['id']}/review", json={"decision": "rejected"}, headers=leader
    )
    assert no_reason.status_code == 400
    own = await client.post(
        f"/api/v1/checkins/{far['id']}/review", json={"decision": "accepted"}, headers=member
    )
    assert own.status_code == 403, "a member never rules on their own check-in"
    accepted = await client.post(
        f"/api/v1/checkins/{far['id']}/review", json={"decision": "accepted"}, headers=leader
    )
    assert accepted.json()["review"] == "accepted"
    assert await VerifiedEvent.count().where(VerifiedEvent.action == "verified") == 1
    rejected = await client.post(
        f"/api/v1/checkins/{far['id']}/review",
        json={"decision": "rejected", "reason": "定位在外地，核实未到场"},
        headers=leader,
    )
    assert rejected.json()["review"] == "rejected"
    assert rejected.json()["review_reason"] == "定位在外地，核实未到场"
    assert await VerifiedEvent.count().where(VerifiedEvent.action == "revoked") == 1


async def test_a_leader_checks_in_a_member_without_a_phone(client, world):
    activity = await _activity(client, world)
    body = {
        "client_id": str(uuid.uuid4()),
        "activity_id": activity["id"],
        "member_id": world.viewer_a,
        "reason": "老人没有智能手机",
    }
    leader = bearer(client, world.leader_a)
    proxied = await client.post("/api/v1/checkins/proxy", json=body, headers=leader)
    assert proxied.status_code == 201, proxied.text
    assert proxied.json()["method"] == "proxy"
    assert proxied.json()["proxy_reason"] == "老人没有智能手机"
    replay = await client.post("/api/v1/checkins/proxy", json=body, headers=leader)
    assert replay.status_code == 200
    outside = await client.post(
        "/api/v1/checkins/proxy",
        json={**body, "client_id": str(uuid.uuid4()), "member_id": world.member_b},
        headers=leader,
    )
    assert outside.status_code == 404


async def test_members_outside_the_owning_subtree_cannot_join_and_are_told_who_may(
    client, world, settings
):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    headers = bearer(client, world.member_b)
    response = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], token), headers=headers
    )
    # Holding the live code, the member is at the event: told plainly who may join it.
    assert response.status_code == 403
    assert response.json()["code"] == "not_invited"
    assert response.json()["detail"] == "本活动仅限「测试社区甲片区」的成员参加"
    batch = await client.post(
        "/api/v1/checkins/batch",
        json={"items": [scan_body(activity["id"], token)]},
        headers=headers,
    )
    [item] = batch.json()["items"]
    assert (item["status"], item["problem"]["code"]) == (403, "not_invited")
    assert item["problem"]["detail"] == response.json()["detail"]
    # Without a live code nothing is said about the activity.
    old = make_token(
        settings.secret_key,
        (await Activity.select(Activity.code_secret).where(Activity.id == activity["id"]).first())[
            "code_secret"
        ],
        activity["id"],
        slot_of(utcnow() - timedelta(minutes=10), 30),
    )
    for token in (old, "garbage"):
        hidden = await client.post(
            "/api/v1/checkins", json=scan_body(activity["id"], token), headers=headers
        )
        assert hidden.status_code == 404, hidden.text
    assert await CheckIn.count() == 0


async def test_check_ins_left_open_are_closed_and_flagged_no_checkout(client, world):
    activity = await _activity(client, world)
    scan = scan_body(activity["id"], await current_code(client, world, activity["id"]))
    checkin = (
        await client.post("/api/v1/checkins", json=scan, headers=bearer(client, world.member_a))
    ).json()
    later = datetime.now(UTC) + timedelta(hours=10)
    closed = await services.close_stale(SYSTEM, ended_before=later, now=later)
    assert closed == 1
    row = await CheckIn.select().where(CheckIn.id == checkin["id"]).first()
    assert row["checkout_kind"] == "auto"
    assert "no_checkout" in row["flags"] and row["review"] == "pending"
    assert await services.close_stale(SYSTEM, ended_before=later, now=later) == 0
    assert await VerifiedEvent.count() == 0
