"""Job kinds for tests (registered by the tests that use them): a job that holds until its
test lets it go, so the test can look at the row while the job runs."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from gridpoints.jobs.context import JobContext

KIND = "tests.gate"


# job id -> set by the test to let the job finish; `started` is set when the handler begins.
GATES: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
STARTED: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
RUNS: defaultdict[int, int] = defaultdict(int)


async def gated(ctx: JobContext) -> dict[str, Any]:
    RUNS[ctx.job_id] += 1
    STARTED[ctx.job_id].set()
    await GATES[ctx.job_id].wait()
    return {"runs": RUNS[ctx.job_id]}


def reset() -> None:
    GATES.clear()
    STARTED.clear()
    RUNS.clear()
