"""A scoring rule set as committee staff write it (TOML in `scoring_rules/`), and the checks
that a set must pass before the platform uses it.

Rules are data, never code: conditions are lists of codes and bounds, points are a fixed
amount or an amount per hour with a stated rounding, so nothing in a file is evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Annotated, Literal

import msgspec

from gridpoints.auth.roles import Role
from gridpoints.members.vocab import Category

# What a rule scores: a verified fact, or a member's quarter when it closes.
EVENT_KINDS = ("checkin", "service", "wish", "period_end")
EVENT_LABELS = {
    "checkin": "参加志愿活动",
    "service": "服务记录",
    "wish": "微心愿",
    "period_end": "季度结算",
}
# Added to a rule's label on an entry the rule's caps cut.
CAPPED = "（已达上限）"
# Period-end conditions: the member did or did not serve in the quarter.
PERIOD_END_CONDITIONS = ("no_activity", "activity_done")
Rounding = Literal["down", "up", "half_up"]
_ROUNDING = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "half_up": ROUND_HALF_UP}
RuleId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class Points(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    fixed: float = 0
    per_hour: float = 0
    rounding: Rounding = "down"
    multiplier: float = 1


class Rule(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: RuleId
    label: Label
    event: str
    points: Points
    # Period-end rules only: which quarters they apply to.
    when: str | None = None
    categories: list[str] = []
    member_categories: list[str] = []
    roles: list[str] = []
    min_hours: float = 0
    cap_per_event: int | None = None
    cap_per_quarter: int | None = None
    cap_per_year: int | None = None
    note: str = ""

    def amount(self, minutes: int) -> int:
        """The points for one event of `minutes`, rounded as stated and capped per event."""
        hours = Decimal(minutes) / 60
        raw = (Decimal(str(self.points.fixed)) + Decimal(str(self.points.per_hour)) * hours) * (
            Decimal(str(self.points.multiplier))
        )
        points = int(raw.quantize(Decimal(1), rounding=_ROUNDING[self.points.rounding]))
        if self.cap_per_event is not None and abs(points) > self.cap_per_event:
            points = int(math.copysign(self.cap_per_event, points))
        return points


class RuleSetFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    id: RuleId
    label: Label
    effective_from: date
    rules: list[Rule]
    effective_to: date | None = None
    # The code of the org unit whose subtree the set applies to; none: everywhere.
    scope: str | None = None
    note: str = ""


@dataclass(frozen=True)
class RuleSet:
    """A checked rule set, with the file it came from and the hash of its content."""

    source: str
    version: str
    spec: RuleSetFile

    @property
    def id(self) -> str:
        return self.spec.id

    def in_force(self, day: date) -> bool:
        end = self.spec.effective_to
        return self.spec.effective_from <= day and (end is None or day <= end)


@dataclass(frozen=True)
class RuleFileProblem:
    """What is wrong, where: the file, the rule (if any), the field, and why."""

    source: str
    rule: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}" + (f" 规则 {self.rule}" if self.rule else "")
        return f"{where} 字段 {self.field}: {self.reason}"


def rule_problems(
    source: str, spec: RuleSetFile, activity_categories: tuple[str, ...]
) -> list[RuleFileProblem]:
    """Everything wrong inside one set; `sets_problems` checks sets against each other."""
    problems: list[RuleFileProblem] = []

    def bad(rule: str | None, field: str, reason: str) -> None:
        problems.append(RuleFileProblem(source, rule, field, reason))

    if spec.effective_to is not None and spec.effective_to < spec.effective_from:
        bad(None, "effective_to", "结束日期早于开始日期")
    if not spec.rules:
        bad(None, "rules", "至少需要一条规则")
    seen: set[str] = set()
    members = {c.value for c in Category}
    roles = {r.value for r in Role}
    for rule in spec.rules:
        if rule.id in seen:
            bad(rule.id, "id", "规则编号重复")
        seen.add(rule.id)
        if rule.event not in EVENT_KINDS:
            bad(
                rule.id, "event", f"未知的事件类型 {rule.event!r}（可选：{'、'.join(EVENT_KINDS)}）"
            )
        if rule.event == "period_end" and rule.when not in PERIOD_END_CONDITIONS:
            bad(rule.id, "when", f"季度结算规则须写明条件：{'、'.join(PERIOD_END_CONDITIONS)}")
        if rule.event != "period_end" and rule.when is not None:
            bad(rule.id, "when", '只有季度结算规则（event = "period_end"）使用 when')
        for code in rule.categories:
            if code not in activity_categories:
                bad(rule.id, "categories", f"未知的服务类别 {code!r}")
        for code in rule.member_categories:
            if code not in members:
                bad(rule.id, "member_categories", f"未知的党员类别 {code!r}")
        for code in rule.roles:
            if code not in roles:
                bad(rule.id, "roles", f"未知的角色 {code!r}")
        for cap in ("cap_per_event", "cap_per_quarter", "cap_per_year"):
            value = getattr(rule, cap)
            if value is not None and value < 0:
                bad(rule.id, cap, "上限不能为负数")
        if rule.min_hours < 0:
            bad(rule.id, "min_hours", "不能为负数")
        if rule.points.per_hour < 0 or rule.points.multiplier < 0:
            bad(rule.id, "points", "每小时分值和倍数不能为负数（扣分请用负的 fixed）")
        for name in ("fixed", "per_hour", "multiplier"):
            value = Decimal(str(getattr(rule.points, name)))
            if value * 100 != (value * 100).to_integral_value():
                bad(rule.id, f"points.{name}", "最多两位小数")
        if rule.points.fixed == 0 and rule.points.per_hour == 0:
            bad(rule.id, "points", "须给出 fixed 或 per_hour")
        if rule.event == "period_end" and rule.points.per_hour:
            bad(rule.id, "points", "季度结算规则只能用 fixed")
    return problems


def sets_problems(sets: list[RuleSet]) -> list[RuleFileProblem]:
    """Two sets for the same scope may not be in force on the same day."""
    problems = []
    by_scope: dict[str | None, list[RuleSet]] = {}
    for ruleset in sets:
        by_scope.setdefault(ruleset.spec.scope, []).append(ruleset)
    for group in by_scope.values():
        group.sort(key=lambda s: s.spec.effective_from)
        for earlier, later in pairwise(group):
            end = earlier.spec.effective_to
            if end is None or end >= later.spec.effective_from:
                problems.append(
                    RuleFileProblem(
                        later.source,
                        None,
                        "effective_from",
                        f"与 {earlier.source}（{earlier.id}）的生效期重叠，范围相同"
                        f"（{later.spec.scope or '全部'}）",
                    )
                )
    ids: dict[str, str] = {}
    for ruleset in sets:
        if ruleset.id in ids:
            problems.append(
                RuleFileProblem(ruleset.source, None, "id", f"规则集编号与 {ids[ruleset.id]} 重复")
            )
        ids.setdefault(ruleset.id, ruleset.source)
    return problems
