"""Fixtures shared by every test.

`settings` is parametrised over the two engines: each test that takes it (or `db`, `client`,
`world`) runs once on SQLite and once on PostgreSQL. PostgreSQL and Redis are the real
services; outside CI a test whose service is down is skipped, in CI (`CI=true`) it fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from litestar import Litestar

from gridpoints.app import create_app
from gridpoints.auth.sessions import AccountKind, open_session
from gridpoints.db import engine as db_engine
from gridpoints.db.migrate import migrate
from gridpoints.piccolo_app import APP_CONFIG
from gridpoints.settings import Settings, load_settings
from gridpoints.wiring import wire
from tests.world import World, build_world

T = TypeVar("T")
IN_CI = os.environ.get("CI") == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "GRIDPOINTS_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
)
REDIS_TEST_URL = os.environ.get("GRIDPOINTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ENGINES = ("sqlite", "postgres")

# Generous sign-in limits for tests that sign in often; the rate-limit tests set their own.
TEST_OVERRIDES: dict[str, Any] = {
    "login_limit_per_phone_address": "1000/minute",
    "login_limit_per_phone": "1000/minute",
    "login_limit_per_address": "1000/minute",
}


def service_missing(service: str, reason: str) -> None:
    message = f"{service} is not reachable: {reason}"
    if IN_CI:
        pytest.fail(message + " (in CI every service test must run)")
    pytest.skip(message)


# PostgreSQL deployments must be given their keys (the embedded default makes its own).
POSTGRES_KEYS = {
    "secret_key": "test-secret-key-" + "s" * 32,
    "audit_key": "test-audit-key-" + "a" * 32,
}


def make_settings(var_dir: Path, database_url: str, **overrides: Any) -> Settings:
    if database_url.startswith("postgres"):
        overrides = {**POSTGRES_KEYS, **overrides}
    return load_settings(
        environ={}, var_dir=var_dir, database_url=database_url, **{**TEST_OVERRIDES, **overrides}
    )


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on its own loop in another thread.

    Session set-up runs outside the tests' event loop; a thread keeps the two apart.
    """
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session", autouse=True)
def wired() -> None:
    """The job kinds and loaders the application registers at start, for tests that run jobs
    without an app."""
    wire()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (faster than migrating each time)."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite3"
    settings = make_settings(folder, f"sqlite:///{path}")
    run_apart(migrate(db_engine.make_engine(settings)))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


async def _admin_execute(*statements: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"gridpoints_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        run_apart(_admin_execute(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing("PostgreSQL", str(exc))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        var_dir = tmp_path_factory.mktemp("postgres-var")
        run_apart(migrate(db_engine.make_engine(make_settings(var_dir, url))))
        yield url
    finally:
        run_apart(
            _admin_execute(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
                f'DROP DATABASE IF EXISTS "{name}"',
            )
        )


TRUNCATE_SQL = "TRUNCATE {} RESTART IDENTITY CASCADE".format(
    ", ".join(table._meta.tablename for table in APP_CONFIG.table_classes)
)


@pytest.fixture(params=ENGINES)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for an empty, migrated database on the parametrised engine."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = var_dir / "gridpoints.sqlite3"
        shutil.copyfile(template, path)
        return make_settings(var_dir, f"sqlite:///{path}")
    url: str = request.getfixturevalue("postgres_url")
    run_apart(_execute(url, TRUNCATE_SQL))
    return make_settings(var_dir, url)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Any]:
    """The engine bound to every table, for tests that call services directly."""
    engine = db_engine.use_engine(db_engine.make_engine(settings))
    await db_engine.start(engine, settings)
    try:
        yield engine
    finally:
        await db_engine.stop(engine)


class ApiClient(httpx.AsyncClient):
    """An httpx client bound to one app, which runs in the test's own event loop.

    Litestar's AsyncTestClient runs the lifespan on a loop in another thread, which strands
    the app's PostgreSQL pool there; driving `app.lifespan()` here keeps one loop throughout.
    """

    def __init__(self, app: Litestar) -> None:
        super().__init__(
            transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 50000)),
            base_url="http://testserver",
        )
        self.app = app
        self._signed_in: dict[int, str] = {}

    async def token_for(self, member_id: int) -> str:
        """This client's token for a member: one sign-in session per member, opened the
        way sign-in opens it, then reused (so signing out ends it for later requests)."""
        if member_id not in self._signed_in:
            session_id = await open_session(AccountKind.MEMBER, member_id)
            self._signed_in[member_id] = self.app.state.tokens.issue(member_id, session_id)
        return self._signed_in[member_id]

    def forget_sign_ins(self) -> None:
        """Sign in afresh at the next request (after a change that ended sessions)."""
        self._signed_in.clear()

    async def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        # `bearer()` names the member; the session behind the token is opened here, where
        # the database can be reached.
        header = request.headers.get("Authorization", "")
        if header.startswith(_SIGNED_IN_AS):
            member_id = int(header.removeprefix(_SIGNED_IN_AS))
            request.headers["Authorization"] = f"Bearer {await self.token_for(member_id)}"
        return await super().send(request, **kwargs)


@asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[ApiClient]:
    """Run the app's lifespan (engine, pool, job queue) around a client bound to it.

    The lifespan is entered and left inside one task of its own: its cancel scope must not
    change tasks, and pytest-asyncio may finish a fixture in another task than it began.
    """
    started, stopping = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        async with app.lifespan():
            started.set()
            await stopping.wait()

    lifespan = asyncio.create_task(run_lifespan())
    waiting = asyncio.create_task(started.wait())
    await asyncio.wait([lifespan, waiting], return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if lifespan.done():
        lifespan.result()  # start-up failed: raise its error here
    try:
        async with ApiClient(app) as api:
            yield api
    finally:
        stopping.set()
        await lifespan


@pytest.fixture
async def client(settings: Settings, db: Any) -> AsyncIterator[ApiClient]:
    async with serving(create_app(settings)) as api:
        yield api
    # The app closed its own engine; keep the tables bound to the test's open engine.
    db_engine.use_engine(db)


@pytest.fixture
async def world(db: Any, settings: Settings) -> World:
    """A small grid tree with two sibling grids, their leaders and members (see tests/world.py)."""
    return await build_world(settings)


_SIGNED_IN_AS = "Bearer signed-in-as:"


def bearer(client: ApiClient, member_id: int) -> dict[str, str]:
    """Authorization header for a member, signed in the way sign-in does it (the session
    and token are made by `ApiClient` when the request is sent)."""
    return {"Authorization": f"{_SIGNED_IN_AS}{member_id}"}
