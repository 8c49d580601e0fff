"""Rescoring a quarter still open by the rule sets now in the files, with compensating entries.

The quarter is scored afresh in memory of the database (as a dry-run does: every rule set in
force on each event's day, caps counted in the order events happened) and set beside the
entries that stand (not reversed). Nothing is rewritten: a standing entry the fresh scoring
does not give, exactly, is reversed (the reversal naming its author), and a fresh entry not
standing yet is written. When the quarter has been closed, its period-end entries are
compared the same way. So a member reads the old points, their reversal and the new points,
each naming its rule and version; a rescore by unchanged rules writes nothing.

A quarter locked for the unit (its quarterly review is final, see `points.locks`) is refused.
The work is one transaction, taken in turn with every scorer, and each new entry's key names
the job, so a second run of the same job writes nothing.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridpoints.audit.services import Change, record
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.sql import Fragment
from gridpoints.errors import DomainError
from gridpoints.jobs.context import JobContext, JobFailed
from gridpoints.jobs.dispatch import JobQueue, start_job
from gridpoints.org.services import find_unit
from gridpoints.periods import Quarter, started_quarter
from gridpoints.points.conditions import scope_paths
from gridpoints.points.entries import every_rule
from gridpoints.points.locks import refuse_if_locked
from gridpoints.points.period_end import period_end_rules, write_period_end
from gridpoints.points.recompute import job_target, quarter_events, scope_members
from gridpoints.points.rules import RuleSet
from gridpoints.points.schemas import RescoreIn, RescoreResult
from gridpoints.points.scoring import score_pending
from gridpoints.points.turns import scoring_turn
from gridpoints.settings import Settings

KIND = "points.rescore"

_REVERSE_UNWANTED = """
{}
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set, rule_set_version,
                          rule, label, category, occurred_at, reverses, author, created_at)
SELECT CAST({} AS TEXT) || CAST(p.id AS TEXT), p.member, p.period, -p.amount, 'reversal',
       p.event, p.rule_set, p.rule_set_version, p.rule, CAST({} AS TEXT) || p.label,
       p.category, p.occurred_at, p.id, {}, {}
FROM points_entry p
WHERE p.period = {} AND p.kind = {} AND p.member IN ({})
  AND p.occurred_at >= {} AND p.occurred_at < {}
  AND NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id)
  AND NOT EXISTS (
      SELECT 1 FROM wanted w
      WHERE w.member = p.member AND {} AND w.rule_set = p.rule_set
        AND w.rule_set_version = p.rule_set_version AND w.rule = p.rule AND w.amount = p.amount
  )
ON CONFLICT DO NOTHING
RETURNING amount
"""
_INSERT_WANTED = """
{}
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set, rule_set_version,
                          rule, label, category, occurred_at, created_at)
SELECT w.key, w.member, w.period, w.amount, 'score', w.event, w.rule_set, w.rule_set_version,
       w.rule, w.label, w.category, w.occurred_at, {}
