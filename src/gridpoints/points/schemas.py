"""API shapes of rule sets, the ledger and points."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec


class RuleOut(msgspec.Struct):
    id: str
    label: str
    event: str
    event_label: str
    when: str | None
    categories: list[str]
    member_categories: list[str]
    roles: list[str]
    min_hours: float
    fixed: float
    per_hour: float
    rounding: str
    multiplier: float
    cap_per_event: int | None
    cap_per_quarter: int | None
    cap_per_year: int | None
    note: str


class RuleSetOut(msgspec.Struct):
    id: str
    label: str
    version: str
    source: str
    effective_from: date
    effective_to: date | None
    scope: str | None
    in_force: bool
    rules: list[RuleOut]


class EntryOut(msgspec.Struct):
    id: int
    amount: int
    kind: str
    label: str
    occurred_at: datetime
    category: str | None
    category_label: str | None
    rule_set: str | None
    rule_set_version: str | None
    rule: str | None
    reverses: int | None
    created_at: datetime


class MemberPointsOut(msgspec.Struct):
    member_id: int
    member_name: str
    period: str
    total: int
    # 1 + how many members of the grid have more points this period.
    rank: int
    grid_id: int
    grid_name: str
    grid_members: int
    entries: list[EntryOut]


class AdjustmentIn(msgspec.Struct, forbid_unknown_fields=True):
    # Made by the page, so that sending the same adjustment again makes it once.
    client_id: UUID
    period: Annotated[str, msgspec.Meta(min_length=6, max_length=6)]
    amount: Annotated[int, msgspec.Meta(ge=-1000, le=1000)]
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=200)]


class LeaderOut(msgspec.Struct):
    rank: int
    member_id: int
    name: str
    total: int


class Bucket(msgspec.Struct):
    key: str
    label: str
    points: int


class LeaderboardOut(msgspec.Struct):
    org_unit_id: int
    org_unit_name: str
    period: str
    members: int
    leaders: list[LeaderOut]
    # The year of the period, month by month and by service category, for charts.
    by_month: list[Bucket]
    by_category: list[Bucket]
