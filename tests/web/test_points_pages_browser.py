"""The points pages in a real headless Chromium: a member reads the quarter's total, rank and
every reason on the phone; a leader reads the grid's leaderboard with charts on a PC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import ARTIFACTS, PHONE, assert_fits_phone_width, sign_in_form

pytestmark = pytest.mark.browser
PASSWORD = "points-pages-pass-1"


@dataclass
class Scored:
    server: LiveServer
    leader_phone: str
    member_phone: str
    member_name: str


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scored]:
    with run_live_server(tmp_path_factory.mktemp("points-pages"), PASSWORD) as server:
        base = server.base_url
        leader_phone = server.phones["grid_leader"]
        leader = {"Authorization": f"Bearer {server.sign_in(leader_phone)['access_token']}"}
        me = httpx.get(f"{base}/api/v1/me", headers=leader).json()
        unit = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "grid_leader")
        members = httpx.get(
            f"{base}/api/v1/members", params={"org_unit_id": unit, "limit": 50}, headers=leader
        ).json()["items"]
        member = next(m for m in members if m["id"] != me["id"] and m["status"] == "active")
        # The leader logs a two-hour deed for the member and approves it: 4 points.
        record = httpx.post(
            f"{base}/api/v1/service-records",
            json={
                "member_id": member["id"],
                "category": "resident_service",
                "hours": 2,
                "description": "陪同独居老人就医",
                "served_on": datetime.now(UTC).isoformat(),
            },
            headers=leader,
        )
        assert record.status_code == 201, record.text
        approver = {
            "Authorization": f"Bearer {server.sign_in(server.phones['admin'])['access_token']}"
        }
        approved = httpx.post(
            f"{base}/api/v1/service-records/{record.json()['id']}/approve",
            json={},
            headers=approver,
        )
        assert approved.status_code == 200, approved.text
        server.command("points", "score")
        yield Scored(server, leader_phone, member["phone"], member["name"])


def _page(browser: Browser, scored: Scored, viewport: dict) -> Page:
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", base_url=scored.server.base_url
    )
    return context.new_page()


def test_a_member_reads_points_rank_and_reasons_on_the_phone(browser, scored) -> None:
    page = _page(browser, scored, PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/index.html?next=points.html")
    sign_in_form(page, scored.member_phone, PASSWORD)
    page.wait_for_url("**/points.html")
    expect(page.locator("#total")).not_to_have_text("0")
    total = int(page.locator("#total").inner_text())
    assert total >= 4
    expect(page.locator("#entries")).to_contain_text("服务记录（经网格长审核），每小时 2 分")
    expect(page.locator("#rank")).to_contain_text("第 ")
    assert_fits_phone_width(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=Path(ARTIFACTS) / "points-phone.png", full_page=True)
    page.context.close()
    assert errors == []


def test_a_leader_reads_the_leaderboard_with_charts(browser, scored) -> None:
    page = _page(browser, scored, {"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/index.html?next=leaderboard.html")
    sign_in_form(page, scored.leader_phone, PASSWORD)
    page.wait_for_url("**/leaderboard.html")
    first = page.locator("#board tbody tr").first
    expect(first.locator("td").first).to_have_text("1")
    assert page.locator("#board tbody tr").count() > 1
    month = datetime.now(UTC).month
    bar = page.locator(f'#months li[data-bucket$="-{month:02d}"] .bar')
    expect(bar).not_to_have_attribute("style", "width: 0%;")
    assert bar.get_attribute("style", timeout=5000).startswith("width:")
    expect(page.locator("#categories")).to_contain_text("居民服务")
    page.screenshot(path=Path(ARTIFACTS) / "leaderboard-pc.png", full_page=True)
    page.context.close()
    assert errors == []


def test_committee_staff_dry_run_a_changed_rule_file(browser, scored) -> None:
    page = _page(browser, scored, {"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/index.html?next=rules.html")
    sign_in_form(page, scored.server.phones["admin"], PASSWORD)
    page.wait_for_url("**/rules.html")
    expect(page.locator('#rulesets table[data-ruleset="default"]')).to_contain_text(
        "参加志愿活动，每小时 2 分"
    )
    rules = (Path(__file__).parents[2] / "scoring_rules" / "default.toml").read_text("utf-8")
    richer = rules.replace(
        'points = { per_hour = 2, rounding = "half_up" }',
        'points = { per_hour = 4, rounding = "half_up" }',
    )
    assert richer != rules
    page.set_input_files(
        "#file",
        files=[{"name": "default.toml", "mimeType": "text/plain", "buffer": richer.encode()}],
    )
    page.click("#dry-run")
    expect(page.locator("#summary")).to_contain_text("试算", timeout=30_000)
    expect(page.locator("#by-rule")).to_contain_text("服务记录（经网格长审核）")
    assert page.locator("#largest tbody tr").count() >= 1
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename.endswith(".xlsx")
    page.screenshot(path=Path(ARTIFACTS) / "rules-dry-run-pc.png", full_page=True)
    page.context.close()
    assert errors == []
