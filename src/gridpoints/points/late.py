"""Late events: a fact verified (or revoked) after its quarter's period-end rules have run.

The ledger is append-only, so a late event changes a closed quarter by compensating entries:
for each member with an event of the batch in a closed quarter (`points_period_closed`), the
period-end rules in force on that quarter's last day are applied again, afresh, and set beside
the member's period-end entries that stand. An entry no longer due is reversed; one now due
is written. Each entry names its rule, and its label says why (a record verified, or revoked,
after the quarter was settled). Today's input: a service verified after the quarter closed
left both "+2 服务记录" and "−5 本季度未参加志愿服务"; now the −5 is reversed and the
"completed this quarter" rule gives its points, if the rules have one.

This runs inside the scoring batch's transaction, in the scorer's turn, once per event (an
event is scored once); the comparison makes a second pass write nothing, and the keys (the
reversed entry; the event that triggered, the set and the rule) refuse a duplicate.

A quarter locked for the member's home unit (a final quarterly review, `points.locks`) is not
changed at all: the event is scored in the open quarter instead (`points.entries.Moved`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gridpoints.db import sql
from gridpoints.db.sql import Fragment, listed
from gridpoints.periods import Quarter
from gridpoints.points.locks import lock_holds
from gridpoints.points.period_end import period_end_rules
from gridpoints.points.rules import RuleSet
from gridpoints.settings import Settings

# The quarters among the batch's that are closed, and those locked for some unit.
_STATES = """
SELECT 'closed' AS state, period FROM points_period_closed WHERE period IN ({})
UNION ALL
SELECT DISTINCT 'locked' AS state, period FROM points_period_lock WHERE period IN ({})
"""
# The members of the batch (alias `e`, a condition) with an event in the quarter that is not
# locked for them, each with the latest such event and what it did.
_LATE = """
WITH late_members AS (
    SELECT e.member, max(e.id) AS trigger
    FROM verified_event e
    JOIN member lm ON lm.id = e.member JOIN org_unit lo_home ON lo_home.id = lm.org_unit
    WHERE {} AND e.occurred_at >= {} AND e.occurred_at < {} AND NOT {}
    GROUP BY e.member
), late AS (
    SELECT a.member, a.trigger,
           CASE WHEN t.action = 'revoked' THEN CAST({} AS TEXT) ELSE CAST({} AS TEXT) END
           AS reason
    FROM late_members a JOIN verified_event t ON t.id = a.trigger
), wanted AS ({})
"""
_WANTED = (
    "SELECT pe.member, CAST({} AS TEXT) AS rule_set, CAST({} AS TEXT) AS rule_set_version,"
    " CAST({} AS TEXT) AS rule, CAST({} AS INTEGER) AS amount, CAST({} AS TEXT) AS label"
    " FROM ({}) pe WHERE pe.member IN (SELECT member FROM late)"
)
_NOTHING_WANTED = (
    "SELECT CAST(NULL AS INTEGER) AS member, CAST(NULL AS TEXT) AS rule_set,"
    " CAST(NULL AS TEXT) AS rule_set_version, CAST(NULL AS TEXT) AS rule,"
    " CAST(NULL AS INTEGER) AS amount, CAST(NULL AS TEXT) AS label WHERE 1 = 0"
)
# A standing period-end entry (alias `p`, not reversed) matches a wanted one (alias `w`) when
# the set, rule and points are the same: a new version of an unchanged rule changes nothing.
_STANDING = "NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id)"
_REVERSE = """
{}
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set, rule_set_version,
                          rule, label, category, occurred_at, reverses, created_at)
SELECT CAST({} AS TEXT) || CAST(p.id AS TEXT), p.member, p.period, -p.amount, 'reversal',
       l.trigger, p.rule_set, p.rule_set_version, p.rule, l.reason || CAST({} AS TEXT) || p.label,
       p.category, p.occurred_at, p.id, {}
