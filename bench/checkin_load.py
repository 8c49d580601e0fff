"""Check-in load benchmark: thousands (by default 5,000) of distinct members check into one
activity over 32 connections, against `gridpoints serve` on PostgreSQL, and the same load
against a bare Litestar + asyncpg handler doing one `INSERT ... ON CONFLICT DO NOTHING`.

    python bench/checkin_load.py [--members 5000] [--connections 32] [--threads 2]

Needs PostgreSQL (GRIDPOINTS_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test)
and `wrk` (apt-get install wrk). It makes a database of its own and drops it after. Prints
throughput, p50/p95/p99 latency, errors, and rows stored against check-ins acknowledged, for
both servers, and their ratio. Targets: at least half the reference's throughput, p99 under
100 ms, no errors, no acknowledged check-in missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx

from gridpoints.activities.codes import make_token, slot_of
from gridpoints.activities.tables import Activity
from gridpoints.app import create_app
from gridpoints.auth.principal import Principal
from gridpoints.auth.sessions import AccountKind, open_session
from gridpoints.clock import utcnow
from gridpoints.db import engine as db_engine
from gridpoints.db.migrate import migrate
from gridpoints.members.tables import Member
from gridpoints.org.services import UnitSpec, create_root_unit, create_units_bulk
from gridpoints.settings import load_settings

HERE = Path(__file__).resolve().parent
ADMIN_URL = os.environ.get(
    "GRIDPOINTS_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
)
SITE = (30.2741, 120.1551)


@dataclass
class Run:
    name: str
    requests: int
    seconds: float
    acked: int
    refused: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    stored: int

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    def line(self, prepared: int) -> str:
        # wrk stops a thread with requests still in flight, so a few prepared check-ins may
        # go unsent and some answers uncounted: what must hold is that no acknowledged
        # check-in is missing from the table.
        missing = max(0, self.acked - self.stored)
        return (
            f"{self.name:<10} {self.throughput:8.0f} req/s  p50 {self.p50_ms:6.1f} ms  "
            f"p95 {self.p95_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms  errors "
            f"{self.refused + self.socket_errors:4d}  acked {self.acked:5d}  "
            f"stored {self.stored:5d} of {prepared}  acked-but-missing {missing}"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def prepare(settings, members: int):
    """A community, `members` members living in it, one activity; their check-in requests."""
    engine = db_engine.use_engine(db_engine.make_engine(settings))
    await migrate(engine)
    await db_engine.start(engine, settings)
    try:
        system = Principal.system("bench")
        top = await create_root_unit(system, "压测街道", "bench-top", "街道")
        community = (
            await create_units_bulk(system, [UnitSpec(top, "压测社区", "bench-c", "社区")])
        )["bench-c"]
        now = utcnow()
        for start in range(0, members, 1000):
            await Member.insert(
                *[
                    Member(
                        name=f"队员{n}",
                        phone=f"1990000{n:04d}",
                        category="resident",
                        org_unit=community,
                        status="active",
                        created_at=now,
                        updated_at=now,
                    )
                    for n in range(start, min(members, start + 1000))
                ]
            )
        secret = secrets.token_urlsafe(32)
        activity = (
            await Activity.insert(
                Activity(
                    org_unit=community,
                    title="压测活动",
                    category="resident_service",
                    starts_at=now - timedelta(hours=1),
                    ends_at=now + timedelta(hours=3),
                    lat=SITE[0],
                    lng=SITE[1],
                    radius_m=300,
                    code_secret=secret,
                    created_at=now,
                    updated_at=now,
                )
            ).returning(Activity.id)
        )[0]["id"]
        ids = [r["id"] for r in await Member.select(Member.id).where(Member.org_unit == community)]
        # Each member signed in once, as sign-in does it (a session per member).
        sessions = [await open_session(AccountKind.MEMBER, member_id) for member_id in ids]
    finally:
        await db_engine.stop(engine)
    tokens = create_app(settings).state.tokens
    bearers = [
        f"Bearer {tokens.issue(member_id, session_id)}"
        for member_id, session_id in zip(ids, sessions, strict=True)
    ]

    def fresh_requests() -> list[tuple[str, str]]:
        """Each member's check-in with the code of the current slot (valid about 30-60 s)."""
        code = make_token(
            settings.secret_key, secret, activity, slot_of(utcnow(), settings.checkin_slot_seconds)
        )
        return [
            (
                bearer,
                json.dumps(
                    {
                        "client_id": str(uuid.uuid4()),
                        "activity_id": activity,
                        "token": code,
                        "lat": SITE[0] + 0.0001,
                        "lng": SITE[1] - 0.0001,
                        "accuracy_m": 15,
                    }
                ),
            )
            for bearer in bearers
        ]

    return activity, fresh_requests


def write_requests(requests: list[tuple[str, str]], folder: Path) -> Path:
    path = folder / "requests.lua"
    lines = ["return {"]
    for auth, body in requests:
        lines.append(f"  {{{json.dumps(auth)}, {json.dumps(body)}}},")
    lines.append("}")
    path.write_text("\n".join(lines))
    return path


