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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from arq.connections import RedisSettings
from arq.cron import cron
from arq.worker import Worker, func

from gridpoints.db import engine as db_engine
from gridpoints.jobs.dispatch import ARQ_FUNCTION, ArqQueue, JobQueue, queue_name, resubmit_stale
from gridpoints.jobs.runner import run_job
from gridpoints.jobs.schedule import Scheduled
from gridpoints.settings import Settings

log = logging.getLogger(__name__)
Runtime = TypeVar("Runtime")


async def run_job_task(ctx: dict[str, Any], job_id: int) -> str | None:
    status = await run_job(job_id, ctx["settings"])
    return status.value if status else None


async def _shutdown(ctx: dict[str, Any]) -> None:
    if "engine" in ctx:
        await db_engine.stop(ctx["engine"])


def _cron_round(entry: Scheduled[Any]) -> Callable[[dict[str, Any]], Any]:
    async def run(ctx: dict[str, Any]) -> object:
        return await entry.run(ctx["runtime"])

    run.__qualname__ = run.__name__ = entry.name
    return run


def build_worker(
    settings: Settings,
    schedule: Sequence[Scheduled[Runtime]],
    open_runtime: Callable[[Settings, JobQueue], Runtime],
    **overrides: Any,
) -> Worker:
    """A worker that runs every job and the periodic work of `schedule`; `open_runtime` makes,
    at start-up, what the rounds are given (it may refuse to start: a broken rule set)."""
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set: without Redis, jobs run inside `gridpoints serve`"
        )
    queue = queue_name(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        engine = db_engine.use_engine(db_engine.make_engine(settings))
        await db_engine.start(engine, settings)
        ctx["engine"] = engine
        job_queue = ArqQueue(ctx["redis"], settings)
        ctx["runtime"] = open_runtime(settings, job_queue)
        # Jobs queued while no worker (or Redis) was up, lost from Redis, or whose worker died.
        await resubmit_stale(job_queue)

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
            scheduled(_cron_round(entry), entry.name, **entry.at.as_cron()) for entry in schedule
        ],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": queue,
        "health_check_key": f"{queue}:health-check",
        # The runner stops a job at `job_timeout_seconds` and fails it with the reason; arq's
        # own limit is only the backstop.
        "job_timeout": settings.job_timeout_seconds + 60,
        "max_tries": 5,
        "keep_result": 3600,
        "on_startup": startup,
        "on_shutdown": _shutdown,
        "ctx": {"settings": settings},
    }
    options.update(overrides)
    return Worker(**options)
