"""The pages in a real headless Chromium, on a real `gridpoints serve`: after one visit, the
sign-in, 我的, check-in and record pages open again with no signal (the service worker's
cache), and no page's layout shifts after its first paint on a slow phone (Lighthouse's
layout-shift score under 0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import PHONE
from tests.web.pageload import SLOW_3G, layout_shift, signed_in, throttle, watch_layout_shift

pytestmark = pytest.mark.browser
PASSWORD = "offline-pages-pass-1"
SITE = {"latitude": 30.2741, "longitude": 120.1551, "accuracy": 12}
# Lighthouse's threshold for a good layout-shift score.
GOOD_LAYOUT_SHIFT = 0.1


@dataclass
class Site:
    server: LiveServer
    leader: dict[str, str]
    leader_login: dict
    member_login: dict
    unit_id: int

    def checkin_url(self, title: str) -> str:
        now = datetime.now(UTC)
        created = httpx.post(
            f"{self.server.base_url}/api/v1/activities",
            headers=self.leader,
            json={
                "org_unit_id": self.unit_id,
                "title": title,
                "category": "resident_service",
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
                "lat": SITE["latitude"],
                "lng": SITE["longitude"],
                "radius_m": 200,
            },
        )
        assert created.status_code == 201, created.text
        code = httpx.get(
            f"{self.server.base_url}/api/v1/activities/{created.json()['id']}/code",
            headers=self.leader,
        )
        return code.json()["checkin_url"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with run_live_server(tmp_path_factory.mktemp("offline-pages"), PASSWORD) as server:
        login = server.sign_in(server.phones["grid_leader"])
        leader = {"Authorization": f"Bearer {login['access_token']}"}
        me = httpx.get(f"{server.base_url}/api/v1/me", headers=leader).json()
        unit_id = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "grid_leader")
        members = httpx.get(
            f"{server.base_url}/api/v1/members",
            params={"org_unit_id": unit_id, "limit": 50},
            headers=leader,
        ).json()["items"]
        member = next(m for m in members if m["id"] != me["id"] and m["status"] == "active")
        yield Site(server, leader, login, server.sign_in(member["phone"]), unit_id)


@pytest.fixture
def context(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        base_url=site.server.base_url,
        geolocation=SITE,
        permissions=["geolocation"],
    )
    yield context
    context.close()


def _worker_ready(page: Page) -> None:
    """The worker is installed (its cache filled) and answers for this page."""
    page.evaluate(
        """() => navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller
          || new Promise((done) => navigator.serviceWorker.addEventListener(
            "controllerchange", () => done(true))))"""
    )


@pytest.mark.parametrize(
    ("page_path", "heading"),
    [("index.html", "网格积分"), ("me.html", "我的"), ("record.html", "我的记录")],
)
def test_a_page_visited_once_reloads_with_no_signal(
    context: BrowserContext, site: Site, page_path: str, heading: str
) -> None:
    if page_path != "index.html":
        signed_in(context, site.member_login)
    page = context.new_page()
    page.goto("/" + page_path)
    expect(page.locator("h1")).to_have_text(heading)
    _worker_ready(page)

    context.set_offline(True)
    page.reload()
    assert page.url.endswith("/" + page_path)
    expect(page.locator("h1")).to_have_text(heading)  # the page's script ran from the cache
    context.set_offline(False)


def test_the_check_in_page_reloads_with_no_signal(context: BrowserContext, site: Site) -> None:
    signed_in(context, site.member_login)
    page = context.new_page()
    url = site.checkin_url("离线重新打开")
    page.goto(url)
    expect(page.locator("#status")).to_have_text("签到成功", timeout=15_000)
    _worker_ready(page)

    context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text("活动签到")
    assert page.url == url
    # Another page kept by the worker, reached with no signal.
    page.get_by_role("link", name="返回我的").click()
    page.wait_for_url("**/me.html")
    expect(page.locator("h1")).to_have_text("我的")
    context.set_offline(False)


def test_the_worker_never_answers_for_the_api(context: BrowserContext, site: Site) -> None:
    signed_in(context, site.leader_login)
    page = context.new_page()
    page.goto("/me.html")
    _worker_ready(page)
    cached = page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
          }
          return urls;
        }"""
    )
    assert any(url.endswith("/me.html") for url in cached)
    assert not [url for url in cached if "/api/" in url]
    context.set_offline(True)
    answer = page.evaluate("fetch('/api/v1/me').then(() => 'answered', () => 'no signal')")
    assert answer == "no signal"
    context.set_offline(False)


# Every page, as a signed-in grid leader sees it (the partner page as its sign-in form).
PAGES = [
    "index.html",
    "me.html",
    "record.html",
    "service.html",
    "points.html",
    "leaderboard.html",
    "rules.html",
    "review.html",
    "organise.html",
    "accounts.html",
    "password.html",
    "partner.html",
]


def _settled_layout_shift(context: BrowserContext, path: str) -> dict:
    page = context.new_page()
    # A slow phone on a slow network: the page paints before its scripts have run.
    throttle(page, SLOW_3G, cpu_slowdown=6)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    shift = layout_shift(page)
    page.close()
    return shift


@pytest.mark.parametrize("path", PAGES)
def test_no_page_shifts_after_its_first_paint(browser: Browser, site: Site, path: str) -> None:
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        base_url=site.server.base_url,
        service_workers="block",
    )
    try:
        watch_layout_shift(context)
        if path not in ("index.html", "partner.html"):
            signed_in(context, site.leader_login)
        shift = _settled_layout_shift(context, "/" + path)
    finally:
        context.close()
    assert shift["value"] < GOOD_LAYOUT_SHIFT, shift


def test_the_check_in_page_does_not_shift_while_checking_in(browser: Browser, site: Site) -> None:
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        base_url=site.server.base_url,
        geolocation=SITE,
        permissions=["geolocation"],
        service_workers="block",
    )
    try:
        watch_layout_shift(context)
        signed_in(context, site.member_login)
        shift = _settled_layout_shift(context, site.checkin_url("不跳动的签到页"))
    finally:
        context.close()
    assert shift["value"] < GOOD_LAYOUT_SHIFT, shift