def start_server(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    output = log.open("wb")
    process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/nothing", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def probe(port: int, path: str, request: tuple[str, str]) -> None:
    """One check-in by hand first: a server that refuses it would only measure refusals."""
    answer = httpx.post(
        f"http://127.0.0.1:{port}{path}",
        content=request[1],
        headers={"Authorization": request[0], "Content-Type": "application/json"},
        timeout=10,
    )
    if answer.status_code not in (200, 201):
        raise RuntimeError(f"{path} refused the probe: {answer.status_code} {answer.text}")


def wrk(port: int, path: str, requests_file: Path, args) -> dict[str, float]:
    env = {
        **os.environ,
        "CHECKIN_REQUESTS": str(requests_file),
        "CHECKIN_PATH": path,
        "WRK_THREADS": str(args.threads),
    }
    done = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            "-d15s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "checkin.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"RESULT (.*)", done.stdout)
    if not match:
        raise RuntimeError(done.stdout + done.stderr)
    return {k: float(v) for k, v in (part.split("=") for part in match.group(1).split())}


async def stored(url: str, table: str, at: str, extra: str) -> tuple[int, float]:
    """Rows the run stored (not counting the probe) and the seconds from first to last."""
    connection = await asyncpg.connect(url)
    try:
        row = await connection.fetchrow(
            f"SELECT count(*) - 1 AS n, extract(epoch FROM max({at}) - min({at})) AS span"
            f" FROM {table} WHERE {at} > (SELECT min({at}) FROM {table}) {extra}"
        )
        return row["n"] + 1, float(row["span"] or 0)
    finally:
        await connection.close()


async def count(url: str, sql: str) -> int:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


def measure(name: str, figures: dict[str, float], stored: int, seconds: float) -> Run:
    # wrk runs for its whole -d even when every thread is done: time the work by the rows'
    # own timestamps, first to last.
    return Run(
        name=name,
        requests=stored,
        seconds=max(seconds, 1e-3),
        acked=int(figures["acked"]),
        refused=int(figures["refused"]),
        socket_errors=int(figures["socket_errors"]),
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        stored=stored,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    name = f"gridpoints_bench_{os.getpid()}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    folder = Path(tempfile.mkdtemp(prefix="gridpoints-bench-"))
    servers: list[subprocess.Popen] = []
    try:
        secret = secrets.token_urlsafe(48)
        settings = load_settings(
            environ={}, var_dir=folder, database_url=url, secret_key=secret, audit_key=secret
        )
        activity, fresh_requests = asyncio.run(prepare(settings, args.members))
        asyncio.run(
            admin_on(
                url,
                "CREATE TABLE bench_reference (client_id uuid PRIMARY KEY, "
                "activity int NOT NULL, at timestamptz NOT NULL)",
            )
        )
        # Tables a live platform has long had statistics for (members, their sign-ins).
        asyncio.run(admin_on(url, "ANALYZE"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDPOINTS_")}
        env.update(
            DATABASE_URL=url,
            SECRET_KEY=secret,
            GRIDPOINTS_AUDIT_KEY=secret,
            GRIDPOINTS_VAR_DIR=str(folder),
        )
        env.pop("REDIS_URL", None)

        port = free_port()
        servers.append(
            start_server(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.reference_app:app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                ],
                {**env, "PYTHONPATH": str(HERE.parent)},
                port,
                folder / "reference.log",
            )
        )
        probe_request, *requests = fresh_requests()
        probe(port, "/ref/checkins", probe_request)
        requests_file = write_requests(requests, folder)
        reference = measure(
            "reference",
            wrk(port, "/ref/checkins", requests_file, args),
            *asyncio.run(stored(url, "bench_reference", "at", "")),
        )
        servers.pop().terminate()

        port = free_port()
        gridpoints = (
            shutil.which("gridpoints", path=str(Path(sys.executable).parent)) or "gridpoints"
        )
        servers.append(
            start_server(
                # Like the reference: no line per request.
                [gridpoints, "serve", "--port", str(port), "--no-access-log"],
                {**env, "GRIDPOINTS_LOGIN_LIMIT_PER_ADDRESS": "100000/minute"},
                port,
                folder / "gridpoints.log",
            )
        )
        probe_request, *requests = fresh_requests()
        probe(port, "/api/v1/checkins", probe_request)
        requests_file = write_requests(requests, folder)
        platform = measure(
            "gridpoints",
            wrk(port, "/api/v1/checkins", requests_file, args),
            *asyncio.run(stored(url, "checkin", "received_at", f"AND activity = {activity}")),
        )
        flagged = asyncio.run(count(url, "SELECT count(*) FROM checkin WHERE flags <> ''"))
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        shutil.rmtree(folder, ignore_errors=True)

    prepared = len(requests)
    print(
        f"{prepared} distinct members, one activity, {args.connections} connections, "
        f"{args.threads} wrk threads, one server process each"
    )
    print(reference.line(prepared))
    print(platform.line(prepared))
    print(
        f"throughput ratio gridpoints/reference: {platform.throughput / reference.throughput:.2f}"
        f"   flagged check-ins: {flagged}"
    )
    ok = (
        platform.throughput >= 0.5 * reference.throughput
        and platform.p99_ms < 100
        and platform.refused + platform.socket_errors == 0
        and platform.acked <= platform.stored
    )
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


async def admin_on(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


if __name__ == "__main__":
    sys.exit(main())