FROM wanted w
WHERE NOT EXISTS (
    SELECT 1 FROM points_entry p
    WHERE p.event = w.event AND p.kind = 'score' AND p.rule_set = w.rule_set
      AND p.rule_set_version = w.rule_set_version AND p.rule = w.rule AND p.amount = w.amount
      AND NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id)
)
ON CONFLICT (key) DO NOTHING
RETURNING amount
"""
# What the period-end rules give, for comparing (columns of `wanted` above, `event` aside).
_PERIOD_END_WANTED = (
    "SELECT pe.member, CAST({} AS TEXT) AS rule_set, CAST({} AS TEXT) AS rule_set_version,"
    " CAST({} AS TEXT) AS rule, CAST({} AS INTEGER) AS amount FROM ({}) pe"
)
_NOTHING_WANTED = (
    "SELECT CAST(NULL AS INTEGER) AS member, CAST(NULL AS INTEGER) AS event,"
    " CAST(NULL AS TEXT) AS rule_set, CAST(NULL AS TEXT) AS rule_set_version,"
    " CAST(NULL AS TEXT) AS rule, CAST(NULL AS INTEGER) AS amount WHERE 1 = 0"
)
_CLOSED = "SELECT 1 AS closed FROM points_period_closed WHERE period = {}"
REVERSAL_LABEL = "规则重算，撤销："


async def start_rescore(
    queue: JobQueue, actor: Principal, data: RescoreIn, settings: Settings
) -> int:
    quarter = started_quarter(data.period, settings.timezone)
    unit = await find_unit(actor, data.org_unit_id, Capability.MANAGE_SCORING)
    await refuse_if_locked(quarter, unit["path"])
    return await start_job(
        queue,
        actor,
        KIND,
        {"period": quarter.label, "org_unit_id": unit["id"]},
        org_unit_id=unit["id"],
    )


async def rescore(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    target = await job_target(ctx)
    quarter, unit, rulesets = target.quarter, target.unit, target.rulesets
    await ctx.progress(5, "先为待计分的事件计分")
    await score_pending(rulesets, settings)
    await ctx.progress(30, "按现行规则重算")

    async def write() -> dict[str, Any]:
        await scoring_turn()
        try:
            await refuse_if_locked(quarter, unit["path"])
        except DomainError as exc:
            raise JobFailed(exc.detail) from exc
        result = await adopt(rulesets, quarter, unit, ctx.actor, ctx.job_id, settings)
        await record(
            ctx.actor,
            Change("points.rescore", "job", ctx.job_id, unit["id"], after=result),
        )
        return result

    return await ctx.complete(write)


async def adopt(
    rulesets: list[RuleSet],
    quarter: Quarter,
    unit: dict[str, Any],
    actor: Principal,
    job_id: int,
    settings: Settings,
) -> dict[str, Any]:
    """Inside the job's transaction, in every scorer's turn: the compensating entries."""
    now = utcnow()
    members = scope_members(unit["path"])
    closed = bool(await sql.fetch(_CLOSED, quarter.label))
    tz = settings.timezone
    fresh = every_rule(
        rulesets,
        await scope_paths(rulesets),
        quarter_events(quarter, settings, members),
        (quarter, quarter),
        tz,
        afresh=True,
        key_prefix=f"rescore:{job_id}:",
    )
    if fresh is None:
        wanted = Fragment(f"WITH wanted AS ({_NOTHING_WANTED})")
    else:
        ctes, union = fresh
        wanted = Fragment("{}, wanted AS ({})", [ctes, union])
    reversed_rows = await _reverse_unwanted(
        wanted, "score", "w.event = p.event", quarter, members, actor, now, settings
    )
    written: list[Any] = []
    if fresh is not None:
        statement = Fragment(_INSERT_WANTED, [wanted, now])
        written = await sql.fetch(statement.text, *statement.args)
    period_end: list[Any] = []
    if closed:
        applied_rules = await period_end_rules(rulesets, quarter, settings)
        given = Fragment()
        for applied in applied_rules:
            given.add(" UNION ALL " if given.text else "")
            given.add(
                _PERIOD_END_WANTED,
                applied.ruleset.id,
                applied.ruleset.version,
                applied.rule.id,
                applied.rule.amount(0),
                applied.members,
            )
        wanted_end = Fragment("WITH wanted AS ({})", [given])
        if not given.text:
            wanted_end = Fragment(f"WITH wanted AS ({_NOTHING_WANTED})")
        reversed_rows += await _reverse_unwanted(
            wanted_end, "period_end", "1 = 1", quarter, members, actor, now, settings
        )
        for applied in applied_rules:
            key = f"rescore:{job_id}:{quarter.label}:{applied.ruleset.id}:{applied.rule.id}:"
            period_end += await write_period_end(applied, quarter, settings, key, members)
    result = RescoreResult(
        period=quarter.label,
        org_unit_id=unit["id"],
        versions={s.id: s.version for s in rulesets},
        reversed_entries=len(reversed_rows),
        new_entries=len(written),
        period_end_entries=len(period_end),
        net_change=sum(row["amount"] for row in [*reversed_rows, *written, *period_end]),
    )
    return msgspec.to_builtins(result)


async def _reverse_unwanted(
    wanted: Fragment,
    kind: str,
    same_event: str,
    quarter: Quarter,
    members: Fragment,
    actor: Principal,
    now: Any,
    settings: Settings,
) -> list[Any]:
    """Reverse the standing entries of `kind` in the quarter that `wanted` does not give
    (`same_event`: the condition, from the code, pairing a wanted row `w` with an entry `p`).
    Only entries of what happened in the quarter: an event of a locked quarter scored late in
    this one (`points.late`) stands as its own quarter's rules gave it."""
    start, end = quarter.bounds(settings.timezone)
    statement = Fragment(
        _REVERSE_UNWANTED,
        [
            wanted,
            "reversal:",
            REVERSAL_LABEL,
            actor.member_id,
            now,
            quarter.label,
            kind,
            members,
            start,
            end,
            Fragment(same_event),
        ],
    )
    return list(await sql.fetch(statement.text, *statement.args))
