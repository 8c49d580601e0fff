"""Route of background jobs."""

from __future__ import annotations

from litestar import Controller, get

from gridpoints.jobs import services
from gridpoints.jobs.schemas import JobOut
from gridpoints.web.dependencies import Actor
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath


class JobController(Controller):
    path = "/api/v1/jobs"
    tags = ["jobs"]

    @get(
        "/{job_id:int}",
        operation_id="getJob",
        summary="A background job: status, progress, result or error",
        responses=problems(404),
    )
    async def get_job(self, actor: Actor, job_id: IdPath) -> JobOut:
        return await services.get_job(actor, job_id)
