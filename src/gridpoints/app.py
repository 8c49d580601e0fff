"""`create_app(settings) -> Litestar`: the whole HTTP application. Nothing happens at import."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State

from gridpoints.activities.controllers import ActivityController
from gridpoints.audit_log.controllers import AuditController
from gridpoints.auth import dependencies as auth_dependencies
from gridpoints.auth.controllers import AuthController
from gridpoints.auth.guards import partner_contacts_only_where_opened
from gridpoints.auth.ratelimit import AddressLimiter, LoginLimiter
from gridpoints.auth.tokens import TokenIssuer, build_jwt_auth
from gridpoints.checkins.controllers import CheckInController
from gridpoints.db import engine as db_engine
from gridpoints.duty.controllers import DutyController
from gridpoints.jobs import dependencies as job_dependencies
from gridpoints.jobs.controllers import JobController
from gridpoints.jobs.dispatch import InProcessQueue, JobQueue, open_queue, resubmit_stale
from gridpoints.jobs.periodic import Periodic
from gridpoints.members.account_controllers import MemberAccountController
from gridpoints.members.controllers import MemberController
from gridpoints.members.tree_controllers import OrgTreeController
from gridpoints.org.controllers import OrgUnitController
from gridpoints.partners.controllers import PartnerAccountController, PartnerUnitController
from gridpoints.points import dependencies as points_dependencies
from gridpoints.points.controllers import (
    LeaderboardController,
    MemberPointsController,
    RuleSetController,
)
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.rules import RuleSet
from gridpoints.service_records.controllers import ServiceRecordController
from gridpoints.settings import Settings, load_settings
from gridpoints.web.dependencies import DEPENDENCIES
from gridpoints.web.health import HealthController
from gridpoints.web.input_guard import InputGuard
from gridpoints.web.openapi import openapi_config
from gridpoints.web.problems import EXCEPTION_HANDLERS
from gridpoints.web.security_headers import add_security_headers
from gridpoints.web.static import static_pages
from gridpoints.wiring import PRINCIPAL_LOADERS, Runtime, periodic_work, wire
from gridpoints.wishes.controllers import WishController

# Multipart framing on top of the largest upload we accept.
_UPLOAD_OVERHEAD_BYTES = 64 * 1024
# Pages, scripts and API answers go out compressed (brotli, or gzip for browsers without it):
# the scripts shrink to a third. Below the minimum the headers would outweigh the saving;
# the levels are the fast ones, as the check-in answers are compressed on the busiest route.
COMPRESSION = CompressionConfig(
    backend="brotli",
    brotli_gzip_fallback=True,
    brotli_quality=4,
    gzip_compress_level=6,
    minimum_size=512,
)
# Every route of the API lives under this path (the health checks and pages do not).
API_PATH = "/api/v1"


class AppState(State):
    """The application's state, set up once in `create_app`: typed here, read by the
    dependency providers (`web`, `auth`, `jobs`, `points` `.dependencies`) and by nothing else."""

    settings: Settings
    rulesets: list[RuleSet]
    login_limiter: LoginLimiter
    receipt_limiter: AddressLimiter
    tokens: TokenIssuer
    # Opened by the lifespan: arq's queue, or the embedded server's own.
    job_queue: JobQueue


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    wire()
    # A broken rule set stops the start, naming every problem (RuleSetsInvalid).
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    engine = db_engine.use_engine(db_engine.make_engine(settings))
    jwt_auth = build_jwt_auth(settings, PRINCIPAL_LOADERS)
    tokens = TokenIssuer(jwt_auth, settings)

    @asynccontextmanager
    async def resources(app: Litestar) -> AsyncIterator[None]:
        db_engine.use_engine(engine)
        await db_engine.start(engine, settings)
        loops: list[Periodic] = []
        queue = await open_queue(settings)
        app.state.job_queue = queue
        try:
            if isinstance(queue, InProcessQueue):
                # Jobs left unfinished by a previous run of the embedded server.
                await resubmit_stale(queue)
                # Without workers, the server does the periodic work itself.
                runtime = Runtime(settings, rulesets, queue)
                loops = [entry.loop(runtime) for entry in periodic_work(settings)]
                for loop in loops:
                    loop.start()
            yield
        finally:
            await asyncio.gather(*(loop.stop() for loop in loops))
            await queue.close()
            await db_engine.stop(engine)

    return Litestar(
        route_handlers=[
            HealthController,
            Router(
                path=API_PATH,
                route_handlers=[
                    AuthController,
                    MemberAccountController,
                    OrgUnitController,
                    OrgTreeController,
                    MemberController,
                    PartnerUnitController,
                    PartnerAccountController,
                    ActivityController,
                    CheckInController,
                    ServiceRecordController,
                    WishController,
                    DutyController,
                    RuleSetController,
                    MemberPointsController,
                    LeaderboardController,
                    JobController,
                    AuditController,
                ],
            ),
            *static_pages(),
        ],
        state=AppState(
            {
                "settings": settings,
                "rulesets": rulesets,
                "login_limiter": LoginLimiter.from_settings(settings),
                "receipt_limiter": AddressLimiter.from_settings(
                    settings, "receipt", settings.checkin_receipt_limit_per_address
                ),
                "tokens": tokens,
            }
        ),
        # What handlers may ask for by name; only these providers read the state.
        dependencies={
            **DEPENDENCIES,
            **auth_dependencies.DEPENDENCIES,
            **job_dependencies.DEPENDENCIES,
            **points_dependencies.DEPENDENCIES,
        },
        before_send=[add_security_headers],
        compression_config=COMPRESSION,
        lifespan=[resources],
        on_app_init=[jwt_auth.on_app_init],
        middleware=[InputGuard()],
        guards=[partner_contacts_only_where_opened],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        openapi_config=openapi_config(),
        request_max_body_size=settings.upload_max_bytes + _UPLOAD_OVERHEAD_BYTES,
    )


def create_app_from_environment() -> Litestar:
    """The factory `gridpoints serve` hands to uvicorn (one call per worker process)."""
    app = create_app(load_settings())
    # What start-up made (modules, routes, schemas) lives as long as the process: keep it out
    # of the collector's full passes, which otherwise walk it all and stall every request in
    # flight (measured: check-in p99 80 ms with the passes, 20 ms without).
    gc.collect()
    gc.freeze()
    return app
