"""Sign-in sessions in the pages, in a real headless Chromium against a real `gridpoints serve`:
a member whose password a manager reset must set a new one before anything else (修改密码),
the server's field messages show by the fields, "退出登录" and "退出所有设备" end the tokens on
the server, and a token ended elsewhere brings the page back to sign-in with a message. No page
breaks the Content-Security-Policy on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import ARTIFACTS, PHONE, sign_in_form
from tests.web.test_csp_browser import REPORT_VIOLATIONS, Problems

pytestmark = pytest.mark.browser
PASSWORD = "session-pages-pass-1"
TEMPORARY_PASSWORD = "Reset-by-manager-4821"
NEW_PASSWORD = "Lantern-river-5937"
PC = {"width": 1366, "height": 768}
CONTACT_PHONE = "13600000088"
CONTACT_PASSWORD = "contact-pass-493"
TEMPORARY_NOTICE = "您正在使用管理员设置的临时密码，请先设置新密码"
EXPIRED_NOTICE = "登录已失效，请重新登录"
EXPECTED_REFUSAL = re.compile(
    r"^Failed to load resource: the server responded with a status of (400|401|403) "
)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("session-pages"), PASSWORD) as server:
        yield server


def _context(browser: Browser, server: LiveServer, viewport: dict[str, int]) -> BrowserContext:
    phone_sized = viewport == PHONE
    return browser.new_context(
        viewport=viewport,
        locale="zh-CN",
        is_mobile=phone_sized,
        has_touch=phone_sized,
        base_url=server.base_url,
    )


class SessionProblems(Problems):
    """As on every page, but the refusals these tests provoke on purpose (a wrong password's
    400, an ended token's 401, a temporary password's 403) are the browser logging a status,
    not a fault of the page."""

    def console(self, message: ConsoleMessage) -> None:
        if EXPECTED_REFUSAL.search(message.text):
            return
        super().console(message)


def _watch(context: BrowserContext) -> tuple[Page, SessionProblems]:
    problems = SessionProblems()
    context.expose_function(
        "reportViolation", lambda text: problems.items.append(f"CSP violation: {text}")
    )
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("console", problems.console)
    page.on("pageerror", lambda error: problems.items.append(f"page error: {error}"))
    return page, problems


@pytest.fixture
def watched(browser: Browser, live_server: LiveServer) -> Iterator[tuple[Page, SessionProblems]]:
    context = _context(browser, live_server, PHONE)
    yield _watch(context)
    context.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _api(server: LiveServer, method: str, path: str, token: str, **kw: Any) -> httpx.Response:
    return httpx.request(
        method, f"{server.base_url}{path}", headers=_bearer(token), timeout=10, **kw
    )


def _reset_password(server: LiveServer, role: str) -> str:
    """The manager resets a demo member's password, as from the members page; their phone."""
    phone = server.phones[role]
    member_id = server.sign_in(phone)["member"]["id"]
    manager = server.sign_in(server.phones["admin"])["access_token"]
    reset = _api(
        server,
        "POST",
        f"/api/v1/members/{member_id}/password",
        manager,
        json={"password": TEMPORARY_PASSWORD},
    )
    assert reset.status_code == 204, reset.text
    return phone


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def _stored_token(page: Page) -> str:
    token = page.evaluate("localStorage.getItem('gridpoints.token')")
    assert token, "no token stored"
    return token


def _field_message(page: Page, field_id: str) -> str:
    """The message shown by a field: the element its aria-describedby names."""
    field = page.locator(f"#{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby") or ""
    message = page.locator("#" + described.split()[0])
    expect(message).to_be_visible()
    return message.inner_text()


