"""The field pages in a real headless Chromium at phone size: scan a check-in code, check in
with no signal and have it sent once when the signal returns, and a leader ruling on a
flagged check-in. Served by a real `gridpoints serve` with the demo community."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import ARTIFACTS, PHONE, assert_fits_phone_width, sign_in_form

pytestmark = pytest.mark.browser
PASSWORD = "field-pages-pass-1"
SITE = {"latitude": 30.2741, "longitude": 120.1551, "accuracy": 12}


@dataclass
class Field:
    server: LiveServer
    leader_phone: str
    leader: dict[str, str]
    member_phone: str
    unit_id: int

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        return httpx.request(
            method, f"{self.server.base_url}{path}", headers=self.leader, timeout=10, **kwargs
        )

    def activity(self, title: str) -> dict:
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
        assert created.status_code == 201, created.text
        return created.json()

    def code(self, activity_id: int) -> dict:
        code = self.api("GET", f"/api/v1/activities/{activity_id}/code")
        assert code.status_code == 200, code.text
        return code.json()

    def checkins(self, activity_id: int) -> list[dict]:
        listed = self.api("GET", "/api/v1/checkins", params={"activity_id": activity_id})
        return listed.json()["items"]


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    with run_live_server(tmp_path_factory.mktemp("field-pages"), PASSWORD) as server:
        leader_phone = server.phones["grid_leader"]
        token = server.sign_in(leader_phone)["access_token"]
        leader = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{server.base_url}/api/v1/me", headers=leader).json()
        unit_id = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "grid_leader")
        members = httpx.get(
            f"{server.base_url}/api/v1/members",
            params={"org_unit_id": unit_id, "limit": 50},
            headers=leader,
        ).json()["items"]
        member = next(m for m in members if m["id"] != me["id"] and m["status"] == "active")
        yield Field(server, leader_phone, leader, member["phone"], unit_id)


@pytest.fixture
def context(browser: Browser, field: Field) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        base_url=field.server.base_url,
        geolocation=SITE,
        permissions=["geolocation"],
    )
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    assert errors == [], "uncaught script errors on the page"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=Path(ARTIFACTS) / name, full_page=True)


def test_scanning_the_code_signs_in_and_checks_in_at_the_site(page: Page, field: Field) -> None:
    activity = field.activity("扫码签到活动")
    page.goto(field.code(activity["id"])["checkin_url"])
    page.wait_for_url("**/index.html?next=*")
    sign_in_form(page, field.member_phone, PASSWORD)
    page.wait_for_url("**/checkin.html?*")
    expect(page.locator("#status")).to_have_text("签到成功", timeout=15_000)
    expect(page.locator("#activity-title")).to_have_text("扫码签到活动")
    assert_fits_phone_width(page)
    _shot(page, "checkin-360.png")
    stored = field.checkins(activity["id"])
    assert len(stored) == 1 and stored[0]["flags"] == [] and stored[0]["review"] == "accepted"

    # The activity is still running: 签退 asks first.
    page.get_by_role("button", name="签退").click()
    page.get_by_role("button", name="确定签退").click()
    expect(page.locator("#status")).to_have_text("已签退，感谢您的服务！")
    assert field.checkins(activity["id"])[0]["checked_out_at"] is not None


def test_a_check_in_made_offline_is_sent_once_when_the_signal_returns(
    page: Page, context: BrowserContext, field: Field
) -> None:
    activity = field.activity("离线签到活动")
    page.goto("/")
    sign_in_form(page, field.member_phone, PASSWORD)
    page.wait_for_url("**/me.html")

    # The page loads, then the signal is gone by the time it sends.
    page.route("**/api/v1/checkins/batch", lambda route: route.abort("internetdisconnected"))
    page.goto(field.code(activity["id"])["checkin_url"])
    expect(page.locator("#status")).to_have_text("网络不通，签到已保存在手机上", timeout=15_000)
    _shot(page, "checkin-offline-360.png")
    assert field.checkins(activity["id"]) == []
    queued = page.evaluate("JSON.parse(localStorage.getItem('gridpoints.checkinQueue'))")
    assert len(queued) == 1

    context.set_offline(True)
    page.unroute("**/api/v1/checkins/batch")
    context.set_offline(False)  # the page hears "online" and sends its queue
    expect(page.locator("#status")).to_have_text("签到成功", timeout=30_000)
    assert page.evaluate("JSON.parse(localStorage.getItem('gridpoints.checkinQueue'))") == []
    stored = field.checkins(activity["id"])
    assert len(stored) == 1, stored
    assert stored[0]["client_id"] == queued[0]["client_id"]


def test_a_leader_accepts_a_flagged_check_in_on_the_review_page(page: Page, field: Field) -> None:
    activity = field.activity("待核实活动")
    token = httpx.post(
        f"{field.server.base_url}/api/v1/auth/login",
        json={"phone": field.member_phone, "password": PASSWORD},
    ).json()
    far = httpx.post(
        f"{field.server.base_url}/api/v1/checkins",
        json={
            "client_id": "6f1c2a4e-1f6e-4d1a-9c1e-2b7f3d9a0c11",
            "activity_id": activity["id"],
            "token": field.code(activity["id"])["token"],
            "lat": 31.0,
            "lng": 121.0,
            "accuracy_m": 20,
        },
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert far.status_code == 201, far.text
    assert far.json()["review"] == "pending"

    page.goto("/index.html?next=review.html")
    sign_in_form(page, field.leader_phone, PASSWORD)
    page.wait_for_url("**/review.html")
    item = page.locator(f"[data-checkin='{far.json()['id']}']")
    expect(item).to_contain_text("不在活动地点范围内")
    assert_fits_phone_width(page)
    _shot(page, "review-360.png")
    item.get_by_role("button", name="通过").click()
    expect(item).to_contain_text("已通过")
    assert field.checkins(activity["id"])[0]["review"] == "accepted"


def test_the_organiser_page_shows_a_live_qr_code(page: Page, field: Field) -> None:
    activity = field.activity("二维码活动")
    page.goto(f"/index.html?next=organise.html%3Fid%3D{activity['id']}")
    sign_in_form(page, field.leader_phone, PASSWORD)
    page.wait_for_url("**/organise.html?id=*")
    expect(page.locator("#qr svg")).to_be_visible(timeout=15_000)
    expect(page.locator("#title")).to_have_text("二维码活动")
    token = page.locator("#qr").get_attribute("data-token")
    assert token and token.startswith(f"{activity['id']}.")
    _shot(page, "organise-360.png")


def test_a_member_logs_a_service_a_leader_approves_it_and_the_member_claims_a_wish(
    browser: Browser,
    field: Field,
) -> None:
    def phone_page() -> tuple[BrowserContext, Page]:
        context = browser.new_context(
            viewport=PHONE,
            locale="zh-CN",
            is_mobile=True,
            has_touch=True,
            base_url=field.server.base_url,
            timezone_id="Asia/Shanghai",
        )
        page = context.new_page()
        page.on("pageerror", lambda error: pytest.fail(f"script error: {error}"))
        return context, page

    member_context, member = phone_page()
    member.goto("/index.html?next=service.html")
    sign_in_form(member, field.member_phone, PASSWORD)
    member.wait_for_url("**/service.html")
    member.get_by_label("服务类别").select_option("dispute_mediation")
    member.get_by_label("服务时长（小时）").fill("2")
    member.get_by_label("做了什么").fill("调解楼上楼下漏水纠纷")
    member.get_by_role("button", name="提交").click()
    expect(member.locator("#done")).to_have_text("已提交，等待网格长审核。")
    assert_fits_phone_width(member)
    _shot(member, "service-360.png")

    leader_context, leader = phone_page()
    leader.goto("/index.html?next=review.html")
    sign_in_form(leader, field.leader_phone, PASSWORD)
    leader.wait_for_url("**/review.html")
    found = leader.locator("[data-service]").filter(has_text="调解楼上楼下漏水纠纷")
    expect(found).to_contain_text("矛盾调解")
    # The card is re-drawn after the decision: keep hold of it by its id, not its text.
    card = leader.locator(f"[data-service='{found.get_attribute('data-service')}']")
    card.get_by_role("button", name="通过").click()
    expect(card).to_contain_text("已通过")
    leader_context.close()

    wish = field.api(
        "POST", "/api/v1/wishes", json={"org_unit_id": field.unit_id, "title": "帮忙修理轮椅"}
    )
    assert wish.status_code == 201, wish.text
    member.goto("/record.html")
    expect(member.locator("#service-count")).to_have_text("1")
    expect(member.locator("#hours")).to_have_text("2.0")
    wish_card = member.locator(f"[data-wish='{wish.json()['id']}']")
    wish_card.get_by_role("button", name="认领").click()
    expect(wish_card).to_contain_text("已认领")
    assert_fits_phone_width(member)
    _shot(member, "record-360.png")
    member_context.close()
    claimed = field.api("GET", f"/api/v1/wishes/{wish.json()['id']}")
    assert claimed.json()["state"] == "claimed"
