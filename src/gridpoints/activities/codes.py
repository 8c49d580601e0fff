"""Rotating check-in tokens: `{activity}.{slot}.{signature}`, one per time slot.

A slot is `slot_seconds` long; the token of the current slot and of the one before are
accepted, so a scan at the end of a slot still works. The signature is an HMAC over the
activity and the slot with a key made of the platform secret and the activity's own secret,
so a token cannot be made without the server, nor moved to another activity or slot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_SIGNATURE_BYTES = 16


class TokenProblem(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    OTHER_ACTIVITY = "other_activity"
    EXPIRED = "expired"


TOKEN_PROBLEM_LABELS = {
    TokenProblem.MALFORMED: "签到码无法识别",
    TokenProblem.FORGED: "签到码无效",
    TokenProblem.OTHER_ACTIVITY: "这是另一个活动的签到码",
    TokenProblem.EXPIRED: "签到码已过期，请重新扫描现场二维码",
}


@dataclass(frozen=True)
class TokenCheck:
    slot: int | None
    problem: TokenProblem | None = None
    # Older than the previous slot at arrival, but scanned in time by the phone's own clock.
    late: bool = False


def slot_of(at: datetime, slot_seconds: int) -> int:
    return int(at.astimezone(UTC).timestamp()) // slot_seconds


def slot_ends_at(slot: int, slot_seconds: int) -> datetime:
    return datetime.fromtimestamp((slot + 1) * slot_seconds, tz=UTC)


def _key(platform_secret: str, activity_secret: str) -> bytes:
    return hashlib.sha256(f"{platform_secret}\n{activity_secret}".encode()).digest()


def _signature(key: bytes, activity_id: int, slot: int) -> str:
    digest = hmac.new(key, f"checkin:{activity_id}:{slot}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).rstrip(b"=").decode()


def make_token(platform_secret: str, activity_secret: str, activity_id: int, slot: int) -> str:
    signature = _signature(_key(platform_secret, activity_secret), activity_id, slot)
    return f"{activity_id}.{slot}.{signature}"


def check_token(
    token: str,
    *,
    platform_secret: str,
    activity_secret: str,
    activity_id: int,
    received_at: datetime,
    scanned_at: datetime,
    slot_seconds: int,
    max_queue_seconds: int,
) -> TokenCheck:
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return TokenCheck(None, TokenProblem.MALFORMED)
    named_activity, slot = int(parts[0]), int(parts[1])
    if named_activity != activity_id:
        return TokenCheck(slot, TokenProblem.OTHER_ACTIVITY)
    expected = _signature(_key(platform_secret, activity_secret), activity_id, slot)
    if not hmac.compare_digest(expected, parts[2]):
        return TokenCheck(slot, TokenProblem.FORGED)
    current = slot_of(received_at, slot_seconds)
    if current - 1 <= slot <= current:
        return TokenCheck(slot)
    # An offline queue: the phone says it scanned while the token was live, and it is
    # not older than the longest queue we wait for. Kept, flagged for a leader to rule on.
    scanned_slot = slot_of(scanned_at, slot_seconds)
    queued_for = (received_at - scanned_at).total_seconds()
    if scanned_slot - 1 <= slot <= scanned_slot and 0 <= queued_for <= max_queue_seconds:
        return TokenCheck(slot, late=True)
    return TokenCheck(slot, TokenProblem.EXPIRED)
