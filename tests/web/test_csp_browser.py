"""Every page works under the Content-Security-Policy and Permissions-Policy, in a real headless
Chromium against a real `gridpoints serve`: a grid leader signs in and opens each page (the
check-in QR drawn inline, a check-in that reads the position), and the browser reports no
policy violation and no console error on any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import PHONE, sign_in_form

pytestmark = pytest.mark.browser
PASSWORD = "csp-pages-pass-1"
SITE = {"latitude": 30.2741, "longitude": 120.1551, "accuracy": 12}

# Reported to the test from every page, before any page script runs.
REPORT_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const text = [event.violatedDirective, event.blockedURI, event.sourceFile, event.lineNumber];
  window.violations.push(text.join(" "));
  window.reportViolation(text.join(" "));
});
"""


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("csp-pages"), PASSWORD) as server:
        yield server


class Problems:
    """What the browser complained about, page by page."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning") or "Content Security Policy" in message.text:
            self.items.append(
                f"console {message.type} on {message.location.get('url')}: {message.text}"
            )


@pytest.fixture
def watched(browser: Browser, live_server: LiveServer) -> Iterator[tuple[Page, Problems]]:
    context: BrowserContext = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        base_url=live_server.base_url,
        geolocation=SITE,
        permissions=["geolocation"],
    )
    problems = Problems()
    context.expose_function(
        "reportViolation", lambda text: problems.items.append(f"CSP violation: {text}")
    )
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("console", problems.console)
    page.on("pageerror", lambda error: problems.items.append(f"page error: {error}"))
    yield page, problems
    context.close()


def _leader(server: LiveServer) -> tuple[str, dict[str, str], int]:
    phone = server.phones["grid_leader"]
    token = server.sign_in(phone)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{server.base_url}/api/v1/me", headers=headers, timeout=10).json()
    unit_id = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "grid_leader")
    return phone, headers, unit_id


def _activity(server: LiveServer, headers: dict[str, str], unit_id: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    created = httpx.post(
        f"{server.base_url}/api/v1/activities",
        json={
            "org_unit_id": unit_id,
            "title": "安全策略检查活动",
            "category": "resident_service",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=2)).isoformat(),
            "lat": SITE["latitude"],
            "lng": SITE["longitude"],
            "radius_m": 200,
        },
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return created.json()


def _grid_member(server: LiveServer, headers: dict[str, str], unit_id: int) -> str:
    me = httpx.get(f"{server.base_url}/api/v1/me", headers=headers, timeout=10).json()
    members = httpx.get(
        f"{server.base_url}/api/v1/members",
        params={"org_unit_id": unit_id, "limit": 50},
        headers=headers,
        timeout=10,
    ).json()["items"]
    return next(m["phone"] for m in members if m["id"] != me["id"] and m["status"] == "active")


SIGNED_IN_PAGES = [
    "me.html",
    "points.html",
    "record.html",
    "service.html",
    "review.html",
    "leaderboard.html",
    "rules.html",
]


def test_every_page_runs_under_the_policy_without_a_violation(
    watched: tuple[Page, Problems], live_server: LiveServer
) -> None:
    page, problems = watched
    phone, headers, unit_id = _leader(live_server)

    page.goto("/partner.html")
    page.wait_for_load_state("networkidle")
    page.goto("/index.html")
    sign_in_form(page, phone, live_server.password)
    page.wait_for_url("**/me.html")

    for name in SIGNED_IN_PAGES:
        page.goto("/" + name)
        page.wait_for_load_state("networkidle")
        assert "index.html" not in page.url, f"{name} sent the signed-in leader to sign in"

    # The organiser's QR code is SVG drawn into the page.
    activity = _activity(live_server, headers, unit_id)
    page.goto(f"/organise.html?id={activity['id']}")
    expect(page.locator("#qr svg")).to_be_visible(timeout=15_000)

    # Check-in asks for the position, which the Permissions-Policy allows the site: a member
    # of the grid (every demo account has the demo password) scans the code.
    code = httpx.get(
        f"{live_server.base_url}/api/v1/activities/{activity['id']}/code",
        headers=headers,
        timeout=10,
    ).json()
    page.evaluate("localStorage.clear()")
    page.goto(code["checkin_url"])
    page.wait_for_url("**/index.html?next=*")
    sign_in_form(page, _grid_member(live_server, headers, unit_id), live_server.password)
    page.wait_for_url("**/checkin.html?*")
    expect(page.locator("#status")).to_have_text("签到成功", timeout=15_000)

    assert problems.items == []


def test_the_browser_refuses_an_inline_script_on_a_page(
    watched: tuple[Page, Problems], live_server: LiveServer
) -> None:
    """The check above can fail: an inline script put into a page is blocked and reported."""
    page, _ = watched
    page.goto("/index.html")
    page.wait_for_load_state("networkidle")
    page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true;";
          document.body.appendChild(script);
        }"""
    )
    page.wait_for_function("window.violations.length > 0")
    assert page.evaluate("window.inlineRan === true") is False
    assert "script-src" in page.evaluate("window.violations[0]")
