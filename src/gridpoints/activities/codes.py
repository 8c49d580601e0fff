"""Rotating check-in tokens: `{activity}.{slot}.{signature}`, one per time slot.

A slot is `slot_seconds` long; the token of the current slot and of the one before are
accepted, so a scan at the end of a slot still works. The signature is an HMAC over the
activity and the slot with a key made of the platform secret and the activity's own secret,
so a token cannot be made without the server, nor moved to another activity or slot.

A scan receipt `{activity}.{slot}.{scanned_ms}.{signature}` is the server's word that the
token of that activity and slot was live when it was shown the token (`scanned_ms`, epoch
milliseconds): the page takes one the moment the code's link opens, before its member signs
in, and the check-in carries it. Its HMAC key is made of the platform secret alone, so a
check-in checks it without reading anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_SIGNATURE_BYTES = 16
_CLOCKS_APART_SECONDS = 5


class TokenProblem(StrEnum):
    MALFORMED = "malformed"
    FORGED = "forged"
    OTHER_ACTIVITY = "other_activity"
    EXPIRED = "expired"

    @property
    def code(self) -> str:
        """The machine code a refusal carries: `token_expired`, ..."""
        return f"token_{self.value}"


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
    # Older than the previous slot at arrival, scanned in time, and arrived more than
    # `late_after_seconds` after the scan.
    late: bool = False
    # When the scan is taken to be: the claimed time, never before the token's slot began
    # (nobody scans a code before it is shown) nor after the arrival. None with a problem.
    scanned_at: datetime | None = None


def slot_of(at: datetime, slot_seconds: int) -> int:
    return int(at.astimezone(UTC).timestamp()) // slot_seconds


def slot_starts_at(slot: int, slot_seconds: int) -> datetime:
    return datetime.fromtimestamp(slot * slot_seconds, tz=UTC)


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
    late_after_seconds: int = 0,
) -> TokenCheck:
    """Whether `token` is the activity's genuine code and was live when scanned.

    `scanned_at` is the claimed scan time on the server's clock (a phone's, corrected by
    its measured offset, or a receipt's); it is bounded by the token's slot and the arrival.
    """
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return TokenCheck(None, TokenProblem.MALFORMED)
    named_activity, slot = int(parts[0]), int(parts[1])
    if named_activity != activity_id:
        return TokenCheck(slot, TokenProblem.OTHER_ACTIVITY)
    expected = _signature(_key(platform_secret, activity_secret), activity_id, slot)
    if not hmac.compare_digest(expected, parts[2]):
        return TokenCheck(slot, TokenProblem.FORGED)
    scanned_at = min(max(scanned_at, slot_starts_at(slot, slot_seconds)), received_at)
    current = slot_of(received_at, slot_seconds)
    if current - 1 <= slot <= current:
        return TokenCheck(slot, scanned_at=scanned_at)
    # An offline queue (or a sign-in after a receipt): scanned while the token was live,
    # and not older than the longest queue we wait for. Kept; a long wait is flagged for a
    # leader to rule on.
    scanned_slot = slot_of(scanned_at, slot_seconds)
    queued_for = (received_at - scanned_at).total_seconds()
    if scanned_slot - 1 <= slot <= scanned_slot and queued_for <= max_queue_seconds:
        return TokenCheck(slot, late=queued_for > late_after_seconds, scanned_at=scanned_at)
    return TokenCheck(slot, TokenProblem.EXPIRED)


def token_slot(token: str) -> int | None:
    """The slot a token names (unchecked), or None when it names none."""
    parts = token.split(".")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _receipt_signature(platform_secret: str, payload: str) -> str:
    key = hashlib.sha256(f"receipt\n{platform_secret}".encode()).digest()
    digest = hmac.new(key, f"receipt:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).rstrip(b"=").decode()


def make_receipt(platform_secret: str, activity_id: int, slot: int, scanned_at: datetime) -> str:
    payload = f"{activity_id}.{slot}.{int(scanned_at.timestamp() * 1000)}"
    return f"{payload}.{_receipt_signature(platform_secret, payload)}"


def read_receipt(
    receipt: str,
    *,
    platform_secret: str,
    activity_id: int,
    token: str,
    received_at: datetime,
    max_age_seconds: int,
) -> datetime | None:
    """The scan time a receipt witnesses, if the server signed it for this activity and this
    token's slot and it is at most `max_age_seconds` old; else None."""
    parts = receipt.split(".")
    if len(parts) != 4 or not all(part.isdigit() for part in parts[:3]):
        return None
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_receipt_signature(platform_secret, payload), parts[3]):
        return None
    if int(parts[0]) != activity_id or int(parts[1]) != token_slot(token):
        return None
    scanned_at = datetime.fromtimestamp(int(parts[2]) / 1000, tz=UTC)
    age = (received_at - scanned_at).total_seconds()
    # Another API process's clock may run a little ahead of this one's.
    if not -_CLOCKS_APART_SECONDS <= age <= max_age_seconds:
        return None
    return min(scanned_at, received_at)
