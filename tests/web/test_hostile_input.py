"""Odd input is refused at the edge, once for every route: a NUL byte anywhere, JSON nested
without end, nested TOML, datetimes without a UTC offset, half a location, numbers sent as
strings, names with nothing visible, dates outside 2000–2100. Each is a 400 problem naming
the field, on both engines; never a 500, and never silently read another way."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from gridpoints.activities.tables import Activity
from gridpoints.checkins.tables import CheckIn
from gridpoints.clock import utcnow
from gridpoints.service_records.tables import ServiceRecord
from tests.checkins.scans import SITE, current_code, scan_body
from tests.conftest import bearer
from tests.world import PASSWORD

PROBLEM = "application/problem+json"


def _refused(response, field: str | None, status: int = 400) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    if field is not None:
        named = [e["field"] for e in body.get("errors", [])]
        assert field in named, body
    return body


def _activity_body(world, **fields) -> dict:
    now = utcnow()
    return {
        "org_unit_id": world.units["A"],
        "title": "楼道清理",
        "category": "corridor_facilities",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "radius_m": 150,
        **SITE,
        **fields,
    }


async def _activity(client, world) -> dict:
    created = await client.post(
        "/api/v1/activities", json=_activity_body(world), headers=bearer(client, world.leader_a)
    )
    assert created.status_code == 201, created.text
    return created.json()


# --- NUL bytes ---------------------------------------------------------------------------------


async def test_a_nul_byte_in_the_login_phone_is_a_400_naming_the_phone(client, world):
    # Reported: a 500 on PostgreSQL, before sign-in.
    response = await client.post("/api/v1/auth/login", json={"phone": "138\u0000", "password": "x"})
    body = _refused(response, "phone")
    assert "phone" in body["detail"]


async def test_a_nul_byte_in_the_partner_login_is_a_400_naming_the_field(client, world):
    response = await client.post(
        "/api/v1/auth/partner-login", json={"phone": "13800000000", "password": "pa\u0000ss"}
    )
    _refused(response, "password")


async def test_a_nul_byte_in_a_nested_json_string_names_its_path(client, world):
    response = await client.post(
        "/api/v1/checkins/batch",
        json={"items": [{"client_id": str(uuid.uuid4()), "activity_id": 1, "token": "a\u0000"}]},
        headers=bearer(client, world.member_a),
    )
    _refused(response, "items.0.token")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        pytest.param("/api/v1/members", {"q": "张\u0000"}, "q", id="query-q"),
        pytest.param("/api/v1/members", {"category": "\u0000"}, "category", id="query-enum"),
        pytest.param("/api/v1/audit-log", {"action\u0000": "x"}, "action\u0000", id="query-key"),
    ],
)
async def test_a_nul_byte_in_a_query_parameter_is_a_400_naming_it(
    client, world, path, params, field
):
    response = await client.get(path, params=params, headers=bearer(client, world.admin))
    _refused(response, field)


async def test_a_nul_byte_in_a_path_id_is_a_400_naming_it(client, world):
    response = await client.get(
        f"/api/v1/members/{world.member_a}%00", headers=bearer(client, world.admin)
    )
    _refused(response, "member_id")


async def test_a_nul_byte_in_a_multipart_text_field_is_a_400_naming_it(client, world):
    response = await client.post(
        "/api/v1/members/import",
        data={"org_unit_id": f"{world.units['A']}\u0000"},
        files={"file": ("members.csv", "姓名,手机号\n".encode(), "text/csv")},
        headers=bearer(client, world.admin),
    )
    _refused(response, "org_unit_id")


async def test_a_nul_byte_in_an_upload_file_name_is_a_400(client, world):
    # Built by hand: httpx writes a NUL in a file name as `%00`, a browser need not.
    boundary = "gridpoints-boundary"
    content = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="org_unit_id"\r\n\r\n'
        f"{world.units['A']}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="mem\x00bers.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
        "姓名,手机号\n\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = await client.post(
        "/api/v1/members/import",
        content=content,
        headers={
            **bearer(client, world.admin),
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    _refused(response, "file")


async def test_a_nul_byte_in_a_form_encoded_body_is_a_400_naming_it(client, world):
    response = await client.post(
        "/api/v1/auth/login",
        content=b"phone=138%00&password=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 or response.status_code == 415, response.text
    assert response.headers["content-type"].startswith(PROBLEM)


async def test_a_nul_byte_in_a_static_file_name_is_not_found(client):
    response = await client.get("/index.html%00.png")
    assert response.status_code == 404, response.text


# --- nesting -----------------------------------------------------------------------------------


async def test_json_nested_ten_thousand_deep_is_a_400(client, world):
    content = b"[" * 10_000 + b"]" * 10_000
    response = await client.post(
        "/api/v1/members",
        content=content,
        headers={**bearer(client, world.admin), "content-type": "application/json"},
    )
    _refused(response, "body")


async def test_an_object_nested_deep_inside_a_field_is_a_400(client, world):
    deep = "x"
    for _ in range(200):
        deep = {"a": deep}
    response = await client.post(
        "/api/v1/members",
        json={"name": deep, "phone": "13800000000"},
        headers=bearer(client, world.admin),
    )
    _refused(response, "body")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("id = " + "[" * 100_000 + "]" * 100_000, id="arrays"),
        pytest.param("id = " + "{a = " * 20_000 + "1" + "}" * 20_000, id="inline-tables"),
        pytest.param("".join(f"[{'a.' * 2_000}b]\n" for _ in range(1)), id="dotted-keys"),
    ],
)
async def test_nested_toml_in_a_dry_run_is_a_400(client, world, content):
    response = await client.post(
        "/api/v1/rulesets/dry-run",
        json={"period": "2026Q4", "org_unit_id": world.units["C"], "content": content},
        headers=bearer(client, world.admin),
    )
    _refused(response, None)
    assert response.json()["errors"], response.text


# --- datetimes and dates -----------------------------------------------------------------------


async def test_a_service_date_without_an_offset_is_a_400_naming_it(client, world):
    # Reported: a 500.
    response = await client.post(
        "/api/v1/service-records",
        json={
            "category": "resident_service",
            "hours": 1.5,
            "description": "帮独居老人买菜",
            "served_on": "2026-11-30T09:00:00",
        },
        headers=bearer(client, world.member_a),
    )
    _refused(response, "served_on")
    assert await ServiceRecord.count() == 0


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
async def test_an_activity_time_without_an_offset_is_refused_not_read_as_utc(client, world, field):
    # Reported: a naive activity time was silently read as UTC, eight hours off.
    naive = (utcnow() + timedelta(hours=1 if field == "starts_at" else 3)).replace(tzinfo=None)
    response = await client.post(
        "/api/v1/activities",
        json=_activity_body(world, **{field: naive.isoformat()}),
        headers=bearer(client, world.leader_a),
    )
    _refused(response, field)
    assert await Activity.count() == 0


async def test_an_activity_patch_time_without_an_offset_is_refused(client, world):
    activity = await _activity(client, world)
    response = await client.patch(
        f"/api/v1/activities/{activity['id']}",
        json={"starts_at": "2026-11-30T09:00:00"},
        headers=bearer(client, world.leader_a),
    )
    _refused(response, "starts_at")


async def test_check_in_and_check_out_times_without_an_offset_are_refused(client, world):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    member = bearer(client, world.member_a)
    naive = utcnow().replace(tzinfo=None).isoformat()
    scan = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], token, at=naive), headers=member
    )
    _refused(scan, "at")
    done = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], token), headers=member
    )
    assert done.status_code == 201, done.text
    out = await client.post(
        f"/api/v1/checkins/{done.json()['id']}/checkout", json={"at": naive}, headers=member
    )
    _refused(out, "at")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"starts_at": "1999-12-31T23:00:00+00:00"}, "starts_at", id="before-2000"),
        pytest.param({"ends_at": "2101-01-02T00:00:00+08:00"}, "ends_at", id="after-2100"),
    ],
)
async def test_activity_times_outside_2000_to_2100_are_refused(client, world, fields, field):
    response = await client.post(
        "/api/v1/activities",
        json=_activity_body(world, **fields),
        headers=bearer(client, world.leader_a),
    )
    _refused(response, field)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"signed_on": "1999-12-31"}, "signed_on", id="signed-before-2000"),
        pytest.param({"ends_on": "2101-01-01"}, "ends_on", id="ends-after-2100"),
    ],
)
async def test_dates_outside_2000_to_2100_are_refused(client, world, fields, field):
    response = await client.post(
        f"/api/v1/partner-units/{world.partner_b}/pairings",
        json={
            "community_id": world.units["C"],
            "agreement": "共建协议",
            "signed_on": "2026-03-01",
            **fields,
        },
        headers=bearer(client, world.admin),
    )
    _refused(response, field)


# --- batches -----------------------------------------------------------------------------------


async def test_a_batch_with_a_naive_time_is_refused_whole_before_anything_is_stored(client, world):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    naive = utcnow().replace(tzinfo=None).isoformat()
    response = await client.post(
        "/api/v1/checkins/batch",
        json={
            "items": [scan_body(activity["id"], token), scan_body(activity["id"], token, at=naive)]
        },
        headers=bearer(client, world.member_a),
    )
    _refused(response, "items.1.at")
    assert await CheckIn.count() == 0


async def test_a_batch_item_that_fails_gets_its_own_status_and_the_others_stand(client, world):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    good, duplicate = scan_body(activity["id"], token), scan_body(activity["id"], token)
    duplicate["client_id"] = good["client_id"]
    duplicate["accuracy_m"] = 99  # the same client_id with another body
    missing = scan_body(2**31 - 1, token)
    response = await client.post(
        "/api/v1/checkins/batch",
        json={"items": [good, duplicate, missing]},
        headers=bearer(client, world.member_a),
    )
    assert response.status_code == 200, response.text
    statuses = [item["status"] for item in response.json()["items"]]
    assert statuses[0] == 201 and statuses[1] in (200, 409) and statuses[2] == 404, statuses
    assert await CheckIn.count() == 1


# --- locations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("drop", "field"),
    [pytest.param("lng", "lng", id="lat-only"), pytest.param("lat", "lat", id="lng-only")],
)
async def test_a_check_in_with_half_a_location_is_refused(client, world, drop, field):
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    scan = scan_body(activity["id"], token)
    del scan[drop]
    response = await client.post(
        "/api/v1/checkins", json=scan, headers=bearer(client, world.member_a)
    )
    _refused(response, field)
    assert await CheckIn.count() == 0


async def test_a_stored_half_location_does_not_break_later_check_ins(client, world):
    # Reported: once one was stored, every later check-in of that member was a 500.
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])
    member = bearer(client, world.member_a)
    first = await client.post(
        "/api/v1/checkins", json=scan_body(activity["id"], token), headers=member
    )
    assert first.status_code == 201, first.text
    await CheckIn.update({CheckIn.lng: None}).where(CheckIn.id == first.json()["id"])
    other = await _activity(client, world)
    later = await client.post(
        "/api/v1/checkins",
        json=scan_body(other["id"], await current_code(client, world, other["id"])),
        headers=member,
    )
    assert later.status_code == 201, later.text


async def test_an_activity_patch_moving_only_one_coordinate_is_refused(client, world):
    activity = await _activity(client, world)
    response = await client.patch(
        f"/api/v1/activities/{activity['id']}",
        json={"lat": 31.0},
        headers=bearer(client, world.leader_a),
    )
    _refused(response, "lng")


@pytest.mark.parametrize(
    ("name", "literal", "field"),
    [
        pytest.param("lat", "90.5", "lat", id="lat-too-high"),
        pytest.param("lng", "-180.01", "lng", id="lng-too-low"),
        pytest.param("lat", "1e400", "body", id="lat-overflows-to-infinity"),
        pytest.param("lat", "NaN", "body", id="nan-is-not-json"),
    ],
)
async def test_coordinates_out_of_range_are_refused(client, world, name, literal, field):
    body = json.dumps(_activity_body(world, **{name: "LITERAL"}))
    response = await client.post(
        "/api/v1/activities",
        content=body.replace('"LITERAL"', literal).encode(),
        headers={**bearer(client, world.leader_a), "content-type": "application/json"},
    )
    _refused(response, field)
    assert await Activity.count() == 0


# --- numbers and names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"radius_m": "100"}, "radius_m", id="radius-as-string"),
        pytest.param({"lat": "30.27"}, "lat", id="lat-as-string"),
        pytest.param({"org_unit_id": str(0) + "1"}, "org_unit_id", id="id-as-string"),
        pytest.param({"capacity": True}, "capacity", id="bool-as-number"),
    ],
)
async def test_numbers_sent_as_strings_are_refused(client, world, fields, field):
    response = await client.post(
        "/api/v1/activities",
        json=_activity_body(world, **fields),
        headers=bearer(client, world.leader_a),
    )
    _refused(response, field)
    assert await Activity.count() == 0


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("   ", id="spaces"),
        pytest.param("\u200b\u200b", id="zero-width"),
        pytest.param("\u3000", id="ideographic-space"),
        pytest.param("\x01\x02", id="control"),
        pytest.param("张\x07三", id="control-inside"),
        pytest.param("\u202e\u2060", id="format-chars"),
    ],
)
async def test_names_with_nothing_visible_are_refused(client, world, name):
    response = await client.post(
        "/api/v1/members",
        json={
            "name": name,
            "phone": "13911110001",
            "category": "resident",
            "org_unit_id": world.units["A1-B1-U1"],
        },
        headers=bearer(client, world.admin),
    )
    _refused(response, "name")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("/api/v1/activities", {"title": " \u200b "}, "title", id="activity-title"),
        pytest.param("/api/v1/wishes", {"title": "\t"}, "title", id="wish-title"),
        pytest.param("/api/v1/org-units", {"name": "\u00a0"}, "name", id="unit-name"),
        pytest.param("/api/v1/partner-units", {"name": "\ufeff"}, "name", id="partner-name"),
    ],
)
async def test_other_names_and_titles_need_a_visible_character(client, world, path, body, field):
    full = {
        "/api/v1/activities": _activity_body(world),
        "/api/v1/wishes": {"org_unit_id": world.units["A"], "title": "修灯"},
        "/api/v1/org-units": {"parent_id": world.units["A"], "name": "新小区"},
        "/api/v1/partner-units": {
            "name": "共建单位",
            "kind": "enterprise",
            "org_unit_id": world.units["C"],
        },
    }[path]
    response = await client.post(path, json={**full, **body}, headers=bearer(client, world.admin))
    _refused(response, field)


async def test_an_ordinary_sign_in_still_works(client, world):
    response = await client.post(
        "/api/v1/auth/login", json={"phone": world.phones["admin"], "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
