"""Rescoring a quarter still open by the rule sets now in the files, with compensating entries.

Nothing is rewritten: entries given by a version no longer in the files are reversed (each
once, the reversal naming the author), the quarter's events that hold no entry from the
versions in force are scored by them, and when the quarter has been closed its period-end
rules are applied again for members left without one. Every new entry names its rule and
version, so a member reads the old points, their reversal and the new points.

A quarter locked for the unit (its quarterly review is final, see `points.locks`) is refused.
The work is one transaction, taken in turn with the scorer, and each entry's key names the
job, so a second run of the same job writes nothing.
"""

from __future__ import annotations

from typing import Any

import msgspec

from gridpoints.audit.services import Change, record
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.errors import DomainError
from gridpoints.jobs.context import JobContext, JobFailed
from gridpoints.jobs.dispatch import JobQueue, start_job
from gridpoints.org.services import authorized_unit, unit_row
from gridpoints.periods import Quarter, parse_quarter, started_quarter
from gridpoints.points.bulk import Fragment, every_rule, period_sql
from gridpoints.points.engine import insert_scores, scope_paths, score_pending, scoring_turn
from gridpoints.points.locks import refuse_if_locked
from gridpoints.points.period_end import period_end_rules, write_period_end
from gridpoints.points.recompute import quarter_events, scope_members
from gridpoints.points.rulefiles import RuleSetsInvalid, load_rulesets
from gridpoints.points.rules import RuleSet
from gridpoints.points.schemas import RescoreIn, RescoreResult
from gridpoints.settings import Settings

KIND = "points.rescore"

_REVERSE_STALE = """
INSERT INTO points_entry (key, member, period, amount, kind, event, rule_set, rule_set_version,
                          rule, label, category, occurred_at, reverses, author, created_at)
SELECT CAST({} AS TEXT) || CAST(p.id AS TEXT), p.member, p.period, -p.amount, 'reversal',
       p.event, p.rule_set, p.rule_set_version, p.rule, CAST({} AS TEXT) || p.label,
       p.category, p.occurred_at, p.id, {}, {}
FROM points_entry p
WHERE p.period = {} AND p.kind IN ('score', 'period_end') AND p.member IN ({members})
  AND NOT ({current})
  AND NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id)
ON CONFLICT DO NOTHING
RETURNING amount
"""
# An event's standing entry from a version in force (alias `e` for the event).
_UNSCORED_NOW = """
 AND NOT EXISTS (
    SELECT 1 FROM points_entry p
    WHERE p.event = e.id AND p.kind = 'score' AND ({current})
      AND NOT EXISTS (SELECT 1 FROM points_entry x WHERE x.reverses = p.id)
)
"""
_CLOSED = "SELECT 1 AS closed FROM points_entry WHERE period = {} AND kind = 'period_end' LIMIT 1"


async def start_rescore(
    queue: JobQueue, actor: Principal, data: RescoreIn, settings: Settings
) -> int:
    quarter = started_quarter(data.period, settings.timezone)
    unit = await authorized_unit(actor, data.org_unit_id, Capability.MANAGE_SCORING)
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
    quarter = parse_quarter(ctx.params["period"])
    unit = await unit_row(int(ctx.params["org_unit_id"]))
    if unit is None:
        raise JobFailed("网格单位不存在")
    try:
        rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    except RuleSetsInvalid as exc:
        raise JobFailed(f"现行规则文件有误：{exc}") from exc
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
    """Inside the job's transaction, in the scorer's turn: the compensating entries."""
    now = utcnow()
    members = scope_members(unit["path"])
    current = _in_files(rulesets)
    closed = bool(await sql.fetch(_CLOSED, quarter.label))
    reversed_rows = await sql.fetch(
        _REVERSE_STALE.replace("{members}", members.text).replace("{current}", current.text),
        "reversal:",
        "规则重算，撤销：",
        actor.member_id,
        now,
        quarter.label,
        *members.args,
        *current.args,
    )
    events = quarter_events(quarter, settings, members)
    events.add(_UNSCORED_NOW.replace("{current}", current.text), *current.args)
    tz = settings.timezone
    entries = every_rule(
        rulesets,
        await scope_paths(rulesets),
        events,
        period_sql(quarter, quarter, tz, "e.occurred_at"),
        tz,
        key_prefix=f"rescore:{job_id}:",
    )
    scored = await insert_scores(entries, now, rescoring=True) if entries else []
    period_end: list[Any] = []
    if closed:
        for applied in await period_end_rules(rulesets, quarter, settings):
            key = f"rescore:{job_id}:{quarter.label}:{applied.ruleset.id}:{applied.rule.id}:"
            period_end += await write_period_end(applied, quarter, settings, key, members)
    result = RescoreResult(
        period=quarter.label,
        org_unit_id=unit["id"],
        versions={s.id: s.version for s in rulesets},
        reversed_entries=len(reversed_rows),
        new_entries=len(scored),
        period_end_entries=len(period_end),
        net_change=sum(row["amount"] for row in [*reversed_rows, *scored, *period_end]),
    )
    return msgspec.to_builtins(result)


def _in_files(rulesets: list[RuleSet]) -> Fragment:
    """Condition on an entry `p`: given by a set's version now in the files."""
    if not rulesets:
        return Fragment("1 = 0")
    condition = Fragment()
    for index, ruleset in enumerate(rulesets):
        condition.add(" OR " if index else "")
        condition.add("(p.rule_set = {} AND p.rule_set_version = {})", ruleset.id, ruleset.version)
    return condition
