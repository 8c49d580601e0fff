"""The bare reference for the check-in benchmark: one Litestar handler, one asyncpg
`INSERT ... ON CONFLICT DO NOTHING`, no sign-in and no checks. What the platform's check-in
is measured against, on the same machine, database and server settings."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
import msgspec
from litestar import Litestar, post
from litestar.datastructures import State


class RefCheckIn(msgspec.Struct):
    client_id: UUID
    activity_id: int
    token: str
    lat: float | None = None
    lng: float | None = None
    accuracy_m: float | None = None


@post("/ref/checkins", status_code=201)
async def check_in(data: RefCheckIn, state: State) -> dict[str, bool]:
    async with state.pool.acquire() as connection:
        await connection.execute(
            "INSERT INTO bench_reference (client_id, activity, at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            data.client_id,
            data.activity_id,
            datetime.now(UTC),
        )
    return {"ok": True}


@asynccontextmanager
async def pool(app: Litestar) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=1, max_size=10)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Litestar([check_in], lifespan=[pool], openapi_config=None)
