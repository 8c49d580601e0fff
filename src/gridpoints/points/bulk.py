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
from gridpoints.periods import Quarter
from gridpoints.points.rules import CAPPED, Rule, RuleSet
from gridpoints.unit_paths import ROOT_SCOPE, covers, subtree_bounds

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

    def add_fragment(self, other: Fragment) -> Fragment:
        return self.add(other.text, *other.args)


def _scaled(value: float) -> int:
    return int(Decimal(str(value)) * _SCALE)


def amount_sql(rule: Rule, minutes: str) -> str:
    """The rule's points for an event of `minutes` (an SQL expression), as `Rule.amount`."""
    fixed, per_hour, multiplier = (
        _scaled(rule.points.fixed),
        _scaled(rule.points.per_hour),
        _scaled(rule.points.multiplier),
    )
    # (fixed * 60 + per_hour * minutes) * multiplier, in hundredths, leaving out what is 0.
    terms = [str(fixed * 60)] if fixed else []
    if per_hour:
        terms.append(f"{per_hour} * CAST({minutes} AS BIGINT)")
    num = f"({' + '.join(terms) or '0'})"
    if multiplier != _SCALE:
        num = f"({num} * {multiplier})"
        den = _DENOMINATOR
    else:
        den = _DENOMINATOR // _SCALE
    rounding = {
        "down": (f"{num} / {den}", f"-((-{num} + {den - 1}) / {den})"),
        "up": (f"({num} + {den - 1}) / {den}", f"-((-{num}) / {den})"),
        "half_up": (f"(2 * {num} + {den}) / {2 * den}", f"-((2 * (-{num}) + {den}) / {2 * den})"),
    }[rule.points.rounding]
    # With no negative part the amount is never negative: no need to ask.
    if fixed >= 0:
        points = f"({rounding[0]})"
    else:
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
    tz_name: str,
) -> Fragment | None:
    """WHERE conditions choosing the batch's events (`batch_cte`, alias `e`) that `rule` of
    `ruleset` scores: in the set's dates and scope, not under a narrower set in force that
    day, meeting the rule."""
    scope = scopes.get(ruleset.spec.scope) if ruleset.spec.scope else ROOT_SCOPE
    if scope is None:
        return None
    low, high = subtree_bounds(scope)
    where = Fragment().add("e.action = 'verified' AND e.kind = {}", rule.event)
    if scope != ROOT_SCOPE:
        where.add(" AND e.unit_path >= {} AND e.unit_path < {}", low, high)
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
            " AND NOT (e.unit_path >= {} AND e.unit_path < {} AND e.occurred_at >= {}",
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
        where.add(f" AND e.member_category IN ({listed})", *rule.member_categories)
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


def batch_cte(batch: Fragment, period: Fragment, rules: list[Rule], scoped: bool) -> Fragment:
    """`batch AS MATERIALIZED (...)`: the batch's events with what the rules read, read once
    for all the rules (the member's category and the unit's path only when a rule asks)."""
    by_member = any(rule.member_categories for rule in rules)
    cte = Fragment("batch AS MATERIALIZED (SELECT e.id, e.kind, e.action, e.member, e.category,")
    cte.add(" e.occurred_at, e.minutes, ")
    cte.add("m.category AS member_category, " if by_member else "")
    cte.add("o.path AS unit_path, " if scoped else "")
    cte.add(period.text, *period.args).add(" AS period FROM verified_event e")
    cte.add(" JOIN member m ON m.id = e.member" if by_member else "")
    cte.add(" JOIN org_unit o ON o.id = e.org_unit" if scoped else "")
    return cte.add(" WHERE ").add(batch.text, *batch.args).add(")")


