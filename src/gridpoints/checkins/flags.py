"""Why a check-in needs a leader's look: pure rules over where and when it was made.

A flagged check-in is kept, never thrown away; a leader accepts or rejects it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

EARTH_RADIUS_M = 6_371_000.0


class Flag(StrEnum):
    OUTSIDE_FENCE = "outside_fence"
    NO_LOCATION = "no_location"
    IMPRECISE_LOCATION = "imprecise_location"
    OUTSIDE_WINDOW = "outside_window"
    LATE_TOKEN = "late_token"
    IMPOSSIBLE_SPEED = "impossible_speed"
    NO_CHECKOUT = "no_checkout"
    PROXY_AFTER_END = "proxy_after_end"


FLAG_LABELS = {
    Flag.OUTSIDE_FENCE: "不在活动地点范围内",
    Flag.NO_LOCATION: "没有定位信息",
    Flag.IMPRECISE_LOCATION: "定位精度不足",
    Flag.OUTSIDE_WINDOW: "不在活动时间内",
    Flag.LATE_TOKEN: "离线排队后补发，签到码已过期",
    Flag.IMPOSSIBLE_SPEED: "与上一次签到的距离和时间不符",
    Flag.NO_CHECKOUT: "未签退，由系统关闭",
    Flag.PROXY_AFTER_END: "活动结束后代签到",
}


@dataclass(frozen=True)
class Place:
    lat: float
    lng: float
    radius_m: float


@dataclass(frozen=True)
class Fix:
    """A phone's reported position (WGS-84) and how far off it may be, in metres (0 when the
    phone did not say)."""

    lat: float
    lng: float
    accuracy_m: float


@dataclass(frozen=True)
class Sighting:
    """Where the member was seen last; a stored row may lack a coordinate (rows from before
    half positions were refused), and then it says nothing about speed."""

    at: datetime
    lat: float | None
    lng: float | None


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def place_flags(place: Place, fix: Fix | None, max_accuracy_m: float) -> list[Flag]:
    """Where the phone says it was, against the activity's place.

    A fix whose accuracy is worse than `max_accuracy_m` is imprecise (a cell-tower guess says
    nothing about the venue). The fix is outside when even the nearest point its accuracy
    allows is beyond the radius, the accuracy counting for at most `max_accuracy_m`: so a
    declared accuracy widens the fence by no more than that, however large it is. A coarse fix
    within the bound whose circle reaches into the fence is not flagged (a 150 m fix reported
    100 m outside a 100 m fence may well be inside it).
    """
    if fix is None or fix.lat is None or fix.lng is None:
        return [Flag.NO_LOCATION]
    found = [Flag.IMPRECISE_LOCATION] if fix.accuracy_m > max_accuracy_m else []
    distance = distance_m(place.lat, place.lng, fix.lat, fix.lng)
    if distance > place.radius_m + min(fix.accuracy_m, max_accuracy_m):
        found.append(Flag.OUTSIDE_FENCE)
    return found


def window_flags(
    at: datetime, starts_at: datetime, ends_at: datetime, grace: timedelta
) -> list[Flag]:
    return [] if starts_at - grace <= at <= ends_at + grace else [Flag.OUTSIDE_WINDOW]


def speed_flags(previous: Sighting | None, current: Sighting, max_kmh: float) -> list[Flag]:
    """Two check-ins farther apart than anyone travels in the time between them."""
    if previous is None or None in (previous.lat, previous.lng, current.lat, current.lng):
        return []
    distance = distance_m(previous.lat, previous.lng, current.lat, current.lng)  # type: ignore[arg-type]
    hours = abs((current.at - previous.at).total_seconds()) / 3600
    # Within a kilometre nothing is impossible (GPS drift, the same neighbourhood).
    if distance <= 1000:
        return []
    if hours == 0 or distance / 1000 / hours > max_kmh:
        return [Flag.IMPOSSIBLE_SPEED]
    return []


def encode(flags: list[Flag]) -> str:
    return ",".join(sorted({f.value for f in flags}))


def decode(text: str) -> list[Flag]:
    return [Flag(part) for part in text.split(",") if part]
