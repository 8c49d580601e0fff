"""Scoring benchmark on PostgreSQL: 100,000 members and 5,000,000 verified events over a year.

    python bench/scoring.py [--members 100000] [--events 5000000]

It makes a database of its own (GRIDPOINTS_BENCH_POSTGRES_URL, default
postgres://postgres@127.0.0.1:5432/test) and drops it after, and prints:

(a) scoring one quarter's events from scratch into the ledger, by `gridpoints points score`
    (the worker's code path, in its own process): events per second, the process's peak
    memory, and the statements it sent;
(b) every member's quarterly total and rank in their grid (`points.standings`, streamed),
    against a plain `SELECT member, sum(amount) ... GROUP BY member` over the same ledger.

Targets: (a) at least 100,000 events per second, peak memory under 500 MB, statements that
do not grow with the number of members; (b) within twice the plain GROUP BY.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from gridpoints.auth.principal import Principal
from gridpoints.db import engine as db_engine
from gridpoints.db.migrate import migrate
from gridpoints.org.services import UnitSpec, create_root_unit, create_units_bulk
from gridpoints.periods import Quarter
from gridpoints.points.standings import quarter_standings
from gridpoints.settings import DEFAULT_ACTIVITY_CATEGORIES, Settings, load_settings

ADMIN_URL = os.environ.get(
    "GRIDPOINTS_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
)
YEAR = 2025
QUARTER = Quarter(YEAR, 2)
GRIDS = 100
CATEGORIES = DEFAULT_ACTIVITY_CATEGORIES


async def admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def build(settings, url: str, members: int, events: int) -> int:
    """The tree (a community of GRIDS grids), the members and a year of verified events;
    every event outside QUARTER marked scored, so the quarter is what is left to score.
    Returns how many events fall in the quarter."""
    engine = db_engine.use_engine(db_engine.make_engine(settings))
    await migrate(engine)
    await db_engine.start(engine, settings)
    try:
        system = Principal.system("bench")
        top = await create_root_unit(system, "压测街道", "bench-top", "街道")
        community = (
            await create_units_bulk(system, [UnitSpec(top, "压测社区", "bench-c", "社区")])
        )["bench-c"]
        await create_units_bulk(
            system,
            [UnitSpec(community, f"网格{n}", f"bench-g{n}", "片区") for n in range(GRIDS)],
        )
    finally:
        await db_engine.stop(engine)
    connection = await asyncpg.connect(url)
    try:
        grids = await connection.fetchval(
            "SELECT array_agg(id ORDER BY id) FROM org_unit WHERE code LIKE 'bench-g%'"
        )
        await connection.execute(
            """
            INSERT INTO member (name, phone, category, org_unit, status, created_at, updated_at)
            SELECT '队员' || k, '1' || lpad(k::text, 10, '0'),
                   CASE WHEN k % 3 = 0 THEN 'in_service' ELSE 'resident' END,
                   ($1::int[])[1 + k % $2], 'active', now(), now()
            FROM generate_series(1, $3) k ORDER BY k
            """,
            grids,
            GRIDS,
            members,
        )
        first = await connection.fetchval("SELECT min(id) FROM member")
        # Event g goes to member k = 1 + (g * 7919) % members, at a spread-out second.
        await connection.execute(
            """
            INSERT INTO verified_event (kind, action, source_id, member, org_unit, category,
                                        occurred_at, minutes, recorded_at, detail)
            SELECT (ARRAY['checkin', 'checkin', 'checkin', 'service', 'wish'])[1 + g % 5],
                   'verified', g, $1 + k - 1, ($2::int[])[1 + k % $3],
                   ($4::text[])[1 + (g * 7) % 8],
                   $5::timestamptz + ((g::bigint * 104729) % 31536000) * interval '1 second',
                   30 + g % 211, now(), '{}'
            FROM (SELECT g, 1 + (g::bigint * 7919) % $6 AS k
                  FROM generate_series(1, $7) g) numbered
            """,
            first,
            grids,
            GRIDS,
            list(CATEGORIES),
            datetime(YEAR, 1, 1, tzinfo=UTC),
            members,
            events,
        )
        start, end = QUARTER.bounds(settings.timezone)
        await connection.execute(
            """
            INSERT INTO points_scored_event (event, scored_at)
            SELECT id, now() FROM verified_event WHERE occurred_at < $1 OR occurred_at >= $2
            """,
            start,
            end,
        )
        # A year of events in a live database has long been vacuumed; a fresh bulk load has
        # not, and autovacuum would otherwise work through it during the timed scoring.
        await connection.execute("VACUUM (ANALYZE)")
        return await connection.fetchval(
            "SELECT count(*) FROM verified_event WHERE occurred_at >= $1 AND occurred_at < $2",
            start,
            end,
        )
    finally:
        await connection.close()


def score(url: str, folder: Path, settings: Settings) -> tuple[float, float]:
    """Seconds and peak resident MB of `gridpoints points score` (with the keys the bench's
    data was written under: PostgreSQL needs them set)."""
    gridpoints = shutil.which("gridpoints", path=str(Path(sys.executable).parent))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDPOINTS_")}
    env.update(
        DATABASE_URL=url,
        GRIDPOINTS_VAR_DIR=str(folder),
        SECRET_KEY=settings.secret_key,
        GRIDPOINTS_AUDIT_KEY=settings.audit_key,
    )
    env.pop("REDIS_URL", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([gridpoints or "gridpoints", "points", "score"], env=env, check=True)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss is the largest child so far, in kilobytes on Linux.
    return seconds, max(peak, before) / 1024


async def statements(url: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = "
            "current_database()"
        )
    finally:
        await connection.close()


async def standings(settings) -> tuple[float, int]:
    engine = db_engine.use_engine(db_engine.make_engine(settings))
    await db_engine.start(engine, settings)
    try:
        started = time.perf_counter()
        count = 0
        async for chunk in quarter_standings(QUARTER, settings):
            count += len(chunk)
        return time.perf_counter() - started, count
    finally:
        await db_engine.stop(engine)


async def plain_group_by(url: str) -> tuple[float, int]:
    connection = await asyncpg.connect(url)
    try:
        started = time.perf_counter()
        rows = await connection.fetch(
            "SELECT member, sum(amount) AS total FROM points_entry WHERE period = $1 "
            "GROUP BY member",
            QUARTER.label,
        )
        return time.perf_counter() - started, len(rows)
    finally:
        await connection.close()


async def count(url: str, query: str, *args) -> int:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    args = parser.parse_args()
    name = f"gridpoints_scoring_{os.getpid()}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    folder = Path(tempfile.mkdtemp(prefix="gridpoints-scoring-"))
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        settings = load_settings(
            environ={}, var_dir=folder, database_url=url, secret_key="bench", audit_key="bench"
        )
        started = time.perf_counter()
        in_quarter = asyncio.run(build(settings, url, args.members, args.events))
        built = time.perf_counter() - started
        transactions_before = asyncio.run(statements(url))
        seconds, peak_mb = score(url, folder, settings)
        transactions = asyncio.run(statements(url)) - transactions_before
        entries = asyncio.run(
            count(url, "SELECT count(*) FROM points_entry WHERE period = $1", QUARTER.label)
        )
        ours, ranked = asyncio.run(standings(settings))
        reference, grouped = asyncio.run(plain_group_by(url))
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(folder, ignore_errors=True)

    rate = in_quarter / seconds
    print(
        f"{args.members:,} members, {args.events:,} events over {YEAR} "
        f"(built in {built:.0f} s); {in_quarter:,} events in {QUARTER.label}"
    )
    print(
        f"(a) scoring {QUARTER.label} from scratch: {seconds:.1f} s, {rate:,.0f} events/s, "
        f"{entries:,} ledger entries, peak memory {peak_mb:.0f} MB, "
        f"{transactions} transactions"
    )
    print(
        f"(b) totals and grid ranks for {ranked:,} members: {ours:.2f} s; "
        f"plain GROUP BY over {grouped:,} members: {reference:.2f} s; "
        f"ratio {ours / reference:.2f}"
    )
    ok = rate >= 100_000 and peak_mb < 500 and ours <= 2 * reference
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
