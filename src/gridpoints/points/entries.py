"""Scoring in bulk: each rule of each rule set becomes one INSERT ... SELECT over a batch of
verified events, so the work grows with the events, not with round trips per event.

The batch is read once (`batch_cte`); each rule's conditions (`points.conditions`) choose its
events and its points are an integer expression (`points.amounts`). Caps per quarter and
year are running sums over the batch, in event order, on top of what the ledger already
holds for the member and rule: the capped prefix of gains is the smaller of the running sum
and the cap, so an entry's share is the step it adds.

An event of a quarter locked for its member (a final quarterly review rests on it, see
`points.locks`) is scored in the open quarter instead (`Moved`): its caps count there, and its
entries' labels begin with 补记 and the day it happened.

Statements are put together here from constants and a rule's validated numbers; every value
from outside (codes, labels, dates, ids) is a bound parameter.
"""
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gridpoints.clock import zone
from gridpoints.db.sql import Fragment
from gridpoints.periods import Quarter
from gridpoints.points.amounts import amount_sql
from gridpoints.points.conditions import events_of
from gridpoints.points.locks import lock_holds
from gridpoints.points.rules import CAPPED, Rule, RuleSet

# Per cap: the window's name suffix, the span it counts over as read from the rule's rows
# (alias `c`) and from the ledger, and whether it is the year's.
_CAPS = (
    ("cap_per_quarter", "_q", "c.period", "period", False),
    ("cap_per_year", "_y", "substr(c.period, 1, 4)", "substr(period, 1, 4)", True),
)


@dataclass(frozen=True)
class Moved:
    """Scoring in a batch that holds events of locked quarters: an event whose quarter is
    locked for its member's home unit counts in `open`, the quarter scoring happens in.
    `locked`: the batch's quarters locked for some unit (only their days need a label)."""

    open: Quarter
    locked: tuple[Quarter, ...]
    tz: str

    @property
    def open_start(self) -> datetime:
        return self.open.bounds(self.tz)[0]

    def late_label(self, column: str) -> Fragment:
        """`补记（<the day>，原季度已定稿）：`, the day of the instant in `column` (from the
        code) on the community's clock, for instants in the locked quarters."""
        case = Fragment("(CASE")
        for quarter in sorted(self.locked):
            start, end = quarter.bounds(self.tz)
            day = start.astimezone(zone(self.tz)).date()
            while True:
                day_end = datetime.combine(day + timedelta(days=1), start.timetz())
                if day_end > end:
                    break
                case.add(
                    f" WHEN {column} < {{}} THEN CAST({{}} AS TEXT)",
                    day_end,
                    f"{LATE}（{day:%Y-%m-%d}，原季度已定稿）：",
                )
                day += timedelta(days=1)
        return case.add(" ELSE CAST({} AS TEXT) END)", f"{LATE}：")


# What begins the label of an entry scored outside its own, locked quarter.
LATE = "补记"


def _least(a: str, b: str) -> str:
    return f"(CASE WHEN {a} < {b} THEN {a} ELSE {b} END)"


def period_sql(first: Quarter, last: Quarter, tz_name: str, column: str) -> Fragment:
    """The quarter label of the instant in `column`, for instants from `first` to `last`."""
    case = Fragment("(CASE")
    for quarter in first.span(last):
        _, end = quarter.bounds(tz_name)
        case.add(f" WHEN {column} < {{}} THEN {{}}", end, quarter.label)
    return case.add(" END)")


def batch_cte(
    batch: Fragment, period: Fragment, rules: list[Rule], scoped: bool, home: bool = False
) -> Fragment:
    """`batch AS MATERIALIZED (...)`: the batch's events with what the rules read, read once
    for all the rules (the member's category and the unit's path only when a rule asks;
    with `home`, `period` may read the path of the member's home unit, `ho.path`)."""
    by_member = any(rule.member_categories for rule in rules) or home
    cte = Fragment("batch AS MATERIALIZED (SELECT e.id, e.kind, e.action, e.member, e.category,")
    cte.add(" e.occurred_at, e.minutes, ")
    cte.add("m.category AS member_category, " if by_member else "")
    cte.add("o.path AS unit_path, " if scoped else "")
    cte.add("{} AS period FROM verified_event e", period)
    cte.add(" JOIN member m ON m.id = e.member" if by_member else "")
    cte.add(" JOIN org_unit o ON o.id = e.org_unit" if scoped else "")
    cte.add(" JOIN org_unit ho ON ho.id = m.org_unit" if home else "")
    return cte.add(" WHERE {})", batch)


