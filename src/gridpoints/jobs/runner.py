"""Running one job, the same way in the arq worker and in-process: mark it running, call its
handler, record success or failure. Safe to call again for the same job at any time."""

from __future__ import annotations

import asyncio
import logging

import msgspec

from gridpoints.auth.principal import Principal
from gridpoints.auth.services import load_principal
from gridpoints.clock import utcnow
from gridpoints.jobs.context import (
    JobAlreadyFinished,
    JobContext,
    JobFailed,
    ProgressListener,
    finish,
)
from gridpoints.jobs.registry import handler_for
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
    await Job.update(
        {
            Job.status: JobStatus.RUNNING.value,
            Job.attempts: Job.attempts + 1,
            Job.started_at: row["started_at"] or utcnow(),
            Job.updated_at: utcnow(),
        }
    ).where(
        (Job.id == job_id) & Job.status.is_in([JobStatus.QUEUED.value, JobStatus.RUNNING.value])
    )
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
    try:
        result = await handler_for(row["kind"])(ctx)
        if not ctx.completed:
            await ctx.complete(_returning(result))
    except JobAlreadyFinished:
        log.info("job %s was finished by another run", job_id)
    except JobFailed as failure:
        await finish(ctx, JobStatus.FAILED, result=failure.result, error=failure.error)
    except asyncio.CancelledError:
        # Shutting down: the job stays running and is picked up again.
        raise
    except Exception:
        log.exception("job %s (%s) failed", job_id, row["kind"])
        await finish(ctx, JobStatus.FAILED, error="任务执行出错，请联系管理员")
    final = await Job.select(Job.status).where(Job.id == job_id).first()
    return JobStatus(final["status"]) if final else None


def _returning(result: object):
    async def write() -> object:
        return result

    return write


async def _actor(member_id: int | None) -> Principal:
    if member_id is None:
        return Principal.system()
    principal = await load_principal(member_id)
    # A starter who has since lost their account acts with no roles at all.
    return principal or Principal(member_id=member_id, name=f"member#{member_id}")
