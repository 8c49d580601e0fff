"""The one way to start a job: write its row (and input), then hand its id to the queue.

With `REDIS_URL` set the queue is arq and `gridpoints worker` processes run the jobs;
without it they run as tasks inside the server process. Either way the database row is the
job's truth, and a job whose hand-over failed is handed over again (`resubmit_stale`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any, Protocol, runtime_checkable

import msgspec
from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from gridpoints.audit.services import Change, record
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.jobs.runner import run_job
from gridpoints.jobs.tables import Job, JobInput
from gridpoints.jobs.vocab import JobStatus
from gridpoints.settings import Settings

log = logging.getLogger(__name__)

ARQ_FUNCTION = "run_job"


def arq_job_id(queue_name: str, job_id: int) -> str:
    """arq's id for our job. arq keeps job and result keys outside the queue, so the queue
    name is part of it: deployments (or test runs) sharing one Redis never collide."""
    return f"{queue_name}:job:{job_id}"


# Checkable at run time: handlers receive the queue as a typed dependency, which is validated.
@runtime_checkable
class JobQueue(Protocol):
    async def submit(self, job_id: int) -> None: ...

    async def close(self) -> None: ...


class ArqQueue:
    def __init__(self, pool: ArqRedis, queue_name: str) -> None:
        self.pool = pool
        self.queue_name = queue_name

    @classmethod
    async def connect(cls, settings: Settings) -> ArqQueue:
        assert settings.redis_url
        pool = await create_pool(
            RedisSettings.from_dsn(settings.redis_url), default_queue_name=settings.job_queue_name
        )
        return cls(pool, settings.job_queue_name)

    async def submit(self, job_id: int) -> None:
        # The arq job id is derived from ours, so a second hand-over of a queued job is ignored.
        queued = await self.pool.enqueue_job(
            ARQ_FUNCTION,
            job_id,
            _job_id=arq_job_id(self.queue_name, job_id),
            _queue_name=self.queue_name,
        )
        if queued is None:
            # Already queued or running, or its arq result is still kept: nothing to do; the
            # database row stays the truth and the worker's start-up resubmits what is stale.
            log.info("job %s is already known to arq", job_id)

    async def close(self) -> None:
        await self.pool.aclose()


class InProcessQueue:
    """Runs jobs as tasks of the current event loop (the embedded default)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tasks: set[asyncio.Task[Any]] = set()

    async def submit(self, job_id: int) -> None:
        task = asyncio.create_task(run_job(job_id, self.settings), name=f"job-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace: float = 10.0) -> None:
        """Let running jobs finish for `grace` seconds, then cancel them (they stay `running`
        and are handed over again at the next start)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)


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


async def resubmit_stale(queue: JobQueue, older_than: timedelta = timedelta(0)) -> int:
    """Hand over again every job not finished (after a crash, or a failed hand-over)."""
    cutoff = utcnow() - older_than
    rows = await Job.select(Job.id).where(
        Job.status.is_in([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
        & (Job.updated_at <= cutoff)
    )
    for row in rows:
        await queue.submit(row["id"])
    if rows:
        log.info("re-queued %d unfinished jobs", len(rows))
    return len(rows)
