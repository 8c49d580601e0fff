"""Time in one place: instants are stored in UTC; dates, quarters and years are read in the
community's time zone (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_today(tz_name: str) -> date:
    return utcnow().astimezone(zone(tz_name)).date()
