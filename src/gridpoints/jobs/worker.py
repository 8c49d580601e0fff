"""The arq worker (`gridpoints worker`): plain async functions taking `ctx`, as arq wants.

Start as many workers as you like; arq hands each job to one of them at a time, and a job cut
short by a crash is run again after its timeout, which our jobs make harmless.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker, func

from gridpoints.checkins.schedule import close_stale_checkins_task
from gridpoints.db import engine as db_engine
from gridpoints.jobs.dispatch import ARQ_FUNCTION, ArqQueue, resubmit_stale
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
    # Jobs queued while no worker (or Redis) was up, or whose hand-over failed.
    queue = ArqQueue(ctx["redis"], settings.job_queue_name)
    await resubmit_stale(queue, older_than=timedelta(seconds=settings.job_timeout_seconds))


async def _shutdown(ctx: dict[str, Any]) -> None:
    if "engine" in ctx:
        await db_engine.stop(ctx["engine"])


def build_worker(settings: Settings, **overrides: Any) -> Worker:
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set: without Redis, jobs run inside `gridpoints serve`"
        )
    options: dict[str, Any] = {
        "functions": [func(run_job_task, name=ARQ_FUNCTION)],
        # Every worker may run it; closing is idempotent, so overlapping runs are harmless.
        # No timeout of its own: arq waits the longest function timeout before re-running a
        # crashed job, so a longer one here would delay every retry.
        "cron_jobs": [
            cron(close_stale_checkins_task, minute={0, 15, 30, 45}, unique=True),
            # Every minute; scoring is idempotent, so a run on two workers is harmless.
            cron(score_pending_task, second=0, unique=True),
            cron(close_previous_quarter_task, hour={1}, minute={5}, unique=True),
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": settings.job_queue_name,
        "job_timeout": settings.job_timeout_seconds,
        "max_tries": 5,
        "keep_result": 3600,
        "on_startup": _startup,
        "on_shutdown": _shutdown,
        "ctx": {"settings": settings},
    }
    options.update(overrides)
    return Worker(**options)
