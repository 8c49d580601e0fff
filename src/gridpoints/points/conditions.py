"""A rule's conditions as SQL, compiled one way for scoring events and for period-end rules.

Who and where a rule of a set covers: the members in the set's scope, not under a narrower
set in force (the narrower set wins there), of the member categories and holding the roles
the rule names. Scoring events asks this of each event (`EVENT`, on the day the event
happened); closing a quarter asks it of each member (`MEMBER`, among the sets in force on
the quarter's last day). Every value is a bound parameter; column names come from here.
"""
# ruff: noqa: S608

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from gridpoints.clock import zone
from gridpoints.db import sql
from gridpoints.db.sql import Fragment, listed
from gridpoints.points.rules import Rule, RuleSet
from gridpoints.unit_paths import ROOT_SCOPE, covers, subtree_bounds


@dataclass(frozen=True)
class Columns:
    """Where the conditions read a member's id, home unit path and category, and (events
    only) when the fact happened."""

    member: str
    unit_path: str
    member_category: str
    occurred_at: str | None = None


# An event of the batch (`points.entries.batch_cte`, alias `e`).
EVENT = Columns("e.member", "e.unit_path", "e.member_category", "e.occurred_at")
# A member (alias `m`) joined to their home unit (alias `o`).
MEMBER = Columns("m.id", "o.path", "m.category")


def day_start(day: date, tz_name: str) -> datetime:
    """Midnight at the start of `day` on the community's clock."""
    return datetime.combine(day, time(0), tzinfo=zone(tz_name))


def scope_of(ruleset: RuleSet, scopes: dict[str, str]) -> str | None:
    """The path of the set's scope (the whole tree when it names none); None when the unit
    it names does not exist."""
    return scopes.get(ruleset.spec.scope) if ruleset.spec.scope else ROOT_SCOPE


def narrower(
    ruleset: RuleSet, scope: str, in_force: list[RuleSet], scopes: dict[str, str]
) -> list[tuple[RuleSet, str]]:
    """The other sets whose scope lies strictly inside `scope`, with their paths: where they
    are in force, they win over `ruleset`."""
    found = []
    for other in in_force:
        other_scope = scopes.get(other.spec.scope) if other.spec.scope else None
        if other is ruleset or other_scope is None or other_scope == scope:
            continue
        if covers(scope, other_scope):
            found.append((other, other_scope))
    return found


def covered(
    ruleset: RuleSet,
    rule: Rule,
    in_force: list[RuleSet],
    scopes: dict[str, str],
    tz_name: str,
    at: Columns,
) -> Fragment | None:
    """Conditions (each starting ` AND`) on who and where `rule` of `ruleset` covers, read
    at `at`; None when the set's scope does not exist. With `at.occurred_at`, a narrower set
    wins only on the days it is in force; without, `in_force` are the sets in force."""
    scope = scope_of(ruleset, scopes)
    if scope is None:
        return None
    where = Fragment()
    if scope != ROOT_SCOPE:
        where.add(f" AND {at.unit_path} >= {{}} AND {at.unit_path} < {{}}", *subtree_bounds(scope))
    for other, path in narrower(ruleset, scope, in_force, scopes):
        where.add(
            f" AND NOT ({at.unit_path} >= {{}} AND {at.unit_path} < {{}}", *subtree_bounds(path)
        )
        if at.occurred_at is not None:
            start = day_start(other.spec.effective_from, tz_name)
            where.add(f" AND {at.occurred_at} >= {{}}", start)
            if other.spec.effective_to is not None:
                end = day_start(other.spec.effective_to + timedelta(days=1), tz_name)
                where.add(f" AND {at.occurred_at} < {{}}", end)
        where.add(")")
    if rule.member_categories:
        where.add(f" AND {at.member_category} IN ({{}})", listed(rule.member_categories))
    if rule.roles:
        where.add(
            " AND EXISTS (SELECT 1 FROM role_assignment r"
            f" WHERE r.member = {at.member} AND r.role IN ({{}}))",
            listed(rule.roles),
        )
    return where


def events_of(
    ruleset: RuleSet,
    rule: Rule,
    in_force: list[RuleSet],
    scopes: dict[str, str],
    tz_name: str,
) -> Fragment | None:
    """WHERE conditions choosing the batch's events (alias `e`) that `rule` of `ruleset`
    scores: of the rule's kind, in the set's dates, covered (see `covered`) and meeting the
    rule; None when no event can be."""
    who = covered(ruleset, rule, in_force, scopes, tz_name, EVENT)
    if who is None:
        return None
    where = Fragment("e.action = 'verified' AND e.kind = {}", [rule.event])
    where.add(" AND e.occurred_at >= {}", day_start(ruleset.spec.effective_from, tz_name))
    if ruleset.spec.effective_to is not None:
        end = day_start(ruleset.spec.effective_to + timedelta(days=1), tz_name)
        where.add(" AND e.occurred_at < {}", end)
    where.add_fragment(who)
    if rule.categories:
        where.add(" AND e.category IN ({})", listed(rule.categories))
    if rule.min_hours:
        where.add(" AND e.minutes >= {}", math.ceil(rule.min_hours * 60))
    return where


_SCOPES = "SELECT code, path FROM org_unit WHERE code IN ({})"


async def scope_paths(rulesets: list[RuleSet]) -> dict[str, str]:
    """Org unit code -> path, for the scopes the rule sets name."""
    codes = sorted({s.spec.scope for s in rulesets if s.spec.scope})
    if not codes:
        return {}
    statement = Fragment(_SCOPES, [listed(codes)])
    rows = await sql.fetch(statement.text, *statement.args)
    return {row["code"]: row["path"] for row in rows}
