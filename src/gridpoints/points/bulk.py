"""Scoring in bulk: each rule of each rule set becomes one INSERT ... SELECT over a batch of
verified events, so the work grows with the events, not with round trips per event.

Rules are data: a rule's conditions become WHERE clauses with bound values and its points an
integer expression (amounts scaled by 100, so the rounding is exact and the same as
`Rule.amount`). Caps per quarter and year are running sums over the batch, in event order,
on top of what the ledger already holds for the member and rule: the capped prefix of gains
is the smaller of the running sum and the cap, so an entry's share is the step it adds.

Statements are put together here from constants and a rule's validated numbers; every value
from outside (codes, labels, dates, ids) is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from gridpoints.clock import zone
from gridpoints.org.paths import ROOT_SCOPE, covers, subtree_bounds
from gridpoints.periods import Quarter
from gridpoints.points.rules import CAPPED, Rule, RuleSet

# Amounts in hundredths; an hour is 60 minutes: points = num / (100 * 100 * 60).
_SCALE = 100
_DENOMINATOR = _SCALE * _SCALE * 60


@dataclass
class Fragment:
    """SQL text with `{}` placeholders and the values that fill them, in order."""

    text: str = ""
    args: list[Any] = field(default_factory=list)

    def add(self, text: str, *args: Any) -> Fragment:
        self.text += text
        self.args.extend(args)
        return self


def _scaled(value: float) -> int:
    return int(Decimal(str(value)) * _SCALE)


def amount_sql(rule: Rule, minutes: str) -> str:
    """The rule's points for an event of `minutes` (an SQL expression), as `Rule.amount`."""
    fixed, per_hour, multiplier = (
        _scaled(rule.points.fixed),
        _scaled(rule.points.per_hour),
        _scaled(rule.points.multiplier),
    )
    num = f"(({fixed * 60} + {per_hour} * CAST({minutes} AS BIGINT)) * {multiplier})"
    den = _DENOMINATOR
    rounding = {
        "down": (f"{num} / {den}", f"-((-{num} + {den - 1}) / {den})"),
        "up": (f"({num} + {den - 1}) / {den}", f"-((-{num}) / {den})"),
        "half_up": (f"(2 * {num} + {den}) / {2 * den}", f"-((2 * (-{num}) + {den}) / {2 * den})"),
    }[rule.points.rounding]
    points = f"(CASE WHEN {num} >= 0 THEN {rounding[0]} ELSE {rounding[1]} END)"
    cap = rule.cap_per_event
    if cap is None:
        return points
    return (
        f"(CASE WHEN {points} > {cap} THEN {cap} WHEN {points} < -{cap} THEN -{cap}"
        f" ELSE {points} END)"
    )


def _least(a: str, b: str) -> str:
    return f"(CASE WHEN {a} < {b} THEN {a} ELSE {b} END)"


def period_sql(first: Quarter, last: Quarter, tz_name: str, column: str) -> Fragment:
    """The quarter label of the instant in `column`, for instants from `first` to `last`."""
    case = Fragment("(CASE")
    quarter = first
    while (quarter.year, quarter.quarter) <= (last.year, last.quarter):
        _, end = quarter.bounds(tz_name)
        case.add(f" WHEN {column} < {{}} THEN {{}}", end, quarter.label)
        quarter = _next(quarter)
    return case.add(" END)")


def _next(quarter: Quarter) -> Quarter:
    if quarter.quarter == 4:
        return Quarter(quarter.year + 1, 1)
    return Quarter(quarter.year, quarter.quarter + 1)


