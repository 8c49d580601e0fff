"""账号管理 (accounts.html) in a real headless Chromium against a real `gridpoints serve`, walked
from sign-in through links and buttons only:

- a grid leader finds a member of their grid by name and gives them a temporary password,
  shown once; the member signs in with it, is sent to 修改密码 and sets their own;
- a grid leader who tries the same on someone their authority does not cover (a peer leader
  living in their grid) sees the server's refusal in Chinese, and nothing changes; a weak
  password they type is refused by its field; nobody gives themselves a temporary password;
- committee staff open an account for a partner unit's contact, disable it (the contact's
  next download returns them to sign-in and their sign-in is refused like a wrong password)
  and enable it again.

Screenshots at 360 and 1366 px go to tests/artifacts/; no page breaks the
Content-Security-Policy on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, expect

from gridpoints.auth.permissions import ROLE_CAPABILITIES, Capability
from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import ARTIFACTS, PHONE, sign_in_form
from tests.web.test_csp_browser import REPORT_VIOLATIONS, Problems

pytestmark = pytest.mark.browser
PASSWORD = "accounts-page-pass-1"
PC = {"width": 1366, "height": 768}
NEW_PASSWORD = "Harbour-lights-7291"
TYPED_TEMPORARY = "Quiet-orchard-lamp-8305"
WEAK_PASSWORD = "12345678"
TELL_MEMBER = "请当面告知该成员，首次登录后须修改"
TEMPORARY_NOTICE = "您正在使用管理员设置的临时密码，请先设置新密码"
NOT_ONESELF = "不能修改自己的账号、职务或归属，请由上级管理员办理"
NOT_COVERED = "该成员的职务或所在单位不在您的管理权限之内"
CONTACT_NAME = "周联络"
CONTACT_PHONE = "13600000077"
BAD_CREDENTIALS = "手机号或密码不正确。"
EXPIRED = "登录已过期，请重新登录。"
# Three words and four digits, as accounts.js makes them.
GENERATED = re.compile(r"^[a-z]+-[a-z]+-[a-z]+-\d{4}$")
# Refusals these tests provoke on purpose are the browser logging a status, not page faults.
EXPECTED_REFUSAL = re.compile(
    r"^Failed to load resource: the server responded with a status of (400|401|403) "
)
ROLES_JS = Path(__file__).resolve().parents[2] / "frontend_static" / "js" / "roles.js"
# Leaders whose role may sit on a unit outside a grid leader's own grid.
LEADING_ROLES = {"admin", "committee_member", "branch_secretary", "grid_leader"}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with run_live_server(tmp_path_factory.mktemp("accounts-page"), PASSWORD) as server:
        yield server


class RefusalsExpected(Problems):
    def console(self, message: ConsoleMessage) -> None:
        if EXPECTED_REFUSAL.search(message.text):
            return
        super().console(message)


class Browsing:
    """Browser contexts opened by a test (one per person), watched for policy violations and
    script errors, and closed at the end."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.browser = browser
        self.server = server
        self.problems = RefusalsExpected()
        self.contexts: list[BrowserContext] = []

    def page(self, viewport: dict[str, int]) -> Page:
        phone_sized = viewport == PHONE
        context = self.browser.new_context(
            viewport=viewport,
            locale="zh-CN",
            is_mobile=phone_sized,
            has_touch=phone_sized,
            base_url=self.server.base_url,
            accept_downloads=True,
        )
        self.contexts.append(context)
        context.expose_function(
            "reportViolation", lambda text: self.problems.items.append(f"CSP violation: {text}")
        )
        context.add_init_script(REPORT_VIOLATIONS)
        page = context.new_page()
        page.on("console", self.problems.console)
        page.on("pageerror", lambda error: self.problems.items.append(f"page error: {error}"))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser: Browser, live_server: LiveServer) -> Iterator[Browsing]:
    opened = Browsing(browser, live_server)
    yield opened
    opened.close()


def _api(server: LiveServer, method: str, path: str, token: str, **kw: Any) -> httpx.Response:
    return httpx.request(
        method,
        f"{server.base_url}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kw,
    )


def _login(server: LiveServer, phone: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/api/v1/auth/login",
        json={"phone": phone, "password": password},
        timeout=10,
    )


