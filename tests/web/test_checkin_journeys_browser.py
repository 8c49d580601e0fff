"""Check-in journeys in the field, in a real headless Chromium at phone size with WeChat's user
agent, against a real `gridpoints serve`: a slow sign-in after a scan still checks in; a
check-in queued without signal is sent from 我的 when the signal returns; a reload of the
check-in page shows 签退; a phone whose GPS never answers checks in with its coarse network
fix, unflagged; a check-in the server refused stays on 我的 with its reason, in plain Chinese,
until the member dismisses it; 我的记录 lists open check-ins with 签退 and fetches little."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import PHONE, WECHAT_USER_AGENT, assert_fits_phone_width, screenshot
from tests.web.browsing import sign_in_form as fill_sign_in

pytestmark = pytest.mark.browser
PASSWORD = "checkin-journeys-pass-1"
SITE = {"latitude": 30.2741, "longitude": 120.1551}
PRECISE = {**SITE, "accuracy": 12}
# A phone with no GPS fix: only the network's position, 65 m wide.
COARSE = {**SITE, "accuracy": 65}
QUEUE = "JSON.parse(localStorage.getItem('gridpoints.checkinQueue') || '[]')"
REFUSED = "JSON.parse(localStorage.getItem('gridpoints.checkinRefused') || '[]')"
# Codes that turn over every 2 s stand in for the 30 s of the field: a code is dead two
# slots after it was shown, so a sign-in of a few seconds is as slow as one of 70 s there.
QUICK_SLOT_SECONDS = 2

# A GPS that never gets a fix: a request for a precise position times out; a coarse one is
# answered by the browser's (emulated) position. Playwright emulates one position for both.
GPS_NEVER_ANSWERS = """
(() => {
  const geo = navigator.geolocation;
  const realGet = geo.getCurrentPosition.bind(geo);
  const realWatch = geo.watchPosition.bind(geo);
  const realClear = geo.clearWatch.bind(geo);
  const stalled = {};
  let next = 100000;
  const timeout = (fail, options) => setTimeout(() => {
    if (fail) fail({ code: 3, message: "Timeout expired", PERMISSION_DENIED: 1,
                     POSITION_UNAVAILABLE: 2, TIMEOUT: 3 });
  }, (options && options.timeout) || 10000);
  geo.getCurrentPosition = function (ok, fail, options) {
    if (options && options.enableHighAccuracy) { timeout(fail, options); return; }
    return realGet(ok, fail, options);
  };
  geo.watchPosition = function (ok, fail, options) {
    if (options && options.enableHighAccuracy) {
      const id = next++;
      stalled[id] = timeout(fail, options);
      return id;
    }
    return realWatch(ok, fail, options);
  };
  geo.clearWatch = function (id) {
    if (stalled[id]) { clearTimeout(stalled[id]); delete stalled[id]; return; }
    return realClear(id);
  };
})();
"""


class Field:
    """The demo community on one server: a leader who organises, a member who scans."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.leader_phone = server.phones["grid_leader"]
        token = server.sign_in(self.leader_phone)["access_token"]
        self.leader = {"Authorization": f"Bearer {token}"}
        me = self.api("GET", "/api/v1/me").json()
        self.unit_id = next(r["org_unit_id"] for r in me["roles"] if r["role"] == "grid_leader")
        members = self.api(
            "GET", "/api/v1/members", params={"org_unit_id": self.unit_id, "limit": 50}
        ).json()["items"]
        self.members = [m for m in members if m["id"] != me["id"] and m["status"] == "active"]

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        kwargs.setdefault("headers", self.leader)
        return httpx.request(method, f"{self.server.base_url}{path}", timeout=10, **kwargs)

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
        assert listed.status_code == 200, listed.text
        return listed.json()["items"]

    def member_headers(self, phone: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.sign_in(phone)['access_token']}"}


def _wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    with run_live_server(tmp_path_factory.mktemp("checkin-journeys"), PASSWORD) as server:
        yield Field(server)