def quarter_of_instant(instant: datetime, tz_name: str) -> Quarter:
    local = instant.astimezone(zone(tz_name))
    return Quarter(local.year, (local.month - 1) // 3 + 1)


def day_start(day: Any, tz_name: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone(tz_name))


def events_of(
    ruleset: RuleSet,
    rule: Rule,
    in_force: list[RuleSet],
    scopes: dict[str, str],
    batch: Fragment,
    tz_name: str,
) -> Fragment | None:
    """WHERE conditions choosing the batch's events that `rule` of `ruleset` scores: in the
    set's dates and scope, not under a narrower set in force that day, meeting the rule."""
    scope = scopes.get(ruleset.spec.scope) if ruleset.spec.scope else ROOT_SCOPE
    if scope is None:
        return None
    low, high = subtree_bounds(scope)
    where = Fragment().add("e.action = 'verified' AND e.kind = {}", rule.event)
    where.add(f" AND {batch.text}", *batch.args)
    where.add(" AND o.path >= {} AND o.path < {}", low, high)
    where.add(" AND e.occurred_at >= {}", day_start(ruleset.spec.effective_from, tz_name))
    if ruleset.spec.effective_to is not None:
        end = day_start(ruleset.spec.effective_to + timedelta(days=1), tz_name)
        where.add(" AND e.occurred_at < {}", end)
    for other in in_force:
        other_scope = scopes.get(other.spec.scope) if other.spec.scope else None
        if other is ruleset or other_scope is None or other_scope == scope:
            continue
        if not covers(scope, other_scope):
            continue
        other_low, other_high = subtree_bounds(other_scope)
        start = day_start(other.spec.effective_from, tz_name)
        where.add(
            " AND NOT (o.path >= {} AND o.path < {} AND e.occurred_at >= {}",
            other_low,
            other_high,
            start,
        )
        if other.spec.effective_to is not None:
            end = day_start(other.spec.effective_to + timedelta(days=1), tz_name)
            where.add(" AND e.occurred_at < {}", end)
        where.add(")")
    if rule.categories:
        where.add(
            f" AND e.category IN ({', '.join('{}' for _ in rule.categories)})", *rule.categories
        )
    if rule.member_categories:
        listed = ", ".join("{}" for _ in rule.member_categories)
        where.add(f" AND m.category IN ({listed})", *rule.member_categories)
    if rule.roles:
        listed = ", ".join("{}" for _ in rule.roles)
        where.add(
            " AND EXISTS (SELECT 1 FROM role_assignment r WHERE r.member = e.member"
            f" AND r.role IN ({listed}))",
            *rule.roles,
        )
    if rule.min_hours:
        where.add(" AND e.minutes >= {}", math.ceil(rule.min_hours * 60))
    return where


def scored_entries(
    ruleset: RuleSet,
    rule: Rule,
    where: Fragment,
    period: Fragment,
    with_base: bool,
) -> Fragment:
    """SELECT of the rule's entries for the chosen events: key, member, period, amount,
    label, event, category, occurred_at (caps applied on top of the ledger's totals when
    `with_base`, from nothing otherwise)."""
    amount = amount_sql(rule, "e.minutes")
    raw = Fragment("SELECT e.id, e.member, e.category, e.occurred_at, ")
    raw.add(period.text, *period.args)
    raw.add(f" AS period, {amount} AS points FROM verified_event e")
    raw.add(" JOIN member m ON m.id = e.member JOIN org_unit o ON o.id = e.org_unit WHERE ")
    raw.add(where.text, *where.args)

    step = Fragment("WITH raw AS (").add(raw.text, *raw.args).add(")")
    current = "raw"
    column = "points"
    for cap, partition, window in (
        (rule.cap_per_quarter, "period", "q"),
        (rule.cap_per_year, "substr(period, 1, 4)", "y"),
    ):
        if cap is None:
            continue
        base, base_args = "0", []
        if with_base:
            same = (
                "b.period = c.period"
                if window == "q"
                else "substr(b.period, 1, 4) = substr(c.period, 1, 4)"
            )
            base = (
                "coalesce((SELECT sum(b.amount) FROM points_entry b WHERE b.member = c.member"
                f" AND b.rule_set = {{}} AND b.rule = {{}} AND {same}), 0)"
            )
            base_args = [ruleset.id, rule.id]
        step.add(
            f", {window}_run AS (SELECT c.*, {base} + sum({column}) OVER (PARTITION BY member,"
            f" {partition} ORDER BY occurred_at, id ROWS UNBOUNDED PRECEDING) AS {window}_total"
            f" FROM {current} c)",
            *base_args,
        )
        total = f"{window}_total"
        step.add(
            f", {window} AS (SELECT c.*, CASE WHEN {column} <= 0 THEN {column} ELSE"
            f" {_least(total, str(cap))} - {_least(f'({total} - {column})', str(cap))}"
            f" END AS {window}_points FROM {window}_run c)"
        )
        current, column = window, f"{window}_points"
    select = Fragment().add(
        f" SELECT CAST({{}} AS TEXT) || CAST(id AS TEXT) || CAST({{}} AS TEXT) AS key,"
        f" member, period, {column} AS amount,"
        f" CASE WHEN {column} <> points THEN CAST({{}} AS TEXT) ELSE CAST({{}} AS TEXT) END"
        f" AS label, id AS event, category, occurred_at FROM {current}",
        "score:",
        f":{ruleset.version}:{rule.id}",
        rule.label + CAPPED,
        rule.label,
    )
    return step.add(select.text, *select.args)