def _leaders_grid(server: LiveServer) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The demo grid leader (from their sign-in) and every member of their grid with roles."""
    login = server.sign_in(server.phones["grid_leader"])
    token = login["access_token"]
    items = _api(server, "GET", "/api/v1/members", token, params={"limit": 500}).json()["items"]
    members = [_api(server, "GET", f"/api/v1/members/{m['id']}", token).json() for m in items]
    return login["member"], members


def _unique_by_name(members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Members whose name finds only themselves in the leader's grid."""
    names = [m["name"] for m in members]
    return [m for m in members if sum(m["name"] in other for other in names) == 1]


def _screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def _fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"page scrolls sideways: {scroll_width}px wide"


def _to_accounts(page: Page, phone: str, password: str) -> None:
    """Sign in, then 我的 -> 账号管理."""
    page.goto("/")
    sign_in_form(page, phone, password)
    page.wait_for_url("**/me.html")
    page.get_by_role("link", name="账号管理").click()
    page.wait_for_url("**/accounts.html")
    expect(page.get_by_role("heading", name="账号管理")).to_be_visible()


def _find(page: Page, name: str) -> Locator:
    """Search the members by name; the one row of that name."""
    page.get_by_label("姓名或手机号").fill(name)
    page.get_by_role("button", name="查找").click()
    exact = re.compile(f"^{re.escape(name)}$")
    row = page.locator("#member-table tbody tr").filter(
        has=page.locator("td.cell-name", has_text=exact)
    )
    expect(row).to_have_count(1)
    return row


def _ask_reset(page: Page, row: Locator, name: str) -> None:
    row.get_by_role("button", name="重置密码").click()
    expect(page.get_by_role("heading", name=f"为 {name} 设置临时密码")).to_be_visible()


def _account_row(page: Page, name: str) -> Locator:
    return page.locator("#account-table tbody tr").filter(has_text=name)


def test_a_grid_leader_gives_a_member_a_temporary_password_that_must_be_changed(
    browsing: Browsing, live_server: LiveServer
) -> None:
    leader, members = _leaders_grid(live_server)
    target = next(
        m
        for m in _unique_by_name(members)
        if not m["roles"] and m["status"] == "active" and m["id"] != leader["id"]
    )
    page = browsing.page(PHONE)
    _to_accounts(page, live_server.phones["grid_leader"], PASSWORD)
    # A grid leader manages members but not partner units.
    expect(page.get_by_role("heading", name="成员密码")).to_be_visible()
    expect(page.get_by_role("heading", name="共建单位联系人")).to_be_hidden()

    row = _find(page, target["name"])
    _ask_reset(page, row, target["name"])
    page.get_by_role("button", name="确定设置临时密码").click()
    secret = page.locator("#reset-secret")
    expect(secret).to_have_text(GENERATED)
    temporary = secret.inner_text()
    expect(page.get_by_text(TELL_MEMBER)).to_be_visible()
    _fits(page, PHONE["width"])
    _screenshot(page, "accounts-reset-360.png")
    # Shown once: closing forgets it.
    page.get_by_role("button", name="我已记下，关闭").click()
    expect(page.locator("#reset")).to_be_hidden()
    assert temporary not in page.content()
    # The member's old password no longer works.
    assert _login(live_server, target["phone"], PASSWORD).status_code == 401

    # The member, on their own phone.
    member_page = browsing.page(PHONE)
    member_page.goto("/")
    sign_in_form(member_page, target["phone"], temporary)
    member_page.wait_for_url("**/password.html")
    expect(member_page.get_by_text(TEMPORARY_NOTICE)).to_be_visible()
    member_page.get_by_label("当前密码").fill(temporary)
    member_page.get_by_label("新密码", exact=True).fill(NEW_PASSWORD)
    member_page.get_by_label("再次输入新密码").fill(NEW_PASSWORD)
    member_page.get_by_role("button", name="确认修改").click()
    member_page.wait_for_url("**/me.html")
    expect(member_page.get_by_role("status")).to_contain_text("密码已修改")
    expect(member_page.locator("#name")).to_have_text(target["name"])
    # Their own password now; the temporary one is gone.
    assert _login(live_server, target["phone"], temporary).status_code == 401
    assert (
        _login(live_server, target["phone"], NEW_PASSWORD).json()["password_change_required"]
        is False
    )
    assert browsing.problems.items == []


