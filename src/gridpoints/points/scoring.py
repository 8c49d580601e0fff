"""Scoring verified events into the ledger by the rule sets in force, a batch at a time.

A batch is taken by marking the next pending events scored (`points_scored_event`, all at the
batch's instant); every rule is then one statement over the batch (`points.entries`), and
revoked events get entries reversing what their verification gave, all in one transaction.
An event of a quarter already closed has that quarter's period-end rules applied again for
its member, and one of a quarter locked for its member is scored in the open quarter
(`points.late`), in the same transaction.
On PostgreSQL two scorers work side by side, each on its share of the members (`Share`: caps
are per member, so shares never meet). Scorers of one share take turns (an advisory lock per
share on PostgreSQL, the write lock on SQLite) and an event is
taken only while unmarked, so a second run of the same work, by another worker or after a
crash, finds nothing to do; every entry's unique key (event, rule set version, rule; or the
entry reversed) stands behind that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.engine import is_postgres
from gridpoints.db.sql import Fragment, instant
from gridpoints.db.transactions import writing
from gridpoints.periods import Quarter
from gridpoints.points.conditions import scope_paths
from gridpoints.points.entries import Moved, every_rule
from gridpoints.points.late import quarter_states, settle_late
from gridpoints.points.locks import lock_holds
from gridpoints.points.rules import RuleSet
from gridpoints.points.turns import Share, shares, take_turn
from gridpoints.settings import Settings

BATCH = 50_000

_MARK = """
INSERT INTO points_scored_event (event, scored_at)
SELECT e.id, {} FROM verified_event e
WHERE e.id > {} AND e.id <= {} {}
  AND NOT EXISTS (
      SELECT 1 FROM points_scored_event s WHERE s.event = e.id AND s.event > {} AND s.event <= {}
  )
ORDER BY e.id
LIMIT {}
RETURNING event
"""
_SPAN = """
SELECT min(e.occurred_at) AS first, max(e.occurred_at) AS last
FROM verified_event e JOIN points_scored_event s ON s.event = e.id
WHERE s.scored_at = {} {}
"""
_IN_BATCH = "e.id IN (SELECT event FROM points_scored_event WHERE scored_at = {}) {}"
_INSERT_SCORES = """
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set,
                          rule_set_version, rule, label, category, occurred_at, created_at)
SELECT key, member, period, amount, 'score', event, rule_set, rule_set_version, rule, label,
       category, occurred_at, {}
FROM ({} {}) scored
WHERE 1 = 1
"""
_INSERT_REVERSALS = """
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set,
                          rule_set_version, rule, label, category, occurred_at, reverses,
                          created_at)
SELECT CAST({} AS TEXT) || CAST(p.id AS TEXT), p.member, {}, -p.amount, 'reversal', e.id,
       p.rule_set, p.rule_set_version, p.rule, {} || p.label, p.category,
       e.occurred_at, p.id, {}
FROM verified_event e
JOIN verified_event v ON v.kind = e.kind AND v.source_id = e.source_id AND v.action = 'verified'
JOIN points_entry p ON p.event = v.id AND p.kind = 'score' {}
WHERE e.action = 'revoked' AND e.id IN (SELECT event FROM points_scored_event WHERE scored_at = {})
  {} AND NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id)
