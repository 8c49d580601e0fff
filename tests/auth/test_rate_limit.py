"""Sign-in attempt limits: per phone and per client address, 429 with Retry-After past them.

The limits count failed attempts only, so the tests fail on purpose and then check who is
held back and who is not.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from limits import parse
from limits.aio.storage import RedisStorage

from gridpoints.app import create_app
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.db import engine as db_engine
from tests.conftest import REDIS_TEST_URL, ApiClient, make_settings, service_missing, serving
from tests.world import PASSWORD

LOGIN = "/api/v1/auth/login"


def _from_address(client: ApiClient, address: str) -> httpx.AsyncClient:
    """A second client on the same app whose requests come from another address."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=client.app, client=(address, 40000)),
        base_url="http://testserver",
    )


@pytest.fixture
async def limited_client(settings, db):
    """The app with tight limits: 3 failures per phone, 6 per address, per minute."""
    tight = make_settings(
        settings.var_dir,
        settings.database_url,
        login_limit_per_phone="3/minute",
        login_limit_per_address="6/minute",
    )
    async with serving(create_app(tight)) as api:
        yield api
    db_engine.use_engine(db)


async def _fail(client: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await client.post(LOGIN, json={"phone": phone, "password": "wrong-password"})


async def test_a_phone_past_its_limit_gets_429_with_retry_after(limited_client, world):
    phone = world.phones["leader_a"]
    for _ in range(3):
        assert (await _fail(limited_client, phone)).status_code == 401
    # Even the right password waits: the limit stops guessing, not just wrong answers.
    held = await limited_client.post(LOGIN, json={"phone": phone, "password": PASSWORD})
    assert held.status_code == 429
    assert held.headers["content-type"].startswith("application/problem+json")
    retry_after = int(held.headers["retry-after"])
    assert 0 < retry_after <= 60
    assert str(retry_after) in held.json()["detail"]


async def test_other_users_are_not_slowed_by_one_phone_being_held(limited_client, world):
    for _ in range(3):
        await _fail(limited_client, world.phones["leader_a"])
    other = await limited_client.post(
        LOGIN, json={"phone": world.phones["leader_b"], "password": PASSWORD}
    )
    assert other.status_code == 200
    async with _from_address(limited_client, "10.0.0.9") as elsewhere:
        # The held phone stays held from another address: the phone key is what counts.
        moved = await elsewhere.post(
            LOGIN, json={"phone": world.phones["leader_a"], "password": PASSWORD}
        )
    assert moved.status_code == 429


async def test_an_address_past_its_limit_is_held_but_other_addresses_are_not(limited_client, world):
    # Six failures spread over phones that do not exist, so no single phone is held.
    for n in range(6):
        assert (await _fail(limited_client, f"1370000{n:04d}")).status_code == 401
    held = await limited_client.post(
        LOGIN, json={"phone": world.phones["leader_b"], "password": PASSWORD}
    )
    assert held.status_code == 429
    assert "retry-after" in held.headers
    async with _from_address(limited_client, "10.0.0.7") as elsewhere:
        fine = await elsewhere.post(
            LOGIN, json={"phone": world.phones["leader_b"], "password": PASSWORD}
        )
    assert fine.status_code == 200


async def test_successful_sign_ins_do_not_count_against_the_limit(limited_client, world):
    for _ in range(8):
        response = await limited_client.post(
            LOGIN, json={"phone": world.phones["leader_a"], "password": PASSWORD}
        )
        assert response.status_code == 200


async def test_api_processes_sharing_redis_share_the_counts():
    """Two limiters on one Redis act as one: a phone held by one process is held by all."""
    storage_url = "async+" + REDIS_TEST_URL
    first = LoginLimiter(
        RedisStorage(storage_url, implementation="redispy", key_prefix="gp-login-test"),
        parse("2/minute"),
        parse("100/minute"),
    )
    second = LoginLimiter(
        RedisStorage(storage_url, implementation="redispy", key_prefix="gp-login-test"),
        parse("2/minute"),
        parse("100/minute"),
    )
    phone, address = f"phone-{uuid.uuid4().hex}", f"addr-{uuid.uuid4().hex}"
    try:
        assert await first.seconds_until_allowed(phone, address) == 0
    except (ConnectionError, OSError) as exc:
        service_missing("Redis", str(exc))
    await first.record_failure(phone, address)
    await second.record_failure(phone, address)
    assert await first.seconds_until_allowed(phone, address) > 0
    assert await second.seconds_until_allowed(phone, address) > 0
    assert await second.seconds_until_allowed(f"phone-{uuid.uuid4().hex}", address) == 0
