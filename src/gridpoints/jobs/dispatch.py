"""The one way to start a job: write its row (and input), then hand its id to the queue.

With `REDIS_URL` set the queue is arq and `gridpoints worker` processes run the jobs;
without it they run as tasks inside the server process. Either way the database row is the
job's truth: a regular sweep (`resubmit_stale`, by the workers' cron and by the embedded
server) hands over again what a hand-over, a flush of Redis or a dead run lost.

Every key the platform puts in Redis starts with `GRIDPOINTS_REDIS_PREFIX`: the queue, arq's
job ids (arq files its own keys as `arq:job:<id>`, `arq:result:<id>`, ... so the prefix is in
the id), the scheduled tasks' ids and the workers' health check.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

import msgspec
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings
from arq.constants import result_key_prefix
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus as ArqJobStatus

from gridpoints.audit.services import Change, record
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.jobs import liveness
from gridpoints.jobs.context import ProgressListener
from gridpoints.jobs.runner import run_job
from gridpoints.jobs.tables import Job, JobInput
from gridpoints.jobs.vocab import JobStatus
from gridpoints.settings import Settings

log = logging.getLogger(__name__)

ARQ_FUNCTION = "run_job"


def queue_name(settings: Settings) -> str:
    """The arq queue: `GRIDPOINTS_JOB_QUEUE` under the deployment's prefix (the default
    `gridpoints:jobs` already starts with the default prefix and stays as it is)."""
    prefix = settings.redis_prefix.rstrip(":")
    if settings.job_queue_name.startswith(prefix + ":"):
        return settings.job_queue_name
    return f"{prefix}:{settings.job_queue_name}"


def arq_job_id(queue: str, job_id: int, attempt: int) -> str:
    """arq's id for a hand-over of our job, made after `attempt` starts. arq keeps job and
    result keys outside the queue, so the (prefixed) queue name is part of it: deployments
    sharing one Redis never collide. A job put back after a dead run gets a new id, since
    arq holds the old one (in progress, then its result) for a while."""
    return f"{queue}:job:{job_id}:{attempt}"


def sweep_every(settings: Settings) -> timedelta:
    """How often the sweep runs: as often as running jobs beat, at least once a minute."""
    return timedelta(seconds=min(settings.job_heartbeat_seconds, 60))


# Checkable at run time: handlers receive the queue as a typed dependency, which is validated.
@runtime_checkable
class JobQueue(Protocol):
    settings: Settings

    async def submit(self, job_id: int, attempt: int = 0) -> None: ...

    async def hand_over_if_lost(self, job_id: int, attempt: int) -> bool: ...

    async def close(self) -> None: ...


class ArqQueue:
    def __init__(self, pool: ArqRedis, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self.queue_name = queue_name(settings)

    @classmethod
    async def connect(cls, settings: Settings) -> ArqQueue:
        assert settings.redis_url
        pool = await create_pool(
            RedisSettings.from_dsn(settings.redis_url), default_queue_name=queue_name(settings)
        )
        return cls(pool, settings)

    async def submit(self, job_id: int, attempt: int = 0) -> None:
        # The arq job id is derived from ours, so a second hand-over of a queued job is ignored.
        queued = await self.pool.enqueue_job(
            ARQ_FUNCTION,
            job_id,
            _job_id=arq_job_id(self.queue_name, job_id, attempt),
            _queue_name=self.queue_name,
        )
        if queued is None:
            # Already queued or running, or its arq result is still kept: nothing to do; the
            # database row stays the truth and the sweep hands over what is lost.
            log.info("job %s is already known to arq", job_id)

    async def hand_over_if_lost(self, job_id: int, attempt: int) -> bool:
        """Hand over a queued job again unless arq holds it (queued, or being started)."""
        arq_id = arq_job_id(self.queue_name, job_id, attempt)
        status = await ArqJob(arq_id, self.pool, _queue_name=self.queue_name).status()
        if status is ArqJobStatus.complete:
            # arq ran this hand-over, yet the job is still queued (the run ended before it
            # counted a start): the kept result would block the id, so it goes.
            still = await Job.count().where(
                (Job.id == job_id)
                & (Job.status == JobStatus.QUEUED.value)
                & (Job.attempts == attempt)
            )
            if not still:
                return False
            await self.pool.delete(result_key_prefix + arq_id)
        elif status is not ArqJobStatus.not_found:
            return False
        log.warning("job %s was not in Redis: handed over again", job_id)
        await self.submit(job_id, attempt)
        return True

    async def close(self) -> None:
        await self.pool.aclose()


class InProcessQueue:
    """Runs jobs as tasks of the current event loop (the embedded default)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tasks: dict[int, asyncio.Task[Any]] = {}

    async def submit(self, job_id: int, attempt: int = 0) -> None:
        if job_id in self._tasks:
            return  # this process is running it already
        task = asyncio.create_task(run_job(job_id, self.settings), name=f"job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def hand_over_if_lost(self, job_id: int, attempt: int) -> bool:
        """Queued in the database but not a task here (lost at a crash, or a process of
        `serve --workers N` starts it now: a second delivery does nothing)."""
        if job_id in self._tasks:
            return False
        await self.submit(job_id, attempt)
        return True

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def close(self, grace: float = 10.0) -> None:
        """Let running jobs finish for `grace` seconds, then cancel them (they are queued
        again, without counting the start, and run at the next start)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=grace)
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=grace)


class RunByCaller:
    """A queue that hands nothing over: its caller runs the job itself, right away, with
    `runner.run_job` (the command line, and tests that watch a run)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def submit(self, job_id: int, attempt: int = 0) -> None:
        return None

    async def hand_over_if_lost(self, job_id: int, attempt: int) -> bool:
        return False

    async def close(self) -> None:
        return None


async def open_queue(settings: Settings) -> JobQueue:
    if settings.redis_url:
        return await ArqQueue.connect(settings)
    return InProcessQueue(settings)


async def start_job(
    queue: JobQueue,
    actor: Principal,
    kind: str,
    params: dict[str, Any],
    *,
    org_unit_id: int | None,
    input_file: tuple[str, str, bytes] | None = None,
) -> int:
    """Record a job (and its uploaded file) and queue it; returns the job id."""
    now = utcnow()
    async with writing():
        inserted = await Job.insert(
            Job(
                kind=kind,
                status=JobStatus.QUEUED.value,
                progress=0,
                params=msgspec.json.encode(params).decode(),
                created_by=actor.member_id,
                org_unit_id=org_unit_id,
                created_at=now,
                updated_at=now,
            )
        ).returning(Job.id)
        job_id = inserted[0]["id"]
        if input_file is not None:
            filename, content_type, data = input_file
            await JobInput.insert(
                JobInput(job=job_id, filename=filename, content_type=content_type, data=data)
            )
        await record(
            actor,
            Change("job.start", "job", job_id, org_unit_id, after={"kind": kind, "params": params}),
        )
    await queue.submit(job_id)
    return job_id


async def run_here(
    actor: Principal,
    kind: str,
    params: dict[str, Any],
    settings: Settings,
    *,
    org_unit_id: int | None,
    input_file: tuple[str, str, bytes] | None = None,
    listener: ProgressListener | None = None,
) -> int:
    """Record a job and run it in this process at once (the command line); returns its id."""
    job_id = await start_job(
        RunByCaller(settings),
        actor,
        kind,
        params,
        org_unit_id=org_unit_id,
        input_file=input_file,
    )
    await run_job(job_id, settings, listener=listener)
    return job_id


async def resubmit_stale(queue: JobQueue) -> int:
    """The sweep: hand over again every queued job the queue lost (a failed hand-over, a
    flush or failover of Redis, a crash of the embedded server), put back every running job
    whose run died (no heartbeat for `job_stale_seconds`) and fail those that died at each
    of their `job_max_attempts` starts. Run at start-up and every `sweep_every`; safe to run
    anywhere and often. Returns how many jobs were handed over."""
    settings = queue.settings
    handed = 0
    for row in await liveness.queued():
        if await queue.hand_over_if_lost(row["id"], row["attempts"]):
            handed += 1
    for row in await liveness.dead_runs(settings):
        if row["attempts"] >= settings.job_max_attempts:
            await liveness.give_up(row["id"], settings)
            continue
        attempts = await liveness.put_back(row["id"], settings)
        if attempts is not None:
            await queue.submit(row["id"], attempts)
            handed += 1
    if handed:
        log.info("handed over %d unfinished jobs again", handed)
    return handed
