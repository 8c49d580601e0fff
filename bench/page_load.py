"""Page load on a weak phone: `make bench-pages` (or `python -m bench.page_load`).

Drives Debian's Chromium through Playwright against a real `gridpoints serve` (demo data, own
folder), with DevTools' Slow 3G (400 kbit/s each way, 400 ms round trip) and a CPU six times
slower, and prints:

- the time from opening a check-in link (a signed-in member, a live code) to "签到成功" on the
  screen, on a first visit (nothing kept) and on a repeat visit (a second scan later: the
  browser's cache and the service worker kept), with the bytes that came over the wire;
- the same throttled browser opening `/healthz` from the same server, first and repeat: the
  floor any page pays (connection and one round trip) on this network;
- the layout-shift score (Lighthouse's CLS) of every page;
- the bytes of the check-in page's files as sent plain and compressed.

Targets: first visit ≤ 2.3 s, repeat ≤ 1.3 s, every page's layout shift < 0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright
from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import CHROMIUM, LAUNCH_ARGS, PHONE
from tests.web.pageload import (
    SLOW_3G,
    Transferred,
    layout_shift,
    signed_in,
    throttle,
    watch_layout_shift,
)

from gridpoints.resources import resource_dir
from gridpoints.web import assets

PASSWORD = "bench-pages-pass-1"
SITE = {"latitude": 30.2741, "longitude": 120.1551, "accuracy": 12}
CPU_SLOWDOWN = 6
TARGET_FIRST_S = 2.3
TARGET_REPEAT_S = 1.3
GOOD_LAYOUT_SHIFT = 0.1
# When the status line first reads 签到成功, in ms since the navigation started.
DONE_SCRIPT = """
(() => {
  const seen = () => {
    const status = document.getElementById("status");
    if (status && status.textContent === "签到成功" && !window.__checkedInAt) {
      window.__checkedInAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true,
                                                characterData: true});
})();
"""
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


class Community:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.leader_login = server.sign_in(server.phones["grid_leader"])
        self.leader = {"Authorization": f"Bearer {self.leader_login['access_token']}"}
        me = self.api("GET", "/api/v1/me").json()
        self.unit_id = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "grid_leader")
        members = self.api(
            "GET", "/api/v1/members", params={"org_unit_id": self.unit_id, "limit": 50}
        ).json()["items"]
        member = next(m for m in members if m["id"] != me["id"] and m["status"] == "active")
        self.member_login = server.sign_in(member["phone"])

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(
            method, self.server.base_url + path, headers=self.leader, timeout=10, **kwargs
        )

    def checkin_url(self, title: str) -> str:
        now = datetime.now(UTC)
        created = self.api(
            "POST",
            "/api/v1/activities",
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
        created.raise_for_status()
        code = self.api("GET", f"/api/v1/activities/{created.json()['id']}/code")
        return code.json()["checkin_url"]


def _phone(browser: Browser, base_url: str, **options) -> BrowserContext:
    return browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        base_url=base_url,
        geolocation=SITE,
        permissions=["geolocation"],
        **options,
    )


def _scan(context: BrowserContext, url: str) -> tuple[float, int, int]:
    """Open a check-in link: seconds to 签到成功, bytes and requests over the wire."""
    page = context.new_page()
    session = throttle(page, SLOW_3G, cpu_slowdown=CPU_SLOWDOWN)
    wire = Transferred(session)
    page.goto(url)
    expect(page.locator("#status")).to_have_text("签到成功", timeout=60_000)
    done_ms = page.evaluate("window.__checkedInAt")
    page.wait_for_load_state("networkidle")
    page.close()
    return done_ms / 1000, wire.bytes, wire.requests


def _wait_for_worker(context: BrowserContext, url: str) -> None:
    page = context.new_page()
    page.goto(url)
    page.evaluate(
        """() => navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller
          || new Promise((done) => navigator.serviceWorker.addEventListener(
            "controllerchange", () => done(true))))"""
    )
    page.close()


def _reference(browser: Browser, base_url: str) -> tuple[float, float]:
    """The bare floor: the same throttled browser loading /healthz, first and repeat."""
    context = _phone(browser, base_url)
    times = []
    for _ in range(2):
        page = context.new_page()
        throttle(page, SLOW_3G, cpu_slowdown=CPU_SLOWDOWN)
        page.goto("/healthz")
        times.append(page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd"))
        page.close()
    context.close()
    return times[0] / 1000, times[1] / 1000


def _checkin_runs(browser: Browser, community: Community, runs: int) -> dict[str, list]:
    results: dict[str, list] = {"first": [], "repeat": []}
    base_url = community.server.base_url
    for run in range(runs):
        context = _phone(browser, base_url)
        signed_in(context, community.member_login)
        context.add_init_script(DONE_SCRIPT)
        results["first"].append(_scan(context, community.checkin_url(f"首次扫码 {run}")))
        _wait_for_worker(context, "/me.html")
        results["repeat"].append(_scan(context, community.checkin_url(f"再次扫码 {run}")))
        context.close()
    return results


def _layout_shifts(browser: Browser, community: Community) -> dict[str, float]:
    scores = {}
    base_url = community.server.base_url
    targets = [(name, "/" + name) for name in PAGES]
    targets.append(("checkin.html", community.checkin_url("版面稳定")))
    for name, url in targets:
        context = _phone(browser, base_url, service_workers="block")
        watch_layout_shift(context)
        if name == "checkin.html":
            signed_in(context, community.member_login)
        elif name not in ("index.html", "partner.html"):
            signed_in(context, community.leader_login)
        page = context.new_page()
        throttle(page, SLOW_3G, cpu_slowdown=CPU_SLOWDOWN)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        scores[name] = layout_shift(page)["value"]
        context.close()
    return scores


def _compression(base_url: str) -> tuple[int, int]:
    """Bytes of the check-in page and everything it loads: plain, and as sent (br)."""
    page = assets.read_page(resource_dir("frontend_static"), "checkin.html")
    paths = [page.name, *page.stylesheets, *page.entries, *page.dependencies]
    plain = packed = 0
    with httpx.Client(base_url=base_url) as client:
        for path in paths:
            plain += len(client.get("/" + path, headers={"Accept-Encoding": "identity"}).content)
            sent = client.get("/" + path, headers={"Accept-Encoding": "br, gzip"})
            packed += int(sent.headers.get("content-length", len(sent.content)))
    return plain, packed


def _verdict(value: float, target: float) -> str:
    return "ok" if value <= target else f"OVER target {target}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="check-in runs (median printed)")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
        return 2
    with tempfile.TemporaryDirectory() as folder, run_live_server(Path(folder), PASSWORD) as server:
        community = Community(server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            reference_first, reference_repeat = _reference(browser, server.base_url)
            runs = _checkin_runs(browser, community, args.runs)
            shifts = _layout_shifts(browser, community)
            browser.close()
        plain, packed = _compression(server.base_url)

    print(f"Slow 3G (400 kbit/s, 400 ms RTT), CPU ×{CPU_SLOWDOWN}, 360×740, {args.runs} runs")
    print(f"{'':34}{'first':>10}{'repeat':>10}")
    print(f"{'reference: /healthz (s)':34}{reference_first:>10.2f}{reference_repeat:>10.2f}")
    first = statistics.median(r[0] for r in runs["first"])
    repeat = statistics.median(r[0] for r in runs["repeat"])
    print(f"{'scan to 签到成功, median (s)':30}{first:>10.2f}{repeat:>10.2f}")
    print(
        f"{'  each run (s)':34}"
        f"{' '.join(f'{r[0]:.2f}' for r in runs['first']):>10}  "
        f"{' '.join(f'{r[0]:.2f}' for r in runs['repeat'])}"
    )
    first_bytes = statistics.median(r[1] for r in runs["first"])
    repeat_bytes = statistics.median(r[1] for r in runs["repeat"])
    print(f"{'  bytes over the wire':34}{first_bytes:>10.0f}{repeat_bytes:>10.0f}")
    first_requests = statistics.median(r[2] for r in runs["first"])
    repeat_requests = statistics.median(r[2] for r in runs["repeat"])
    print(f"{'  requests over the wire':34}{first_requests:>10.0f}{repeat_requests:>10.0f}")
    print(
        f"first visit: {_verdict(first, TARGET_FIRST_S)}; "
        f"repeat: {_verdict(repeat, TARGET_REPEAT_S)}"
    )
    print(f"check-in page files: {plain} bytes plain, {packed} sent compressed")
    print("layout shift (CLS) per page:")
    for name, value in shifts.items():
        print(f"  {name:20}{value:8.3f}  {'ok' if value < GOOD_LAYOUT_SHIFT else 'OVER 0.1'}")
    over = first > TARGET_FIRST_S or repeat > TARGET_REPEAT_S
    over = over or any(value >= GOOD_LAYOUT_SHIFT for value in shifts.values())
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
