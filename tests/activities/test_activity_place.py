"""An activity's place given in any datum is stored and answered in WGS-84; the audit log
keeps what was given."""

from __future__ import annotations

import json
from datetime import timedelta

from gridpoints.activities.tables import Activity
from gridpoints.audit.tables import AuditEntry
from gridpoints.checkins.flags import distance_m
from gridpoints.clock import utcnow
from tests.conftest import bearer

SHANGHAI_GCJ02 = (31.228458, 121.478223)
SHANGHAI_WGS84 = (31.2304, 121.4737)


def _body(world, **fields) -> dict:
    now = utcnow()
    return {
        "org_unit_id": world.units["A"],
        "title": "外滩垃圾分类宣传",
        "category": "corridor_facilities",
        "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
        "lat": SHANGHAI_WGS84[0],
        "lng": SHANGHAI_WGS84[1],
        **fields,
    }


async def _after(action: str) -> dict:
    row = await AuditEntry.select(AuditEntry.after).where(AuditEntry.action == action).first()
    return json.loads(row["after"])


async def test_a_place_picked_on_a_gcj02_map_is_stored_and_answered_in_wgs84(client, world):
    leader = bearer(client, world.leader_a)
    lat, lng = SHANGHAI_GCJ02
    created = await client.post(
        "/api/v1/activities", json=_body(world, lat=lat, lng=lng, datum="gcj02"), headers=leader
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["datum"] == "wgs84"
    assert distance_m(body["lat"], body["lng"], *SHANGHAI_WGS84) < 1
    stored = await Activity.select(Activity.lat, Activity.lng).first()
    assert (stored["lat"], stored["lng"]) == (body["lat"], body["lng"])
    fetched = await client.get(f"/api/v1/activities/{body['id']}", headers=leader)
    assert fetched.json()["datum"] == "wgs84" and fetched.json()["lat"] == body["lat"]
    after = await _after("activity.create")
    assert after["given"] == {"datum": "gcj02", "lat": lat, "lng": lng}
    assert after["lat"] == body["lat"]


async def test_a_place_without_a_datum_is_wgs84_and_kept_as_given(client, world):
    created = await client.post(
        "/api/v1/activities", json=_body(world), headers=bearer(client, world.leader_a)
    )
    assert created.status_code == 201, created.text
    assert (created.json()["lat"], created.json()["lng"]) == SHANGHAI_WGS84
    assert created.json()["datum"] == "wgs84"
    assert "given" not in await _after("activity.create")


async def test_moving_an_activity_converts_the_new_place(client, world):
    leader = bearer(client, world.leader_a)
    activity = (
        await client.post("/api/v1/activities", json=_body(world, lat=31.0), headers=leader)
    ).json()
    lat, lng = SHANGHAI_GCJ02
    moved = await client.patch(
        f"/api/v1/activities/{activity['id']}",
        json={"lat": lat, "lng": lng, "datum": "gcj02"},
        headers=leader,
    )
    assert moved.status_code == 200, moved.text
    assert distance_m(moved.json()["lat"], moved.json()["lng"], *SHANGHAI_WGS84) < 1
    assert (await _after("activity.update"))["given"]["datum"] == "gcj02"
    plain = await client.patch(
        f"/api/v1/activities/{activity['id']}", json={"lat": lat, "lng": lng}, headers=leader
    )
    assert (plain.json()["lat"], plain.json()["lng"]) == SHANGHAI_GCJ02


async def test_a_datum_without_a_place_or_an_unknown_one_is_refused_naming_it(client, world):
    leader = bearer(client, world.leader_a)
    activity = (await client.post("/api/v1/activities", json=_body(world), headers=leader)).json()
    alone = await client.patch(
        f"/api/v1/activities/{activity['id']}", json={"datum": "gcj02"}, headers=leader
    )
    assert alone.status_code == 400
    [error] = alone.json()["errors"]
    assert (error["field"], error["detail"]) == ("datum", "坐标系须与经纬度一同给出")
    unknown = await client.post(
        "/api/v1/activities", json=_body(world, datum="baidu"), headers=leader
    )
    assert unknown.status_code == 400
    [error] = unknown.json()["errors"]
    assert error["field"] == "datum" and "不是可选的值" in error["detail"]
    assert await Activity.count() == 1
