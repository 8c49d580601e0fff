"""Whether a job's run is alive, decided on the job row alone (the worker that runs it may be
on another machine, or gone).

A run counts a start on the row when it claims the job (`attempts`) and touches
`heartbeat_at` every `job_heartbeat_seconds` while it runs. A running job untouched for
`job_stale_seconds` has lost its run: the sweep puts it back, or fails it once it has been
started `job_max_attempts` times (a file that kills its worker must not kill one at every
start). Every change here is one conditional UPDATE, so two processes doing the same thing
at once do it once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from gridpoints.audit.services import Change, record
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.jobs.tables import Job
from gridpoints.jobs.vocab import JobStatus
from gridpoints.settings import Settings

log = logging.getLogger(__name__)
SWEEPER = Principal.system("任务调度")


def interrupted_reason(attempts: int) -> str:
    times = "两" if attempts == 2 else str(attempts)
    return f"任务{times}次中断，已停止"


def timed_out_reason(seconds: int) -> str:
    return f"任务运行超过 {seconds} 秒，已停止"


def _dead_run(settings: Settings, now: datetime) -> Any:
    """Running, with no heartbeat for `job_stale_seconds` (a row from before heartbeats
    were kept is judged by its last change)."""
    cutoff = now - timedelta(seconds=settings.job_stale_seconds)
    return (Job.status == JobStatus.RUNNING.value) & (
        (Job.heartbeat_at < cutoff) | (Job.heartbeat_at.is_null() & (Job.updated_at < cutoff))
    )


async def claim(job_id: int, settings: Settings, started_at: datetime | None) -> int | None:
    """Count a start and mark the job running, if it is queued or its last run died, and it
    has starts left; returns the number of starts so far (None: not claimed)."""
    now = utcnow()
    claimed = (
        await Job.update(
            {
                Job.status: JobStatus.RUNNING.value,
                Job.attempts: Job.attempts + 1,
                Job.started_at: started_at or now,
                Job.heartbeat_at: now,
                Job.updated_at: now,
            }
        )
        .where(
            (Job.id == job_id)
            & (Job.attempts < settings.job_max_attempts)
            & ((Job.status == JobStatus.QUEUED.value) | _dead_run(settings, now))
        )
        .returning(Job.attempts)
    )
    return claimed[0]["attempts"] if claimed else None


async def beat(job_id: int, attempt: int) -> bool:
    """The run that made start number `attempt` is alive; False once the job is finished or
    was taken from it."""
    touched = (
        await Job.update({Job.heartbeat_at: utcnow()})
        .where(
            (Job.id == job_id) & (Job.status == JobStatus.RUNNING.value) & (Job.attempts == attempt)
        )
        .returning(Job.id)
    )
    return bool(touched)


async def release(job_id: int, attempt: int) -> None:
    """A run stopped on purpose (its process shutting down): the job is queued again and the
    start is not counted, so a restart is not taken for a crash."""
    await Job.update(
        {
            Job.status: JobStatus.QUEUED.value,
            Job.attempts: Job.attempts - 1,
            Job.heartbeat_at: None,
            Job.updated_at: utcnow(),
        }
    ).where(
        (Job.id == job_id) & (Job.status == JobStatus.RUNNING.value) & (Job.attempts == attempt)
    )


async def dead_runs(settings: Settings) -> list[dict[str, Any]]:
    return await Job.select(Job.id, Job.attempts).where(_dead_run(settings, utcnow()))


async def queued() -> list[dict[str, Any]]:
    return await Job.select(Job.id, Job.attempts).where(Job.status == JobStatus.QUEUED.value)


async def put_back(job_id: int, settings: Settings) -> int | None:
    """Queue again a job whose run died, if it has starts left; returns its starts so far."""
    now = utcnow()
    put = (
        await Job.update(
            {Job.status: JobStatus.QUEUED.value, Job.heartbeat_at: None, Job.updated_at: now}
        )
        .where(
            (Job.id == job_id)
            & (Job.attempts < settings.job_max_attempts)
            & _dead_run(settings, now)
        )
        .returning(Job.attempts)
    )
    if put:
        log.warning("job %s lost its run (no heartbeat): queued again", job_id)
    return put[0]["attempts"] if put else None


async def give_up(job_id: int, settings: Settings) -> bool:
    """Fail a job whose runs died `job_max_attempts` times, with the reason; audited."""
    now = utcnow()
    error = interrupted_reason(settings.job_max_attempts)
    async with writing():
        failed = (
            await Job.update(
                {
                    Job.status: JobStatus.FAILED.value,
                    Job.error: error,
                    Job.finished_at: now,
                    Job.updated_at: now,
                }
            )
            .where(
                (Job.id == job_id)
                & (Job.attempts >= settings.job_max_attempts)
                & ((Job.status == JobStatus.QUEUED.value) | _dead_run(settings, now))
            )
            .returning(Job.kind, Job.org_unit_id)
        )
        if failed:
            await record(
                SWEEPER,
                Change(
                    "job.failed",
                    "job",
                    job_id,
                    failed[0]["org_unit_id"],
                    after={"kind": failed[0]["kind"], "status": "failed", "error": error},
                ),
            )
    if failed:
        log.error("job %s died at each of its %d starts: failed", job_id, settings.job_max_attempts)
    return bool(failed)
