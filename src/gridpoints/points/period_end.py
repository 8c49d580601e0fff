"""Closing a quarter: the period-end rules (an in-service member who served this quarter gains,
one who did not loses), applied once per member, quarter and rule.

Each rule is one INSERT ... SELECT over the members it covers; the entry's key names the
member, the quarter, the set and the rule, so a second run, or another worker closing the
same quarter at the same moment, writes nothing (the database refuses the duplicate).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.transactions import writing
from gridpoints.members.vocab import MemberStatus
from gridpoints.org.paths import ROOT_SCOPE, covers, subtree_bounds
from gridpoints.periods import Quarter
from gridpoints.points.engine import scope_paths
from gridpoints.points.rules import Rule, RuleSet
from gridpoints.settings import Settings

# Service that counts as "served this quarter": a verified check-in or service not revoked.
_SERVED = """
EXISTS (
    SELECT 1 FROM verified_event e
    WHERE e.member = m.id AND e.action = 'verified' AND e.kind IN ('checkin', 'service')
      AND e.occurred_at >= {} AND e.occurred_at < {}
      AND NOT EXISTS (
          SELECT 1 FROM verified_event r
          WHERE r.kind = e.kind AND r.source_id = e.source_id AND r.action = 'revoked'
      )
)
"""
_INSERT = """
INSERT INTO points_entry (key, member, period, amount, kind, rule_set, rule_set_version, rule,
                          label, occurred_at, created_at)
SELECT CAST({} AS TEXT) || CAST(m.id AS TEXT), m.id, {}, {}, 'period_end', {}, {}, {},
       {}, {}, {}
FROM member m JOIN org_unit o ON o.id = m.org_unit
WHERE m.status = {} AND o.path >= {} AND o.path < {} {conditions}
ON CONFLICT DO NOTHING
RETURNING id
"""


async def close_quarter(rulesets: list[RuleSet], quarter: Quarter, settings: Settings) -> int:
    """Apply the period-end rules of the sets in force on the quarter's last day; returns how
    many entries this call wrote."""
    start, end = quarter.bounds(settings.timezone)
    last_day = (end - timedelta(days=1)).date()
    in_force = [s for s in rulesets if s.in_force(last_day)]
    scopes = await scope_paths(in_force)
    written = 0
    for ruleset in in_force:
        scope = scopes.get(ruleset.spec.scope) if ruleset.spec.scope else ROOT_SCOPE
        if scope is None:
            continue
        # Members under a narrower set in force answer to that set instead.
        narrower = [
            path
            for other in in_force
            if other is not ruleset and other.spec.scope
            for path in [scopes.get(other.spec.scope)]
            if path is not None and path != scope and covers(scope, path)
        ]
        for rule in ruleset.spec.rules:
            if rule.event == "period_end":
                written += await _apply(ruleset, rule, quarter, scope, narrower, start, end)
    return written


async def _apply(
    ruleset: RuleSet,
    rule: Rule,
    quarter: Quarter,
    scope: str,
    narrower: list[str],
    start: Any,
    end: Any,
) -> int:
    conditions: list[str] = []
    args: list[Any] = []
    for path in narrower:
        conditions.append("AND NOT (o.path >= {} AND o.path < {})")
        args += list(subtree_bounds(path))
    if rule.member_categories:
        conditions.append(f"AND m.category IN ({', '.join('{}' for _ in rule.member_categories)})")
        args += rule.member_categories
    if rule.roles:
        listed = ", ".join("{}" for _ in rule.roles)
        conditions.append(
            "AND EXISTS (SELECT 1 FROM role_assignment r "  # noqa: S608 - placeholders only
            f"WHERE r.member = m.id AND r.role IN ({listed}))"
        )
        args += rule.roles
    served = "AND " + ("" if rule.when == "activity_done" else "NOT ") + _SERVED.strip()
    conditions.append(served)
    args += [start, end]
    low, high = subtree_bounds(scope)
    period = quarter.label
    key = f"period_end:{period}:{ruleset.id}:{rule.id}:"
    statement = _INSERT.replace("{conditions}", " ".join(conditions))
    async with writing():
        rows = await sql.fetch(
            statement,
            key,
            period,
            rule.amount(0),
            ruleset.id,
            ruleset.version,
            rule.id,
            rule.label,
            end - timedelta(microseconds=1),
            utcnow(),
            MemberStatus.ACTIVE.value,
            low,
            high,
            *args,
        )
    return len(rows)
