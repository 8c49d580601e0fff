"""Sign-in by phone and password, and which bearer tokens the API accepts."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from gridpoints.auth.sessions import AccountKind, open_session
from tests.conftest import bearer
from tests.world import PASSWORD


async def test_sign_in_returns_a_bearer_token_that_opens_the_me_page(client, world):
    response = await client.post(
        "/api/v1/auth/login", json={"phone": "139 0000 0002", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    assert body["member"]["id"] == world.leader_a
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["name"] == "网格长甲"
    assert [r["role"] for r in me.json()["roles"]] == ["grid_leader"]
    assert me.json()["roles"][0]["org_unit_name"] == "甲片区"
    assert me.json()["org_unit_path"] == [
        "测试街道",
        "测试社区",
        "甲片区",
        "甲一小区",
        "1号楼",
        "1单元",
    ]


async def test_wrong_password_and_unknown_phone_get_the_same_401(client, world):
    wrong = await client.post(
        "/api/v1/auth/login", json={"phone": world.phones["leader_a"], "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"phone": "13711112222", "password": PASSWORD}
    )
    no_password = await client.post(
        "/api/v1/auth/login", json={"phone": world.phones["member_b"], "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == no_password.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["detail"] == unknown.json()["detail"] == no_password.json()["detail"]


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("１３９０００００００２", id="full-width-digits"),
        pytest.param("+86 139 0000 0002", id="plus-86"),
        pytest.param("＋８６－１３９－００００－０００２", id="full-width-plus-86"),
        pytest.param("0086 139.0000.0002", id="0086-dots"),
        pytest.param("\u202a139\u00a00000\u200b0002\u202c", id="invisible-marks"),
    ],
)
async def test_sign_in_takes_the_phone_typed_any_way(client, world, typed):
    response = await client.post("/api/v1/auth/login", json={"phone": typed, "password": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json()["member"]["id"] == world.leader_a


def _token(settings, **claims) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": "1",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "aud": settings.token_audience,
        "iss": "gridpoints",
    }
    payload.update(claims)
    return jwt.encode(payload, settings.secret_key, algorithm="HS256")


def _unsigned(payload: dict) -> str:
    import base64
    import json

    def part(data: dict) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(
            lambda s, m, j: _unsigned(
                {
                    "sub": str(m),
                    "jti": j,
                    "aud": s.token_audience,
                    "iss": "gridpoints",
                    "exp": time.time() + 3600,
                }
            ),
            id="alg-none",
        ),
        pytest.param(
            lambda s, m, j: _token(s, jti=j, sub=str(m), aud="someone-else"), id="wrong-audience"
        ),
        pytest.param(
            lambda s, m, j: _token(s, jti=j, sub=str(m), iss="elsewhere"), id="wrong-issuer"
        ),
        pytest.param(
            lambda s, m, j: _token(s, jti=j, sub=str(m))[:-4] + "AAAA", id="bad-signature"
        ),
        pytest.param(
            lambda s, m, j: jwt.encode(
                {
                    "sub": str(m),
                    "jti": j,
                    "aud": s.token_audience,
                    "iss": "gridpoints",
                    "exp": time.time() + 3600,
                },
                "another-secret-key-0000000000000000",
                algorithm="HS256",
            ),
            id="other-secret",
        ),
        pytest.param(
            lambda s, m, j: _token(s, jti=j, sub=str(m), exp=int(time.time()) - 10), id="expired"
        ),
        pytest.param(lambda s, m, j: "not-a-jwt", id="garbage"),
        pytest.param(
            lambda s, m, j: _with_payload(_token(s, jti=j, sub="1"), sub=str(m)), id="other-sub"
        ),
        pytest.param(
            lambda s, m, j: jwt.encode(
                {"sub": str(m), "jti": j, "aud": s.token_audience, "iss": "gridpoints"},
                s.secret_key,
                algorithm="HS256",
            ),
            id="no-expiry",
        ),
        pytest.param(
            lambda s, m, j: jwt.encode(
                {"sub": str(m), "jti": j, "aud": s.token_audience, "iss": "gridpoints", "exp": 2e9},
                s.secret_key,
                algorithm="HS512",
            ),
            id="other-algorithm",
        ),
    ],
)
async def test_tokens_that_must_not_pass_get_401(client, world, settings, make_token):
    # Every token below names a standing sign-in session: only what the test varies is wrong.
    session = str(await open_session(AccountKind.MEMBER, world.leader_a))
    good = _token(settings, jti=session, sub=str(world.leader_a))
    assert (
        await client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"})
    ).status_code == 200
    bad = {"Authorization": f"Bearer {make_token(settings, world.leader_a, session)}"}
    response = await client.get("/api/v1/me", headers=bad)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    # The scan route checks the token the same way, though it loads its member itself.
    scan = await client.post("/api/v1/checkins", json=_any_scan(), headers=bad)
    assert scan.status_code == 401


def _with_payload(token: str, **claims) -> str:
    """The token's header and signature around a payload with `claims` changed."""
    import base64
    import json

    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw = json.dumps({**data, **claims}).encode()
    return f"{header}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{signature}"


def _any_scan() -> dict:
    return {"client_id": str(uuid.uuid4()), "activity_id": 1, "token": "x"}


async def test_a_deactivated_member_token_stops_working(client, world):
    headers = bearer(client, world.leader_a)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    patched = await client.patch(
        f"/api/v1/members/{world.leader_a}",
        json={"status": "inactive"},
        headers=bearer(client, world.admin),
    )
    assert patched.status_code == 200
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    scan = await client.post("/api/v1/checkins", json=_any_scan(), headers=headers)
    assert scan.status_code == 401
    assert scan.headers["www-authenticate"] == "Bearer"
