"""Reading a job: its starter sees it, and so do holders of `view_jobs` on its org unit."""

from __future__ import annotations

import msgspec

from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.errors import NotFound
from gridpoints.jobs.schemas import JobOut
from gridpoints.jobs.tables import Job, JobOutput
from gridpoints.org.tables import OrgUnit


async def get_job(actor: Principal, job_id: int) -> JobOut:
    row = await Job.select().where(Job.id == job_id).first()
    if row is None or not await _may_see(actor, row["created_by"], row["org_unit_id"]):
        raise NotFound("任务")
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
    row = await Job.select(Job.created_by, Job.org_unit_id).where(Job.id == job_id).first()
    if row is None or not await _may_see(actor, row["created_by"], row["org_unit_id"]):
        raise NotFound("任务")
    output = (
        await JobOutput.select(JobOutput.filename, JobOutput.content_type, JobOutput.data)
        .where(JobOutput.job == job_id)
        .first()
    )
    if output is None:
        raise NotFound("任务的结果文件")
    return output["filename"], output["content_type"], bytes(output["data"])


async def _may_see(actor: Principal, created_by: int | None, org_unit_id: int | None) -> bool:
    if created_by is not None and actor.is_member(created_by):
        return True
    if org_unit_id is None:
        return actor.can(Capability.VIEW_JOBS, "/")
    unit = await OrgUnit.select(OrgUnit.path).where(OrgUnit.id == org_unit_id).first()
    return unit is not None and actor.can(Capability.VIEW_JOBS, unit["path"])