@pytest.fixture(scope="module")
def quick_field(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    settings = {"GRIDPOINTS_CHECKIN_SLOT_SECONDS": str(QUICK_SLOT_SECONDS)}
    folder = tmp_path_factory.mktemp("checkin-quick-codes")
    with run_live_server(folder, PASSWORD, settings) as server:
        yield Field(server)


def _phone(browser: Browser, field: Field, position: dict) -> BrowserContext:
    return browser.new_context(
        viewport=PHONE,
        user_agent=WECHAT_USER_AGENT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
        base_url=field.server.base_url,
        geolocation=position,
        permissions=["geolocation"],
    )


def _page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda error: pytest.fail(f"script error on the page: {error}"))
    return page


def _sign_in(page: Page, phone: str) -> None:
    page.goto("/")
    fill_sign_in(page, phone, PASSWORD)
    page.wait_for_url("**/me.html")


def _member(field: Field, index: int) -> str:
    # Each test its own member, so one test's open check-ins do not meet another's.
    return field.members[index % len(field.members)]["phone"]


def test_a_slow_sign_in_after_a_scan_checks_in_at_the_scan(
    browser: Browser, quick_field: Field
) -> None:
    field = quick_field
    activity = field.activity("慢登录签到活动")
    code = field.code(activity["id"])
    context = _phone(browser, field, PRECISE)
    page = _page(context)
    page.goto(code["checkin_url"])
    page.wait_for_url("**/index.html?next=*")
    scan = page.evaluate("JSON.parse(localStorage.getItem('gridpoints.pendingScan'))")
    assert scan["receipt"], "the server was not asked for a receipt before sign-in"

    # The member takes their time: by the end of it the code has long expired (the server
    # shows a code two slots later; the one scanned was good for its own slot and the next).
    scanned_slot = int(code["token"].split(".")[1])

    def code_expired() -> bool:
        return int(field.code(activity["id"])["token"].split(".")[1]) >= scanned_slot + 2

    _wait_until(code_expired, timeout=10 * QUICK_SLOT_SECONDS)
    fill_sign_in(page, _member(field, 0), PASSWORD)
    page.wait_for_url("**/checkin.html?*")
    expect(page.locator("#status")).to_have_text("签到成功", timeout=20_000)
    assert_fits_phone_width(page)
    stored = field.checkins(activity["id"])
    assert len(stored) == 1, stored
    assert stored[0]["flags"] == [] and stored[0]["review"] == "accepted", stored[0]
    scanned = datetime.fromisoformat(scan["scanned_at"])
    checked_in = datetime.fromisoformat(stored[0]["checked_in_at"])
    assert abs((checked_in - scanned).total_seconds()) < 2
    context.close()


def test_a_check_in_queued_offline_is_sent_from_me_when_the_signal_returns(
    browser: Browser, field: Field
) -> None:
    activity = field.activity("离线排队活动")
    context = _phone(browser, field, PRECISE)
    page = _page(context)
    _sign_in(page, _member(field, 1))

    # Scanned where the signal is gone: the check-in waits on the phone; the page is closed.
    context.route("**/api/v1/checkins/batch", lambda route: route.abort("internetdisconnected"))
    page.goto(field.code(activity["id"])["checkin_url"])
    expect(page.locator("#status")).to_have_text("网络不通，签到已保存在手机上", timeout=20_000)
    page.close()

    # 我的, still without signal: it says what waits, with the time of the scan.
    me = _page(context)
    me.goto("/me.html")
    expect(me.locator("#outbox-title")).to_have_text("1 条签到等待发送")
    expect(me.locator("#outbox-items li")).to_have_count(1)
    expect(me.locator("#outbox-items li")).to_contain_text(re.compile(r"\d+:\d\d 扫码签到"))
    assert_fits_phone_width(me)
    screenshot(me, "me-outbox-360.png")
    assert field.checkins(activity["id"]) == []

    context.set_offline(True)
    context.unroute("**/api/v1/checkins/batch")
    context.set_offline(False)  # 我的 hears "online" and sends the queue
    expect(me.locator("#outbox")).to_be_hidden(timeout=30_000)
    assert me.evaluate(QUEUE) == []
    stored = field.checkins(activity["id"])
    assert len(stored) == 1 and stored[0]["flags"] == [], stored
    context.close()


