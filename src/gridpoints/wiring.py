"""What the application hands its infrastructure at start: the job kinds the domains own, who
a job or a token acts as, and the table of periodic work. `create_app`, `gridpoints worker` and
the command line all wire the same way, so the lower layers (`jobs`, `auth`) know no domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from gridpoints.audit.checkpoints import write_checkpoint
from gridpoints.auth.tokens import PrincipalLoaders
from gridpoints.checkins.schedule import close_stale_checkins
from gridpoints.jobs import registry
from gridpoints.jobs.dispatch import JobQueue, resubmit_stale, sweep_every
from gridpoints.jobs.schedule import At, Scheduled
from gridpoints.members import account
from gridpoints.members.roster_import import job as member_import
from gridpoints.partners.accounts import load_partner_principal
from gridpoints.points import dry_run, rescore
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.rules import RuleSet
from gridpoints.points.schedule import ScoringWindow, close_previous_quarter
from gridpoints.settings import Settings

PRINCIPAL_LOADERS = PrincipalLoaders(member=account.load_principal, partner=load_partner_principal)


def wire() -> None:
    """Register every job kind and how a job's starter is loaded (idempotent)."""
    registry.register(
        {
            member_import.KIND: member_import.import_members,
            dry_run.KIND: dry_run.dry_run,
            rescore.KIND: rescore.rescore,
        },
        acting_member=account.acting_member,
    )


@dataclass
class Runtime:
    """What the periodic rounds of one process are given."""

    settings: Settings
    rulesets: list[RuleSet]
    job_queue: JobQueue
    # Where this process's scoring rounds look for pending events (kept between rounds).
    scoring_window: ScoringWindow = field(default_factory=ScoringWindow)


def open_runtime(settings: Settings, job_queue: JobQueue) -> Runtime:
    """A broken rule set stops the start, naming every problem (`RuleSetsInvalid`)."""
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    return Runtime(settings, rulesets, job_queue)


def periodic_work(settings: Settings) -> list[Scheduled[Runtime]]:
    """The periodic work of a deployment: `every` is the embedded server's loop, `at` the
    workers' cron. Every round is safe anywhere and often."""
    sweep = sweep_every(settings)
    sweep_seconds = int(sweep.total_seconds())
    return [
        # Jobs whose run died, or whose hand-over was lost.
        Scheduled(
            "sweep_jobs",
            lambda run: resubmit_stale(run.job_queue),
            every=sweep,
            at=At(second=set(range(0, 60, sweep_seconds))),
            first_after=sweep,
        ),
        Scheduled(
            "close_stale_checkins",
            lambda run: close_stale_checkins(run.settings),
            every=timedelta(minutes=15),
            at=At(minute={0, 15, 30, 45}),
        ),
        Scheduled(
            "score_pending",
            lambda run: run.scoring_window.score(run.rulesets, run.settings),
            every=timedelta(seconds=15),
            at=At(),  # every minute
        ),
        # Daily: the first run after a quarter ends closes it.
        Scheduled(
            "close_previous_quarter",
            lambda run: close_previous_quarter(run.settings, run.rulesets),
            every=timedelta(days=1),
            at=At(hour={1}, minute={5}),
        ),
        # The audit chain's head, signed, outside the database: at start and hourly in the
        # embedded server, daily on the workers.
        Scheduled(
            "audit_checkpoint",
            lambda run: write_checkpoint(run.settings),
            every=timedelta(hours=1),
            at=At(hour={2}, minute={10}),
            first_after=timedelta(0),
        ),
    ]
