"""The job queue (opened in `create_app`'s lifespan), for controllers that start jobs."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide

from gridpoints.jobs.dispatch import JobQueue


def provide_job_queue(state: State) -> JobQueue:
    return state.job_queue


DEPENDENCIES = {"job_queue": Provide(provide_job_queue, sync_to_thread=False)}

# The annotation for a handler parameter that receives the queue by name.
Queue = NamedDependency[JobQueue]
