"""Property-based checks of every API operation against the OpenAPI schema the app publishes.

A real `gridpoints serve` with the demo community answers requests that schemathesis
generates from `/schema/openapi.json`, signed in as the demo admin: no answer may be a server
error, and every answer must match the status codes, content types and bodies the schema
promises. Examples are derandomized, so a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live_server import LiveServer, run_live_server

PASSWORD = "schemathesis-pass-1"
EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("schemathesis"), PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def admin_headers(live: LiveServer) -> dict[str, str]:
    token = live.sign_in(live.phones["admin"])["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api_schema(live: LiveServer):
    return schemathesis.openapi.from_url(f"{live.base_url}/schema/openapi.json")


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


def test_every_operation_keeps_to_its_schema(live: LiveServer, admin_headers, api_schema) -> None:
    # Driven by hand rather than through schemathesis' pytest plugin, which does not load
    # under this pytest; each operation still gets its own derandomized Hypothesis run.
    failures: dict[str, str] = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
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