ON CONFLICT DO NOTHING
"""
REVERSAL_LABEL = "撤销："
_LAST = "SELECT max(id) AS last FROM verified_event"
# The first event recorded since an instant: events before it were committed long ago.
_RECENT = "SELECT min(id) AS first FROM verified_event WHERE recorded_at >= {}"
# Ids a batch looks through at most: a range the planner reads in id order.
WINDOW = 8 * BATCH


async def score_pending(
    rulesets: list[RuleSet],
    settings: Settings,
    batch: int = BATCH,
    recorded_since: datetime | None = None,
) -> int:
    """Score every verified event not scored yet (with `recorded_since`, only among the
    events recorded since then: see `points.schedule.ScoringWindow`); how many this call
    scored. The shares walk side by side; if one fails, the others are stopped too."""
    last = await sql.fetch_one(_LAST)
    if last is None or last["last"] is None:
        return 0
    after = 0
    if recorded_since is not None:
        first = await sql.fetch_one(_RECENT, recorded_since)
        after = last["last"] if first is None or first["first"] is None else first["first"] - 1
    async with asyncio.TaskGroup() as walks:
        tasks = [
            walks.create_task(_score_share(rulesets, settings, batch, s, after, last["last"]))
            for s in shares()
        ]
    return sum(task.result() for task in tasks)


async def _score_share(
    rulesets: list[RuleSet], settings: Settings, batch: int, share: Share, after: int, last: int
) -> int:
    """Walk the ids up to `last` a window at a time. Each batch starts after the last one's
    highest id, so none walks again over what an earlier one passed; an event committed
    meanwhile below that id waits for the next call."""
    scored = 0
    while after < last:
        done, after = await score_batch(
            rulesets, settings, batch, after, share, min(last, after + WINDOW)
        )
        scored += done
    return scored


async def score_batch(
    rulesets: list[RuleSet],
    settings: Settings,
    limit: int,
    after: int,
    share: Share,
    upto: int,
) -> tuple[int, int]:
    """Score the share's next `limit` pending events with ids above `after` up to `upto`, in
    one transaction; how many were taken and where the next batch starts."""
    scopes = await scope_paths(rulesets)
    mine = share.condition
    async with writing():
        await take_turn(share)
        mark = utcnow()
        # The bounds are repeated for the marks, which the planner would otherwise walk whole.
        marking = Fragment(_MARK, [mark, after, upto, mine, after, upto, limit])
        async with _walking_in_step():
            taken = await sql.fetch(marking.text, *marking.args)
        if not taken:
            return 0, upto
        spanned = Fragment(_SPAN, [mark, mine])
        span = await sql.fetch_one(spanned.text, *spanned.args)
        assert span is not None
        tz = settings.timezone
        quarters = (
            Quarter.of(instant(span["first"]), tz),
            Quarter.of(instant(span["last"]), tz),
        )
        batch = Fragment(_IN_BATCH, [mark, mine])
        states = await quarter_states(*quarters)
        moved = None
        if states.locked:
            moved = Moved(Quarter.of(mark, tz), states.locked, tz)
        entries = every_rule(rulesets, scopes, batch, quarters, tz, moved=moved)
        if entries is not None:
            await insert_scores(entries, mark)
        await _reverse_revoked(mark, mine, moved)
        for quarter in states.closed:
            await settle_late(rulesets, quarter, batch, settings, mark)
    highest = max(row["event"] for row in taken)
    return len(taken), highest if len(taken) == limit else upto


async def _reverse_revoked(mark: datetime, mine: Fragment, moved: Moved | None) -> None:
    """Reverse what the batch's revoked events gave when verified: in the entry's quarter,
    or, where that quarter is locked for the member, in the open one, labelled late."""
    period, label, join = Fragment("p.period"), Fragment("CAST({} AS TEXT)", [REVERSAL_LABEL]), ""
    if moved is not None:
        join = "JOIN member rm ON rm.id = p.member JOIN org_unit ro ON ro.id = rm.org_unit"
        locked = lock_holds(Fragment("p.period"), "ro.path")
        period = Fragment(
            "CASE WHEN {} THEN CAST({} AS TEXT) ELSE p.period END", [locked, moved.open.label]
        )
        label = Fragment(
            "CASE WHEN {} THEN {} ELSE '' END || CAST({} AS TEXT)",
            [locked, moved.late_label("p.occurred_at"), REVERSAL_LABEL],
        )
    reversals = Fragment(
        _INSERT_REVERSALS, ["reversal:", period, label, mark, Fragment(join), mark, mine]
    )
    await sql.fetch(reversals.text, *reversals.args)


async def insert_scores(entries: tuple[Fragment, Fragment], created_at: datetime) -> None:
    """Write the entries `every_rule` selects. A batch's events were marked in this very
    transaction, so none can hold an entry yet: the unique key is left to refuse the
    impossible (asking "is this key taken?" of every row costs as much as the insert)."""
    ctes, union = entries
    statement = Fragment(_INSERT_SCORES, [created_at, ctes, union])
    await sql.fetch(statement.text, *statement.args)


@asynccontextmanager
async def _walking_in_step() -> AsyncIterator[None]:
    """On PostgreSQL, have the marking walk the events and the marks side by side (a merge):
    the planner, unable to tell how many of a share's events are pending, would otherwise
    look each one up in the marks. The shares are the parallelism: no workers per query."""
    if not is_postgres():
        yield
        return
    await sql.fetch("SET LOCAL enable_nestloop = off")
    await sql.fetch("SET LOCAL max_parallel_workers_per_gather = 0")
    yield
    await sql.fetch("SET LOCAL enable_nestloop = on")
