"""Routes of rule sets."""

from __future__ import annotations

from datetime import date

from litestar import Controller, Response, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from gridpoints.auth.dependencies import Actor
from gridpoints.clock import local_today
from gridpoints.jobs.dependencies import Queue
from gridpoints.jobs.schemas import JobStarted
from gridpoints.periods import parse_quarter
from gridpoints.points import adjustments, boards, reading
from gridpoints.points.dependencies import Rulesets
from gridpoints.points.dry_run import start_dry_run
from gridpoints.points.rescore import start_rescore
from gridpoints.points.rules import EVENT_LABELS, RuleSet
from gridpoints.points.schemas import (
    AdjustmentIn,
    DryRunIn,
    EntryOut,
    LeaderboardOut,
    MemberPointsOut,
    RescoreIn,
    RuleOut,
    RuleSetOut,
)
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.openapi import problems, replayed
from gridpoints.web.params import IdPath, Limit, PeriodQuery


def present(ruleset: RuleSet, today: date) -> RuleSetOut:
    spec = ruleset.spec
    return RuleSetOut(
        id=spec.id,
        label=spec.label,
        version=ruleset.version,
        source=ruleset.source,
        effective_from=spec.effective_from,
        effective_to=spec.effective_to,
        scope=spec.scope,
        in_force=ruleset.in_force(today),
        rules=[
            RuleOut(
                id=rule.id,
                label=rule.label,
                event=rule.event,
                event_label=EVENT_LABELS[rule.event],
                when=rule.when,
                categories=rule.categories,
                member_categories=rule.member_categories,
                roles=rule.roles,
                min_hours=rule.min_hours,
                fixed=rule.points.fixed,
                per_hour=rule.points.per_hour,
                rounding=rule.points.rounding,
                multiplier=rule.points.multiplier,
                cap_per_event=rule.cap_per_event,
                cap_per_quarter=rule.cap_per_quarter,
                cap_per_year=rule.cap_per_year,
                note=rule.note,
            )
            for rule in spec.rules
        ],
    )


class MemberPointsController(Controller):
    path = "/members"
    tags = ["points"]

    @get(
        "/{member_id:int}/points",
        operation_id="getMemberPoints",
        summary="A member's points for a quarter: total, rank in their grid, every entry",
        responses=problems(400, 404),
    )
    async def member_points(
        self, actor: Actor, member_id: IdPath, period: PeriodQuery, settings: AppSettings
    ) -> MemberPointsOut:
        quarter = parse_quarter(period)
        return await reading.member_points(actor, member_id, quarter, settings)

    @post(
        "/{member_id:int}/points/adjustments",
        operation_id="adjustMemberPoints",
        summary="A manual adjustment with a reason (committee members); audited",
        description="201 with the new entry; the same client_id again answers 200 with it.",
        status_code=HTTP_201_CREATED,
        responses={**problems(400, 403, 404, 409), **replayed(EntryOut)},
    )
    async def adjust(
        self, actor: Actor, member_id: IdPath, data: JSONBody[AdjustmentIn]
    ) -> Response[EntryOut]:
        entry, made = await adjustments.adjust(actor, member_id, data)
        return Response(entry, status_code=HTTP_201_CREATED if made else HTTP_200_OK)


class LeaderboardController(Controller):
    path = "/org-units"
    tags = ["points"]

    @get(
        "/{unit_id:int}/leaderboard",
        operation_id="getLeaderboard",
        summary="Members of a grid by points for a quarter; the year's points by month and "
        "by category",
        responses=problems(400, 404),
    )
    async def leaderboard(
        self,
        actor: Actor,
        unit_id: IdPath,
        period: PeriodQuery,
        settings: AppSettings,
        limit: Limit = 50,
    ) -> LeaderboardOut:
        quarter = parse_quarter(period)
        return await boards.leaderboard(actor, unit_id, quarter, limit, settings)


class RuleSetController(Controller):
    path = "/rulesets"
    tags = ["points"]

    @get(
        "",
        operation_id="listRuleSets",
        summary="The scoring rule sets, and which are in force today",
        responses=problems(),
    )
    async def list_rulesets(
        self, actor: Actor, rulesets: Rulesets, settings: AppSettings
    ) -> list[RuleSetOut]:
        # Every member may read the rules their points come from.
        today = local_today(settings.timezone)
        return [present(ruleset, today) for ruleset in rulesets]

    @post(
        "/dry-run",
        operation_id="dryRunRuleSet",
        summary="What a changed rule set would give a quarter's members, without writing "
        "(a background job)",
        description="The job's result has the totals before and after, per rule, and the "
        "largest changes; every member's figures are in its workbook (`download`). A file "
        "with problems is refused (400), each problem named.",
        status_code=HTTP_202_ACCEPTED,
        responses=problems(400, 404),
    )
    async def dry_run(
        self,
        actor: Actor,
        job_queue: Queue,
        rulesets: Rulesets,
        settings: AppSettings,
        data: JSONBody[DryRunIn],
    ) -> JobStarted:
        job_id = await start_dry_run(job_queue, actor, data, rulesets, settings)
        return JobStarted(job_id=job_id)

    @post(
        "/rescore",
        operation_id="rescoreQuarter",
        summary="Adopt the rule sets now in force for a quarter still open, by compensating "
        "entries (a background job)",
        description="Refused (409) for a quarter whose quarterly review is final in the unit.",
        status_code=HTTP_202_ACCEPTED,
        responses=problems(400, 404, 409),
    )
    async def rescore(
        self, actor: Actor, job_queue: Queue, settings: AppSettings, data: JSONBody[RescoreIn]
    ) -> JobStarted:
        job_id = await start_rescore(job_queue, actor, data, settings)
        return JobStarted(job_id=job_id)