def scored_entries(
    name: str,
    ruleset: RuleSet,
    rule: Rule,
    where: Fragment,
    span: tuple[Quarter, Quarter],
    afresh: bool = False,
    key_prefix: str = "score:",
    moved: Moved | None = None,
) -> tuple[Fragment, Fragment]:
    """The rule's CTEs (named after `name`) over `batch`, whose events lie in the quarters
    `span` (first, last), and the SELECT of its entries: key, member, period, amount, label,
    event, category, occurred_at, rule_set, rule_set_version, rule.

    Caps count on top of what the ledger holds for the member and rule in those quarters
    (and the earlier ones of their year, for a cap per year); `afresh`, the batch is a whole
    quarter scored anew and only the earlier quarters of its year count. With `moved`, an
    entry counted in the open quarter for an event before it is labelled late (补记)."""
    first, last = span
    amount = amount_sql(rule, "e.minutes")
    ctes = Fragment(f"{name}_raw AS (SELECT e.id, e.member, e.category, e.occurred_at,")
    ctes.add(f" e.period, {amount} AS points FROM batch e WHERE {{}})", where)
    current = f"{name}_raw"
    column = "points"
    for attribute, suffix, spanned, held_span, yearly in _CAPS:
        cap = getattr(rule, attribute)
        if cap is None:
            continue
        window = f"{name}{suffix}"
        source, base = f"{current} c", "0"
        # Afresh, nothing earlier in the same quarter counts.
        if yearly or not afresh:
            # What the ledger already holds for the member and rule in the quarter (or year);
            # bounded by period, so the member's older history is not read.
            lowest = f"{first.year}Q1" if yearly else first.label
            held = Fragment(" AND period >= {}", [lowest])
            if afresh:
                held.add(" AND period < {}", first.label)
            else:
                held.add(" AND period <= {}", last.label)
            ctes.add(
                f", {window}_base AS (SELECT member, {held_span} AS span, sum(amount) AS held"
                " FROM points_entry WHERE rule_set = {} AND rule = {}"
                f" AND member IN (SELECT member FROM {current}){{}}"
                f" GROUP BY member, {held_span})",
                ruleset.id,
                rule.id,
                held,
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
    late = Fragment()
    if moved is not None:
        late.add(
            "CASE WHEN period = {} AND occurred_at < {} THEN {} ELSE '' END || ",
            moved.open.label,
            moved.open_start,
            moved.late_label("occurred_at"),
        )
    select = Fragment(
        "SELECT CAST({} AS TEXT) || CAST(id AS TEXT) || CAST({} AS TEXT) AS key,"
        f" member, period, {column} AS amount, {{}}"
        f" CASE WHEN {column} <> points THEN CAST({{}} AS TEXT) ELSE CAST({{}} AS TEXT) END"
        " AS label, id AS event, category, occurred_at, CAST({} AS TEXT) AS rule_set,"
        f" CAST({{}} AS TEXT) AS rule_set_version, CAST({{}} AS TEXT) AS rule FROM {current}",
        [
            key_prefix,
            f":{ruleset.version}:{rule.id}",
            late,
            rule.label + CAPPED,
            rule.label,
            ruleset.id,
            ruleset.version,
            rule.id,
        ],
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
    moved: Moved | None = None,
) -> tuple[Fragment, Fragment] | None:
    """Every event rule of every set over the events `batch` picks (alias `e`), which lie in
    the quarters `span` (first, last): the CTEs (`WITH batch ..., ...`: the batch read once)
    and a UNION ALL of each rule's entries (see `scored_entries` for the columns and
    `afresh`); None when no rule can apply. With `moved`, an event of a quarter locked for
    its member counts in the open quarter (see `Moved`)."""
    event_rules = [r for s in rulesets for r in s.spec.rules if r.event != "period_end"]
    scoped = any(s.spec.scope for s in rulesets)
    if moved is not None:
        span = (span[0], max(span[1], moved.open))
    period = period_sql(span[0], span[1], tz, "e.occurred_at")
    if moved is not None:
        period = Fragment(
            "(CASE WHEN {} THEN CAST({} AS TEXT) ELSE {} END)",
            [lock_holds(period, "ho.path"), moved.open.label, period],
        )
    home = moved is not None
    ctes = Fragment("WITH {}", [batch_cte(batch, period, event_rules, scoped, home)])
    union = Fragment()
    for set_index, ruleset in enumerate(rulesets):
        for rule_index, rule in enumerate(ruleset.spec.rules):
            if rule.event == "period_end":
                continue
            where = events_of(ruleset, rule, rulesets, scopes, tz)
            if where is None:
                continue
            name = f"r{set_index}_{rule_index}"
            rule_ctes, select = scored_entries(
                name, ruleset, rule, where, span, afresh, key_prefix, moved
            )
            ctes.add(", {}", rule_ctes)
            union.add(" UNION ALL {}" if union.text else "{}", select)
    if not union.text:
        return None
    return ctes, union