def test_a_member_with_a_reset_password_sets_a_new_one_then_signs_out_everywhere(
    watched: tuple[Page, SessionProblems], live_server: LiveServer
) -> None:
    page, problems = watched
    phone = _reset_password(live_server, "volunteer")

    page.goto("/")
    sign_in_form(page, phone, TEMPORARY_PASSWORD)
    page.wait_for_url("**/password.html")
    expect(page.get_by_role("heading", name="修改密码")).to_be_visible()
    expect(page.get_by_text(TEMPORARY_NOTICE)).to_be_visible()
    token = _stored_token(page)
    # Until the password changes, the API answers nothing else to this token.
    refused = _api(live_server, "GET", "/api/v1/activities", token)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"

    page.get_by_label("当前密码").fill("not-the-temporary-1")
    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="确认修改").click()
    assert _field_message(page, "current-password") == "当前密码不正确"
    expect(page).to_have_url(f"{live_server.base_url}/password.html")

    page.get_by_label("当前密码").fill(TEMPORARY_PASSWORD)
    page.get_by_label("新密码", exact=True).fill("short1")
    page.get_by_label("再次输入新密码").fill("short1")
    page.get_by_role("button", name="确认修改").click()
    short = _field_message(page, "new-password")
    assert "8 个字符" in short and not any(c.isascii() and c.isalpha() for c in short), short
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _screenshot(page, "password-360.png")
    expect(page.locator("#current-password")).not_to_have_attribute("aria-invalid", "true")

    page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="确认修改").click()
    assert _field_message(page, "repeat-password") == "两次输入的新密码不一致"

    page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    page.get_by_role("button", name="确认修改").click()
    page.wait_for_url("**/me.html")
    expect(page.get_by_role("status")).to_contain_text("密码已修改")
    expect(page.locator("#profile")).to_be_visible()
    # The sign-in that changed the password goes on; the temporary password is gone.
    assert _stored_token(page) == token
    me = _api(live_server, "GET", "/api/v1/me", token)
    assert me.status_code == 200 and me.json()["password_change_required"] is False
    old = httpx.post(
        f"{live_server.base_url}/api/v1/auth/login",
        json={"phone": phone, "password": TEMPORARY_PASSWORD},
        timeout=10,
    )
    assert old.status_code == 401
    # The same member signed in on another device.
    other_device = httpx.post(
        f"{live_server.base_url}/api/v1/auth/login",
        json={"phone": phone, "password": NEW_PASSWORD},
        timeout=10,
    ).json()["access_token"]

    page.get_by_role("button", name="退出所有设备").click()
    # A step to confirm, then cancel keeps everything as it was.
    page.get_by_role("button", name="取消").click()
    assert _api(live_server, "GET", "/api/v1/me", token).status_code == 200
    page.get_by_role("button", name="退出所有设备").click()
    expect(page.get_by_role("button", name="确定退出所有设备")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _screenshot(page, "me-sign-out-all-360.png")
    page.get_by_role("button", name="确定退出所有设备").click()
    page.wait_for_url("**/index.html")
    expect(page.get_by_role("status")).to_contain_text("已在所有设备上退出登录")
    assert page.evaluate("localStorage.getItem('gridpoints.token')") is None
    assert _api(live_server, "GET", "/api/v1/me", token).status_code == 401
    assert _api(live_server, "GET", "/api/v1/me", other_device).status_code == 401

    assert problems.items == []


def test_signing_out_ends_the_token_on_the_server(
    watched: tuple[Page, SessionProblems], live_server: LiveServer
) -> None:
    page, problems = watched
    page.goto("/")
    sign_in_form(page, live_server.phones["committee_member"], PASSWORD)
    page.wait_for_url("**/me.html")
    token = _stored_token(page)

    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/index.html")
    assert page.evaluate("localStorage.getItem('gridpoints.token')") is None
    assert _api(live_server, "GET", "/api/v1/me", token).status_code == 401
    assert problems.items == []


def test_a_sign_in_ended_elsewhere_returns_to_sign_in_with_a_message(
    watched: tuple[Page, SessionProblems], live_server: LiveServer
) -> None:
    page, problems = watched
    page.goto("/")
    sign_in_form(page, live_server.phones["grid_leader"], PASSWORD)
    page.wait_for_url("**/me.html")
    expect(page.locator("#profile")).to_be_visible()
    token = _stored_token(page)
    # The member signs out everywhere from another device (the same sign-in's token).
    assert _api(live_server, "POST", "/api/v1/auth/logout-all", token).status_code == 204

    page.get_by_role("link", name="我的积分").click()
    page.wait_for_url("**/index.html?next=points.html")
    expect(page.get_by_role("status")).to_have_text(EXPIRED_NOTICE)
    assert page.evaluate("localStorage.getItem('gridpoints.token')") is None
    # The notice is for the moment it happened, not for every later visit.
    page.reload()
    expect(page.get_by_text(EXPIRED_NOTICE)).to_have_count(0)

    sign_in_form(page, live_server.phones["grid_leader"], PASSWORD)
    page.wait_for_url("**/points.html")
    assert problems.items == []


def test_any_page_refused_for_a_temporary_password_sends_the_member_to_change_it(
    watched: tuple[Page, SessionProblems], live_server: LiveServer
) -> None:
    page, problems = watched
    phone = _reset_password(live_server, "building_steward")
    login = httpx.post(
        f"{live_server.base_url}/api/v1/auth/login",
        json={"phone": phone, "password": TEMPORARY_PASSWORD},
        timeout=10,
    ).json()
    assert login["password_change_required"] is True
    page.goto("/")
    page.evaluate(
        "([token, seconds]) => {"
        "localStorage.setItem('gridpoints.token', token);"
        "localStorage.setItem('gridpoints.tokenExpiresAt', String(Date.now() + seconds * 1000));"
        "}",
        [login["access_token"], login["expires_in"]],
    )
    # A page whose first call is refused with 403 password_change_required.
    page.goto("/organise.html?id=1")
    page.wait_for_url("**/password.html")
    expect(page.get_by_text(TEMPORARY_NOTICE)).to_be_visible()
    # "我的" reads the member (allowed) and still sends them on.
    page.goto("/me.html")
    page.wait_for_url("**/password.html")
    # The way out is to sign out.
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/index.html")
    assert _api(live_server, "GET", "/api/v1/me", login["access_token"]).status_code == 401
    assert problems.items == []


def test_the_password_page_on_a_pc(browser: Browser, live_server: LiveServer) -> None:
    context = _context(browser, live_server, PC)
    page, problems = _watch(context)
    try:
        page.goto("/")
        sign_in_form(page, live_server.phones["branch_secretary"], PASSWORD)
        page.wait_for_url("**/me.html")
        page.get_by_role("link", name="修改密码").click()
        page.wait_for_url("**/password.html")
        page.get_by_label("当前密码").fill("not-my-password-1")
        page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
        page.get_by_role("button", name="确认修改").click()
        assert _field_message(page, "current-password") == "当前密码不正确"
        _screenshot(page, "password-1366.png")
        page.get_by_role("link", name="返回“我的”").click()
        page.wait_for_url("**/me.html")
        assert problems.items == []
    finally:
        context.close()


def test_a_partner_contacts_sign_out_ends_the_token_on_the_server(
    browser: Browser,
    live_server: LiveServer,
) -> None:
    admin = live_server.sign_in(live_server.phones["admin"])["access_token"]
    partner = _api(live_server, "GET", "/api/v1/partner-units", admin).json()["items"][0]
    made = _api(
        live_server,
        "POST",
        f"/api/v1/partner-units/{partner['id']}/accounts",
        admin,
        json={"name": "单位联系人", "phone": CONTACT_PHONE, "password": CONTACT_PASSWORD},
    )
    assert made.status_code == 201, made.text
    context = _context(browser, live_server, PC)
    page, problems = _watch(context)
    try:
        page.goto("/partner.html")
        page.fill("#phone", CONTACT_PHONE)
        page.fill("#password", CONTACT_PASSWORD)
        page.click("#sign-in-button")
        expect(page.locator("#unit-name")).to_have_text(partner["name"])
        token = page.evaluate(
            "JSON.parse(sessionStorage.getItem('gridpoints.partnerSession')).token"
        )
        # A contact has no member profile (403), but the token itself is good.
        assert _api(live_server, "GET", "/api/v1/me", token).status_code == 403

        page.get_by_role("button", name="退出登录").click()
        expect(page.locator("#sign-in")).to_be_visible()
        page.wait_for_function("sessionStorage.getItem('gridpoints.partnerSession') === null")
        assert _api(live_server, "GET", "/api/v1/me", token).status_code == 401
        assert problems.items == []
    finally:
        context.close()
