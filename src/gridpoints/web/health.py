"""`/healthz`: the process is up. `/readyz`: the database (and Redis, where configured) answer."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec
from redis.asyncio import Redis

from gridpoints.db import sql
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.route_options import EXCLUDE_FROM_AUTH


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)


class HealthController(Controller):
    tags = ["health"]
    opt = {EXCLUDE_FROM_AUTH: True}
    security = [{}]

    @get("/healthz", operation_id="healthz", summary="The process is up")
    async def healthz(self) -> Health:
        return Health(status="ok")

    @get(
        "/readyz",
        operation_id="readyz",
        summary="The database and Redis are reachable",
        responses={
            503: ResponseSpec(data_container=Health, description="A dependency is not reachable")
        },
    )
    async def readyz(self, settings: AppSettings) -> Response[Health]:
        checks: dict[str, str] = {}
        try:
            await sql.fetch_one("SELECT 1")
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready
            checks["database"] = f"error: {type(exc).__name__}"
        redis_url = settings.redis_url
        if redis_url:
            client = Redis.from_url(redis_url, socket_timeout=2)
            try:
                await client.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"error: {type(exc).__name__}"
            finally:
                await client.aclose()
        ready = all(v == "ok" for v in checks.values())
        return Response(
            Health(status="ok" if ready else "unavailable", checks=checks),
            status_code=200 if ready else 503,
        )
