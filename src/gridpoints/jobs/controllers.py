"""Route of background jobs."""

from __future__ import annotations

from litestar import Controller, Response, get

from gridpoints.auth.dependencies import Actor
from gridpoints.jobs import services
from gridpoints.jobs.schemas import JobOut
from gridpoints.web.files import attachment
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @get(
        "/{job_id:int}",
        operation_id="getJob",
        summary="A background job: status, progress, result or error",
        responses=problems(404),
    )
    async def get_job(self, actor: Actor, job_id: IdPath) -> JobOut:
        return await services.get_job(actor, job_id)

    @get(
        "/{job_id:int}/output",
        operation_id="getJobOutput",
        summary="The file a finished job made (a dry-run's workbook, say)",
        media_type="application/octet-stream",
        responses=problems(404),
    )
    async def get_job_output(self, actor: Actor, job_id: IdPath) -> Response[bytes]:
        filename, content_type, data = await services.job_output(actor, job_id)
        return attachment(data, filename, content_type)
