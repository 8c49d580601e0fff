"""Quarters, written `2026Q3`, as half-open ranges of instants in the community's time zone.

The one place quarter arithmetic lives: the quarter of an instant, the current one, the next
and previous, and every quarter between two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from gridpoints.clock import utcnow, zone
from gridpoints.errors import Invalid

_QUARTER = re.compile(r"^(?P<year>\d{4})Q(?P<quarter>[1-4])$")
# How many quarters the pages offer to choose from: the current one and those before it.
RECENT_QUARTERS = 6


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def of(cls, instant: datetime, tz_name: str) -> Quarter:
        """The quarter `instant` (timezone-aware) falls in on the community's clock."""
        local = instant.astimezone(zone(tz_name))
        return cls(local.year, (local.month - 1) // 3 + 1)

    @classmethod
    def current(cls, tz_name: str) -> Quarter:
        """The quarter now, on the community's clock."""
        return cls.of(utcnow(), tz_name)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def next(self) -> Quarter:
        return Quarter(self.year + self.quarter // 4, self.quarter % 4 + 1)

    @property
    def previous(self) -> Quarter:
        if self.quarter == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.quarter - 1)

    def span(self, last: Quarter) -> Iterator[Quarter]:
        """This quarter and each one after it up to `last`, inclusive (none if `last` is
        earlier)."""
        quarter = self
        while quarter <= last:
            yield quarter
            quarter = quarter.next

    def bounds(self, tz_name: str) -> tuple[datetime, datetime]:
        """[start, end) of the quarter on the community's clock."""
        tz = zone(tz_name)
        first_month = 3 * (self.quarter - 1) + 1
        start = datetime(self.year, first_month, 1, tzinfo=tz)
        if self.quarter == 4:
            end = datetime(self.year + 1, 1, 1, tzinfo=tz)
        else:
            end = datetime(self.year, first_month + 3, 1, tzinfo=tz)
        return start, end


def recent_quarters(tz_name: str, count: int = RECENT_QUARTERS) -> list[Quarter]:
    """The current quarter on the community's clock and the `count - 1` before it, newest
    first."""
    quarters = [Quarter.current(tz_name)]
    while len(quarters) < count:
        quarters.append(quarters[-1].previous)
    return quarters


def parse_quarter(text: str, field: str = "period") -> Quarter:
    match = _QUARTER.match(text.strip())
    if not match or not 2000 <= int(match.group("year")) <= 2100:
        raise Invalid.field(field, "季度格式应为 2026Q3")
    return Quarter(int(match.group("year")), int(match.group("quarter")))


def started_quarter(text: str, tz_name: str, field: str = "period") -> Quarter:
    """The quarter named by `text`, which must have begun."""
    quarter = parse_quarter(text, field)
    start, _ = quarter.bounds(tz_name)
    if start > utcnow():
        raise Invalid.field(field, f"{quarter.label} 还没有开始")
    return quarter


def day_bounds(instant: datetime, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) of the day `instant` (timezone-aware) falls on, on the community's clock."""
    tz = zone(tz_name)
    day = instant.astimezone(tz).date()
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    following = day + timedelta(days=1)
    return start, datetime(following.year, following.month, following.day, tzinfo=tz)
