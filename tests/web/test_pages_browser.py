"""The sign-in and "我的" pages in a real headless Chromium at phone size (360 x 740).

The pages are served by a real `gridpoints serve` (see tests/live_server.py). Screenshots go
to tests/artifacts/ for a person to look at. The browser is `tests/web/conftest.py`'s.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import (
    PHONE,
    assert_fits_phone_width,
    screenshot,
    sign_in_form,
    stored_token,
)

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-pass-1"
MIN_TOUCH_TARGET_PX = 48


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("live-server"), PASSWORD) as server:
        yield server


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        # A phone honours <meta name="viewport">; without is_mobile a missing tag goes unseen.
        is_mobile=True,
        has_touch=True,
        base_url=live_server.base_url,
    )
    page = context.new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    yield page
    context.close()
    assert script_errors == [], "uncaught script errors on the page"


def test_grid_leader_signs_in_on_a_phone_and_sees_name_role_and_grid(
    page: Page, live_server: LiveServer
) -> None:
    phone = live_server.phones["grid_leader"]
    member = live_server.sign_in(phone)["member"]

    page.goto("/")
    button = page.get_by_role("button", name="登录", exact=True)
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box is not None and box["height"] >= MIN_TOUCH_TARGET_PX, box
    assert_fits_phone_width(page)
    screenshot(page, "login-360.png")

    sign_in_form(page, phone, PASSWORD)

    page.wait_for_url("**/me.html")
    expect(page.get_by_text(member["name"], exact=True)).to_be_visible()
    expect(page.locator("#roles")).to_contain_text("网格长")
    expect(page.locator("#grid")).to_have_text(" / ".join(member["org_unit_path"]))
    if member["registration"]:
        expect(page.locator("#registration")).to_contain_text(
            member["registration"]["partner_unit_name"]
        )
    assert stored_token(page)
    assert_fits_phone_width(page)
    screenshot(page, "me-360.png")


def test_stored_token_skips_sign_in_and_signing_out_clears_it(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    sign_in_form(page, live_server.phones["volunteer"], PASSWORD)
    page.wait_for_url("**/me.html")

    page.goto("/")
    page.wait_for_url("**/me.html")
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/index.html")
    assert stored_token(page) is None

    page.goto("/me.html")
    page.wait_for_url("**/index.html")


def test_a_token_the_server_refuses_is_dropped_and_the_page_returns_to_sign_in(
    page: Page,
) -> None:
    page.goto("/")
    page.evaluate(
        "localStorage.setItem('gridpoints.token', 'not-a-token');"
        "localStorage.setItem('gridpoints.tokenExpiresAt', String(Date.now() + 3600e3))"
    )
    page.goto("/me.html")
    page.wait_for_url("**/index.html")
    assert stored_token(page) is None


def test_me_page_without_network_says_so_and_reloads_when_asked(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    sign_in_form(page, live_server.phones["grid_leader"], PASSWORD)
    page.wait_for_url("**/me.html")
    expect(page.locator("#profile")).to_be_visible()

    page.route("**/api/v1/me", lambda route: route.abort("internetdisconnected"))
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("无法连接服务器")
    screenshot(page, "me-offline-360.png")

    page.unroute("**/api/v1/me")
    page.get_by_role("button", name="重新加载").click()
    expect(page.locator("#profile")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()


def test_wrong_password_shows_the_chinese_message_and_stays_on_sign_in(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    sign_in_form(page, live_server.phones["building_head"], "not-the-password")

    expect(page.get_by_role("alert")).to_have_text("手机号或密码不正确")
    expect(page).to_have_url(f"{live_server.base_url}/")
    assert stored_token(page) is None
    assert_fits_phone_width(page)
    screenshot(page, "login-error-360.png")


def test_too_many_wrong_passwords_say_how_long_to_wait_and_hold_the_button(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")
    button = page.get_by_role("button", name="登录", exact=True)
    # The default limit is 5 failures a minute per phone; the 6th attempt is refused.
    for _ in range(6):
        expect(button).to_be_enabled()
        sign_in_form(page, live_server.phones["unit_head"], "not-the-password")
        expect(page.get_by_role("alert")).to_be_visible()

    expect(page.get_by_role("alert")).to_contain_text("秒后再试")
    expect(page.locator("#submit")).to_be_disabled()
    expect(page.locator("#submit")).to_contain_text("请等待")
