"""Every response carries the security headers: a Content-Security-Policy the pages work under
without inline scripts, no MIME sniffing, no framing, a Referrer-Policy and a
Permissions-Policy that lets only the site itself ask for the position and the camera.

Checked on each kind of response (API JSON, problem 4xx, 404 and 405 from the router, pages,
scripts, styles, the OpenAPI document), and on the pages themselves: no inline script, inline
event handler, inline style or `javascript:` URL that the policy would block.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.conftest import bearer

FRONTEND = Path(__file__).resolve().parents[2] / "frontend_static"
PAGES = sorted(FRONTEND.glob("*.html"))


def directives(policy: str) -> dict[str, list[str]]:
    """A CSP header as {directive: [sources]}."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


def assert_security_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") in {"same-origin", "strict-origin-when-cross-origin"}, (
        where
    )
    assert "content-security-policy" in headers, where
    csp = directives(headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"], where
    assert csp["object-src"] == ["'none'"], where
    assert csp["base-uri"] == ["'self'"], where
    assert csp["form-action"] == ["'self'"], where
    assert csp["connect-src"] == ["'self'"], where
    script = csp.get("script-src", csp.get("default-src"))
    assert script is not None, where
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, where
    assert "*" not in script and "data:" not in script, where
    permissions = {
        name.strip(): allow.strip()
        for name, allow in (
            item.split("=", 1) for item in headers["permissions-policy"].split(",") if item
        )
    }
    assert permissions["geolocation"] == "(self)", where
    assert permissions["camera"] == "(self)", where
    assert permissions["microphone"] == "()", where


def assert_page_policy(response: httpx.Response) -> None:
    """The policy the pages live under: only the site's own scripts and styles."""
    assert_security_headers(response)
    csp = directives(response.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    # The favicon is `data:,`; downloads are blob: links.
    assert {"'self'", "data:", "blob:"} <= set(csp["img-src"])


async def test_api_json_carries_the_headers(client, world):
    response = await client.get("/api/v1/me", headers=bearer(client, world.leader_a))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert_page_policy(response)


async def test_health_check_carries_the_headers(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert_page_policy(response)


async def test_problem_responses_carry_the_headers(client, world):
    unsigned = await client.get("/api/v1/me")
    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"].startswith("application/problem+json")
    assert_page_policy(unsigned)
    bad = await client.post("/api/v1/auth/login", json={"phone": 1})
    assert bad.status_code == 400
    assert_page_policy(bad)
    refused = await client.post(
        "/api/v1/auth/login", json={"phone": world.phones["leader_a"], "password": "wrong-pass"}
    )
    assert refused.status_code == 401
    assert_page_policy(refused)


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/no-such-page.html", "/js/nope.js"])
async def test_not_found_carries_the_headers(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert_page_policy(response)


async def test_method_not_allowed_from_the_router_carries_the_headers(client):
    # 405 is answered by the router, before any route's own middleware would run.
    for method, path in [("POST", "/healthz"), ("DELETE", "/index.html")]:
        response = await client.request(method, path)
        assert response.status_code == 405
        assert_page_policy(response)


@pytest.mark.parametrize(
    "path", ["/", "/index.html", "/me.html", "/organise.html", "/partner.html", "/checkin.html"]
)
async def test_pages_carry_the_page_policy(client, path):
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_page_policy(response)


@pytest.mark.parametrize("path", ["/js/api.js", "/js/login.js", "/css/app.css"])
async def test_scripts_and_styles_carry_the_headers(client, path):
    response = await client.get(path)
    assert response.status_code == 200
    assert_page_policy(response)
    head = await client.head(path)
    assert head.status_code == 200
    assert_page_policy(head)


async def test_openapi_document_carries_the_headers(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert_page_policy(response)


async def test_api_docs_page_may_load_its_renderer_but_nothing_inline(client):
    """The docs page at /schema loads its renderer from a CDN: that origin only, and only there."""
    response = await client.get("/schema")
    assert response.status_code == 200
    assert_security_headers(response)
    csp = directives(response.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'", "https://cdn.jsdelivr.net"]
    # The pages themselves never get the CDN.
    page = await client.get("/index.html")
    assert "cdn.jsdelivr.net" not in page.headers["content-security-policy"]
    # Nor does a path that merely starts like the docs.
    beside = await client.get("/schema/openapi.json")
    assert "cdn.jsdelivr.net" not in beside.headers["content-security-policy"]


async def test_a_header_a_route_sets_is_replaced_not_doubled(client):
    response = await client.get("/index.html")
    assert len(response.headers.get_list("content-security-policy")) == 1
    assert len(response.headers.get_list("x-frame-options")) == 1


class _InlineFinder(HTMLParser):
    """Collects what a strict CSP blocks: inline scripts, handlers, styles, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> (inline event handler)")
            if name == "style":
                self.found.append(f"<{tag} style=...> (inline style)")
            if value and re.match(r"\s*javascript:", value, re.IGNORECASE):
                self.found.append(f"<{tag} {name}={value!r}> (javascript: URL)")
        if tag == "style":
            self.found.append("<style> block (inline style)")
        self._in_script_without_src = tag == "script" and not names.get("src")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script_without_src = False

    def handle_data(self, data: str) -> None:
        if self._in_script_without_src and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]!r}")


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_pages_hold_nothing_inline_that_the_policy_blocks(page):
    finder = _InlineFinder()
    finder.feed(page.read_text(encoding="utf-8"))
    assert finder.found == []


def test_scripts_set_no_inline_styles_or_handlers_as_markup():
    """Scripts may set `element.style.x` (CSSOM is allowed), not style or on* attributes."""
    offending = re.compile(
        r"setAttribute\(\s*[\"'](style|on\w+)[\"']|\.cssText|style=|\bon\w+=\"|javascript:"
    )
    found = [
        f"{script.name}:{n}: {line.strip()}"
        for script in sorted((FRONTEND / "js").glob("*.js"))
        for n, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1)
        if offending.search(line)
    ]
    assert found == []
