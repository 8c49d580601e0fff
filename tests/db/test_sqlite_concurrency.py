"""The embedded SQLite file takes concurrent writers: they wait their turn, none fails with
"database is locked" (WAL, a busy timeout, and write transactions that lock at BEGIN)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from gridpoints.members.tables import Member
from tests.conftest import bearer

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)

WRITERS = 20


async def test_the_engine_opens_the_file_in_wal_mode_with_a_busy_timeout(db, settings):
    with sqlite3.connect(settings.sqlite_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert settings.sqlite_busy_timeout_seconds > 0
    assert db.connection_kwargs["timeout"] == settings.sqlite_busy_timeout_seconds


async def test_twenty_concurrent_writing_clients_all_succeed(client, world):
    headers = bearer(client, world.admin)

    async def writer(n: int) -> list[int]:
        # Each request reads (access, phone taken?) and then writes, in one transaction.
        created = await client.post(
            "/api/v1/members",
            json={
                "name": f"并发写{n}",
                "phone": f"1355555{n:04d}",
                "category": "resident",
                "org_unit_id": world.units["A1"],
            },
            headers=headers,
        )
        patched = await client.patch(
            f"/api/v1/members/{created.json().get('id', 0)}",
            json={"name": f"并发改{n}"},
            headers=headers,
        )
        return [created.status_code, patched.status_code]

    statuses = await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    assert statuses == [[201, 200]] * WRITERS
    names = {r["name"] for r in await Member.select(Member.name).where(Member.name.like("并发改%"))}
    assert len(names) == WRITERS


WRITER_PROCESS = textwrap.dedent(
    """
    import asyncio, sys
    from gridpoints.db import engine as db_engine
    from gridpoints.members import services
    from gridpoints.members.schemas import MemberCreate
    from gridpoints.members.vocab import Category
    from gridpoints.auth.principal import Principal
    from gridpoints.settings import load_settings

    async def main(process, unit_id):
        settings = load_settings(environ={}, var_dir=sys.argv[3], database_url=sys.argv[4])
        db_engine.use_engine(db_engine.make_engine(settings))
        actor = Principal.system("process")

        async def one(n):
            await services.create_member(actor, MemberCreate(
                name=f"进程{process}-{n}", phone=f"1344{process:03d}{n:04d}",
                category=Category.RESIDENT, org_unit_id=unit_id), settings)

        await asyncio.gather(*(one(n) for n in range(5)))

    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
    """
)


async def test_writers_in_separate_processes_all_succeed(world, settings):
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER_PROCESS,
            str(process),
            str(world.units["B1"]),
            str(settings.var_dir),
            settings.database_url,
            stderr=subprocess.PIPE,
        )
        for process in range(4)
    ]
    results = await asyncio.gather(*(p.communicate() for p in processes))
    for process, (_, stderr) in zip(processes, results, strict=True):
        assert process.returncode == 0, stderr.decode()[-2000:]
        assert b"database is locked" not in stderr
    assert await Member.count().where(Member.name.like("进程%")) == 20
