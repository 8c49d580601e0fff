"""Where a check-in was made, through the API on both engines: coordinates in any datum are
compared in WGS-84, and a declared accuracy never widens the fence beyond the setting."""

from __future__ import annotations

import math
from datetime import timedelta

import prcoords
import pytest

from gridpoints.checkins.flags import EARTH_RADIUS_M, distance_m
from gridpoints.checkins.tables import CheckIn
from gridpoints.clock import utcnow
from tests.checkins.scans import current_code, scan_body
from tests.conftest import bearer

# The reported case: a venue picked on a GCJ-02 map in Shanghai and a phone's WGS-84 fix there.
VENUE_GCJ02 = {"lat": 31.228458, "lng": 121.478223, "datum": "gcj02"}
FIX_WGS84 = {"lat": 31.2304, "lng": 121.4737, "accuracy_m": 15}


async def _activity(client, world, **place) -> dict:
    now = utcnow()
    body = {
        "org_unit_id": world.units["A"],
        "title": "外滩垃圾分类宣传",
        "category": "corridor_facilities",
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "radius_m": 100,
        **place,
    }
    created = await client.post(
        "/api/v1/activities", json=body, headers=bearer(client, world.leader_a)
    )
    assert created.status_code == 201, created.text
    return created.json()


async def _check_in(client, world, activity: dict, **fix):
    token = await current_code(client, world, activity["id"])
    return await client.post(
        "/api/v1/checkins",
        json=scan_body(activity["id"], token, **fix),
        headers=bearer(client, world.member_a),
    )


async def _stored_position(checkin_id: int) -> tuple[float, float]:
    row = await CheckIn.select(CheckIn.lat, CheckIn.lng).where(CheckIn.id == checkin_id).first()
    return row["lat"], row["lng"]


async def test_a_gcj02_venue_and_a_wgs84_fix_at_the_same_spot_are_not_outside(client, world):
    activity = await _activity(client, world, **VENUE_GCJ02)
    response = await _check_in(client, world, activity, **FIX_WGS84)
    assert response.status_code == 201, response.text
    assert response.json()["flags"] == []
    assert response.json()["review"] == "accepted"


async def test_a_bd09_venue_is_compared_in_wgs84(client, world):
    bd = prcoords.wgs_bd((FIX_WGS84["lat"], FIX_WGS84["lng"]))
    activity = await _activity(client, world, lat=bd.lat, lng=bd.lon, datum="bd09")
    assert distance_m(activity["lat"], activity["lng"], FIX_WGS84["lat"], FIX_WGS84["lng"]) < 0.1
    response = await _check_in(client, world, activity, **FIX_WGS84)
    assert response.json()["flags"] == []


async def test_a_gcj02_fix_against_a_wgs84_venue_is_stored_in_wgs84(client, world):
    activity = await _activity(client, world, lat=FIX_WGS84["lat"], lng=FIX_WGS84["lng"])
    gcj = prcoords.wgs_gcj((FIX_WGS84["lat"], FIX_WGS84["lng"]))
    response = await _check_in(client, world, activity, lat=gcj.lat, lng=gcj.lon, datum="gcj02")
    assert response.status_code == 201, response.text
    assert response.json()["flags"] == []
    stored = await _stored_position(response.json()["id"])
    assert distance_m(*stored, FIX_WGS84["lat"], FIX_WGS84["lng"]) < 0.1


async def test_the_same_numbers_taken_for_wgs84_are_outside(client, world):
    """The datum matters: a GCJ-02 position sent without saying so is ~480 m off."""
    activity = await _activity(client, world, lat=FIX_WGS84["lat"], lng=FIX_WGS84["lng"])
    gcj = prcoords.wgs_gcj((FIX_WGS84["lat"], FIX_WGS84["lng"]))
    response = await _check_in(client, world, activity, lat=gcj.lat, lng=gcj.lon)
    assert response.json()["flags"] == ["outside_fence"]


async def test_a_batch_item_carries_its_datum(client, world):
    activity = await _activity(client, world, **VENUE_GCJ02)
    token = await current_code(client, world, activity["id"])
    gcj = prcoords.wgs_gcj((FIX_WGS84["lat"], FIX_WGS84["lng"]))
    items = [
        scan_body(activity["id"], token, lat=gcj.lat, lng=gcj.lon, datum="gcj02"),
    ]
    batch = await client.post(
        "/api/v1/checkins/batch", json={"items": items}, headers=bearer(client, world.member_a)
    )
    assert batch.status_code == 200, batch.text
    [item] = batch.json()["items"]
    assert item["status"] == 201 and item["checkin"]["flags"] == []


async def test_outside_china_a_gcj02_position_is_not_shifted(client, world):
    paris = {"lat": 48.8566, "lng": 2.3522}
    activity = await _activity(client, world, **paris, datum="gcj02")
    assert (activity["lat"], activity["lng"]) == (paris["lat"], paris["lng"])
    response = await _check_in(client, world, activity, **paris, datum="gcj02")
    assert response.json()["flags"] == []
    assert await _stored_position(response.json()["id"]) == (paris["lat"], paris["lng"])


@pytest.mark.parametrize("datum", ["gcj", "GCJ02", "wgs-84", ""])
async def test_an_unknown_datum_is_refused_naming_the_field(client, world, datum):
    activity = await _activity(client, world, **VENUE_GCJ02)
    response = await _check_in(client, world, activity, **FIX_WGS84, datum=datum)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "datum"
    assert "不是可选的值" in error["detail"] and "enum" not in error["detail"]
    assert await CheckIn.count() == 0


def _north_of(lat: float, lng: float, metres: float) -> dict:
    return {"lat": lat + math.degrees(metres / EARTH_RADIUS_M), "lng": lng}


async def test_a_claimed_accuracy_of_100_km_from_50_km_away_is_flagged(client, world):
    activity = await _activity(client, world, lat=FIX_WGS84["lat"], lng=FIX_WGS84["lng"])
    far = _north_of(FIX_WGS84["lat"], FIX_WGS84["lng"], 50_000)
    response = await _check_in(client, world, activity, **far, accuracy_m=100_000)
    assert response.json()["flags"] == ["imprecise_location", "outside_fence"]
    assert "定位精度不足" in response.json()["flag_labels"]
    assert response.json()["review"] == "pending"


async def test_a_65m_network_fix_inside_the_fence_is_not_flagged(client, world):
    activity = await _activity(client, world, lat=FIX_WGS84["lat"], lng=FIX_WGS84["lng"])
    near = _north_of(FIX_WGS84["lat"], FIX_WGS84["lng"], 80)
    response = await _check_in(client, world, activity, **near, accuracy_m=65)
    assert response.json()["flags"] == []


async def test_a_fix_coarser_than_the_setting_at_the_venue_is_imprecise_only(client, world):
    activity = await _activity(client, world, lat=FIX_WGS84["lat"], lng=FIX_WGS84["lng"])
    response = await _check_in(
        client, world, activity, lat=FIX_WGS84["lat"], lng=FIX_WGS84["lng"], accuracy_m=1500
    )
    assert response.json()["flags"] == ["imprecise_location"]
