"""Reading a job: its starter sees it, and so do holders of `view_jobs` on its org unit."""

from __future__ import annotations

from typing import Any

import msgspec

from gridpoints.auth.access import Target, check
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.db import sql
from gridpoints.errors import NotFound
from gridpoints.jobs.schemas import JobOut
from gridpoints.jobs.tables import Job, JobOutput
from gridpoints.unit_paths import ROOT_SCOPE

VIEW_JOBS = Capability.VIEW_JOBS


WHAT = "任务"
# The path of the org unit a job is about. The grid tree's table is named, not imported: jobs
# sit below the domains in the layers, so they know a unit by its id and path alone.
_UNIT_PATH = "SELECT path FROM org_unit WHERE id = {}"


async def find_job(actor: Principal, job_id: int) -> dict[str, Any]:
    """The job row if the caller sees it (`auth.access.check`): its starter always, others
    by `view_jobs` on its org unit (on the whole tree for a job of no unit)."""
    row = await Job.select().where(Job.id == job_id).first()
    path = None
    if row is not None:
        path = ROOT_SCOPE
        if row["org_unit_id"] is not None:
            unit = await sql.fetch_one(_UNIT_PATH, row["org_unit_id"])
            path = unit["path"] if unit else None
    target = Target(path=path, owner=row["created_by"] if row else None, seen_with=VIEW_JOBS)
    check(actor, target, VIEW_JOBS, what=WHAT)
    assert row is not None
    return row


async def get_job(actor: Principal, job_id: int) -> JobOut:
    row = await find_job(actor, job_id)
    return JobOut(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        progress=row["progress"],
        result=msgspec.json.decode(row["result"]) if row["result"] else None,
        error=row["error"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


async def job_output(actor: Principal, job_id: int) -> tuple[str, str, bytes]:
    """The file a finished job made: (filename, content type, bytes)."""
    await find_job(actor, job_id)
    output = (
        await JobOutput.select(JobOutput.filename, JobOutput.content_type, JobOutput.data)
        .where(JobOutput.job == job_id)
        .first()
    )
    if output is None:
        raise NotFound("任务的结果文件")
    return output["filename"], output["content_type"], bytes(output["data"])
