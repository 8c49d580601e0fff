"""Closing a quarter: the period-end rules (an in-service member who served this quarter gains,
one who did not loses), applied once per member, quarter and rule.

The quarter is recorded as closed (`points_period_closed`) before any rule runs. Each rule
is one INSERT ... SELECT over the members it covers; the entry's key names the
member, the quarter, the set and the rule, so a second run, or another worker closing the
same quarter at the same moment, writes nothing (the database refuses the duplicate).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.sql import Fragment
from gridpoints.db.transactions import writing
from gridpoints.events.served import served
from gridpoints.members.vocab import MemberStatus
from gridpoints.periods import Quarter
from gridpoints.points.conditions import MEMBER, covered, scope_paths
from gridpoints.points.rules import Rule, RuleSet
from gridpoints.points.turns import scoring_turn
from gridpoints.settings import Settings

_INSERT = """
INSERT INTO points_entry (key, member, period, amount, kind, rule_set, rule_set_version, rule,
                          label, occurred_at, created_at)
SELECT CAST({} AS TEXT) || CAST(given.member AS TEXT), given.member, {}, {}, 'period_end', {},
       {}, {}, {}, {}, {}
FROM ({}) given
WHERE 1 = 1
ON CONFLICT DO NOTHING
RETURNING amount
"""
_CLOSED = """
INSERT INTO points_period_closed (period, closed_at) VALUES ({}, {})
ON CONFLICT (period) DO NOTHING
"""
_MEMBERS = (
    "SELECT m.id AS member FROM member m JOIN org_unit o ON o.id = m.org_unit WHERE m.status = {}{}"
)


@dataclass(frozen=True)
class PeriodEndRule:
    """A period-end rule in force for a quarter, and the SELECT of the members it applies to
    (one column, `member`)."""

    ruleset: RuleSet
    rule: Rule
    members: Fragment


async def close_quarter(rulesets: list[RuleSet], quarter: Quarter, settings: Settings) -> int:
    """Apply the period-end rules of the sets in force on the quarter's last day; returns how
    many entries this call wrote.

    The quarter is recorded as closed first, in its own transaction: from then on a late
    event of it has the rules applied again for its member (`points.late`), so a rule whose
    turn comes after the event finds it already applied, and one before it is made good."""
    async with writing():
        await scoring_turn()
        await sql.fetch(_CLOSED, quarter.label, utcnow())
    written = 0
    for applied in await period_end_rules(rulesets, quarter, settings):
        async with writing():
            await scoring_turn()
            key = f"period_end:{quarter.label}:{applied.ruleset.id}:{applied.rule.id}:"
            written += len(await write_period_end(applied, quarter, settings, key))
    return written


async def write_period_end(
    applied: PeriodEndRule,
    quarter: Quarter,
    settings: Settings,
    key: str,
    among: Fragment | None = None,
) -> list[Any]:
    """Entries of the rule for its members (those of `among` only, a SELECT of member ids)
    who hold none from it for the quarter that stands (not reversed); the new entries'
    amounts. Each entry's key is `key` followed by the member's id."""
    _, end = quarter.bounds(settings.timezone)
    ruleset, rule = applied.ruleset, applied.rule
    given = Fragment().add_fragment(applied.members)
    given.add(
        " AND NOT EXISTS (SELECT 1 FROM points_entry p WHERE p.member = m.id"
        " AND p.period = {} AND p.kind = 'period_end' AND p.rule_set = {} AND p.rule = {}"
        " AND NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id))",
        quarter.label,
        ruleset.id,
        rule.id,
    )
    if among is not None:
        given.add(" AND m.id IN (").add_fragment(among).add(")")
    statement = Fragment(
        _INSERT,
        [
            key,
            quarter.label,
            rule.amount(0),
            ruleset.id,
            ruleset.version,
            rule.id,
            rule.label,
            end - timedelta(microseconds=1),
            utcnow(),
            given,
        ],
    )
    return await sql.fetch(statement.text, *statement.args)


async def period_end_rules(
    rulesets: list[RuleSet], quarter: Quarter, settings: Settings
) -> list[PeriodEndRule]:
    """The period-end rules of the sets in force on the quarter's last day, each with the
    members it applies to."""
    start, end = quarter.bounds(settings.timezone)
    last_day = (end - timedelta(days=1)).date()
    in_force = [s for s in rulesets if s.in_force(last_day)]
    scopes = await scope_paths(in_force)
    found = []
    tz = settings.timezone
    for ruleset in in_force:
        for rule in ruleset.spec.rules:
            if rule.event != "period_end":
                continue
            # Members under a narrower set in force answer to that set instead.
            who = covered(ruleset, rule, in_force, scopes, tz, MEMBER)
            if who is None:
                continue
            members = _members(rule, who, start, end)
            found.append(PeriodEndRule(ruleset, rule, members))
    return found


def _members(rule: Rule, who: Fragment, start: Any, end: Any) -> Fragment:
    members = Fragment(_MEMBERS, [MemberStatus.ACTIVE.value, who])
    did = served("m.id", start, end)
    return members.add(" AND {}" if rule.when == "activity_done" else " AND NOT {}", did)
