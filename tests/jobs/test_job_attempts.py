"""A job's starts are counted on its row, and a run keeps a heartbeat there: a job left
`running` by a process that died is put back (or failed once it has died
`job_max_attempts` times), and one whose run is alive is left alone. Embedded queue, both
engines."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gridpoints.app import create_app
from gridpoints.clock import utcnow
from gridpoints.db import engine as db_engine
from gridpoints.jobs.dispatch import InProcessQueue, resubmit_stale, start_job
from gridpoints.jobs.registry import HANDLERS
from gridpoints.jobs.runner import run_job
from gridpoints.jobs.tables import Job
from tests.conftest import make_settings, serving
from tests.jobs import handlers
from tests.jobs.handlers import GATES, RUNS, STARTED
from tests.world import SYSTEM

pytestmark = pytest.mark.usefixtures("db")
LONG_AGO = timedelta(hours=1)


class LostHandOver:
    """A queue whose hand-over never arrives (the process died before the job ran)."""

    settings = None

    async def submit(self, job_id: int, attempt: int = 0) -> None:
        return None

    async def close(self) -> None:
        return None


@pytest.fixture(autouse=True)
def gated_kind(monkeypatch):
    monkeypatch.setitem(HANDLERS, handlers.KIND, handlers.gated)
    handlers.reset()
    yield
    for gate in GATES.values():
        gate.set()


def fast(settings, **overrides):
    """The same database with heartbeats and staleness in seconds."""
    values = {"job_heartbeat_seconds": 1, "job_stale_seconds": 3, **overrides}
    return make_settings(settings.var_dir, settings.database_url, **values)


async def _job(job_id: int) -> dict:
    return await Job.select().where(Job.id == job_id).first()


async def _crashed_job(status: str, attempts: int, touched_ago: timedelta) -> int:
    """A job row as a process left it when it died: `attempts` starts, last touched then."""
    job_id = await start_job(LostHandOver(), SYSTEM, handlers.KIND, {}, org_unit_id=None)
    then = utcnow() - touched_ago
    await Job.update(
        {Job.status: status, Job.attempts: attempts, Job.started_at: then, Job.updated_at: then}
    ).where(Job.id == job_id)
    return job_id


async def _until(predicate, seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_job_running_at_two_crashes_is_failed_with_a_reason_not_run_again(settings):
    job_id = await _crashed_job("running", attempts=2, touched_ago=LONG_AGO)
    GATES[job_id].set()  # were it run again, it would finish at once
    queue = InProcessQueue(settings)

    await resubmit_stale(queue)
    await queue.wait_idle()

    row = await _job(job_id)
    assert RUNS[job_id] == 0, "a job that died twice must not be started a third time"
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert row["error"] == "任务两次中断，已停止"
    assert row["finished_at"] is not None


async def test_a_job_running_at_one_crash_counts_the_start_and_runs_once_more(settings):
    job_id = await _crashed_job("running", attempts=1, touched_ago=LONG_AGO)
    GATES[job_id].set()
    queue = InProcessQueue(settings)

    await resubmit_stale(queue)
    await queue.wait_idle()

    row = await _job(job_id)
    assert (row["status"], row["attempts"], RUNS[job_id]) == ("succeeded", 2, 1)


async def test_a_job_whose_run_is_alive_is_not_put_back(settings):
    # Touched a moment ago: another process is running it (several `serve` workers).
    job_id = await _crashed_job("running", attempts=1, touched_ago=timedelta(0))
    GATES[job_id].set()
    queue = InProcessQueue(fast(settings))

    await resubmit_stale(queue)
    await queue.wait_idle()

    row = await _job(job_id)
    assert (row["status"], row["attempts"], RUNS[job_id]) == ("running", 1, 0)


async def test_a_queued_job_whose_hand_over_was_lost_is_run_by_the_sweep(settings):
    job_id = await start_job(LostHandOver(), SYSTEM, handlers.KIND, {}, org_unit_id=None)
    GATES[job_id].set()
    queue = InProcessQueue(settings)

    await resubmit_stale(queue)
    await queue.wait_idle()

    row = await _job(job_id)
    assert (row["status"], row["attempts"], RUNS[job_id]) == ("succeeded", 1, 1)


async def test_a_running_job_keeps_a_heartbeat_on_its_row(settings):
    queue = InProcessQueue(fast(settings))
    job_id = await start_job(queue, SYSTEM, handlers.KIND, {}, org_unit_id=None)
    await asyncio.wait_for(STARTED[job_id].wait(), 10)
    first = (await _job(job_id)).get("heartbeat_at")
    assert first is not None, "a started job has a heartbeat"

    async def beaten() -> bool:
        return (await _job(job_id))["heartbeat_at"] > first

    await _until(beaten, seconds=5)
    GATES[job_id].set()
    await queue.wait_idle()
    assert (await _job(job_id))["status"] == "succeeded"


async def test_a_job_whose_heartbeat_stopped_is_put_back_by_the_sweep(settings):
    quick = fast(settings)
    job_id = await _crashed_job("running", attempts=1, touched_ago=timedelta(seconds=4))
    await Job.update({Job.heartbeat_at: utcnow() - timedelta(seconds=4)}).where(Job.id == job_id)
    queue = InProcessQueue(quick)

    await resubmit_stale(queue)
    await asyncio.wait_for(STARTED[job_id].wait(), 10)
    row = await _job(job_id)
    assert (row["status"], row["attempts"]) == ("running", 2)
    GATES[job_id].set()
    await queue.wait_idle()
    assert (await _job(job_id))["status"] == "succeeded"


async def test_the_embedded_server_puts_back_a_dead_run_on_its_timer(settings, db):
    # Alive while the server starts (its start-up sweep leaves it), however slowly the machine
    # starts it; dead from the moment the server is up, so only the timer can put it back.
    job_id = await _crashed_job("running", attempts=1, touched_ago=timedelta(0))
    GATES[job_id].set()

    async def beating() -> None:
        while True:
            await Job.update({Job.heartbeat_at: utcnow(), Job.updated_at: utcnow()}).where(
                Job.id == job_id
            )
            await asyncio.sleep(0.5)

    async def succeeded() -> bool:
        return (await _job(job_id))["status"] == "succeeded"

    heartbeat = asyncio.create_task(beating())
    try:
        async with serving(create_app(fast(settings))):
            heartbeat.cancel()
            assert (await _job(job_id))["status"] == "running"
            await _until(succeeded, seconds=20)
    finally:
        heartbeat.cancel()
    db_engine.use_engine(db)
    row = await _job(job_id)
    assert (row["attempts"], RUNS[job_id]) == (2, 1)


async def test_a_second_delivery_of_a_running_job_does_nothing(settings):
    quick = fast(settings)
    queue = InProcessQueue(quick)
    job_id = await start_job(queue, SYSTEM, handlers.KIND, {}, org_unit_id=None)
    await asyncio.wait_for(STARTED[job_id].wait(), 10)

    # arq delivers at least once: a second delivery while the first run is alive.
    status = await asyncio.wait_for(run_job(job_id, quick), 5)

    assert status == "running"
    row = await _job(job_id)
    assert (row["status"], row["attempts"], RUNS[job_id]) == ("running", 1, 1)
    GATES[job_id].set()
    await queue.wait_idle()
    row = await _job(job_id)
    assert (row["status"], row["attempts"], RUNS[job_id]) == ("succeeded", 1, 1)


async def test_a_job_stopped_by_a_shutdown_is_queued_again_without_counting_a_start(settings):
    queue = InProcessQueue(fast(settings))
    job_id = await start_job(queue, SYSTEM, handlers.KIND, {}, org_unit_id=None)
    await asyncio.wait_for(STARTED[job_id].wait(), 10)

    await queue.close(grace=0.1)

    row = await _job(job_id)
    assert (row["status"], row["attempts"]) == ("queued", 0)


async def test_a_job_past_its_timeout_is_failed_with_a_reason(settings):
    queue = InProcessQueue(fast(settings, job_timeout_seconds=1))
    job_id = await start_job(queue, SYSTEM, handlers.KIND, {}, org_unit_id=None)

    await asyncio.wait_for(queue.wait_idle(), 10)

    row = await _job(job_id)
    assert row["status"] == "failed"
    assert row["error"] == "任务运行超过 1 秒，已停止"