def test_a_grid_leader_is_refused_members_their_authority_does_not_cover(
    browsing: Browsing, live_server: LiveServer
) -> None:
    leader, members = _leaders_grid(live_server)
    leader_units = {r["org_unit_id"] for r in leader["roles"]}
    # A leader living in this grid whose own role sits on another unit (a peer grid).
    peer = next(
        m
        for m in _unique_by_name(members)
        if any(
            r["role"] in LEADING_ROLES and r["org_unit_id"] not in leader_units for r in m["roles"]
        )
    )
    covered = [
        m
        for m in _unique_by_name(members)
        if not m["roles"] and m["status"] == "active" and m["id"] != leader["id"]
    ][-1]
    page = browsing.page(PC)
    _to_accounts(page, live_server.phones["grid_leader"], PASSWORD)
    # On a PC the members are a table with its column heads.
    expect(page.get_by_role("columnheader", name="所在单位")).to_be_visible()
    expect(page.locator("#member-table tbody tr").first).to_be_visible()
    _fits(page, PC["width"])
    _screenshot(page, "accounts-members-1366.png")
    # A page at a time: the rest of the grid on asking.
    expect(page.locator("#member-table tbody tr")).to_have_count(20)
    page.get_by_role("button", name="显示更多").click()
    expect(page.locator("#member-table tbody tr")).to_have_count(len(members))
    expect(page.get_by_role("button", name="显示更多")).to_be_hidden()
    expect(page.locator("#search-status")).to_have_text(f"共 {len(members)} 人")

    # A peer leader who lives in this grid: their role is beyond this leader's authority.
    row = _find(page, peer["name"])
    _ask_reset(page, row, peer["name"])
    page.get_by_label("自己输入临时密码").check()
    page.get_by_label("临时密码", exact=True).fill(TYPED_TEMPORARY)
    page.get_by_role("button", name="确定设置临时密码").click()
    expect(page.locator("#reset-error")).to_have_text(NOT_COVERED)
    expect(page.locator("#reset-done")).to_be_hidden()
    _screenshot(page, "accounts-refused-1366.png")
    page.get_by_role("button", name="取消").click()

    # A member this leader covers, with a password the policy refuses: said by the field.
    row = _find(page, covered["name"])
    _ask_reset(page, row, covered["name"])
    page.get_by_label("自己输入临时密码").check()
    field = page.get_by_label("临时密码", exact=True)
    field.fill(WEAK_PASSWORD)
    page.get_by_role("button", name="确定设置临时密码").click()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reset-password-error")).to_contain_text("密码")
    expect(page.locator("#reset-done")).to_be_hidden()

    # Nothing changed: each still signs in with their own password, none must change it, and
    # the leader's sign-in goes on.
    for person in (peer, covered):
        login = _login(live_server, person["phone"], PASSWORD)
        assert login.status_code == 200, (person["name"], login.text)
        assert login.json()["password_change_required"] is False
    page.get_by_role("link", name="返回“我的”").click()
    page.wait_for_url("**/me.html")
    expect(page.locator("#name")).to_have_text(leader["name"])
    assert browsing.problems.items == []


