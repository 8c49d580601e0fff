"""Sign-in attempt limits: 429 with Retry-After past them, and no way to use them against
someone else.

Three limits count failed attempts: per phone from one address (the guesser is held), per
phone from anywhere (a spread-out attack is slowed; no single address can fill it), per
address (one address trying many phones). The tests fail on purpose and then check who is
held back and who is not, with the counters in process memory and in a real Redis.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
import redis.asyncio as aioredis
import time_machine

from gridpoints.app import create_app
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.clock import utcnow
from gridpoints.db import engine as db_engine
from tests.conftest import REDIS_TEST_URL, ApiClient, make_settings, service_missing, serving
from tests.world import PASSWORD

LOGIN = "/api/v1/auth/login"
STORAGES = ("memory", "redis")
# The tight limits of these tests: 3 failures per phone from one address per minute, 5 per
# phone per hour from anywhere, 8 per address per minute.
TIGHT = {
    "login_limit_per_phone_address": "3/minute",
    "login_limit_per_phone": "5/hour",
    "login_limit_per_address": "8/minute",
}


async def _redis_reachable() -> None:
    connection = aioredis.from_url(REDIS_TEST_URL)
    try:
        await connection.ping()
    except (ConnectionError, OSError) as exc:
        service_missing("Redis", str(exc))
    finally:
        await connection.aclose()


def _storage_overrides(storage: str) -> dict[str, str]:
    if storage == "memory":
        return {}
    # A prefix of its own, so parallel test runs on one Redis do not meet.
    return {"redis_url": REDIS_TEST_URL, "redis_prefix": f"gp-test-{uuid.uuid4().hex[:12]}"}


@pytest.fixture(params=STORAGES)
async def limited_client(request, settings, db):
    """The app with the tight limits, counting in memory or in Redis."""
    if request.param == "redis":
        await _redis_reachable()
    tight = make_settings(
        settings.var_dir, settings.database_url, **TIGHT, **_storage_overrides(request.param)
    )
    app = create_app(tight)
    async with serving(app) as api:
        try:
            yield api
        finally:
            await app.state.login_limiter.reset()
    db_engine.use_engine(db)


@pytest.fixture(params=STORAGES)
async def limiter_settings(request, tmp_path):
    """Settings for limiters called directly (no app, no database)."""
    if request.param == "redis":
        await _redis_reachable()
    return make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        **TIGHT,
        **_storage_overrides(request.param),
    )


def _from_address(client: ApiClient, address: str) -> httpx.AsyncClient:
    """A second client on the same app whose requests come from another address."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=client.app, client=(address, 40000)),
        base_url="http://testserver",
    )