def test_a_check_in_left_queued_is_sent_by_the_next_page_that_opens(
    browser: Browser, field: Field
) -> None:
    activity = field.activity("下一页发送活动")
    context = _phone(browser, field, PRECISE)
    page = _page(context)
    _sign_in(page, _member(field, 2))
    context.route("**/api/v1/checkins/batch", lambda route: route.abort("internetdisconnected"))
    page.goto(field.code(activity["id"])["checkin_url"])
    expect(page.locator("#status")).to_have_text("网络不通，签到已保存在手机上", timeout=20_000)
    page.close()

    context.unroute("**/api/v1/checkins/batch")
    rules = _page(context)
    rules.goto("/rules.html")  # any page of the site, not the check-in page
    _wait_until(lambda: len(field.checkins(activity["id"])) == 1)
    _wait_until(lambda: rules.evaluate(QUEUE) == [])
    context.close()


def test_reloading_the_check_in_page_shows_check_out_and_a_second_scan_offers_it(
    browser: Browser, field: Field
) -> None:
    activity = field.activity("重新打开签到页活动")
    context = _phone(browser, field, PRECISE)
    page = _page(context)
    _sign_in(page, _member(field, 3))
    url = field.code(activity["id"])["checkin_url"]
    page.goto(url)
    expect(page.locator("#status")).to_have_text("签到成功", timeout=20_000)

    page.reload()
    expect(page.locator("#status")).to_have_text("您已签到，活动进行中", timeout=20_000)
    expect(page.get_by_role("button", name="签退")).to_be_visible()
    page.goto("/me.html")
    page.go_back()
    expect(page.get_by_role("button", name="签退")).to_be_visible(timeout=20_000)

    # Scanned again (a new tab, the next code): 签退 is offered, nothing new is stored.
    again = _page(context)
    again.goto(field.code(activity["id"])["checkin_url"])
    expect(again.locator("#status")).to_have_text("您已签到，活动进行中", timeout=20_000)
    assert len(field.checkins(activity["id"])) == 1

    # The activity runs for two more hours: 签退 now asks first.
    again.get_by_role("button", name="签退").click()
    expect(again.locator("#confirm-out-text")).to_contain_text("才结束")
    assert_fits_phone_width(again)
    screenshot(again, "checkin-confirm-out-360.png")
    again.get_by_role("button", name="确定签退").click()
    expect(again.locator("#status")).to_have_text("已签退，感谢您的服务！")
    assert field.checkins(activity["id"])[0]["checked_out_at"] is not None
    context.close()


def test_a_phone_with_only_a_coarse_network_fix_checks_in_unflagged(
    browser: Browser, field: Field
) -> None:
    activity = field.activity("粗略定位活动")
    context = _phone(browser, field, COARSE)
    context.add_init_script(GPS_NEVER_ANSWERS)
    page = _page(context)
    _sign_in(page, _member(field, 4))
    page.goto(field.code(activity["id"])["checkin_url"])
    expect(page.locator("#status")).to_have_text("签到成功", timeout=30_000)
    stored = field.checkins(activity["id"])
    assert len(stored) == 1, stored
    assert stored[0]["flags"] == [], stored[0]["flag_labels"]
    context.close()


