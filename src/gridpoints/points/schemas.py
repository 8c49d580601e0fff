"""API shapes of rule sets, the ledger and points."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from gridpoints.schemas import PLAIN


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
    reason: Annotated[str, PLAIN, msgspec.Meta(min_length=2, max_length=200)]


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


Period = Annotated[str, msgspec.Meta(min_length=6, max_length=6, description="如 2026Q3")]
UnitId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class DryRunIn(msgspec.Struct, forbid_unknown_fields=True):
    period: Period
    # The community or grid whose members the dry-run covers.
    org_unit_id: UnitId
    # The changed rule set, as the TOML text of its file; it stands in for the file of the
    # same name (or the set of the same id).
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=200_000)]
    filename: Annotated[
        str, msgspec.Meta(min_length=6, max_length=100, pattern=r"^[^/\\]+\.toml$")
    ] = "changed.toml"


class RescoreIn(msgspec.Struct, forbid_unknown_fields=True):
    period: Period
    org_unit_id: UnitId


class MemberChange(msgspec.Struct):
    member_id: int
    name: str
    unit: str
    before: int
    after: int


class RuleChange(msgspec.Struct):
    rule_set: str | None
    rule: str | None
    label: str
    before: int
    after: int


class DryRunResult(msgspec.Struct):
    period: str
    org_unit_id: int
    rule_set: str
    version_before: str | None
    version_after: str
    members: int
    members_changed: int
    before_total: int
    after_total: int
    by_rule: list[RuleChange]
    # The members whose points change most, largest change first.
    largest_changes: list[MemberChange]
    download: str


class RescoreResult(msgspec.Struct):
    period: str
    org_unit_id: int
    versions: dict[str, str]
    reversed_entries: int
    new_entries: int
    period_end_entries: int
    # What the rescore changed, in points, over the members it covered.
    net_change: int
