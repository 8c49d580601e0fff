"""API shapes of rule sets, the ledger and points."""

from __future__ import annotations

from datetime import date, datetime

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
