"""The partner unit's page in a real headless Chromium at PC size: its contact signs in with
the account the community made and downloads the unit's quarterly record as a workbook."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import ARTIFACTS

pytestmark = pytest.mark.browser
PASSWORD = "partner-page-pass-1"
CONTACT_PHONE = "13600000077"
CONTACT_PASSWORD = "contact-pass-123"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict]]:
    with run_live_server(tmp_path_factory.mktemp("partner-page"), PASSWORD) as server:
        admin = {
            "Authorization": f"Bearer {server.sign_in(server.phones['admin'])['access_token']}"
        }
        partner = httpx.get(
            f"{server.base_url}/api/v1/partner-units", headers=admin, timeout=10
        ).json()["items"][0]
        made = httpx.post(
            f"{server.base_url}/api/v1/partner-units/{partner['id']}/accounts",
            json={"name": "单位联系人", "phone": CONTACT_PHONE, "password": CONTACT_PASSWORD},
            headers=admin,
            timeout=10,
        )
        assert made.status_code == 201, made.text
        yield server, partner


@pytest.fixture
def page(browser: Browser, server) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800},
        locale="zh-CN",
        base_url=server[0].base_url,
        accept_downloads=True,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], "uncaught script errors on the page"


def test_a_contact_signs_in_and_downloads_the_units_record(page: Page, server) -> None:
    _, partner = server
    page.goto("/partner.html")
    page.fill("#phone", CONTACT_PHONE)
    page.fill("#password", "wrong-password-1")
    page.click("#sign-in-button")
    expect(page.locator("#sign-in-error")).to_have_text("手机号或密码不正确。")

    page.fill("#password", CONTACT_PASSWORD)
    page.click("#sign-in-button")
    expect(page.locator("#unit-name")).to_have_text(partner["name"])
    with page.expect_download() as download:
        page.click("#download")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(path).read_bytes())).active
    text = " ".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert partner["name"] in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=Path(ARTIFACTS) / "partner-record.png", full_page=True)
