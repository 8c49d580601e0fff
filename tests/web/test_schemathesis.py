"""Property-based checks of every API operation against the OpenAPI schema the app publishes.

A real `gridpoints serve` with the demo community answers requests that schemathesis
generates from `/schema/openapi.json`, signed in as the demo admin: no answer may be a server
error, and every answer must match the status codes, content types and bodies the schema
promises. It runs on both engines: the embedded SQLite and PostgreSQL (which refuses what
SQLite stores, a NUL byte first). Besides what the schema allows, the strategies send NUL
bytes in strings, times without a UTC offset and years outside 2000–2100, which must be
refused with a 400, never answered with a 500. Examples are derandomized, so a failure
reproduces.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.formats import (
    get_default_format_strategies,
    register_string_format,
)

from tests.conftest import (
    POSTGRES_ADMIN_URL,
    POSTGRES_KEYS,
    _admin_execute,
    run_apart,
    service_missing,
)
from tests.live_server import (
    LiveServer,
    run_live_server,
)

PASSWORD = "schemathesis-pass-1"
EXAMPLES_PER_OPERATION = {"sqlite": 25, "postgres": 15}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def live(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp(f"schemathesis-{engine}")
    if engine == "sqlite":
        with run_live_server(folder, PASSWORD) as server:
            yield server
        return
    with _postgres_database() as url:
        keys = {
            "DATABASE_URL": url,
            "SECRET_KEY": POSTGRES_KEYS["secret_key"],
            "GRIDPOINTS_AUDIT_KEY": POSTGRES_KEYS["audit_key"],
        }
        with run_live_server(folder, PASSWORD, keys) as server:
            yield server


class _postgres_database:
    """An empty PostgreSQL database of its own (the server migrates it), dropped after."""

    def __enter__(self) -> str:
        self.name = f"gridpoints_schemathesis_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        try:
            run_apart(_admin_execute(f'CREATE DATABASE "{self.name}"'))
        except OSError as exc:
            service_missing("PostgreSQL", str(exc))
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.name}"

    def __exit__(self, *exc: object) -> None:
        run_apart(
            _admin_execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{self.name}'",
                f'DROP DATABASE IF EXISTS "{self.name}"',
            )
        )


# --- strategies beyond the schema -----------------------------------------------------------

# Times as people and buggy clients send them: with an offset, without one (which must be
# refused, never read as UTC), and in years no date of this platform falls in.
_AWARE = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC)
).map(lambda value: value.isoformat())
_NAIVE = st.datetimes().map(lambda value: value.isoformat())
DATE_TIMES = st.one_of(
    _AWARE, _NAIVE, st.sampled_from(["1999-12-31T23:59:59Z", "2101-01-01T00:00:00+08:00"])
)


def _with_nul(value: Any) -> Any:
    """The value with a NUL byte in its first string (key or value), or as it was."""
    if isinstance(value, str):
        return value[:3] + "\x00" + value[3:]
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, str | dict | list):
                return {**value, key: _with_nul(inner)}
        return {**value, "x\x00": "1"} if value else value
    if isinstance(value, list) and value:
        return [_with_nul(value[0]), *value[1:]]
    return value


def _sometimes_nul(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(strategy, strategy.map(_with_nul))


@pytest.fixture(scope="module")
def date_times_beyond_the_schema() -> Iterator[None]:
    default = get_default_format_strategies()["date-time"]
    register_string_format("date-time", DATE_TIMES)
    try:
        yield
    finally:
        register_string_format("date-time", default)


@pytest.fixture(scope="module")
def admin_headers(live: LiveServer) -> dict[str, str]:
    token = live.sign_in(live.phones["admin"])["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api_schema(live: LiveServer, date_times_beyond_the_schema: None):
    schema = schemathesis.openapi.from_url(f"{live.base_url}/schema/openapi.json")

    @schema.hook("before_generate_body")
    def nul_in_bodies(context, strategy):
        return _sometimes_nul(strategy)

    @schema.hook("before_generate_query")
    def nul_in_queries(context, strategy):
        return _sometimes_nul(strategy)

    return schema


def test_the_schema_lists_every_api_route(live: LiveServer, api_schema) -> None:
    paths = set(api_schema.raw_schema["paths"])
    for expected in (
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/org-units",
        "/api/v1/members",
        "/api/v1/members/import",
        "/api/v1/partner-units",
        "/api/v1/jobs/{job_id}",
        "/api/v1/audit-log",
    ):
        assert expected in paths


def test_every_operation_keeps_to_its_schema(
    engine: str, live: LiveServer, admin_headers, api_schema
) -> None:
    # Driven by hand rather than through schemathesis' pytest plugin, which does not load
    # under this pytest; each operation still gets its own derandomized Hypothesis run.
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION[engine],
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case) -> None:
            case.call_and_validate(
                base_url=live.base_url, headers=admin_headers, checks=CHECKS, timeout=30
            )

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
