"""On PostgreSQL the app opens its connection pool at start-up and closes it at shut-down."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from gridpoints.app import create_app
from gridpoints.db import engine as db_engine
from tests.conftest import serving

pytestmark = pytest.mark.parametrize("settings", ["postgres"], indirect=True)


async def test_the_app_runs_on_a_pool_opened_at_start_up(settings, db):
    app = create_app(settings)
    engine = db_engine.current_engine()
    assert engine.pool is None, "nothing is opened before start-up"
    async with serving(app) as api:
        assert engine.pool is not None
        assert engine.pool.get_max_size() == settings.db_pool_max_size
        assert (await api.get("/readyz")).status_code == 200
    assert engine.pool is None
    db_engine.use_engine(db)


async def test_shut_down_cuts_a_connection_a_task_never_gave_back(settings):
    # What a task cancelled inside a transaction's start leaves behind: a connection out of
    # the pool that nobody will release. Stopping must not wait for it for ever.
    engine = db_engine.make_engine(settings)
    await db_engine.start(engine, settings)
    held = await engine.pool.acquire()
    await asyncio.wait_for(db_engine.stop(engine, grace=0.5), timeout=10)
    assert engine.pool is None
    with pytest.raises(asyncpg.InterfaceError):
        await held.fetch("SELECT 1")
