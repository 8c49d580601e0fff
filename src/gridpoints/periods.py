"""Quarters, written `2026Q3`, as half-open ranges of instants in the community's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from gridpoints.clock import utcnow, zone
from gridpoints.errors import Invalid

_QUARTER = re.compile(r"^(?P<year>\d{4})Q(?P<quarter>[1-4])$")


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.quarter}"

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
