"""The arq worker (`gridpoints worker`): plain async functions taking `ctx`, as arq wants.

Start as many workers as you like; arq hands each job to one of them at a time. Every worker
sweeps the job rows on a schedule (`resubmit_stale`): a job whose worker died is put back
within `job_stale_seconds` (or failed once it died at each of its starts), and one lost from
Redis is handed over again; a second run is harmless, our jobs see to that. The scheduled
tasks' arq ids, like the queue and the health check, carry the deployment's Redis prefix, so
deployments sharing one Redis never take each other's rounds.
"""

from __future__ import annotations

import logging
from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker, func

from gridpoints.audit.checkpoints import audit_checkpoint_task
from gridpoints.checkins.schedule import close_stale_checkins_task
from gridpoints.db import engine as db_engine
from gridpoints.jobs.dispatch import (
    ARQ_FUNCTION,
    ArqQueue,
    queue_name,
    resubmit_stale,
    sweep_every,
)
from gridpoints.jobs.runner import run_job
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.schedule import (
    ScoringWindow,
    close_previous_quarter_task,
    score_pending_task,
)
from gridpoints.settings import Settings

log = logging.getLogger(__name__)


async def run_job_task(ctx: dict[str, Any], job_id: int) -> str | None:
    status = await run_job(job_id, ctx["settings"])
    return status.value if status else None


async def _startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    # A broken rule set stops the worker, naming every problem (RuleSetsInvalid).
    ctx["rulesets"] = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    ctx["scoring_window"] = ScoringWindow()
    engine = db_engine.use_engine(db_engine.make_engine(settings))
    await db_engine.start(engine, settings)
    ctx["engine"] = engine
    # Jobs queued while no worker (or Redis) was up, lost from Redis, or whose worker died.
    ctx["job_queue"] = ArqQueue(ctx["redis"], settings)
    await resubmit_stale(ctx["job_queue"])


async def sweep_jobs_task(ctx: dict[str, Any]) -> int:
    """The arq cron entry of the sweep (see `dispatch.resubmit_stale`)."""
    return await resubmit_stale(ctx["job_queue"])


async def _shutdown(ctx: dict[str, Any]) -> None:
    if "engine" in ctx:
        await db_engine.stop(ctx["engine"])


def build_worker(settings: Settings, **overrides: Any) -> Worker:
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set: without Redis, jobs run inside `gridpoints serve`"
        )
    queue = queue_name(settings)
    sweep_seconds = int(sweep_every(settings).total_seconds())

    def scheduled(task: Any, name: str, **when: Any) -> Any:
        # `unique`: one run per tick across workers, by an arq id made of the name and the
        # tick; the name carries the deployment's queue, so another deployment's worker
        # never takes this deployment's tick.
        return cron(task, name=f"{queue}:cron:{name}", unique=True, **when)

    options: dict[str, Any] = {
        "functions": [func(run_job_task, name=ARQ_FUNCTION)],
        # Every worker may run them; each is idempotent, so overlapping runs are harmless.
        # No timeout of their own: arq waits the longest function timeout before re-running
        # a crashed one, so a longer one here would delay every retry.
        "cron_jobs": [
            scheduled(sweep_jobs_task, "sweep_jobs", second=set(range(0, 60, sweep_seconds))),
            scheduled(close_stale_checkins_task, "close_stale_checkins", minute={0, 15, 30, 45}),
            # Every minute; scoring is idempotent, so a run on two workers is harmless.
            scheduled(score_pending_task, "score_pending", second=0),
            scheduled(close_previous_quarter_task, "close_previous_quarter", hour={1}, minute={5}),
            scheduled(audit_checkpoint_task, "audit_checkpoint", hour={2}, minute={10}),
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": queue,
        "health_check_key": f"{queue}:health-check",
        # The runner stops a job at `job_timeout_seconds` and fails it with the reason; arq's
        # own limit is only the backstop.
        "job_timeout": settings.job_timeout_seconds + 60,
        "max_tries": 5,
        "keep_result": 3600,
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "ctx": {"settings": settings},
    }
    options.update(overrides)
    return Worker(**options)
