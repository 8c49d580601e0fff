"""The service page in a real headless Chromium at phone size with WeChat's user agent: an
ordinary 6 MB phone photo (larger than the server takes as it is) is shrunk on the phone,
accepted, and shown to the leader on the review page (thumbnail, tap to enlarge); an upload
that fails is said to have failed, never reported as sent with a photo; a form whose answer
was lost is sent again under the same client_id and stored once. Served by a real
`gridpoints serve` with the demo community."""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from PIL import ExifTags, Image
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.live_server import LiveServer, run_live_server
from tests.web.browsing import PHONE, assert_fits_phone_width, screenshot, sign_in_form

pytestmark = pytest.mark.browser
PASSWORD = "service-photos-pass-1"
WECHAT = (
    "Mozilla/5.0 (Linux; Android 12; SM-G9910 Build/SP1A.210812.016; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5127 "
    "MMWEBSDK/20230604 MMWEBID/6170 MicroMessenger/8.0.38.2400(0x28002652) WeChat/arm64 "
    "Weixin NetType/4G Language/zh_CN ABI/arm64"
)
SENT_WITH_PHOTO = "已提交（含照片），等待网格长审核。"


@functools.cache
def phone_photo() -> bytes:
    """A 4000×3000 camera JPEG of about 6.5 MB (noise keeps it from compressing), taken with
    the phone held upright: the pixels lie sideways and EXIF orientation 6 turns them."""
    width, height = 4000, 3000
    noise = Image.merge("RGB", [Image.effect_noise((width, height), s) for s in (40, 50, 60)])
    picture = Image.blend(
        Image.linear_gradient("L").resize((width, height)).convert("RGB"), noise, 0.5
    )
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif.tobytes())
    data = out.getvalue()
    assert 5_500_000 < len(data) < 8_000_000, len(data)
    return data


@dataclass
class Site:
    server: LiveServer
    leader_phone: str
    leader: dict[str, str]
    member_phone: str

    def records(self, description: str) -> list[dict]:
        listed = httpx.get(
            f"{self.server.base_url}/api/v1/service-records",
            params={"limit": 200},
            headers=self.leader,
            timeout=10,
        )
        assert listed.status_code == 200, listed.text
        return [r for r in listed.json()["items"] if r["description"] == description]

    def photo(self, record_id: int) -> httpx.Response:
        return httpx.get(
            f"{self.server.base_url}/api/v1/service-records/{record_id}/photo",
            headers=self.leader,
            timeout=10,
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with run_live_server(tmp_path_factory.mktemp("service-photos"), PASSWORD) as server:
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
        yield Site(server, leader_phone, leader, member["phone"])


@pytest.fixture
def phone(browser: Browser, site: Site) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT,
        base_url=site.server.base_url,
        timezone_id="Asia/Shanghai",
    )
    yield context
    context.close()


def _page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda error: pytest.fail(f"script error: {error}"))
    return page


def _fill_service(page: Page, site: Site, description: str) -> None:
    page.goto("/index.html?next=service.html")
    sign_in_form(page, site.member_phone, PASSWORD)
    page.wait_for_url("**/service.html")
    page.get_by_label("服务类别").select_option("resident_service")
    page.get_by_label("服务时长（小时）").fill("1.5")
    page.get_by_label("做了什么").fill(description)


def test_a_6_mb_phone_photo_is_accepted_and_shown_to_the_leader(
    browser: Browser, phone: BrowserContext, site: Site
) -> None:
    photo = phone_photo()
    assert len(photo) > 5 * 1024 * 1024, "larger than the server takes as it is"
    member = _page(phone)
    _fill_service(member, site, "给楼道换灯泡并拍照留档")
    member.get_by_label("照片（可不填）").set_input_files(
        {"name": "IMG_20261130_101500.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    with member.expect_request("**/photo") as sent:
        member.get_by_role("button", name="提交").click()
    expect(member.locator("#done")).to_have_text(SENT_WITH_PHOTO, timeout=60_000)
    assert len(sent.value.post_data_buffer or b"") < 1_500_000, "the phone shrank the photo"
    assert_fits_phone_width(member)
    screenshot(member, "service-photo-360.png")

    (record,) = site.records("给楼道换灯泡并拍照留档")
    assert record["has_photo"] is True
    kept = site.photo(record["id"])
    assert kept.status_code == 200 and kept.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(kept.content)) as stored:
        # Upright (the phone applied EXIF orientation 6) and at most 1600 px on its long side.
        assert stored.size == (1200, 1600)

    leader_context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT,
        base_url=site.server.base_url,
    )
    leader = _page(leader_context)
    leader.goto("/index.html?next=review.html")
    sign_in_form(leader, site.leader_phone, PASSWORD)
    leader.wait_for_url("**/review.html")
    card = leader.locator(f"[data-service='{record['id']}']")
    thumb = card.get_by_role("button", name="服务照片（点按放大）")
    expect(thumb.locator("img")).to_be_visible(timeout=15_000)
    loaded = thumb.locator("img").evaluate("img => img.complete && img.naturalWidth")
    assert loaded == 1200
    assert_fits_phone_width(leader)
    screenshot(leader, "review-service-photo-360.png")
    thumb.click()
    large = leader.get_by_role("dialog", name="服务照片")
    expect(large.locator("img")).to_be_visible()
    box = large.locator("img").bounding_box()
    assert box is not None and box["width"] > 300, "enlarged to the phone's width"
    screenshot(leader, "review-service-photo-large-360.png")
    large.get_by_role("button", name="关闭").click()
    expect(large).to_have_count(0)
    card.get_by_role("button", name="通过").click()
    expect(card).to_contain_text("已通过")
    leader_context.close()