FROM points_entry p JOIN late l ON l.member = p.member
WHERE p.period = {} AND p.kind = 'period_end' AND {}
  AND NOT EXISTS (
      SELECT 1 FROM wanted w
      WHERE w.member = p.member AND w.rule_set = p.rule_set AND w.rule = p.rule
        AND w.amount = p.amount
  )
ON CONFLICT DO NOTHING
RETURNING amount
"""
_WRITE = """
{}
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set, rule_set_version,
                          rule, label, occurred_at, created_at)
SELECT CAST({} AS TEXT) || CAST(l.trigger AS TEXT) || CAST({} AS TEXT) || w.rule_set
       || CAST({} AS TEXT) || w.rule,
       w.member, {}, w.amount, 'period_end', l.trigger, w.rule_set, w.rule_set_version, w.rule,
       l.reason || CAST({} AS TEXT) || w.label, {}, {}
FROM wanted w JOIN late l ON l.member = w.member
WHERE NOT EXISTS (
    SELECT 1 FROM points_entry p
    WHERE p.member = w.member AND p.period = {} AND p.kind = 'period_end'
      AND p.rule_set = w.rule_set AND p.rule = w.rule AND p.amount = w.amount AND {}
)
ON CONFLICT DO NOTHING
RETURNING amount
"""
# What the member reads on a compensating entry: why, then what it reverses or gives.
VERIFIED_LATE = "季度结算后又核实了本季度的记录，重新结算"
REVOKED_LATE = "季度结算后撤销了本季度的记录，重新结算"
REVERSED = "，撤销："
GIVEN = "："


@dataclass(frozen=True)
class QuarterStates:
    """Of the quarters a batch's events lie in: those closed, and those locked for some unit."""

    closed: tuple[Quarter, ...] = ()
    locked: tuple[Quarter, ...] = ()


async def quarter_states(first: Quarter, last: Quarter) -> QuarterStates:
    """Closed and locked quarters from `first` to `last` (one query, on small tables)."""
    quarters = {q.label: q for q in first.span(last)}
    labels = listed(list(quarters))
    statement = Fragment(_STATES, [labels, labels])
    rows = await sql.fetch(statement.text, *statement.args)
    closed = sorted(quarters[r["period"]] for r in rows if r["state"] == "closed")
    locked = sorted(quarters[r["period"]] for r in rows if r["state"] == "locked")
    return QuarterStates(tuple(closed), tuple(locked))


async def settle_late(
    rulesets: list[RuleSet],
    quarter: Quarter,
    events: Fragment,
    settings: Settings,
    now: datetime,
) -> list[int]:
    """Inside a write transaction, in the scorers' turn: apply the closed `quarter`'s
    period-end rules again for the members of `events` (a condition on `verified_event e`)
    with an event in it, where the quarter is not locked for them; the amounts of the
    compensating entries written (nothing when the rules give what the ledger holds)."""
    start, end = quarter.bounds(settings.timezone)
    wanted = Fragment()
    for applied in await period_end_rules(rulesets, quarter, settings):
        wanted.add(" UNION ALL " if wanted.text else "")
        wanted.add(
            _WANTED,
            applied.ruleset.id,
            applied.ruleset.version,
            applied.rule.id,
            applied.rule.amount(0),
            applied.rule.label,
            applied.members,
        )
    late = Fragment(
        _LATE,
        [
            events,
            start,
            end,
            lock_holds(quarter.label, "lo_home.path"),
            REVOKED_LATE,
            VERIFIED_LATE,
            wanted if wanted.text else Fragment(_NOTHING_WANTED),
        ],
    )
    standing = Fragment(_STANDING)
    reverse = Fragment(_REVERSE, [late, "reversal:", REVERSED, now, quarter.label, standing])
    written = [row["amount"] for row in await sql.fetch(reverse.text, *reverse.args)]
    if not wanted.text:
        return written
    write = Fragment(
        _WRITE,
        [
            late,
            "late_end:",
            ":",
            ":",
            quarter.label,
            GIVEN,
            end - timedelta(microseconds=1),
            now,
            quarter.label,
            standing,
        ],
    )
    written += [row["amount"] for row in await sql.fetch(write.text, *write.args)]
    return written
