"""Rotating check-in tokens: bound to their activity and slot, unforgeable, short-lived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridpoints.activities.codes import (
    TokenProblem,
    check_token,
    make_receipt,
    make_token,
    read_receipt,
    slot_of,
    slot_starts_at,
)

SECRET, ACTIVITY_SECRET, SLOT = "platform-secret", "activity-secret", 30
NOW = datetime(2026, 6, 1, 9, 0, 10, tzinfo=UTC)


def _check(
    token: str,
    *,
    activity_id: int = 7,
    received=NOW,
    scanned=NOW,
    secret=ACTIVITY_SECRET,
    late_after: int = 0,
):
    return check_token(
        token,
        platform_secret=SECRET,
        activity_secret=secret,
        activity_id=activity_id,
        received_at=received,
        scanned_at=scanned,
        slot_seconds=SLOT,
        max_queue_seconds=24 * 3600,
        late_after_seconds=late_after,
    )


def _token(at: datetime, activity_id: int = 7) -> str:
    return make_token(SECRET, ACTIVITY_SECRET, activity_id, slot_of(at, SLOT))


def test_the_current_and_the_previous_slot_are_accepted():
    assert _check(_token(NOW)).problem is None
    previous = _check(_token(NOW - timedelta(seconds=SLOT)))
    assert previous.problem is None and not previous.late


def test_an_older_token_is_expired():
    assert _check(_token(NOW - timedelta(minutes=5))).problem is TokenProblem.EXPIRED


def test_a_token_scanned_in_time_but_sent_late_is_kept_as_late():
    scanned = NOW - timedelta(hours=2)
    check = _check(_token(scanned), scanned=scanned)
    assert check.problem is None and check.late


def test_a_late_token_that_claims_a_scan_time_outside_its_slot_is_expired():
    scanned = NOW - timedelta(hours=2)
    assert _check(_token(scanned), scanned=NOW - timedelta(hours=1)).problem is TokenProblem.EXPIRED


def test_a_token_of_another_activity_is_refused():
    assert _check(_token(NOW, activity_id=8)).problem is TokenProblem.OTHER_ACTIVITY


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: t.replace(f".{slot_of(NOW, SLOT)}.", f".{slot_of(NOW, SLOT) + 1}."),
    ],
)
def test_a_changed_token_is_forged(mangle):
    assert _check(mangle(_token(NOW))).problem is TokenProblem.FORGED


def test_the_activity_secret_is_part_of_the_key():
    assert _check(_token(NOW), secret="another").problem is TokenProblem.FORGED


@pytest.mark.parametrize("token", ["", "abc", "7.x.y", "7.1"])
def test_garbage_is_malformed(token):
    assert _check(token).problem is TokenProblem.MALFORMED


def test_a_scan_claimed_before_the_codes_slot_counts_from_the_slot_and_never_after_arrival():
    token = _token(NOW)
    early = _check(token, scanned=NOW - timedelta(minutes=15))
    assert early.problem is None and early.scanned_at == slot_starts_at(slot_of(NOW, SLOT), SLOT)
    ahead = _check(token, scanned=NOW + timedelta(hours=1))
    assert ahead.scanned_at == NOW


def test_a_queued_scan_is_late_only_past_the_allowed_wait():
    scanned = NOW - timedelta(minutes=3)
    assert not _check(_token(scanned), scanned=scanned, late_after=300).late
    assert _check(_token(scanned), scanned=scanned, late_after=60).late


def _read(receipt: str, token: str, *, activity_id: int = 7, received=NOW, max_age: int = 1800):
    return read_receipt(
        receipt,
        platform_secret=SECRET,
        activity_id=activity_id,
        token=token,
        received_at=received,
        max_age_seconds=max_age,
    )


def test_a_receipt_gives_its_scan_time_only_for_its_activity_and_code_while_fresh():
    scanned = NOW - timedelta(seconds=70)
    token = _token(scanned)
    receipt = make_receipt(SECRET, 7, slot_of(scanned, SLOT), scanned)
    assert _read(receipt, token) == scanned
    assert _read(receipt, token, activity_id=8) is None
    assert _read(receipt, _token(NOW)) is None
    assert _read(receipt, token, received=scanned + timedelta(minutes=31)) is None
    assert _read(make_receipt("other", 7, slot_of(scanned, SLOT), scanned), token) is None
    tampered = receipt.replace(
        f".{int(scanned.timestamp() * 1000)}.", f".{int(NOW.timestamp() * 1000)}."
    )
    assert _read(tampered, token) is None
    assert _read("garbage", token) is None
