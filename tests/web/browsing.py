"""What the page tests share: the phone's size, where screenshots go, and the steps every
journey takes (signing in, checking the page fits the phone)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
# WeChat's own browser on Android: where most members open a scanned code.
WECHAT_USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 12; V2134A Build/SP1A.210812.003; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 "
    "MMWEBSDK/20230202 MMWEBID/5981 MicroMessenger/8.0.33.2320(0x28002151) WeChat/arm64 "
    "Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / name, full_page=True)


def assert_fits_phone_width(page: Page) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"], f"page scrolls sideways: {scroll_width}px wide"


def stored_token(page: Page) -> str | None:
    return page.evaluate("localStorage.getItem('gridpoints.token')")


def sign_in_form(page: Page, phone: str, password: str) -> None:
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
