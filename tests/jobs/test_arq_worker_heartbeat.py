"""Real `gridpoints worker` processes on the real Redis, with heartbeats of 1 s and jobs taken
for dead after 3 s: a worker killed mid-job has its job put back by another worker's sweep in
seconds (not after the job timeout); a job whose run dies twice ends `failed` with the
reason; a job lost from Redis is handed over by the sweep while the workers run; and two
deployments on one Redis database keep every key under their own prefix."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio as aioredis

from gridpoints.jobs.dispatch import ArqQueue, arq_job_id
from gridpoints.jobs.tables import Job
from gridpoints.jobs.worker import build_worker
from gridpoints.members.roster_import.starting import start_import
from gridpoints.members.tables import Member
from gridpoints.wiring import open_runtime, periodic_work
from tests.conftest import REDIS_TEST_URL, make_settings, service_missing
from tests.live_server import gridpoints_command
from tests.world import SYSTEM

ROWS = 6000
# Far longer than the test: a job put back in seconds was put back by the sweep, not by arq.
JOB_TIMEOUT_SECONDS = 600
PUT_BACK_WITHIN_SECONDS = 30
DEADLINE_SECONDS = 90
pytestmark = pytest.mark.parametrize("settings", ["postgres"], indirect=True)


def _member_csv(rows: int) -> bytes:
    lines = ["姓名,手机号,类别,所在网格,工作单位"]
    lines += [f"队员{n},1370000{n:04d},居民党员,A1-B1-U1," for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def _worker_env(settings, var_dir: Path, redis_url: str, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDPOINTS_")}
    env.update(
        DATABASE_URL=settings.database_url,
        REDIS_URL=redis_url,
        SECRET_KEY=settings.secret_key,
        GRIDPOINTS_AUDIT_KEY=settings.audit_key,
        GRIDPOINTS_VAR_DIR=str(var_dir),
        GRIDPOINTS_REDIS_PREFIX=prefix,
        GRIDPOINTS_JOB_TIMEOUT_SECONDS=str(JOB_TIMEOUT_SECONDS),
        GRIDPOINTS_JOB_HEARTBEAT_SECONDS="1",
        GRIDPOINTS_JOB_STALE_SECONDS="3",
        PYTHONUNBUFFERED="1",
    )
    return env


def _deployment(settings, env: dict[str, str]):
    """The settings the worker processes read from `env`, for this test's own side."""
    return make_settings(
        settings.var_dir,
        settings.database_url,
        redis_url=env["REDIS_URL"],
        redis_prefix=env["GRIDPOINTS_REDIS_PREFIX"],
        job_timeout_seconds=JOB_TIMEOUT_SECONDS,
        job_heartbeat_seconds=1,
        job_stale_seconds=3,
    )


class Workers:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.folder / f"worker-{len(self.started)}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(
                [*gridpoints_command(), "worker"], env=env, stdout=output, stderr=subprocess.STDOUT
            )
        self.started.append((process, log))
        return process, log

    def logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-2500:]}" for _, log in self.started)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    running = Workers(tmp_path)
    yield running
    for process, _ in running.started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_TEST_URL)
    try:
        await client.ping()
    except (OSError, ConnectionError) as exc:
        service_missing("Redis", str(exc))
    yield client
    await client.aclose()


async def _forget(redis: aioredis.Redis, prefix: str) -> None:
    leftovers = [key async for key in redis.scan_iter(match=f"*{prefix}*")]
    if leftovers:
        await redis.delete(*leftovers)


async def _ready(log: Path) -> None:
    """A worker is ready once its start-up (and its start-up sweep) is over."""
    await _until(lambda: _logged(log, "Starting worker"), 60, "worker start")
    await asyncio.sleep(0.5)


async def _logged(log: Path, text: str) -> bool:
    return text in await asyncio.to_thread(log.read_text)


async def _job(job_id: int) -> dict:
    return (
        await Job.select(Job.status, Job.progress, Job.attempts, Job.error)
        .where(Job.id == job_id)
        .first()
    )


async def _until(predicate, seconds: float, what: str, workers: Workers | None = None):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        value = await predicate()
        if value:
            return value
        if loop.time() > deadline:
            logs = workers.logs() if workers else ""
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        await asyncio.sleep(0.02)


def _runner(workers: Workers, queue_name: str, job_id: int, attempt: int):
    """The worker (process, log) that started the job's `attempt`-th hand-over."""
    needle = f"{arq_job_id(queue_name, job_id, attempt)}:run_job"
    for process, log in workers.started:
        if process.poll() is None and needle in log.read_text():
            return process
    return None


