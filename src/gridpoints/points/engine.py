"""Scoring verified events into the ledger by the rule sets in force, a batch at a time.

A batch is taken by marking the next pending events scored (`points_scored_event`, all at the
batch's instant); every rule is then one statement over the batch (`points.bulk`), and
revoked events get entries reversing what their verification gave, all in one transaction.
Scorers take turns (an advisory lock on PostgreSQL, the write lock on SQLite), and every
entry has a unique key (event, rule set version, rule; or the entry reversed), so a second
run of the same work, by another worker or after a crash, writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.engine import is_postgres
from gridpoints.db.transactions import writing
from gridpoints.points.bulk import Fragment, every_rule, period_sql, quarter_of_instant
from gridpoints.points.rules import RuleSet
from gridpoints.settings import Settings

# pg_advisory_xact_lock key: one scorer at a time ("pts").
_SCORING_LOCK = 0x707473
BATCH = 50_000

_MARK = """
INSERT INTO points_scored_event (event, scored_at)
SELECT e.id, {} FROM verified_event e
WHERE e.id > {} AND NOT EXISTS (SELECT 1 FROM points_scored_event s WHERE s.event = e.id)
ORDER BY e.id
LIMIT {}
RETURNING event
"""
_SPAN = """
SELECT min(e.occurred_at) AS first, max(e.occurred_at) AS last
FROM verified_event e JOIN points_scored_event s ON s.event = e.id
WHERE s.scored_at = {}
"""
_IN_BATCH = "e.id IN (SELECT event FROM points_scored_event WHERE scored_at = {})"
_INSERT_SCORES = """
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set,
                          rule_set_version, rule, label, category, occurred_at, created_at)
SELECT key, member, period, amount, 'score', event, rule_set, rule_set_version, rule, label,
       category, occurred_at, {}
FROM ({entries}) scored
WHERE 1 = 1
ON CONFLICT DO NOTHING
{returning}
"""
_INSERT_REVERSALS = """
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set,
                          rule_set_version, rule, label, category, occurred_at, reverses,
                          created_at)
SELECT CAST({} AS TEXT) || CAST(p.id AS TEXT), p.member, p.period, -p.amount, 'reversal', e.id,
       p.rule_set, p.rule_set_version, p.rule, CAST({} AS TEXT) || p.label, p.category,
       e.occurred_at, p.id, {}
FROM verified_event e
JOIN verified_event v ON v.kind = e.kind AND v.source_id = e.source_id AND v.action = 'verified'
JOIN points_entry p ON p.event = v.id AND p.kind = 'score'
WHERE e.action = 'revoked' AND e.id IN (SELECT event FROM points_scored_event WHERE scored_at = {})
  AND NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id)
ON CONFLICT DO NOTHING
"""
_SCOPES = "SELECT code, path FROM org_unit WHERE code IN ({})"


async def score_pending(rulesets: list[RuleSet], settings: Settings, batch: int = BATCH) -> int:
    """Score every verified event not scored yet; how many this call scored."""
    scored = 0
    # Each batch starts after the last one's highest id, so no batch walks again over what an
    # earlier one passed; an event committed meanwhile below that id waits for the next call.
    after = 0
    while True:
        done, after = await score_batch(rulesets, settings, batch, after)
        if not done:
            return scored
        scored += done


async def score_batch(
    rulesets: list[RuleSet], settings: Settings, limit: int, after: int = 0
) -> tuple[int, int]:
    """Score the next `limit` pending events with ids above `after`, in one transaction; how
    many were taken and the highest id among them."""
    scopes = await scope_paths(rulesets)
    async with writing():
        await scoring_turn()
        mark = utcnow()
        taken = await sql.fetch(_MARK, mark, after, limit)
        if not taken:
            return 0, after
        span = await sql.fetch_one(_SPAN, mark)
        assert span is not None
        tz = settings.timezone
        period = period_sql(
            quarter_of_instant(_instant(span["first"]), tz),
            quarter_of_instant(_instant(span["last"]), tz),
            tz,
            "e.occurred_at",
        )
        entries = every_rule(rulesets, scopes, Fragment(_IN_BATCH, [mark]), period, tz)
        if entries is not None:
            await insert_scores(entries, mark)
        await sql.fetch(_INSERT_REVERSALS, "reversal:", "撤销：", mark, mark)
    return len(taken), max(row["event"] for row in taken)


async def insert_scores(
    entries: tuple[Fragment, Fragment], created_at: datetime, returning: bool = False
) -> Sequence[sql.Row]:
    """Write the entries `every_rule` selects (each once: a key already taken is skipped);
    with `returning`, the amounts of those written."""
    ctes, union = entries
    statement = _INSERT_SCORES.replace("{entries}", f"{ctes.text} {union.text}").replace(
        "{returning}", "RETURNING amount" if returning else ""
    )
    return await sql.fetch(statement, created_at, *ctes.args, *union.args)


async def scoring_turn() -> None:
    """Inside a write transaction: wait until no other transaction writes scores (SQLite's
    write lock already does that)."""
    if is_postgres():
        await sql.fetch("SELECT pg_advisory_xact_lock({})", _SCORING_LOCK)


async def scope_paths(rulesets: list[RuleSet]) -> dict[str, str]:
    """Org unit code -> path, for the scopes the rule sets name."""
    codes = sorted({s.spec.scope for s in rulesets if s.spec.scope})
    if not codes:
        return {}
    placeholders = ", ".join("{}" for _ in codes)
    rows = await sql.fetch(_SCOPES.replace("({})", f"({placeholders})"), *codes)
    return {row["code"]: row["path"] for row in rows}


def _instant(value: Any) -> datetime:
    # An aggregate loses its column type on SQLite and comes back as text.
    return datetime.fromisoformat(value) if isinstance(value, str) else value
