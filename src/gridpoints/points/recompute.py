"""A quarter scored afresh by given rule sets, next to what the ledger holds, per member and
rule, in one statement and without writing: what a dry-run reports.

Only events the ledger has already scored take part (an event still pending is scored later
by the rules then in force), and an event counts as revoked once the ledger has scored its
revocation; so with the rules in force, "after" is "before" (caps aside, which afresh count
in the order events happened rather than the order they were scored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridpoints.db import sql
from gridpoints.db.sql import Fragment
from gridpoints.jobs.context import JobContext, JobFailed
from gridpoints.org.services import unit_row
from gridpoints.periods import Quarter, parse_quarter
from gridpoints.points.conditions import scope_paths
from gridpoints.points.entries import every_rule
from gridpoints.points.period_end import period_end_rules
from gridpoints.points.rulefiles import RuleSetsInvalid, load_rulesets
from gridpoints.points.rules import RuleSet
from gridpoints.settings import Settings
from gridpoints.unit_paths import subtree_bounds

_MEMBERS = (
    "SELECT sm.id FROM member sm JOIN org_unit so ON so.id = sm.org_unit"
    " WHERE so.path >= {} AND so.path < {}"
)
_COUNT = (
    "SELECT count(*) AS n FROM member sm JOIN org_unit so ON so.id = sm.org_unit"
    " WHERE so.path >= {} AND so.path < {}"
)
# The quarter's verified events the ledger has scored and not seen revoked (alias `e`).
_EVENTS = """
e.action = 'verified' AND e.occurred_at >= {} AND e.occurred_at < {}
AND e.id IN (SELECT event FROM points_scored_event)
AND NOT EXISTS (
    SELECT 1 FROM verified_event r JOIN points_scored_event rs ON rs.event = r.id
    WHERE r.kind = e.kind AND r.source_id = e.source_id AND r.action = 'revoked' AND r.id > e.id
)
"""
# Entries without a rule (adjustments), and those of events of a locked quarter scored late
# in this one (`points.late`), stand as they are.
_HELD = """
SELECT member, rule_set, rule, CAST(NULL AS TEXT) AS fresh_label, label AS held_label,
       amount AS before,
       CASE WHEN rule_set IS NULL OR occurred_at < {} OR occurred_at >= {} THEN amount ELSE 0 END
       AS after
FROM points_entry WHERE period = {} AND member IN ({})
"""
_COMPARED = """
SELECT g.member, m.name, o.name AS unit, g.rule_set, g.rule,
       coalesce(g.fresh_label, g.held_label) AS label, g.before, g.after
FROM (
    SELECT x.member, x.rule_set, x.rule, min(x.fresh_label) AS fresh_label,
           min(x.held_label) AS held_label, CAST(sum(x.before) AS BIGINT) AS before,
           CAST(sum(x.after) AS BIGINT) AS after
    FROM ({}) x
    GROUP BY x.member, x.rule_set, x.rule
) g
JOIN member m ON m.id = g.member JOIN org_unit o ON o.id = m.org_unit
ORDER BY g.member, g.rule_set, g.rule
"""


@dataclass(frozen=True)
class JobTarget:
    """What a dry-run or rescore job works on: a quarter, an org unit, the rule sets now in
    the files."""

    quarter: Quarter
    unit: dict[str, Any]
    rulesets: list[RuleSet]


async def job_target(ctx: JobContext) -> JobTarget:
    """The job's quarter and unit (from its parameters) and the rule sets in the files;
    JobFailed when the unit is gone or the files have a problem."""
    quarter = parse_quarter(ctx.params["period"])
    unit = await unit_row(int(ctx.params["org_unit_id"]))
    if unit is None:
        raise JobFailed("网格单位不存在")
    settings = ctx.settings
    try:
        rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    except RuleSetsInvalid as exc:
        raise JobFailed(f"现行规则文件有误：{exc}") from exc
    return JobTarget(quarter, unit, rulesets)


def scope_members(scope_path: str) -> Fragment:
    """SELECT of the ids of members whose home unit lies in the subtree at `scope_path`."""
    return Fragment(_MEMBERS, list(subtree_bounds(scope_path)))


async def count_members(scope_path: str) -> int:
    row = await sql.fetch_one(_COUNT, *subtree_bounds(scope_path))
    return int(row["n"]) if row else 0


def quarter_events(quarter: Quarter, settings: Settings, members: Fragment) -> Fragment:
    """Condition on `verified_event e`: the quarter's scored, unrevoked events of `members`."""
    start, end = quarter.bounds(settings.timezone)
    return Fragment(_EVENTS, [start, end]).add(" AND e.member IN ({})", members)


async def comparison(
    rulesets: list[RuleSet],
    quarter: Quarter,
    scope_path: str,
    settings: Settings,
    *,
    now: datetime,
) -> Fragment:
    """The statement: per member (in order) and rule, `before` (the ledger) and `after` (the
    quarter afresh by `rulesets`; entries without a rule, such as adjustments, stay as they
    are), with the member's name, home unit and the rule's label. Period-end rules count
    once the quarter has ended."""
    members = scope_members(scope_path)
    scopes = await scope_paths(rulesets)
    tz = settings.timezone
    fresh = every_rule(
        rulesets,
        scopes,
        quarter_events(quarter, settings, members),
        (quarter, quarter),
        tz,
        afresh=True,
    )
    statement = Fragment()
    rows = Fragment()
    if fresh is not None:
        ctes, union = fresh
        statement.add("{}, fresh AS ({}) ", ctes, union)
        rows.add(
            "SELECT member, rule_set, rule, label AS fresh_label,"
            " CAST(NULL AS TEXT) AS held_label, 0 AS before, amount AS after FROM fresh"
        )
    _, end = quarter.bounds(tz)
    if end <= now:
        for applied in await period_end_rules(rulesets, quarter, settings):
            rows.add(" UNION ALL " if rows.text else "")
            rows.add(
                "SELECT pe.member, CAST({} AS TEXT), CAST({} AS TEXT), CAST({} AS TEXT),"
                " CAST(NULL AS TEXT), 0, CAST({} AS INTEGER) FROM ({}) pe"
                " WHERE pe.member IN ({})",
                applied.ruleset.id,
                applied.rule.id,
                applied.rule.label,
                applied.rule.amount(0),
                applied.members,
                members,
            )
    start, _ = quarter.bounds(tz)
    rows.add(" UNION ALL " if rows.text else "").add(_HELD, start, end, quarter.label, members)
    return statement.add(_COMPARED, rows)
