"""Dry-run of a changed rule set: what it would give a quarter's members, next to what the
ledger holds, without writing a single entry.

Started from the API (`start_dry_run` checks the period, the unit and the file, so a bad file
is a 400 naming each problem); run as a background job that streams the comparison member by
member into a workbook (`dry_run_workbook`), keeping only running totals in memory.
"""

from __future__ import annotations

import asyncio
import heapq
from dataclasses import dataclass, field
from typing import Any

import msgspec

from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.errors import DomainError, FieldProblem, Invalid
from gridpoints.jobs.context import JobContext, JobFailed, save_output
from gridpoints.jobs.dispatch import JobQueue, start_job
from gridpoints.org.services import find_unit
from gridpoints.periods import started_quarter
from gridpoints.points.dry_run_workbook import DryRunWorkbook
from gridpoints.points.recompute import comparison, count_members, job_target
from gridpoints.points.rulefiles import read_ruleset, with_changed
from gridpoints.points.rules import RuleSet
from gridpoints.points.schemas import DryRunIn, DryRunResult, MemberChange, RuleChange
from gridpoints.settings import Settings
from gridpoints.web.files import XLSX_MEDIA_TYPE

KIND = "points.dry_run"
TOML = "application/toml"
LARGEST = 20


def changed_sets(
    current: list[RuleSet], filename: str, content: bytes, settings: Settings
) -> tuple[RuleSet, list[RuleSet]]:
    """The changed set and the sets it would make; Invalid naming every problem."""
    changed, problems = read_ruleset(filename, content, settings.activity_categories)
    sets: list[RuleSet] = []
    if changed is not None:
        sets, problems = with_changed(current, changed)
    if problems:
        raise Invalid(*(FieldProblem(field="content", detail=str(p)) for p in problems))
    assert changed is not None
    return changed, sets


async def start_dry_run(
    queue: JobQueue, actor: Principal, data: DryRunIn, current: list[RuleSet], settings: Settings
) -> int:
    quarter = started_quarter(data.period, settings.timezone)
    unit = await find_unit(actor, data.org_unit_id, Capability.MANAGE_SCORING)
    content = data.content.encode()
    changed, _ = changed_sets(current, data.filename, content, settings)
    return await start_job(
        queue,
        actor,
        KIND,
        {
            "period": quarter.label,
            "org_unit_id": unit["id"],
            "rule_set": changed.id,
            "version": changed.version,
        },
        org_unit_id=unit["id"],
        input_file=(data.filename, TOML, content),
    )


@dataclass
class _Tally:
    """What the dry-run keeps while the comparison streams past: totals, never the rows."""

    members: int = 0
    changed: int = 0
    before: int = 0
    after: int = 0
    by_rule: dict[tuple[str | None, str | None], list[Any]] = field(default_factory=dict)
    largest: list[tuple[int, int, MemberChange]] = field(default_factory=list)
    # The member whose rows are being read: a stream's chunk may end between two of them.
    pending: MemberChange | None = None

    def fold(self, rows: Any) -> list[MemberChange]:
        """Rows (ordered by member, one per rule): the members they complete."""
        done: list[MemberChange] = []
        for row in rows:
            self.add_rule(row)
            if self.pending is None or self.pending.member_id != row["member"]:
                done += self.flush()
                self.pending = MemberChange(row["member"], row["name"], row["unit"], 0, 0)
            self.pending.before += row["before"]
            self.pending.after += row["after"]
        return done

    def flush(self) -> list[MemberChange]:
        """The member being read, now complete."""
        last, self.pending = self.pending, None
        if last is None:
            return []
        self.add_member(last)
        return [last]

    def add_rule(self, row: Any) -> None:
        key = (row["rule_set"], row["rule"])
        label = row["label"] if row["rule_set"] is not None else "人工调整等"
        totals = self.by_rule.setdefault(key, [label or row["rule"], 0, 0])
        totals[1] += row["before"]
        totals[2] += row["after"]

    def add_member(self, change: MemberChange) -> None:
        self.members += 1
        self.before += change.before
        self.after += change.after
        if change.before != change.after:
            self.changed += 1
            ranked = (abs(change.after - change.before), -change.member_id, change)
            if len(self.largest) < LARGEST:
                heapq.heappush(self.largest, ranked)
            else:
                heapq.heappushpop(self.largest, ranked)


async def dry_run(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    target = await job_target(ctx)
    quarter, unit, current = target.quarter, target.unit, target.rulesets
    filename, content = await ctx.input_file()
    try:
        changed, sets = changed_sets(current, filename, content, settings)
    except DomainError as exc:
        raise JobFailed(exc.detail) from exc
    before_version = next((s.version for s in current if s.id == changed.id), None)

    await ctx.progress(5, "试算中")
    expected = max(1, await count_members(unit["path"]))
    statement = await comparison(sets, quarter, unit["path"], settings, now=utcnow())
    book = DryRunWorkbook(quarter.label, unit["name"], changed, before_version)
    tally = _Tally()
    async for rows in sql.stream(statement.text, *statement.args, chunk=5_000):
        await asyncio.to_thread(book.add_members, tally.fold(rows))
        await ctx.progress(10 + 80 * tally.members // expected, "试算中")
    book.add_members(tally.flush())
    await ctx.progress(92, "生成表格")
    result = DryRunResult(
        period=quarter.label,
        org_unit_id=unit["id"],
        rule_set=changed.id,
        version_before=before_version,
        version_after=changed.version,
        members=tally.members,
        members_changed=tally.changed,
        before_total=tally.before,
        after_total=tally.after,
        by_rule=[
            RuleChange(rule_set=key[0], rule=key[1], label=str(t[0]), before=t[1], after=t[2])
            for key, t in sorted(tally.by_rule.items(), key=lambda item: str(item[0]))
        ],
        largest_changes=[c for _, _, c in sorted(tally.largest, reverse=True)],
        download=f"/api/v1/jobs/{ctx.job_id}/output",
    )
    data = await asyncio.to_thread(book.finish, result)

    async def write() -> dict[str, Any]:
        await save_output(ctx, f"dry-run-{quarter.label}.xlsx", XLSX_MEDIA_TYPE, data)
        return msgspec.to_builtins(result)

    return await ctx.complete(write)