def test_committee_staff_open_disable_and_enable_a_partner_contacts_account(
    browsing: Browsing, live_server: LiveServer
) -> None:
    admin = live_server.sign_in(live_server.phones["admin"])["access_token"]
    units = _api(live_server, "GET", "/api/v1/partner-units", admin).json()["items"]
    unit = units[1]
    page = browsing.page(PC)
    _to_accounts(page, live_server.phones["admin"], PASSWORD)
    expect(page.get_by_role("heading", name="共建单位联系人")).to_be_visible()
    # Oneself: one's own password is changed with the current one, never here.
    me = _api(live_server, "GET", "/api/v1/me", admin).json()
    row = _find(page, me["name"])
    _ask_reset(page, row, me["name"])
    page.get_by_role("button", name="确定设置临时密码").click()
    expect(page.locator("#reset-error")).to_have_text(NOT_ONESELF)
    expect(page.locator("#reset-done")).to_be_hidden()
    page.get_by_role("button", name="取消").click()
    assert _api(live_server, "GET", "/api/v1/me", admin).status_code == 200

    page.get_by_label("共建单位", exact=True).select_option(label=unit["name"])
    expect(page.get_by_text("该单位还没有联系人账号。")).to_be_visible()

    page.get_by_label("联系人姓名").fill(CONTACT_NAME)
    page.get_by_label("联系人手机号（登录用）").fill(CONTACT_PHONE)
    # A password of one's own that the policy refuses is said by its field.
    page.get_by_label("自己输入初始密码").check()
    page.get_by_label("初始密码", exact=True).fill(WEAK_PASSWORD)
    page.get_by_role("button", name="开设账号").click()
    expect(page.get_by_label("初始密码", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#contact-password-error")).to_contain_text("密码")
    expect(page.locator("#account-table")).to_be_hidden()
    # Generated instead.
    page.get_by_label("自己输入初始密码").uncheck()
    page.get_by_role("button", name="开设账号").click()
    secret = page.locator("#account-secret")
    expect(secret).to_have_text(GENERATED)
    password = secret.inner_text()
    row = _account_row(page, CONTACT_NAME)
    expect(row).to_contain_text("正常")
    _fits(page, PC["width"])
    _screenshot(page, "accounts-partners-1366.png")
    page.get_by_role("button", name="我已记下，关闭").click()
    assert password not in page.content()

    # The contact signs in on the partner page.
    contact = browsing.page(PC)
    contact.goto("/partner.html")
    contact.get_by_label("手机号").fill(CONTACT_PHONE)
    contact.get_by_label("密码", exact=True).fill(password)
    contact.get_by_role("button", name="登录", exact=True).click()
    expect(contact.locator("#unit-name")).to_have_text(unit["name"])

    # Disabled: the contact's next step returns them to sign-in, and signing in is refused
    # in the words of a wrong password.
    row.get_by_role("button", name="停用").click()
    expect(row).to_contain_text("已停用")
    expect(page.get_by_role("status").filter(has_text="已停用")).to_be_visible()
    contact.get_by_role("button", name="下载本季度记录（Excel）").click()
    expect(contact.locator("#sign-in-error")).to_have_text(EXPIRED)
    contact.get_by_label("手机号").fill(CONTACT_PHONE)
    contact.get_by_label("密码", exact=True).fill(password)
    contact.get_by_role("button", name="登录", exact=True).click()
    expect(contact.locator("#sign-in-error")).to_have_text(BAD_CREDENTIALS)
    contact.get_by_label("密码", exact=True).fill(password + "x")
    contact.get_by_role("button", name="登录", exact=True).click()
    expect(contact.locator("#sign-in-error")).to_have_text(BAD_CREDENTIALS)

    # Enabled again: the contact signs in.
    row.get_by_role("button", name="启用").click()
    expect(row).to_contain_text("正常")
    contact.get_by_label("密码", exact=True).fill(password)
    contact.get_by_role("button", name="登录", exact=True).click()
    expect(contact.locator("#unit-name")).to_have_text(unit["name"])

    # The same page on a phone: rows become cards, nothing scrolls sideways.
    page.set_viewport_size(PHONE)
    expect(row.get_by_role("button", name="停用")).to_be_visible()
    _fits(page, PHONE["width"])
    _screenshot(page, "accounts-partners-360.png")
    assert browsing.problems.items == []


def test_members_without_authority_are_not_offered_the_page(
    browsing: Browsing, live_server: LiveServer
) -> None:
    page = browsing.page(PHONE)
    page.goto("/")
    sign_in_form(page, live_server.phones["building_steward"], PASSWORD)
    page.wait_for_url("**/me.html")
    expect(page.locator("#profile")).to_be_visible()
    expect(page.get_by_role("link", name="账号管理")).to_have_count(0)
    # Opened by its address, the page says so and offers nothing.
    page.goto("/accounts.html")
    expect(page.locator("#no-authority")).to_be_visible()
    expect(page.get_by_role("button", name="重置密码")).to_have_count(0)
    expect(page.get_by_role("heading", name="共建单位联系人")).to_be_hidden()
    assert browsing.problems.items == []


def _js_list(name: str) -> set[str]:
    found = re.search(rf"export const {name} = \[(.*?)\];", ROLES_JS.read_text(), re.S)
    assert found, f"{name} not in {ROLES_JS}"
    return set(re.findall(r'"([a-z_]+)"', found.group(1)))


def test_the_pages_role_lists_are_the_servers_capabilities() -> None:
    """What the pages offer by role is what the server allows (auth/permissions.py)."""
    for name, capability in (
        ("MANAGE_MEMBERS", Capability.MANAGE_MEMBERS),
        ("MANAGE_PARTNERS", Capability.MANAGE_PARTNERS),
    ):
        holders = {role.value for role, caps in ROLE_CAPABILITIES.items() if capability in caps}
        assert _js_list(name) == holders, name
