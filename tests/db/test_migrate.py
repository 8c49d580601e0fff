"""`migrate` brings an empty or an older database up to date on both engines; twice is once."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from piccolo.apps.migrations.commands.forwards import run_forwards

from gridpoints.db import engine as db_engine
from gridpoints.db.migrate import migrate
from tests.conftest import POSTGRES_ADMIN_URL, make_settings, service_missing

MIGRATIONS = sorted(
    p.stem for p in (Path(__file__).resolve().parents[2] / "migrations").glob("gridpoints_*.py")
)


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_engine(request, tmp_path) -> AsyncIterator:
    """An engine on a brand-new, empty database of either kind."""
    if request.param == "sqlite":
        settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield db_engine.use_engine(db_engine.make_engine(settings))
        return
    name = f"gridpoints_migrate_{uuid.uuid4().hex[:8]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing("PostgreSQL", str(exc))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = db_engine.use_engine(db_engine.make_engine(make_settings(tmp_path, url)))
    try:
        yield engine
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _schema(engine) -> dict[str, list]:
    """Tables, columns and indexes, as the database itself reports them."""
    if db_engine.is_postgres(engine):
        columns = await engine.run_ddl(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY 1, 2"
        )
        indexes = await engine.run_ddl(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            " ORDER BY 1, 2"
        )
    else:
        columns = await engine.run_ddl(
            'SELECT m.name AS t, p.name AS c, p.type, p."notnull" FROM sqlite_master m'
            " JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1, 2"
        )
        indexes = await engine.run_ddl(
            "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' ORDER BY 1, 2"
        )
    applied = await engine.run_ddl("SELECT name FROM migration ORDER BY name")
    return {
        "columns": [tuple(r.values()) for r in columns],
        "indexes": [tuple(r.values()) for r in indexes],
        "applied": [r["name"] for r in applied],
    }


async def test_migrate_twice_changes_nothing_the_second_time(empty_engine):
    await migrate(empty_engine)
    first = await _schema(empty_engine)
    assert len(first["applied"]) == len(MIGRATIONS)
    assert any(row[0] == "audit_log" for row in first["columns"])
    await migrate(empty_engine)
    assert await _schema(empty_engine) == first


async def test_an_older_database_is_brought_up_to_date(empty_engine, tmp_path):
    assert len(MIGRATIONS) >= 2
    assert os.environ["PICCOLO_CONF"] == "gridpoints.piccolo_conf"
    oldest_id = _migration_id(MIGRATIONS[0])
    result = await run_forwards(app_name="gridpoints", migration_id=oldest_id)
    assert result.success, result.message
    older = await _schema(empty_engine)
    assert len(older["applied"]) == 1

    await migrate(empty_engine)
    upgraded = await _schema(empty_engine)
    assert len(upgraded["applied"]) == len(MIGRATIONS)
    assert upgraded != older
    # The same schema as a database migrated from empty in one go.
    fresh_settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    if not db_engine.is_postgres(empty_engine):
        fresh = db_engine.use_engine(db_engine.make_engine(fresh_settings))
        await migrate(fresh)
        assert {k: v for k, v in (await _schema(fresh)).items() if k != "applied"} == {
            k: v for k, v in upgraded.items() if k != "applied"
        }


def _migration_id(stem: str) -> str:
    """`gridpoints_2026_11_22t19_17_15_693680` -> `2026-11-22T19:17:15:693680`."""
    stamp = stem.removeprefix("gridpoints_").upper()
    date, time = stamp.split("T")
    return date.replace("_", "-") + "T" + time.replace("_", ":")


@pytest.mark.parametrize("stem", MIGRATIONS)
def test_every_migration_says_what_it_does(stem):
    """Piccolo's generator writes the `--desc` it was given, or the text "True" without one."""
    path = Path(__file__).parents[2] / "migrations" / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.DESCRIPTION.strip()
    assert description not in {"", "True", "False", "None"}
    assert len(description) >= 10
