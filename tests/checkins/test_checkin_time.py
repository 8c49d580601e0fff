"""The phone's clock never credits time: `at` is moved by the offset the request measures
(arrival − `sent_at`); without `sent_at` an `at` before the code's slot is bounded by it;
times ahead of the server are now; durations come from the corrected times."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from gridpoints.checkins.tables import CheckIn
from gridpoints.clock import utcnow
from gridpoints.events.tables import VerifiedEvent
from tests.checkins.scans import client_with, current_code, scan_body, token_at
from tests.checkins.test_checkin_api import _activity
from tests.conftest import bearer


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_an_early_at_without_sent_at_credits_nothing_at_a_check_out_2_s_later(
    settings, db, world
):
    # Codes of 10 s: the slot that bounds the scan began at most 20 s before it arrived.
    async with client_with(settings, db, checkin_slot_seconds=10) as client:
        activity = await _activity(client, world)
        headers = bearer(client, world.member_a)
        token = await current_code(client, world, activity["id"])
        sent = utcnow()
        checkin = await client.post(
            "/api/v1/checkins",
            json=scan_body(activity["id"], token, at=(sent - timedelta(minutes=15)).isoformat()),
            headers=headers,
        )
        assert checkin.status_code == 201, checkin.text
        assert checkin.json()["flags"] == []
        assert _at(checkin.json()["checked_in_at"]) >= sent - timedelta(seconds=20)
        closed = await client.post(
            f"/api/v1/checkins/{checkin.json()['id']}/checkout", json={}, headers=headers
        )
        assert closed.status_code == 200, closed.text
        assert closed.json()["minutes"] == 0
        event = await VerifiedEvent.select().where(VerifiedEvent.source_id == checkin.json()["id"])
        assert [e["minutes"] for e in event] == [0]


@pytest.mark.parametrize(
    "phone_ahead",
    [
        pytest.param(timedelta(minutes=-10), id="10-min-slow"),
        pytest.param(timedelta(minutes=10), id="10-min-fast"),
        pytest.param(timedelta(hours=8), id="wrong-time-zone-ahead"),
        pytest.param(timedelta(hours=-5, minutes=-30), id="wrong-time-zone-behind"),
    ],
)
async def test_an_offline_scan_sent_a_minute_later_from_a_wrong_clock_counts_at_the_scan(
    client, world, settings, phone_ahead
):
    activity = await _activity(client, world)
    now = utcnow()
    scanned = now - timedelta(seconds=65)  # its code expired before the batch was sent
    queued = scan_body(
        activity["id"],
        await token_at(settings, activity["id"], scanned),
        at=(scanned + phone_ahead).isoformat(),
    )
    batch = await client.post(
        "/api/v1/checkins/batch",
        json={"items": [queued], "sent_at": (now + phone_ahead).isoformat()},
        headers=bearer(client, world.member_a),
    )
    assert batch.status_code == 200
    [item] = batch.json()["items"]
    assert item["status"] == 201, item
    stored = item["checkin"]
    assert stored["flags"] == [] and stored["review"] == "accepted"
    # The request's own travel time is all the correction may add.
    assert scanned <= _at(stored["checked_in_at"]) <= scanned + timedelta(seconds=5)
    assert await CheckIn.count() == 1


async def test_sent_at_without_at_is_a_scan_now(client, world):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    before = utcnow()
    sent = await client.post(
        "/api/v1/checkins",
        json=scan_body(activity["id"], token, sent_at=(before - timedelta(hours=3)).isoformat()),
        headers=bearer(client, world.member_a),
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["flags"] == []
    assert before <= _at(sent.json()["checked_in_at"]) <= utcnow()


async def test_an_at_ahead_of_the_server_is_now(client, world):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    ahead = await client.post(
        "/api/v1/checkins",
        json=scan_body(activity["id"], token, at=(utcnow() + timedelta(hours=1)).isoformat()),
        headers=bearer(client, world.member_a),
    )
    assert ahead.status_code == 201, ahead.text
    stored = ahead.json()
    assert _at(stored["checked_in_at"]) <= _at(stored["received_at"])


@pytest.mark.parametrize(
    ("queued_for", "flags"),
    [
        pytest.param(timedelta(minutes=3), [], id="3-min-weak-signal"),
        pytest.param(timedelta(minutes=20), ["late_token"], id="20-min"),
        pytest.param(timedelta(hours=5), ["late_token"], id="5-hours"),
    ],
)
async def test_a_queued_scan_is_flagged_late_only_when_its_corrected_wait_is_long(
    client, world, settings, queued_for, flags
):
    now = utcnow()
    activity = await _activity(
        client,
        world,
        starts_at=(now - queued_for - timedelta(hours=1)).isoformat(),
        ends_at=(now + timedelta(hours=1)).isoformat(),
    )
    phone_ahead = timedelta(minutes=-7)
    scanned = now - queued_for
    queued = scan_body(
        activity["id"],
        await token_at(settings, activity["id"], scanned),
        at=(scanned + phone_ahead).isoformat(),
    )
    batch = await client.post(
        "/api/v1/checkins/batch",
        json={"items": [queued], "sent_at": (now + phone_ahead).isoformat()},
        headers=bearer(client, world.member_a),
    )
    [item] = batch.json()["items"]
    assert item["status"] == 201, item
    assert item["checkin"]["flags"] == flags
    assert scanned <= _at(item["checkin"]["checked_in_at"]) <= scanned + timedelta(seconds=5)


async def test_a_resend_with_a_new_sent_at_is_a_replay(client, world):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    headers = bearer(client, world.member_a)
    scan = scan_body(activity["id"], token, at=utcnow().isoformat())
    first = await client.post(
        "/api/v1/checkins", json={**scan, "sent_at": utcnow().isoformat()}, headers=headers
    )
    again = await client.post(
        "/api/v1/checkins",
        json={**scan, "sent_at": (utcnow() + timedelta(seconds=30)).isoformat()},
        headers=headers,
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


async def test_a_check_out_counts_at_the_phones_time_on_the_servers_clock(client, world, settings):
    activity = await _activity(client, world)
    headers = bearer(client, world.member_a)
    now = utcnow()
    fast = timedelta(minutes=10)  # the phone's clock runs ten minutes ahead
    scanned = now - timedelta(minutes=40)
    queued = scan_body(
        activity["id"],
        await token_at(settings, activity["id"], scanned),
        at=(scanned + fast).isoformat(),
    )
    batch = await client.post(
        "/api/v1/checkins/batch",
        json={"items": [queued], "sent_at": (now + fast).isoformat()},
        headers=headers,
    )
    [item] = batch.json()["items"]
    assert item["status"] == 201, item
    # Checked out on the phone ten and a half minutes after the scan (offline), sent now.
    left = scanned + timedelta(minutes=10, seconds=30)
    closed = await client.post(
        f"/api/v1/checkins/{item['checkin']['id']}/checkout",
        json={"at": (left + fast).isoformat(), "sent_at": (utcnow() + fast).isoformat()},
        headers=headers,
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["minutes"] == 10
    assert left <= _at(closed.json()["checked_out_at"]) <= left + timedelta(seconds=5)


async def test_a_check_out_from_a_slow_phone_never_closes_before_the_check_in(client, world):
    activity = await _activity(client, world)
    headers = bearer(client, world.member_a)
    token = await current_code(client, world, activity["id"])
    checkin = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], token), headers=headers
    )
    closed = await client.post(
        f"/api/v1/checkins/{checkin.json()['id']}/checkout",
        json={"at": (utcnow() - timedelta(hours=2)).isoformat()},
        headers=headers,
    )
    assert closed.json()["checked_out_at"] == checkin.json()["checked_in_at"]
    assert closed.json()["minutes"] == 0
