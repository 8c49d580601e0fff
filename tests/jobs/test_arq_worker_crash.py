"""A real `gridpoints worker` on the real Redis, killed in the middle of a member import.

Delivery is at least once: the job is put back once its heartbeat is missing for
`GRIDPOINTS_JOB_STALE_SECONDS` and run by a new worker. The import must then complete with
every member written exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gridpoints.audit.services import verify
from gridpoints.audit.tables import AuditEntry
from gridpoints.jobs.dispatch import ArqQueue
from gridpoints.jobs.tables import Job
from gridpoints.members.roster_import.starting import start_import
from gridpoints.members.tables import Member
from tests.conftest import REDIS_TEST_URL, make_settings, service_missing
from tests.live_server import gridpoints_command
from tests.world import SYSTEM

ROWS = 6000
# The runner stops a job after this long: long enough for the import itself.
JOB_TIMEOUT_SECONDS = 12
DEADLINE_SECONDS = 120
pytestmark = pytest.mark.parametrize("settings", ["postgres"], indirect=True)


def _member_csv(rows: int) -> bytes:
    lines = ["姓名,手机号,类别,所在网格,工作单位"]
    lines += [f"队员{n},1360000{n:04d},居民党员,A1-B1-U1," for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def worker_env(settings, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDPOINTS_")}
    env.update(
        DATABASE_URL=settings.database_url,
        REDIS_URL=REDIS_TEST_URL,
        SECRET_KEY=settings.secret_key,
        GRIDPOINTS_AUDIT_KEY=settings.audit_key,
        GRIDPOINTS_VAR_DIR=str(tmp_path / "worker-var"),
        GRIDPOINTS_JOB_QUEUE=f"gridpoints:test:{uuid.uuid4().hex}",
        GRIDPOINTS_JOB_TIMEOUT_SECONDS=str(JOB_TIMEOUT_SECONDS),
        # A killed run is noticed by its missing heartbeat, put back by the next worker.
        GRIDPOINTS_JOB_HEARTBEAT_SECONDS="1",
        GRIDPOINTS_JOB_STALE_SECONDS="3",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def workers(worker_env, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [*gridpoints_command(), "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
        )


async def _job(job_id: int) -> dict:
    return (
        await Job.select(Job.status, Job.progress, Job.attempts, Job.error)
        .where(Job.id == job_id)
        .first()
    )


async def _wait_for(job_id: int, done, log: Path) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_SECONDS
    while loop.time() < deadline:
        row = await _job(job_id)
        if done(row):
            return row
        await asyncio.sleep(0.02)
    tail = (await asyncio.to_thread(log.read_text))[-3000:]
    raise AssertionError(f"job {job_id} stuck at {row}; worker log:\n{tail}")


async def test_a_worker_killed_mid_import_leaves_a_job_that_completes_once(
    world, settings, worker_env, workers, tmp_path
):
    try:
        redis = aioredis.from_url(REDIS_TEST_URL)
        await redis.ping()
    except (OSError, ConnectionError) as exc:
        service_missing("Redis", str(exc))
    queue_settings = make_settings(
        settings.var_dir,
        settings.database_url,
        redis_url=REDIS_TEST_URL,
        job_queue_name=worker_env["GRIDPOINTS_JOB_QUEUE"],
    )
    queue = await ArqQueue.connect(queue_settings)
    log = tmp_path / "worker.log"
    try:
        members_before = await Member.count()
        job_id = await start_import(
            queue, SYSTEM, world.units["A"], "members.csv", _member_csv(ROWS), queue_settings
        )
        first = _start_worker(worker_env, log)
        workers.append(first)
        caught = await _wait_for(
            job_id, lambda r: r["status"] == "running" and r["progress"] > 0, log
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert caught["status"] == "running"
        after_kill = await _job(job_id)
        assert after_kill["status"] == "running", "the import finished before the kill"
        assert await Member.count() == members_before, "a killed import must write nothing"

        workers.append(_start_worker(worker_env, log))
        final = await _wait_for(job_id, lambda r: r["status"] in ("succeeded", "failed"), log)
    finally:
        await queue.close()
        # arq keeps job and result keys beside the queue; all of them carry the queue's name.
        leftovers = await redis.keys(f"*{worker_env['GRIDPOINTS_JOB_QUEUE']}*")
        if leftovers:
            await redis.delete(*leftovers)
        await redis.aclose()

    assert final["status"] == "succeeded", final["error"]
    assert final["attempts"] >= 2
    phones = [f"1360000{n:04d}" for n in range(ROWS)]
    imported = await Member.select(Member.phone).where(Member.phone.is_in(phones))
    assert sorted(r["phone"] for r in imported) == phones  # each exactly once
    created = await AuditEntry.count().where(
        (AuditEntry.action == "member.create") & (AuditEntry.object_type == "member")
    )
    # Every member's creation is in the audit log exactly once, the imported ones included.
    assert created == await Member.count() == members_before + ROWS
    report = await verify()
    assert report.intact, report.reason


def test_worker_stops_cleanly_on_sigterm(worker_env, tmp_path):
    log = tmp_path / "worker.log"
    process = _start_worker(worker_env, log)
    try:
        # Started once it has logged that it is listening on its queue.
        for _ in range(300):
            if "Starting worker" in log.read_text() or process.poll() is not None:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()[-2000:]
    finally:
        if process.poll() is None:
            process.kill()
