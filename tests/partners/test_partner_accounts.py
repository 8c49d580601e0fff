"""A partner unit's contact signs in and downloads their own members' record for a quarter,
and nothing else; the committee that registered the unit makes the accounts."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from gridpoints.audit.tables import AuditEntry
from gridpoints.clock import utcnow
from gridpoints.periods import Quarter
from tests.conftest import bearer

PASSWORD = "partner-pass-123"


async def _account(client, world, phone="13600000001") -> dict:
    made = await client.post(
        f"/api/v1/partner-units/{world.partner}/accounts",
        json={"name": "联系人甲", "phone": phone, "password": PASSWORD},
        headers=bearer(client, world.admin),
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_the_committee_makes_accounts_and_refusals_name_the_field(client, world):
    account = await _account(client, world)
    assert account["partner_unit_id"] == world.partner and account["phone"] == "136****0001"
    again = await client.post(
        f"/api/v1/partner-units/{world.partner}/accounts",
        json={"name": "联系人乙", "phone": "13600000001", "password": PASSWORD},
        headers=bearer(client, world.admin),
    )
    assert again.status_code == 409
    bad = await client.post(
        f"/api/v1/partner-units/{world.partner}/accounts",
        json={"name": "联系人乙", "phone": "12345", "password": "short"},
        headers=bearer(client, world.admin),
    )
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} >= {"password"}
    by_member = await client.post(
        f"/api/v1/partner-units/{world.partner}/accounts",
        json={"name": "联系人丙", "phone": "13600000002", "password": PASSWORD},
        headers=bearer(client, world.member_a),
    )
    assert by_member.status_code in (403, 404)
    listed = await client.get(
        f"/api/v1/partner-units/{world.partner}/accounts", headers=bearer(client, world.admin)
    )
    assert [a["id"] for a in listed.json()] == [account["id"]]
    audited = await AuditEntry.select(AuditEntry.object_id).where(
        AuditEntry.action == "partner_account.create"
    )
    assert audited == [{"object_id": account["id"]}]


async def test_a_contact_signs_in_and_downloads_only_their_units_record(client, world):
    await _account(client, world)
    wrong = await client.post(
        "/api/v1/auth/partner-login", json={"phone": "13600000001", "password": "not-it-123"}
    )
    unknown = await client.post(
        "/api/v1/auth/partner-login", json={"phone": "13600000099", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    # A member's phone and password do not open a partner account.
    member = await client.post(
        "/api/v1/auth/partner-login",
        json={"phone": world.phones["leader_a"], "password": "correct-horse-1"},
    )
    assert member.status_code == 401

    signed_in = await client.post(
        "/api/v1/auth/partner-login", json={"phone": "13600000001", "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert body["account"]["partner_unit_id"] == world.partner
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    period = Quarter.of(utcnow(), "UTC").label
    record = await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx",
        params={"period": period},
        headers=headers,
    )
    assert record.status_code == 200, record.text
    sheet = load_workbook(io.BytesIO(record.content)).active
    names = {cell.value for row in sheet.iter_rows() for cell in row}
    assert "在职甲" in names

    other = await client.get(
        f"/api/v1/partner-units/{world.partner_b}/record.xlsx",
        params={"period": period},
        headers=headers,
    )
    assert other.status_code in (403, 404)
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 403
    members = await client.get("/api/v1/members", headers=headers)
    assert members.status_code in (403, 404) or members.json()["items"] == []
    scan = await client.post(
        "/api/v1/checkins",
        json={"client_id": "6f1c0d1e-0000-4000-8000-000000000001", "activity_id": 1, "token": "x"},
        headers=headers,
    )
    assert scan.status_code == 401
