"""Running one job, the same way in the arq worker and in-process: claim it (counting the
start), call its handler while a heartbeat keeps the row fresh, record success or failure.
Safe to call again for the same job at any time: a second delivery while a run is alive,
or after the job finished, does nothing (see `liveness`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec

from gridpoints.auth.principal import Principal
from gridpoints.jobs import liveness
from gridpoints.jobs.context import (
    JobAlreadyFinished,
    JobContext,
    JobFailed,
    ProgressListener,
    finish,
)
from gridpoints.jobs.registry import acting_member, handler_for
from gridpoints.jobs.tables import Job
from gridpoints.jobs.vocab import FINISHED, JobStatus
from gridpoints.settings import Settings

log = logging.getLogger(__name__)


async def run_job(
    job_id: int, settings: Settings, listener: ProgressListener | None = None
) -> JobStatus | None:
    """Run the job unless it is finished; returns its final status (None: not found)."""
    row = await Job.select().where(Job.id == job_id).first()
    if row is None:
        log.warning("job %s does not exist", job_id)
        return None
    if row["status"] in FINISHED:
        return JobStatus(row["status"])
    attempt = await liveness.claim(job_id, settings, row["started_at"])
    if attempt is None:
        # Its run is alive elsewhere, or it just finished, or it died at every start.
        if await liveness.give_up(job_id, settings):
            return JobStatus.FAILED
        log.info("job %s is being run elsewhere; this delivery does nothing", job_id)
        return await _status(job_id)
    actor = await _actor(row["created_by"])
    ctx = JobContext(
        job_id=job_id,
        kind=row["kind"],
        params=msgspec.json.decode(row["params"]),
        actor=actor,
        org_unit_id=row["org_unit_id"],
        settings=settings,
        listener=listener,
    )
    heartbeat = asyncio.create_task(_heartbeat(job_id, attempt, settings), name=f"beat-{job_id}")
    deadline = asyncio.timeout(settings.job_timeout_seconds)
    try:
        async with deadline:
            result = await handler_for(row["kind"])(ctx)
            if not ctx.completed:
                await ctx.complete(_returning(result))
    except JobAlreadyFinished:
        log.info("job %s was finished by another run", job_id)
    except JobFailed as failure:
        await finish(ctx, JobStatus.FAILED, result=failure.result, error=failure.error)
    except asyncio.CancelledError:
        # Shutting down: queued again, the start not counted, and picked up again.
        with contextlib.suppress(Exception):
            await liveness.release(job_id, attempt)
        raise
    except TimeoutError:
        if not deadline.expired():
            raise
        log.error("job %s (%s) ran past its timeout", job_id, row["kind"])
        await finish(
            ctx, JobStatus.FAILED, error=liveness.timed_out_reason(settings.job_timeout_seconds)
        )
    except Exception:
        log.exception("job %s (%s) failed", job_id, row["kind"])
        await finish(ctx, JobStatus.FAILED, error="任务执行出错，请联系管理员")
    finally:
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)
    return await _status(job_id)


async def _status(job_id: int) -> JobStatus | None:
    final = await Job.select(Job.status).where(Job.id == job_id).first()
    return JobStatus(final["status"]) if final else None


async def _heartbeat(job_id: int, attempt: int, settings: Settings) -> None:
    """Touch the row every `job_heartbeat_seconds` while the run lasts; stop once the job
    is finished or was taken from this run."""
    while True:
        await asyncio.sleep(settings.job_heartbeat_seconds)
        try:
            if not await liveness.beat(job_id, attempt):
                return
        except Exception:  # a missed beat is no reason to stop the job
            log.warning("job %s: heartbeat failed", job_id, exc_info=True)


def _returning(result: object):
    async def write() -> object:
        return result

    return write


async def _actor(member_id: int | None) -> Principal:
    if member_id is None:
        return Principal.system()
    principal = await acting_member(member_id)
    # A starter who has since lost their account acts with no roles at all.
    return principal or Principal(member_id=member_id, name=f"member#{member_id}")
