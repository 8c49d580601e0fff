"""The client's address (what the sign-in limits count) comes from `X-Forwarded-For` only when
the connection comes from a proxy named in `GRIDPOINTS_TRUSTED_PROXIES`, and then it is the
right-most address in the header that is not itself a trusted proxy. With no proxy named (the
default) the header is ignored.

The reported input: `gridpoints serve` believed any `X-Forwarded-For` from 127.0.0.1 (uvicorn's
default `FORWARDED_ALLOW_IPS`), so a client on the proxy's machine, or behind a proxy that
passes the header on, could give each failed sign-in a new address and never be held.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.datastructures import State

from gridpoints.app import create_app
from gridpoints.db import engine as db_engine
from gridpoints.settings import load_settings
from gridpoints.web.dependencies import DEPENDENCIES, ClientAddress, client_address
from tests.conftest import make_settings, serving
from tests.live_server import LiveServer, run_live_server

LOGIN = "/api/v1/auth/login"
PROXIES = ("10.0.0.0/8", "192.0.2.1", "2001:db8:feed::/48")
TRUSTED = tuple(ipaddress.ip_network(proxy) for proxy in PROXIES)


# ---- The rule, on its own ----


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # No proxy trusted: the header is never read.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        # From a trusted proxy: the address it saw.
        ("10.0.0.2", ["198.51.100.7"], "198.51.100.7"),
        # A client's own forged entries stand to the left of what the proxy appended.
        ("10.0.0.2", ["1.1.1.1, 2.2.2.2, 198.51.100.7"], "198.51.100.7"),
        # A chain of trusted proxies is walked from the right to the first untrusted address.
        ("10.0.0.2", ["6.6.6.6, 198.51.100.7, 192.0.2.1, 10.1.2.3"], "198.51.100.7"),
        # Several header lines are one list, in order.
        ("10.0.0.2", ["6.6.6.6, 198.51.100.7", "10.9.9.9"], "198.51.100.7"),
        # Every hop a trusted proxy: the left-most one is the client.
        ("10.0.0.2", ["10.0.0.8, 192.0.2.1"], "10.0.0.8"),
        # From a trusted proxy without the header: the proxy itself.
        ("10.0.0.2", [], "10.0.0.2"),
        # A hop that is not an address stops the walk at the last address vouched for.
        ("10.0.0.2", ["198.51.100.7, unknown"], "10.0.0.2"),
        ("10.0.0.2", ["garbage, 10.0.0.3"], "10.0.0.3"),
        # Ports some proxies add are dropped; IPv6 with and without brackets.
        ("10.0.0.2", ["198.51.100.7:5123"], "198.51.100.7"),
        ("2001:db8:feed::1", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.2", ["2001:db8::7"], "2001:db8::7"),
        # An IPv4 proxy seen through an IPv6 socket is still the proxy.
        ("::ffff:10.0.0.2", ["198.51.100.7"], "198.51.100.7"),
    ],
)
def test_the_right_most_untrusted_address_is_the_client(peer, forwarded_for, expected):
    trusted = TRUSTED if peer != "203.0.113.9" else ()
    assert client_address(peer, forwarded_for, trusted) == expected


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_sends():
    for forwarded in (["10.0.0.2"], ["192.0.2.1, 10.0.0.2"], ["198.51.100.7"]):
        assert client_address("203.0.113.9", forwarded, TRUSTED) == "203.0.113.9"


def test_no_peer_is_unknown():
    assert client_address(None, ["198.51.100.7"], TRUSTED) == "unknown"


# ---- Through HTTP: the dependency every sign-in uses ----


@get("/whoami", sync_to_thread=False)
def whoami(client_address: ClientAddress) -> str:
    return client_address


def _echo_app(tmp_path: Path, trusted: tuple[str, ...]) -> Litestar:
    settings = load_settings(environ={}, var_dir=tmp_path, trusted_proxies=trusted)
    return Litestar(
        route_handlers=[whoami], dependencies=DEPENDENCIES, state=State({"settings": settings})
    )


async def _seen(app: Litestar, peer: str, headers: dict[str, str] | None = None) -> str:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/whoami", headers=headers or {})
    assert response.status_code == 200, response.text
    return response.text


async def test_by_default_the_header_is_ignored(tmp_path):
    app = _echo_app(tmp_path, ())
    assert await _seen(app, "127.0.0.1", {"X-Forwarded-For": "198.51.100.7"}) == "127.0.0.1"


async def test_a_named_proxy_passes_on_the_client_and_others_do_not(tmp_path):
    app = _echo_app(tmp_path, ("10.0.0.0/8",))
    forged = {"X-Forwarded-For": "6.6.6.6, 198.51.100.7"}
    assert await _seen(app, "10.0.0.2", forged) == "198.51.100.7"
    assert await _seen(app, "203.0.113.9", forged) == "203.0.113.9"
    assert await _seen(app, "127.0.0.1", forged) == "127.0.0.1"


# ---- The sign-in limits count the real address ----


def _from(app: Litestar, peer: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
        base_url="http://testserver",
    )


async def _fail(http: httpx.AsyncClient, n: int, forwarded_for: str) -> httpx.Response:
    # A phone of its own each time, so only the per-address count can hold the caller.
    return await http.post(
        LOGIN,
        json={"phone": f"1370000{n:04d}", "password": "wrong-password"},
        headers={"X-Forwarded-For": forwarded_for},
    )


@pytest.fixture
async def limited_app(settings, db) -> Any:
    """The app with 3 failures per address per minute, behind proxies in 10.0.0.0/8."""
    tight = make_settings(
        settings.var_dir,
        settings.database_url,
        login_limit_per_address="3/minute",
        trusted_proxies=["10.0.0.0/8"],
    )
    app = create_app(tight)
    async with serving(app):
        yield app
    db_engine.use_engine(db)


async def test_a_forged_header_from_an_untrusted_peer_does_not_reset_the_count(limited_app):
    async with _from(limited_app, "203.0.113.9") as attacker:
        for n in range(3):
            assert (await _fail(attacker, n, f"198.51.100.{n}")).status_code == 401
        held = await _fail(attacker, 3, "198.51.100.99")
    assert held.status_code == 429


async def test_behind_a_trusted_proxy_each_client_is_counted_apart(limited_app):
    async with _from(limited_app, "10.0.0.2") as proxy:
        for n in range(3):
            assert (await _fail(proxy, n, "198.51.100.7")).status_code == 401
        assert (await _fail(proxy, 3, "198.51.100.7")).status_code == 429
        # Another client behind the same proxy is not held by the first one's failures.
        assert (await _fail(proxy, 4, "198.51.100.8")).status_code == 401
        # Nor does the held client get out by writing another address to the left.
        assert (await _fail(proxy, 5, "1.2.3.4, 198.51.100.7")).status_code == 429


# ---- The process people start ----

LIVE_PASSWORD = "client-address-pass-1"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as patch:
        # No proxy named (the default), and a per-address limit small enough to reach.
        for name in ("GRIDPOINTS_TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS"):
            patch.delenv(name, raising=False)
        patch.setenv("GRIDPOINTS_LOGIN_LIMIT_PER_ADDRESS", "4/minute")
        assert "GRIDPOINTS_LOGIN_LIMIT_PER_ADDRESS" in os.environ
        with run_live_server(tmp_path_factory.mktemp("client-address"), LIVE_PASSWORD) as server:
            yield server


def test_gridpoints_serve_ignores_a_forged_header_from_the_local_machine(live_server):
    """127.0.0.1 is no proxy unless named: each forged address must not get a fresh count."""
    statuses = []
    for n in range(6):
        response = httpx.post(
            f"{live_server.base_url}{LOGIN}",
            json={"phone": f"1360000{n:04d}", "password": "wrong-password"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            timeout=10,
        )
        statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 401, 429, 429]


def _checkin_link(server: LiveServer, headers: dict[str, str]) -> str:
    """The check-in link of a new activity, as the leader's phone gets it."""
    leader = {
        "Authorization": f"Bearer {server.sign_in(server.phones['grid_leader'])['access_token']}"
    }
    me = httpx.get(f"{server.base_url}/api/v1/me", headers=leader, timeout=10).json()
    unit = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "grid_leader")
    now = datetime.now(UTC)
    created = httpx.post(
        f"{server.base_url}/api/v1/activities",
        json={
            "org_unit_id": unit,
            "title": "扫码链接",
            "category": "resident_service",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat(),
            "lat": 30.0,
            "lng": 120.0,
            "radius_m": 200,
        },
        headers=leader,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    code = httpx.get(
        f"{server.base_url}/api/v1/activities/{created.json()['id']}/code",
        headers={**leader, **headers},
        timeout=10,
    )
    assert code.status_code == 200, code.text
    return code.json()["checkin_url"]


def test_check_in_links_are_https_only_behind_a_trusted_tls_proxy(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("GRIDPOINTS_TRUSTED_PROXIES", raising=False)
        with run_live_server(tmp_path_factory.mktemp("no-proxy"), LIVE_PASSWORD) as server:
            # An untrusted peer cannot choose the scheme of the links members scan.
            assert _checkin_link(server, {"X-Forwarded-Proto": "https"}).startswith("http://")
        patch.setenv("GRIDPOINTS_TRUSTED_PROXIES", "127.0.0.1")
        with run_live_server(tmp_path_factory.mktemp("tls-proxy"), LIVE_PASSWORD) as server:
            assert _checkin_link(server, {"X-Forwarded-Proto": "https"}).startswith("https://")
            assert _checkin_link(server, {}).startswith("http://")