def test_a_refused_check_in_stays_on_me_with_its_reason_until_dismissed(
    browser: Browser, field: Field
) -> None:
    activity = field.activity("被拒签到活动")
    context = _phone(browser, field, PRECISE)
    page = _page(context)
    _sign_in(page, _member(field, 5))
    # A code of the right form whose signature is not the server's: refused for good.
    forged = f"{activity['id']}.1.{'A' * 43}"
    context.route("**/api/v1/checkins/batch", lambda route: route.abort("internetdisconnected"))
    page.goto(f"/checkin.html?a={activity['id']}&t={forged}")
    expect(page.locator("#status")).to_have_text("网络不通，签到已保存在手机上", timeout=20_000)
    page.close()
    context.unroute("**/api/v1/checkins/batch")

    me = _page(context)
    me.goto("/me.html")
    item = me.locator("#refused-items li")
    expect(item).to_have_count(1, timeout=20_000)
    reason = item.locator("p").inner_text()
    assert "签到没有成功" in reason
    assert not re.search(r"[A-Za-z]", reason), f"field names or English shown: {reason!r}"
    assert me.evaluate(QUEUE) == []
    assert_fits_phone_width(me)
    screenshot(me, "me-refused-360.png")

    me.reload()  # still there: nothing is dropped unread
    expect(item).to_have_count(1)
    item.get_by_role("button", name="知道了").click()
    expect(me.locator("#refused")).to_be_hidden()
    me.reload()
    expect(me.locator("#refused")).to_be_hidden()
    assert me.evaluate(REFUSED) == []
    assert field.checkins(activity["id"]) == []
    context.close()


def test_messages_drop_field_names_and_english(browser: Browser, field: Field) -> None:
    context = _phone(browser, field, PRECISE)
    page = _page(context)
    page.goto("/index.html")
    expired = "签到码已过期"
    problems = [
        [{"detail": f"token: {expired}", "errors": [{"field": "token", "detail": expired}]}, 400],
        [{"detail": f"token: {expired}"}, 400],
        [{"detail": "签到码已过期，请重新扫描现场二维码", "code": "token_expired"}, 400],
        [{"detail": "Validation failed for POST /api/v1/checkins"}, 400],
        [{"detail": "Internal Server Error"}, 500],
    ]
    said = page.evaluate(
        """async (problems) => {
          const api = await import("/js/api.js");
          const plain = problems.map((p) => api.plainDetail(p[0], p[1]));
          const error = new api.ApiError(400, {detail: "lat: 纬度超出范围；lng: 经度超出范围"});
          return plain.concat([error.detail]);
        }""",
        problems,
    )
    assert said[0] == "签到码已过期"
    assert said[1] == "签到码已过期"
    assert said[2] == "签到码已过期，请重新扫描现场二维码"
    assert said[5] == "纬度超出范围；经度超出范围"
    for text in said:
        assert text and not re.search(r"[A-Za-z]", text), said
    context.close()


def test_the_record_page_lists_open_check_ins_with_check_out_and_fetches_little(
    browser: Browser, field: Field
) -> None:
    activity = field.activity("记录页签退活动")
    phone = _member(field, 6)
    stored = httpx.post(
        f"{field.server.base_url}/api/v1/checkins",
        json={
            "client_id": str(uuid.uuid4()),
            "activity_id": activity["id"],
            "token": field.code(activity["id"])["token"],
            "lat": SITE["latitude"],
            "lng": SITE["longitude"],
            "accuracy_m": 10,
        },
        headers=field.member_headers(phone),
        timeout=10,
    )
    assert stored.status_code == 201, stored.text
    context = _phone(browser, field, PRECISE)
    page = _page(context)
    _sign_in(page, phone)
    fetched: list[int] = []

    def count(request: Request) -> None:
        if "/api/" in request.url:
            fetched.append(request.sizes()["responseBodySize"])

    page.on("requestfinished", count)
    page.goto("/record.html")
    card = page.locator(f"[data-open-checkin='{stored.json()['id']}']")
    expect(card).to_contain_text("记录页签退活动", timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert sum(fetched) < 20_000, f"the record page fetched {sum(fetched)} bytes of data"
    assert_fits_phone_width(page)
    screenshot(page, "record-open-360.png")

    card.get_by_role("button", name="签退").click()
    expect(card).to_contain_text("才结束")
    card.get_by_role("button", name="确定签退").click()
    expect(card).to_contain_text("已签退，感谢您的服务！")
    assert field.checkins(activity["id"])[0]["checked_out_at"] is not None
    context.close()
