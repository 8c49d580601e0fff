"""API shapes of background jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gridpoints.jobs.vocab import JobStatus


class JobOut(msgspec.Struct):
    id: int
    kind: str
    status: JobStatus
    progress: int
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobStarted(msgspec.Struct):
    job_id: int
