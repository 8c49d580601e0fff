"""Object-level authorization: the grid leader of grid A walks every object route of the app
against objects of the sibling grid B and learns nothing, not even that they exist.

The walk is built from the app's own routes, so a route added later is walked too; a new path
parameter with no grid-B object in `_objects_of_b` fails the test until one is named.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta

from PIL import Image

from gridpoints.activities.schemas import ActivityIn
from gridpoints.activities.services import create_activity, current_code
from gridpoints.audit.tables import AuditEntry
from gridpoints.auth.principal import Caller
from gridpoints.auth.sessions import AccountKind, open_session
from gridpoints.checkins.schemas import CheckInIn
from gridpoints.checkins.services import check_in
from gridpoints.clock import utcnow
from gridpoints.members import services
from gridpoints.members.account import acting_member
from gridpoints.members.schemas import MemberCreate
from gridpoints.members.vocab import Category
from gridpoints.partners.accounts import create_account
from gridpoints.partners.schemas import PairingIn, PartnerAccountIn
from gridpoints.partners.services import create_pairing
from gridpoints.service_records.schemas import ServiceRecordIn
from gridpoints.service_records.services import attach_photo
from gridpoints.service_records.services import submit as submit_service
from gridpoints.wishes.schemas import WishIn
from gridpoints.wishes.services import post_wish
from tests.conftest import bearer
from tests.world import SYSTEM

NONEXISTENT = 987_654_321
# Required query parameters, so validation (400) cannot hide the access check.
QUERIES = {
    ("GET", "/api/v1/partner-units/{partner_id:int}/record.xlsx"): {"period": "2026Q3"},
    ("GET", "/api/v1/members/{member_id:int}/points"): {"period": "2026Q3"},
    ("GET", "/api/v1/org-units/{unit_id:int}/leaderboard"): {"period": "2026Q3"},
}
# A body sent as a multipart upload instead of JSON.
FILES = {"file": ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)}
# Parametrised routes that hold no org-scoped object.
NOT_OBJECT_ROUTES = {"/{file_path:path}", "/schema/{path:str}"}
PARAM = re.compile(r"\{(\w+):\w+\}")


async def _objects_of_b(world, settings) -> dict[str, int]:
    """For each path parameter, an object that lives in grid B (all ids of one chain)."""
    in_service_b = await services.create_member(
        SYSTEM,
        MemberCreate(
            name="在职乙",
            phone="13900000016",
            category=Category.IN_SERVICE,
            org_unit_id=world.units["B1-B1-U1"],
            partner_unit_id=world.partner_b,
        ),
        settings,
    )
    pairing_b = await create_pairing(
        SYSTEM,
        world.partner_b,
        PairingIn(
            community_id=world.units["C"], agreement="乙片区共建", signed_on=date(2026, 3, 1)
        ),
        settings,
    )
    assert in_service_b.registration is not None
    activity_b, checkin_b = await _activity_and_checkin_of_b(world, settings)
    member_b = await acting_member(world.member_b)
    assert member_b is not None
    record_b = await submit_service(
        member_b,
        ServiceRecordIn(
            category="resident_service",
            hours=1,
            description="乙片区的服务",
            served_on=utcnow() - timedelta(days=1),
        ),
        settings,
    )
    await attach_photo(member_b, record_b.id, _tiny_png(), settings)
    wish_b = await post_wish(
        await acting_member(world.leader_b),
        WishIn(org_unit_id=world.units["B"], title="乙片区心愿"),
        settings,
    )
    account_b = await create_account(
        SYSTEM,
        world.partner_b,
        PartnerAccountIn(name="联系人乙", phone="13600000019", password="partner-pass-123"),
    )
    return {
        "account_id": account_b.id,
        "wish_id": wish_b.id,
        "record_id": record_b.id,
        "activity_id": activity_b,
        "checkin_id": checkin_b,
        "unit_id": world.units["B"],
        "member_id": in_service_b.id,
        "registration_id": in_service_b.registration.id,
        "role_id": world.role_b,
        "partner_id": world.partner_b,
        "pairing_id": pairing_b.id,
        "job_id": world.job_b,
    }


def _tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, format="PNG")
    return out.getvalue()


async def _activity_and_checkin_of_b(world, settings) -> tuple[int, int]:
    now = utcnow()
    leader_b = await acting_member(world.leader_b)
    member_b = await acting_member(world.member_b)
    assert leader_b is not None and member_b is not None
    activity = await create_activity(
        leader_b,
        ActivityIn(
            org_unit_id=world.units["B"],
            title="乙片区活动",
            category="resident_service",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=1),
            lat=30.0,
            lng=120.0,
        ),
        settings,
    )
    code = await current_code(leader_b, activity.id, settings, "http://test", now)
    session_b = await open_session(AccountKind.MEMBER, world.member_b)
    checkin, _ = await check_in(
        Caller(world.member_b, session_b),
        CheckInIn(
            client_id=uuid.uuid4(), activity_id=activity.id, token=code.token, lat=30.0, lng=120.0
        ),
        settings,
        now,
    )
    return activity.id, checkin.id


def _bodies(world) -> dict[tuple[str, str], dict]:
    """A valid body for each write, so validation (422) cannot hide the access check."""
    a = world.units["A"]
    return {
        ("PATCH", "/api/v1/activities/{activity_id:int}"): {"title": "改个标题"},
        ("POST", "/api/v1/service-records/{record_id:int}/approve"): {},
        ("POST", "/api/v1/wishes/{wish_id:int}/claim"): {},
        ("POST", "/api/v1/partner-accounts/{account_id:int}/disable"): {},
        ("POST", "/api/v1/partner-accounts/{account_id:int}/enable"): {},
        ("POST", "/api/v1/wishes/{wish_id:int}/fulfil"): {"evidence": "已落实"},
        ("POST", "/api/v1/wishes/{wish_id:int}/confirm"): {},
        ("POST", "/api/v1/service-records/{record_id:int}/reject"): {"reason": "核实不符"},
        ("POST", "/api/v1/service-records/{record_id:int}/photo"): FILES,
        ("POST", "/api/v1/checkins/{checkin_id:int}/checkout"): {},
        ("POST", "/api/v1/checkins/{checkin_id:int}/review"): {"decision": "accepted"},
        ("PATCH", "/api/v1/members/{member_id:int}"): {"name": "改个名字"},
        ("POST", "/api/v1/members/{member_id:int}/password"): {"password": "new-password-123"},
        ("POST", "/api/v1/members/{member_id:int}/roles"): {"role": "volunteer", "org_unit_id": a},
        ("POST", "/api/v1/members/{member_id:int}/registrations"): {"reported_on": "2026-05-01"},
        (
            "POST",
            "/api/v1/members/{member_id:int}/registrations/{registration_id:int}/end",
        ): {"ended_on": "2026-06-30"},
        ("POST", "/api/v1/partner-units/{partner_id:int}/pairings"): {
            "community_id": world.units["C"],
            "agreement": "新的共建协议",
            "signed_on": "2026-05-01",
        },
        (
            "POST",
            "/api/v1/partner-units/{partner_id:int}/pairings/{pairing_id:int}/end",
        ): {"ended_on": "2026-06-30"},
        ("POST", "/api/v1/members/{member_id:int}/points/adjustments"): {
            "client_id": "0f0e0d0c-0b0a-4908-8706-050403020100",
            "period": "2026Q3",
            "amount": 1,
            "reason": "核实后补记",
        },
        ("POST", "/api/v1/partner-units/{partner_id:int}/accounts"): {
            "name": "联系人",
            "phone": "13600000001",
            "password": "partner-pass-123",
        },
    }


def _object_routes(app) -> list[tuple[str, str, list[str]]]:
    routes = []
    for route in app.routes:
        if route.path in NOT_OBJECT_ROUTES:
            continue
        params = PARAM.findall(route.path)
        if not params:
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                routes.append((method, route.path, params))
    return routes


def _without_instance(response) -> dict:
    """The problem body without `instance`, which echoes the URL asked for."""
    return {k: v for k, v in response.json().items() if k != "instance"}


def _url(template: str, ids: dict[str, int]) -> str:
    return PARAM.sub(lambda m: str(ids[m.group(1)]), template)


async def _walk(client, headers, objects_b, bodies, refusals=(404,)) -> int:
    """Every object route against grid B's objects and against missing ids: the same
    refusal (404, or where `refusals` allows, a 403 that says the same of both)."""
    routes = _object_routes(client.app)
    assert len(routes) >= 15, routes
    unmapped = {p for _, _, params in routes for p in params if p not in objects_b}
    assert not unmapped, f"name a grid-B object for path parameters {unmapped} in this test"
    audit_rows = await AuditEntry.count()
    walked = 0
    for method, template, params in routes:
        body = bodies.get((method, template))
        if method in ("POST", "PATCH", "PUT"):
            assert body is not None, f"give {method} {template} a valid body in _bodies()"
        nowhere = {p: NONEXISTENT for p in params}
        payload = {"files": body} if body is FILES else {"json": body}
        payload["params"] = QUERIES.get((method, template), {})
        sibling = await client.request(
            method, _url(template, objects_b), headers=headers, **payload
        )
        missing = await client.request(method, _url(template, nowhere), headers=headers, **payload)
        where = f"{method} {template}"
        assert sibling.status_code in refusals, f"{where}: {sibling.status_code} {sibling.text}"
        assert missing.status_code == sibling.status_code, f"{where}: {missing.text}"
        assert _without_instance(sibling) == _without_instance(missing), (
            f"{where} tells B's object from a missing one"
        )
        assert set(sibling.headers) == set(missing.headers), where
        walked += 1
    assert await AuditEntry.count() == audit_rows, "a refused request changed something"
    return walked


async def test_a_grid_leader_learns_nothing_of_a_sibling_grid_through_any_object_route(
    client, world, settings
):
    objects_b = await _objects_of_b(world, settings)
    headers = bearer(client, world.leader_a)
    walked = await _walk(client, headers, objects_b, _bodies(world))
    # The leader can reach their own grid through the same routes: the walk is not vacuous.
    own = await client.get(f"/api/v1/members/{world.member_a}", headers=headers)
    assert own.status_code == 200
    assert walked == len(_object_routes(client.app))


async def test_a_partner_units_contact_learns_nothing_but_their_own_record(client, world, settings):
    objects_b = await _objects_of_b(world, settings)
    account = await create_account(
        SYSTEM,
        world.partner,
        PartnerAccountIn(name="联系人甲", phone="13600000009", password="partner-pass-123"),
    )
    session = await open_session(AccountKind.PARTNER, account.id)
    token = client.app.state.tokens.issue_partner(account.id, session)
    headers = {"Authorization": f"Bearer {token}"}
    # Acting as a member (claiming a wish, say) is refused before any object is looked up.
    await _walk(client, headers, objects_b, _bodies(world), refusals=(403, 404))
    own = await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx",
        params={"period": "2026Q3"},
        headers=headers,
    )
    assert own.status_code == 200, own.text


async def test_list_filters_naming_a_sibling_grid_answer_like_an_unknown_unit(client, world):
    headers = bearer(client, world.leader_a)
    for path, param in [
        ("/api/v1/members", "org_unit_id"),
        ("/api/v1/org-units", "parent_id"),
        ("/api/v1/activities", "org_unit_id"),
        ("/api/v1/members/export.xlsx", "org_unit_id"),
    ]:
        sibling = await client.get(path, params={param: world.units["B"]}, headers=headers)
        missing = await client.get(path, params={param: NONEXISTENT}, headers=headers)
        # Either both are "not found" or both are an empty page: no hint either way.
        assert sibling.status_code == missing.status_code, (path, sibling.text, missing.text)
        if sibling.status_code == 200:
            assert sibling.json() == missing.json()
            assert sibling.json()["items"] == []
        else:
            assert sibling.status_code == 404, (path, sibling.text)
            assert _without_instance(sibling) == _without_instance(missing)


async def test_unfiltered_lists_of_a_grid_leader_hold_nothing_of_the_sibling_grid(
    client, world, settings
):
    objects_b = await _objects_of_b(world, settings)
    headers = bearer(client, world.leader_a)
    members = (await client.get("/api/v1/members", headers=headers)).json()
    member_ids = {m["id"] for m in members["items"]}
    assert world.member_a in member_ids
    assert not member_ids & {world.member_b, world.leader_b, objects_b["member_id"]}
    units = (await client.get("/api/v1/org-units", headers=headers)).json()
    unit_ids = {u["id"] for u in units["items"]}
    assert world.units["A"] in unit_ids
    b_units = {world.units[k] for k in ("B", "B1", "B1-B1", "B1-B1-U1")}
    assert not unit_ids & b_units
    partners = (await client.get("/api/v1/partner-units", headers=headers)).json()
    assert world.partner_b not in {p["id"] for p in partners["items"]}
    audit = await client.get("/api/v1/audit-log", headers=headers)
    if audit.status_code == 200:
        seen = {(e["object_type"], e["object_id"]) for e in audit.json()}
        assert ("member", world.member_b) not in seen
    else:
        assert audit.status_code in (403, 404)
    everything = " ".join(
        r.text
        for r in [
            await client.get("/api/v1/members", headers=headers),
            await client.get("/api/v1/org-units", headers=headers),
            await client.get("/api/v1/partner-units", headers=headers),
            await client.get("/api/v1/me", headers=headers),
        ]
    )
    assert world.phones["member_b"] not in everything
    assert "居民乙" not in everything