async def test_a_worker_killed_mid_job_is_noticed_in_seconds_and_a_second_death_fails_the_job(
    world, settings, redis, workers, tmp_path
):
    prefix = f"gptest-{uuid.uuid4().hex[:10]}"
    env = _worker_env(settings, tmp_path / "var", REDIS_TEST_URL, prefix)
    deployment = _deployment(settings, env)
    queue = await ArqQueue.connect(deployment)
    try:
        members_before = await Member.count()
        for _ in range(3):
            _, log = workers.start(env)
            await _ready(log)
        job_id = await start_import(
            queue, SYSTEM, world.units["A"], "members.csv", _member_csv(ROWS), deployment
        )

        async def running_with_progress(attempts: int):
            row = await _job(job_id)
            if row["status"] == "running" and row["progress"] > 0 and row["attempts"] == attempts:
                return row
            return None

        await _until(lambda: running_with_progress(1), DEADLINE_SECONDS, "first run", workers)
        first = _runner(workers, queue.queue_name, job_id, 0)
        assert first is not None, workers.logs()
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        assert (await _job(job_id))["status"] == "running", "the import finished before the kill"
        assert await Member.count() == members_before

        # Put back by a live worker's sweep and started again, long before the job timeout.
        await _until(lambda: running_with_progress(2), PUT_BACK_WITHIN_SECONDS, "put back", workers)
        put_back_after = time.monotonic() - killed_at
        second = _runner(workers, queue.queue_name, job_id, 1)
        assert second is not None, workers.logs()
        second.send_signal(signal.SIGKILL)
        second.wait()

        async def finished():
            row = await _job(job_id)
            return row if row["status"] in ("succeeded", "failed") else None

        final = await _until(finished, PUT_BACK_WITHIN_SECONDS, "the second death", workers)
    finally:
        await queue.close()
        await _forget(redis, prefix)

    print(f"put back {put_back_after:.1f} s after the kill")
    assert final["status"] == "failed", final
    assert final["attempts"] == 2
    assert final["error"] == "任务两次中断，已停止"
    assert await Member.count() == members_before, "a killed import writes nothing"


async def test_a_job_lost_from_redis_is_handed_over_while_the_workers_run(
    world, settings, redis, workers, tmp_path
):
    prefix = f"gptest-{uuid.uuid4().hex[:10]}"
    env = _worker_env(settings, tmp_path / "var", REDIS_TEST_URL, prefix)
    deployment = _deployment(settings, env)
    queue = await ArqQueue.connect(deployment)
    try:
        _, log = workers.start(env)
        await _ready(log)
        paused = await ArqQueue.connect(deployment)
        # Queued for a moment into an arq queue no worker reads, then lost with all its keys.
        paused.queue_name = f"{prefix}:paused"
        job_id = await start_import(
            paused, SYSTEM, world.units["A"], "members.csv", _member_csv(3), deployment
        )
        await paused.close()
        lost = [key async for key in redis.scan_iter(match=f"*{prefix}:paused*")]
        assert lost
        await redis.delete(*lost)
        assert (await _job(job_id))["status"] == "queued"

        async def succeeded():
            row = await _job(job_id)
            return row if row["status"] == "succeeded" else None

        await _until(succeeded, PUT_BACK_WITHIN_SECONDS, "the lost job to run", workers)
    finally:
        await queue.close()
        await _forget(redis, prefix)


def _on_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


async def test_two_deployments_on_one_redis_database_keep_their_keys_apart(
    settings, workers, tmp_path
):
    # A database of the test Redis that only this test writes to, so every new key is ours.
    redis_url = _on_db(REDIS_TEST_URL, 13)
    redis = aioredis.from_url(redis_url)
    try:
        await redis.ping()
    except (OSError, ConnectionError) as exc:
        service_missing("Redis", str(exc))
    prefixes = [f"east-{uuid.uuid4().hex[:6]}", f"west-{uuid.uuid4().hex[:6]}"]
    before = {key async for key in redis.scan_iter()}
    queues: list[ArqQueue] = []
    try:
        logs = []
        for prefix in prefixes:
            env = _worker_env(settings, tmp_path / prefix, redis_url, prefix)
            deployment = _deployment(settings, env)
            # The same queue name (the default) and the same scheduled tasks on both.
            assert deployment.job_queue_name == "gridpoints:jobs"
            for cron_job in build_worker(
                deployment, periodic_work(deployment), open_runtime
            ).cron_jobs:
                assert cron_job.name.startswith(prefix + ":"), cron_job.name
            queue = await ArqQueue.connect(deployment)
            queues.append(queue)
            # Job 5 of one deployment is not job 5 of the other.
            await queue.submit(5)
            assert await redis.zscore(queue.queue_name, arq_job_id(queue.queue_name, 5, 0))
            _, log = workers.start(env)
            logs.append(log)
        for log in logs:
            await _ready(log)
        # Each worker ran job 5 (its result is kept) and a scheduled sweep of its own.
        for log, queue in zip(logs, queues, strict=True):
            await _until(
                lambda log=log, q=queue: _logged(log, f"→ {q.queue_name}:cron:sweep_jobs("),
                20,
                "a scheduled round",
                workers,
            )
            await _until(
                lambda log=log, q=queue: _logged(log, f"{arq_job_id(q.queue_name, 5, 0)}:run_job"),
                20,
                "job 5",
                workers,
            )
        keys = {key.decode() async for key in redis.scan_iter()} - {k.decode() for k in before}
        for process, _ in workers.started:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    finally:
        for queue in queues:
            await queue.close()
        for prefix in prefixes:
            await _forget(redis, prefix)
        await redis.aclose()

    def owner(key: str) -> str | None:
        # arq names its own keys `arq:<kind>:<job id>`; our job ids carry the prefix.
        name = key.split(":", 2)[2] if key.startswith("arq:") else key
        return next((p for p in prefixes if name.startswith(p + ":")), None)

    assert keys
    assert [key for key in keys if owner(key) is None] == []
    for prefix in prefixes:
        mine = {key for key in keys if owner(key) == prefix}
        assert any(key.endswith("health-check") for key in mine), mine
        assert any(key.startswith("arq:result:") for key in mine), mine
        assert any(":cron:sweep_jobs:" in key for key in mine), mine
