"""The sweep against arq on the real Redis (no worker): a queued job lost from Redis is handed
over again, exactly once; a job genuinely queued is not handed over twice; a job whose
worker died is put back under a new arq id (the dead run's id is still held by arq)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix, job_key_prefix

from gridpoints.clock import utcnow
from gridpoints.jobs.dispatch import ArqQueue, resubmit_stale, start_job
from gridpoints.jobs.registry import HANDLERS
from gridpoints.jobs.tables import Job
from tests.conftest import REDIS_TEST_URL, make_settings, service_missing
from tests.jobs import handlers
from tests.world import SYSTEM

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
async def redis() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_TEST_URL)
    try:
        await client.ping()
    except (OSError, ConnectionError) as exc:
        service_missing("Redis", str(exc))
    yield client
    await client.aclose()


@pytest.fixture
async def arq_queue(settings, redis, monkeypatch) -> AsyncIterator[ArqQueue]:
    monkeypatch.setitem(HANDLERS, handlers.KIND, handlers.gated)
    prefix = f"gptest-{uuid.uuid4().hex[:10]}"
    deployment = make_settings(
        settings.var_dir,
        settings.database_url,
        redis_url=REDIS_TEST_URL,
        redis_prefix=prefix,
        job_heartbeat_seconds=1,
        job_stale_seconds=3,
    )
    queue = await ArqQueue.connect(deployment)
    yield queue
    await queue.close()
    leftovers = [key async for key in redis.scan_iter(match=f"*{prefix}*")]
    if leftovers:
        await redis.delete(*leftovers)


async def _queued_ids(redis, queue: ArqQueue) -> list[str]:
    return [m.decode() for m in await redis.zrange(queue.queue_name, 0, -1)]


async def test_a_queued_job_lost_from_redis_is_handed_over_again_once(redis, arq_queue):
    prefix = arq_queue.settings.redis_prefix
    job_id = await start_job(arq_queue, SYSTEM, handlers.KIND, {}, org_unit_id=None)
    [arq_id] = await _queued_ids(redis, arq_queue)
    assert arq_queue.queue_name.startswith(prefix + ":")
    assert arq_id.startswith(prefix + ":") and arq_id.endswith(f":{job_id}:0")
    enqueued = await redis.get(job_key_prefix + arq_id)

    # Genuinely queued: the sweep leaves it as it is (not a second copy, not re-enqueued).
    await resubmit_stale(arq_queue)
    assert await _queued_ids(redis, arq_queue) == [arq_id]
    assert await redis.get(job_key_prefix + arq_id) == enqueued

    # Redis loses it (a flush, a failover): the next sweep hands it over again, once.
    await redis.zrem(arq_queue.queue_name, arq_id)
    await redis.delete(job_key_prefix + arq_id)
    await resubmit_stale(arq_queue)
    await resubmit_stale(arq_queue)
    assert await _queued_ids(redis, arq_queue) == [arq_id]
    assert (await Job.select(Job.status).where(Job.id == job_id).first())["status"] == "queued"


async def test_a_job_whose_worker_died_is_put_back_under_a_new_arq_id(redis, arq_queue):
    job_id = await start_job(arq_queue, SYSTEM, handlers.KIND, {}, org_unit_id=None)
    [first_id] = await _queued_ids(redis, arq_queue)
    # A worker took it (arq's in-progress key), counted the start, and died 10 s ago.
    await redis.set(in_progress_key_prefix + first_id, b"1", ex=600)
    then = utcnow() - timedelta(seconds=10)
    await Job.update(
        {Job.status: "running", Job.attempts: 1, Job.started_at: then, Job.updated_at: then}
    ).where(Job.id == job_id)

    await resubmit_stale(arq_queue)

    row = await Job.select(Job.status, Job.attempts).where(Job.id == job_id).first()
    assert (row["status"], row["attempts"]) == ("queued", 1)
    queued = await _queued_ids(redis, arq_queue)
    assert len(queued) == 2 and first_id in queued
    [second_id] = [arq_id for arq_id in queued if arq_id != first_id]
    assert second_id.endswith(f":{job_id}:1")
    await resubmit_stale(arq_queue)
    assert sorted(await _queued_ids(redis, arq_queue)) == sorted(queued)


async def test_a_job_whose_worker_died_twice_is_failed_by_the_sweep(redis, arq_queue):
    job_id = await start_job(arq_queue, SYSTEM, handlers.KIND, {}, org_unit_id=None)
    then = utcnow() - timedelta(seconds=10)
    await Job.update(
        {Job.status: "running", Job.attempts: 2, Job.started_at: then, Job.updated_at: then}
    ).where(Job.id == job_id)

    await resubmit_stale(arq_queue)

    row = await Job.select().where(Job.id == job_id).first()
    assert (row["status"], row["attempts"], row["error"]) == ("failed", 2, "任务两次中断，已停止")
