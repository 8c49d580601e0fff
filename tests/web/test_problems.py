"""Every error is application/problem+json; bad input names its field; a crash leaks nothing."""

from __future__ import annotations

import pytest
from litestar import get

from gridpoints.app import create_app
from gridpoints.db import engine as db_engine
from gridpoints.jobs.tables import Job
from tests.conftest import bearer, serving

PROBLEM = "application/problem+json"


def _is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and "detail" in body
    return body


@pytest.mark.parametrize(
    ("content", "field"),
    [
        pytest.param(b'{"name": "x", "phone": ', "body", id="malformed-json"),
        pytest.param(b'{"name": 5}', "name", id="wrong-type"),
        pytest.param(b'{"name": "x"}', "phone", id="missing-field"),
    ],
)
async def test_bad_bodies_get_400_naming_the_field(client, world, content, field):
    response = await client.post(
        "/api/v1/members",
        content=content,
        headers={**bearer(client, world.admin), "content-type": "application/json"},
    )
    body = _is_problem(response, 400)
    named = [e["field"] for e in body.get("errors", [])]
    assert field in named or field in body["detail"], body


async def test_bad_query_parameters_name_the_parameter(client, world):
    response = await client.get(
        "/api/v1/members", params={"limit": "9999"}, headers=bearer(client, world.admin)
    )
    body = _is_problem(response, 400)
    assert "limit" in [e["field"] for e in body["errors"]]


async def test_unknown_routes_methods_and_missing_sign_in_are_problems(client, world):
    _is_problem(await client.get("/api/v1/no-such-thing", headers=bearer(client, world.admin)), 404)
    _is_problem(await client.put("/api/v1/me", headers=bearer(client, world.admin)), 405)
    unauthenticated = _is_problem(await client.get("/api/v1/me"), 401)
    assert unauthenticated["status"] == 401


async def test_an_unexpected_error_is_a_500_problem_without_internals(settings, db, world):
    @get("/api/v1/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    # The world's queued job would be resubmitted and run by this app's start-up; this test is
    # about error responses, not jobs.
    await Job.update({Job.status: "succeeded"}).where(Job.id == world.job_b)
    app = create_app(settings)
    app.register(boom)
    async with serving(app) as api:
        response = await api.get(
            "/api/v1/boom",
            headers={"Authorization": f"Bearer {await api.token_for(world.admin)}"},
        )
    db_engine.use_engine(db)
    body = _is_problem(response, 500)
    assert "secret" not in response.text and "Traceback" not in response.text
    assert body["detail"]


async def test_a_missing_query_parameter_is_named(client, world):
    response = await client.get(
        "/api/v1/duty",
        params={"org_unit_id": world.units["A"]},
        headers=bearer(client, world.admin),
    )
    body = _is_problem(response, 400)
    assert [e["field"] for e in body["errors"]] == ["period"]
