"""Build the Piccolo engine a deployment asks for and bind every table to it.

One process talks to one database: `use_engine` points all tables (and Piccolo's own
migration table) at the engine, and `transactions` asks `current_engine()` for it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from gridpoints.settings import Settings

log = logging.getLogger(__name__)

_current: Engine | None = None
# Each engine with the settings it was made from (engines take no attributes of their own).
_made_from: dict[int, tuple[Engine, Settings]] = {}


def make_engine(settings: Settings) -> Engine:
    engine: Engine
    if settings.uses_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(path)
        # `timeout` is sqlite3's busy timeout: a writer waits for the lock instead of failing.
        engine = SQLiteEngine(path=str(path), timeout=settings.sqlite_busy_timeout_seconds)
    else:
        engine = PostgresEngine(config={"dsn": settings.database_url}, extensions=())
    _made_from[id(engine)] = (engine, settings)
    return engine


def _enable_wal(path: Path) -> None:
    """WAL lets readers work while one writer writes; it is a property of the file."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def use_engine(engine: Engine) -> Engine:
    """Bind every table of the platform to `engine` and remember it as current.

    The tables are those of the apps in Piccolo's configuration module (`PICCOLO_CONF`, set
    by the package to `gridpoints.piccolo_conf`), found the way Piccolo's own commands find
    them; its `DB` becomes `engine` too, for the tables Piccolo's migrations make."""
    global _current
    from piccolo.apps.migrations.tables import Migration

    finder = Finder()
    for table in [*finder.get_table_classes(), Migration]:
        table._meta.db = engine
    finder.get_piccolo_conf_module().DB = engine  # type: ignore[union-attr]
    _current = engine
    return engine


def current_engine() -> Engine:
    if _current is None:
        raise RuntimeError("no database engine in use; call use_engine() first")
    return _current


def settings_in_use() -> Settings:
    """The settings the current engine was made from: what code far from any request (the
    audit chain's key, say) needs of the deployment it writes for."""
    engine = current_engine()
    made = _made_from.get(id(engine))
    if made is None or made[0] is not engine:
        raise RuntimeError("the engine in use was not made by make_engine(settings)")
    return made[1]


def is_postgres(engine: Engine | None = None) -> bool:
    return (engine or current_engine()).engine_type == "postgres"


async def start(engine: Engine, settings: Settings) -> None:
    """Open the PostgreSQL pool (SQLite opens a connection per query)."""
    if isinstance(engine, PostgresEngine) and engine.pool is None:
        await engine.start_connection_pool(
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
            reset=_keep_session,
        )


async def _keep_session(connection: object) -> None:
    """What a connection needs before it goes back to the pool: nothing more than asyncpg
    does anyway (rolling back a transaction left open). The platform leaves no session state
    behind (no SET, LISTEN or session-level advisory lock), and the default reset query would
    cost a round trip on every release."""


async def stop(engine: Engine, grace: float = 10.0) -> None:
    """Close the PostgreSQL pool; connections still held after `grace` seconds are cut.

    A task cancelled at the wrong moment (inside a transaction's start, say) can leave its
    connection checked out for ever, and a plain close would then wait for ever."""
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        pool = engine.pool
        try:
            await asyncio.wait_for(asyncio.shield(pool.close()), grace)
        except TimeoutError:
            log.warning("database connections still in use after %.0f s: cut", grace)
            pool.terminate()
        engine.pool = None


def describe(settings: Settings) -> str:
    """The database for humans, without its password."""
    if settings.uses_sqlite:
        return f"SQLite {settings.sqlite_path}"
    parts = urlsplit(settings.database_url)
    return f"PostgreSQL {parts.hostname}:{parts.port or 5432}{parts.path}"