def scored_entries(
    name: str,
    ruleset: RuleSet,
    rule: Rule,
    where: Fragment,
    span: tuple[Quarter, Quarter],
    afresh: bool = False,
    key_prefix: str = "score:",
) -> tuple[Fragment, Fragment]:
    """The rule's CTEs (named after `name`) over `batch`, whose events lie in the quarters
    `span` (first, last), and the SELECT of its entries: key, member, period, amount, label,
    event, category, occurred_at, rule_set, rule_set_version, rule.

    Caps count on top of what the ledger holds for the member and rule in those quarters
    (and the earlier ones of their year, for a cap per year); `afresh`, the batch is a whole
    quarter scored anew and only the earlier quarters of its year count."""
    first, last = span
    amount = amount_sql(rule, "e.minutes")
    ctes = Fragment(f"{name}_raw AS (SELECT e.id, e.member, e.category, e.occurred_at,")
    ctes.add(f" e.period, {amount} AS points FROM batch e WHERE ")
    ctes.add(where.text, *where.args).add(")")
    current = f"{name}_raw"
    column = "points"
    for cap, spanned, window in (
        (rule.cap_per_quarter, "c.period", f"{name}_q"),
        (rule.cap_per_year, "substr(c.period, 1, 4)", f"{name}_y"),
    ):
        if cap is None:
            continue
        source, base = f"{current} c", "0"
        yearly = window.endswith("_y")
        # Afresh, nothing earlier in the same quarter counts.
        if yearly or not afresh:
            # What the ledger already holds for the member and rule in the quarter (or year);
            # bounded by period, so the member's older history is not read.
            key = spanned.replace("c.period", "period")
            lowest = f"{first.year}Q1" if yearly else first.label
            held = Fragment(" AND period >= {}", [lowest])
            if afresh:
                held.add(" AND period < {}", first.label)
            else:
                held.add(" AND period <= {}", last.label)
            ctes.add(
                f", {window}_base AS (SELECT member, {key} AS span, sum(amount) AS held"
                " FROM points_entry WHERE rule_set = {} AND rule = {}"
                f" AND member IN (SELECT member FROM {current}){held.text}"
                f" GROUP BY member, {key})",
                ruleset.id,
                rule.id,
                *held.args,
            )
            source = (
                f"{current} c LEFT JOIN {window}_base h ON h.member = c.member"
                f" AND h.span = {spanned}"
            )
            base = "coalesce(h.held, 0)"
        ctes.add(
            f", {window}_run AS (SELECT c.*, {base} + sum(c.{column}) OVER (PARTITION BY"
            f" c.member, {spanned} ORDER BY c.occurred_at, c.id ROWS UNBOUNDED PRECEDING)"
            f" AS running FROM {source})"
        )
        capped = (
            f"CASE WHEN {column} <= 0 THEN {column} ELSE {_least('running', str(cap))}"
            f" - {_least(f'(running - {column})', str(cap))} END"
        )
        # Each window's table keeps only the columns the next steps read.
        keep = "id, member, category, occurred_at, period, points"
        ctes.add(f", {window} AS (SELECT {keep}, {capped} AS {window}_points FROM {window}_run)")
        current, column = window, f"{window}_points"
    select = Fragment().add(
        "SELECT CAST({} AS TEXT) || CAST(id AS TEXT) || CAST({} AS TEXT) AS key,"
        f" member, period, {column} AS amount,"
        f" CASE WHEN {column} <> points THEN CAST({{}} AS TEXT) ELSE CAST({{}} AS TEXT) END"
        " AS label, id AS event, category, occurred_at, CAST({} AS TEXT) AS rule_set,"
        f" CAST({{}} AS TEXT) AS rule_set_version, CAST({{}} AS TEXT) AS rule FROM {current}",
        key_prefix,
        f":{ruleset.version}:{rule.id}",
        rule.label + CAPPED,
        rule.label,
        ruleset.id,
        ruleset.version,
        rule.id,
    )
    return ctes, select


def every_rule(
    rulesets: list[RuleSet],
    scopes: dict[str, str],
    batch: Fragment,
    span: tuple[Quarter, Quarter],
    tz: str,
    afresh: bool = False,
    key_prefix: str = "score:",
) -> tuple[Fragment, Fragment] | None:
    """Every event rule of every set over the events `batch` picks (alias `e`), which lie in
    the quarters `span` (first, last): the CTEs (`WITH batch ..., ...`: the batch read once)
    and a UNION ALL of each rule's entries (see `scored_entries` for the columns and
    `afresh`); None when no rule can apply."""
    event_rules = [r for s in rulesets for r in s.spec.rules if r.event != "period_end"]
    scoped = any(s.spec.scope for s in rulesets)
    period = period_sql(span[0], span[1], tz, "e.occurred_at")
    ctes = Fragment("WITH ").add_fragment(batch_cte(batch, period, event_rules, scoped))
    union = Fragment()
    for set_index, ruleset in enumerate(rulesets):
        for rule_index, rule in enumerate(ruleset.spec.rules):
            if rule.event == "period_end":
                continue
            where = events_of(ruleset, rule, rulesets, scopes, tz)
            if where is None:
                continue
            name = f"r{set_index}_{rule_index}"
            rule_ctes, select = scored_entries(name, ruleset, rule, where, span, afresh, key_prefix)
            ctes.add(", ").add_fragment(rule_ctes)
            union.add(" UNION ALL " if union.text else "").add_fragment(select)
    if not union.text:
        return None
    return ctes, union
