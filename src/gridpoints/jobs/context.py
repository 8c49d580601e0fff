"""What a running job sees: its parameters and input, a way to report progress, and the one
way to commit its effects (`complete`), which makes a second run of the same job a no-op."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from gridpoints.audit.services import Change, record
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.transactions import in_transaction, writing
from gridpoints.jobs.tables import Job, JobInput, JobOutput
from gridpoints.jobs.vocab import JobStatus
from gridpoints.settings import Settings

log = logging.getLogger(__name__)

ProgressListener = Callable[[int, str], None]


class JobAlreadyFinished(Exception):
    """Another run of this job committed first; this run must leave no trace."""


class JobFailed(Exception):
    """The job cannot do its work (bad input, say): it ends as `failed` with this error and,
    optionally, a result that explains it (the bad rows of an import, say)."""

    def __init__(self, error: str, result: Any = None) -> None:
        super().__init__(error)
        self.error = error
        self.result = result


class JobContext:
    def __init__(
        self,
        *,
        job_id: int,
        kind: str,
        params: dict[str, Any],
        actor: Principal,
        org_unit_id: int | None,
        settings: Settings,
        listener: ProgressListener | None = None,
    ) -> None:
        self.job_id = job_id
        self.kind = kind
        self.params = params
        self.actor = actor
        self.org_unit_id = org_unit_id
        self.settings = settings
        self.completed = False
        self._listener = listener
        self._reported = -1

    async def progress(self, percent: int, note: str = "") -> None:
        """Report progress (0-100). Written only when it grows, and not from inside a
        transaction: SQLite's write lock is held there, and the row would not be seen anyway."""
        percent = max(0, min(99, int(percent)))
        if percent <= self._reported:
            return
        self._reported = percent
        if self._listener:
            self._listener(percent, note)
        if in_transaction():
            return
        now = utcnow()
        await Job.update({Job.progress: percent, Job.updated_at: now, Job.heartbeat_at: now}).where(
            (Job.id == self.job_id) & (Job.status == JobStatus.RUNNING.value)
        )

    async def input_file(self) -> tuple[str, bytes]:
        row = (
            await JobInput.select(JobInput.filename, JobInput.data)
            .where(JobInput.job == self.job_id)
            .first()
        )
        if row is None:
            raise JobFailed("任务缺少上传的文件")
        return row["filename"], bytes(row["data"])

    async def complete(self, write_effects: Callable[[], Awaitable[Any]]) -> Any:
        """Run `write_effects` and mark the job succeeded in one write transaction.

        The transaction first claims the job row; if another run already finished the job
        (arq delivers at least once), nothing is written and `JobAlreadyFinished` is raised.
        """
        async with writing():
            claimed = (
                await Job.update({Job.updated_at: utcnow()})
                .where((Job.id == self.job_id) & (Job.status == JobStatus.RUNNING.value))
                .returning(Job.id)
            )
            if not claimed:
                raise JobAlreadyFinished(self.job_id)
            result = await write_effects()
            await finish(self, JobStatus.SUCCEEDED, result=result)
        self.completed = True
        return result


async def finish(
    ctx: JobContext, status: JobStatus, *, result: Any = None, error: str | None = None
) -> bool:
    """Mark the job finished unless another run finished it first; audited."""
    async with writing():
        values: dict[Any, Any] = {
            Job.status: status.value,
            Job.result: None if result is None else msgspec.json.encode(result).decode(),
            Job.error: error,
            Job.finished_at: utcnow(),
            Job.updated_at: utcnow(),
        }
        if status is JobStatus.SUCCEEDED:
            values[Job.progress] = 100
        updated = (
            await Job.update(values)
            .where((Job.id == ctx.job_id) & (Job.status == JobStatus.RUNNING.value))
            .returning(Job.id)
        )
        if updated:
            await record(
                ctx.actor,
                Change(
                    f"job.{status.value}",
                    "job",
                    ctx.job_id,
                    ctx.org_unit_id,
                    after={"kind": ctx.kind, "status": status.value, "error": error},
                ),
            )
    return bool(updated)


async def save_output(ctx: JobContext, filename: str, content_type: str, data: bytes) -> None:
    """Keep the file the job made, for download (`GET /api/v1/jobs/{id}/output`); called
    inside `ctx.complete`, so it is written with the job's success or not at all."""
    assert in_transaction(), "a job's output is saved inside ctx.complete"
    await JobOutput.insert(
        JobOutput(job=ctx.job_id, filename=filename, content_type=content_type, data=data)
    )