def test_a_failed_upload_is_reported_as_failed_and_can_be_sent_again(
    phone: BrowserContext, site: Site
) -> None:
    member = _page(phone)
    _fill_service(member, site, "陪老人去医院复诊")
    member.get_by_label("照片（可不填）").set_input_files(
        {"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": phone_photo()}
    )
    # The signal drops while the photo goes up.
    member.route(
        "**/api/v1/service-records/*/photo", lambda route: route.abort("internetdisconnected")
    )
    member.get_by_role("button", name="提交").click()
    problem = member.locator("#photo-error")
    expect(problem).to_contain_text("服务记录已提交，但照片没有传上去", timeout=60_000)
    expect(member.locator("#done")).to_be_hidden()
    assert "含照片" not in member.locator("body").inner_text()
    (record,) = site.records("陪老人去医院复诊")
    assert record["has_photo"] is False
    screenshot(member, "service-photo-failed-360.png")

    member.unroute("**/api/v1/service-records/*/photo")
    member.get_by_role("button", name="重新上传照片").click()
    expect(member.locator("#done")).to_have_text(SENT_WITH_PHOTO, timeout=60_000)
    expect(member.locator("#photo-problem")).to_be_hidden()
    (record,) = site.records("陪老人去医院复诊")
    assert record["has_photo"] is True


def test_a_refused_photo_is_reported_with_the_servers_reason(
    phone: BrowserContext, site: Site
) -> None:
    member = _page(phone)
    _fill_service(member, site, "清理小区绿化带垃圾")
    member.get_by_label("照片（可不填）").set_input_files(
        {"name": "not-a-photo.jpg", "mimeType": "image/jpeg", "buffer": b"<html>no photo</html>"}
    )
    member.get_by_role("button", name="提交").click()
    problem = member.locator("#photo-error")
    expect(problem).to_contain_text("照片没有传上去", timeout=30_000)
    expect(problem).to_contain_text("只接受 JPEG、PNG 或 WebP 照片")
    expect(member.locator("#done")).to_be_hidden()


def test_a_form_whose_answer_was_lost_is_sent_again_and_stored_once(
    phone: BrowserContext, site: Site
) -> None:
    member = _page(phone)
    _fill_service(member, site, "帮邻居搬运重物上楼")
    lost = []

    def lose_the_answer(route: Route) -> None:
        if route.request.method != "POST" or lost:
            route.continue_()
            return
        route.fetch()  # the server stores it ...
        lost.append(route.request.post_data_json)
        route.abort("connectionreset")  # ... and the answer never reaches the phone

    member.route("**/api/v1/service-records", lose_the_answer)
    member.get_by_role("button", name="提交").click()
    expect(member.locator("#error")).to_contain_text("网络不通", timeout=30_000)
    assert len(site.records("帮邻居搬运重物上楼")) == 1
    with member.expect_response("**/api/v1/service-records") as again:
        member.get_by_role("button", name="提交").click()
    expect(member.locator("#done")).to_have_text("已提交，等待网格长审核。")
    assert again.value.status == 200
    assert again.value.request.post_data_json == lost[0]
    (record,) = site.records("帮邻居搬运重物上楼")
    assert record["client_id"] == lost[0]["client_id"]


def test_the_leader_sees_a_likely_duplicate_flagged_on_the_review_page(
    phone: BrowserContext, site: Site
) -> None:
    member = {"Authorization": "Bearer " + site.server.sign_in(site.member_phone)["access_token"]}
    deed = {
        "category": "policy_publicity",
        "hours": 2,
        "description": "入户宣传垃圾分类新规",
        "served_on": "2026-11-30T03:00:00+00:00",
    }
    ids = []
    for client_id in (
        "0b6f1c2e-7d1a-4c3e-9f10-3a1b2c4d5e61",
        "5d2e8f40-1c3b-4a5d-8e6f-7a8b9c0d1e22",
    ):
        made = httpx.post(
            f"{site.server.base_url}/api/v1/service-records",
            json={**deed, "client_id": client_id},
            headers=member,
            timeout=10,
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])

    leader = _page(phone)
    leader.goto("/index.html?next=review.html")
    sign_in_form(leader, site.leader_phone, PASSWORD)
    leader.wait_for_url("**/review.html")
    first = leader.locator(f"[data-service='{ids[0]}']")
    copy = leader.locator(f"[data-service='{ids[1]}']")
    expect(copy).to_contain_text("可能重复登记：同一天已有类别、时长和内容都相同的服务记录")
    expect(first).to_be_visible()
    expect(first).not_to_contain_text("可能重复登记")
    assert_fits_phone_width(leader)
    screenshot(leader, "review-service-duplicate-360.png")