async def _fail(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post(LOGIN, json={"phone": phone, "password": "wrong-password"})


async def _sign_in(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post(LOGIN, json={"phone": phone, "password": PASSWORD})


async def test_a_phone_guessed_from_one_address_gets_429_with_retry_after(limited_client, world):
    phone = world.phones["leader_a"]
    for _ in range(3):
        assert (await _fail(limited_client, phone)).status_code == 401
    # Even the right password waits there: the limit stops guessing, not just wrong answers.
    held = await _sign_in(limited_client, phone)
    assert held.status_code == 429
    assert held.headers["content-type"].startswith("application/problem+json")
    retry_after = int(held.headers["retry-after"])
    assert 0 < retry_after <= 60
    assert str(retry_after) in held.json()["detail"]


async def test_wrong_passwords_from_one_address_never_stop_the_owner_elsewhere(
    limited_client, world
):
    phone = world.phones["leader_a"]
    # The attacker keeps trying well past every per-phone count.
    for _ in range(12):
        assert (await _fail(limited_client, phone)).status_code in (401, 429)
    async with _from_address(limited_client, "10.0.0.9") as owner:
        assert (await _sign_in(owner, phone)).status_code == 200
    # Other members, even from the attacker's address, are not held either.
    assert (await _sign_in(limited_client, world.phones["leader_b"])).status_code == 200


async def test_one_address_coming_back_each_minute_still_cannot_lock_the_owner_out(
    limited_client, world
):
    phone = world.phones["leader_a"]
    start = utcnow()
    with time_machine.travel(start, tick=True) as traveller:
        for round_ in range(6):
            traveller.move_to(start + timedelta(seconds=61 * round_))
            for _ in range(3):
                await _fail(limited_client, phone)
        async with _from_address(limited_client, "10.0.0.9") as owner:
            assert (await _sign_in(owner, phone)).status_code == 200
        # The guesser itself stays held for the hour, not just for the minute.
        traveller.move_to(start + timedelta(minutes=8))
        assert (await _sign_in(limited_client, phone)).status_code == 429


async def test_a_spread_out_attack_on_one_phone_is_slowed_at_the_per_phone_limit(
    limited_client, world
):
    phone = world.phones["leader_a"]
    for n in range(5):
        async with _from_address(limited_client, f"10.1.0.{n + 1}") as guesser:
            assert (await _fail(guesser, phone)).status_code == 401
    async with _from_address(limited_client, "10.1.0.99") as fresh:
        held = await _sign_in(fresh, phone)
        assert held.status_code == 429
        assert 0 < int(held.headers["retry-after"]) <= 3600
        # Only that phone is held.
        assert (await _sign_in(fresh, world.phones["leader_b"])).status_code == 200


async def test_an_address_past_its_limit_is_held_but_other_addresses_are_not(limited_client, world):
    # Eight failures spread over phones that do not exist, so no single phone is held.
    for n in range(8):
        assert (await _fail(limited_client, f"1370000{n:04d}")).status_code == 401
    held = await _sign_in(limited_client, world.phones["leader_b"])
    assert held.status_code == 429
    assert "retry-after" in held.headers
    async with _from_address(limited_client, "10.0.0.7") as elsewhere:
        assert (await _sign_in(elsewhere, world.phones["leader_b"])).status_code == 200


async def test_successful_sign_ins_do_not_count_against_the_limit(limited_client, world):
    for _ in range(10):
        assert (await _sign_in(limited_client, world.phones["leader_a"])).status_code == 200


async def test_the_limiter_counts_the_three_limits(limiter_settings):
    limiter = LoginLimiter.from_settings(limiter_settings)
    phone = f"phone-{uuid.uuid4().hex}"
    try:
        for _ in range(3):
            assert await limiter.seconds_until_allowed(phone, "a") == 0
            await limiter.record_failure(phone, "a")
        assert 0 < await limiter.seconds_until_allowed(phone, "a") <= 60
        assert await limiter.seconds_until_allowed(phone, "b") == 0
        await limiter.record_failure(phone, "b")
        await limiter.record_failure(phone, "c")
        # 3 from a + 1 from b + 1 from c: the phone is held from everywhere for the hour.
        assert 60 < await limiter.seconds_until_allowed(phone, "d") <= 3600
        assert await limiter.seconds_until_allowed(f"phone-{uuid.uuid4().hex}", "d") == 0
    finally:
        await limiter.reset()


async def test_no_single_address_fills_the_per_phone_limit(limiter_settings):
    limiter = LoginLimiter.from_settings(limiter_settings)
    phone = f"phone-{uuid.uuid4().hex}"
    start = utcnow()
    try:
        with time_machine.travel(start, tick=True) as traveller:
            for round_ in range(10):
                traveller.move_to(start + timedelta(seconds=61 * round_))
                for _ in range(3):
                    await limiter.record_failure(phone, "attacker")
            assert await limiter.seconds_until_allowed(phone, "owner") == 0
            assert await limiter.seconds_until_allowed(phone, "attacker") > 60
    finally:
        await limiter.reset()


async def test_api_processes_sharing_redis_share_the_counts(tmp_path):
    """Two limiters of one deployment on one Redis act as one."""
    await _redis_reachable()
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'unused.sqlite3'}", **TIGHT, **_storage_overrides("redis")
    )
    first, second = LoginLimiter.from_settings(settings), LoginLimiter.from_settings(settings)
    phone, address = f"phone-{uuid.uuid4().hex}", f"addr-{uuid.uuid4().hex}"
    try:
        await first.record_failure(phone, address)
        await second.record_failure(phone, address)
        await first.record_failure(phone, address)
        assert await first.seconds_until_allowed(phone, address) > 0
        assert await second.seconds_until_allowed(phone, address) > 0
        assert await second.seconds_until_allowed(f"phone-{uuid.uuid4().hex}", address) == 0
    finally:
        await first.reset()


async def test_two_deployments_on_one_redis_do_not_see_each_others_failures(tmp_path):
    await _redis_reachable()
    url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    mine = make_settings(tmp_path, url, **TIGHT, **_storage_overrides("redis"))
    theirs = make_settings(tmp_path, url, **TIGHT, **_storage_overrides("redis"))
    first, second = LoginLimiter.from_settings(mine), LoginLimiter.from_settings(theirs)
    phone, address = "13900000002", "10.0.0.1"
    try:
        for _ in range(8):
            await first.record_failure(phone, address)
        assert await first.seconds_until_allowed(phone, address) > 0
        assert await second.seconds_until_allowed(phone, address) == 0
        # Every key the limiter made starts with its deployment's prefix.
        connection = aioredis.from_url(REDIS_TEST_URL)
        try:
            keys = [k.decode() async for k in connection.scan_iter(match=f"*{phone}*")]
        finally:
            await connection.aclose()
        assert keys
        assert all(k.startswith(mine.redis_prefix + ":") for k in keys), keys
    finally:
        await first.reset()
        await second.reset()
