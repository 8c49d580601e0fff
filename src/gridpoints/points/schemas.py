"""API shapes of rule sets, the ledger and points."""

from __future__ import annotations

from datetime import date

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
