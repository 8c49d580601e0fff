"""A partner unit's contact account can be disabled and enabled again by those who manage the
unit's accounts (audited). A disabled contact cannot sign in (the same 401 as a wrong
password) and their tokens stop working at once; enabling the account again does not revive
the tokens issued before."""

from __future__ import annotations

import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.auth.sessions import AccountKind, open_session
from gridpoints.clock import utcnow
from gridpoints.partners import accounts
from gridpoints.partners.schemas import PartnerAccountIn
from gridpoints.periods import Quarter
from tests.conftest import bearer
from tests.world import SYSTEM

PASSWORD = "partner-pass-123"
PHONE = "13600000001"
LOGIN = "/api/v1/auth/partner-login"


async def _account(client, world, phone: str = PHONE) -> dict:
    made = await client.post(
        f"/api/v1/partner-units/{world.partner}/accounts",
        json={"name": "联系人甲", "phone": phone, "password": PASSWORD},
        headers=bearer(client, world.admin),
    )
    assert made.status_code == 201, made.text
    return made.json()


async def _sign_in(client, phone: str = PHONE, password: str = PASSWORD):
    return await client.post(LOGIN, json={"phone": phone, "password": password})


def _period() -> str:
    return Quarter.of(utcnow(), "UTC").label


async def _record(client, world, token: str):
    return await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx",
        params={"period": _period()},
        headers={"Authorization": f"Bearer {token}"},
    )


async def _set(client, world, account_id: int, action: str, as_member: int | None = None):
    return await client.post(
        f"/api/v1/partner-accounts/{account_id}/{action}",
        headers=bearer(client, world.admin if as_member is None else as_member),
    )


async def _audited(action: str) -> list[int]:
    rows = await AuditEntry.select(AuditEntry.object_id).where(AuditEntry.action == action)
    return [row["object_id"] for row in rows]


async def test_a_disabled_contact_cannot_sign_in_and_their_token_stops_at_once(client, world):
    account = await _account(client, world)
    signed_in = await _sign_in(client)
    assert signed_in.status_code == 200
    token = signed_in.json()["access_token"]
    assert (await _record(client, world, token)).status_code == 200

    disabled = await _set(client, world, account["id"], "disable")
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["status"] == "disabled"
    assert disabled.json()["phone"] == "136****0001"

    refused = await _record(client, world, token)
    assert refused.status_code == 401
    right = await _sign_in(client)
    wrong = await _sign_in(client, password="not-it-12345")
    assert right.status_code == wrong.status_code == 401
    assert right.json()["detail"] == wrong.json()["detail"]
    assert await _audited("partner_account.disable") == [account["id"]]
    listed = await client.get(
        f"/api/v1/partner-units/{world.partner}/accounts", headers=bearer(client, world.admin)
    )
    assert [a["status"] for a in listed.json()] == ["disabled"]


async def test_an_enabled_account_signs_in_again_with_a_new_token(client, world):
    account = await _account(client, world)
    assert (await _set(client, world, account["id"], "disable")).status_code == 200
    enabled = await _set(client, world, account["id"], "enable")
    assert enabled.status_code == 200, enabled.text
    assert enabled.json()["status"] == "active"
    assert await _audited("partner_account.enable") == [account["id"]]
    signed_in = await _sign_in(client)
    assert signed_in.status_code == 200
    assert (await _record(client, world, signed_in.json()["access_token"])).status_code == 200


async def test_enabling_again_does_not_revive_the_tokens_issued_before(client, world):
    account = await _account(client, world)
    old = (await _sign_in(client)).json()["access_token"]
    assert (await _set(client, world, account["id"], "disable")).status_code == 200
    assert (await _set(client, world, account["id"], "enable")).status_code == 200
    new = (await _sign_in(client)).json()["access_token"]
    assert (await _record(client, world, new)).status_code == 200
    assert (await _record(client, world, old)).status_code == 401


async def test_the_loader_refuses_disabled_accounts_and_ended_sessions(db, world):
    account = await accounts.create_account(
        SYSTEM, world.partner, PartnerAccountIn(name="联系人甲", phone=PHONE, password=PASSWORD)
    )
    before = await open_session(AccountKind.PARTNER, account.id)
    principal = await accounts.load_partner_principal(account.id, before)
    assert principal is not None
    assert (principal.partner_unit_id, principal.partner_account_id) == (world.partner, account.id)
    assert principal.session_id == before
    # A session of another account (or a member's with the same number) is not this one's.
    other = await open_session(AccountKind.MEMBER, account.id)
    assert await accounts.load_partner_principal(account.id, other) is None

    await accounts.set_account_status(SYSTEM, account.id, enabled=False)
    assert await accounts.load_partner_principal(account.id, before) is None
    await accounts.set_account_status(SYSTEM, account.id, enabled=True)
    assert await accounts.load_partner_principal(account.id, before) is None
    after = await open_session(AccountKind.PARTNER, account.id)
    assert await accounts.load_partner_principal(account.id, after) is not None


@pytest.mark.parametrize("action", ["disable", "enable"])
async def test_only_those_who_manage_the_unit_may_disable_or_enable(client, world, action):
    account = await _account(client, world)
    for outsider in (world.member_a, world.leader_a, world.leader_b, world.viewer_a):
        response = await _set(client, world, account["id"], action, as_member=outsider)
        assert response.status_code in (403, 404), (outsider, response.text)
    contact = (await _sign_in(client)).json()["access_token"]
    by_contact = await client.post(
        f"/api/v1/partner-accounts/{account['id']}/{action}",
        headers={"Authorization": f"Bearer {contact}"},
    )
    assert by_contact.status_code in (403, 404)
    assert (await _set(client, world, 999999, action)).status_code == 404
    assert (await _set(client, world, account["id"], action)).status_code == 200
    assert await _audited(f"partner_account.{action}") == (
        [account["id"]] if action == "disable" else []
    )


async def test_disabling_twice_changes_nothing_the_second_time(client, world):
    account = await _account(client, world)
    assert (await _set(client, world, account["id"], "disable")).status_code == 200
    again = await _set(client, world, account["id"], "disable")
    assert again.status_code == 200 and again.json()["status"] == "disabled"
    assert await _audited("partner_account.disable") == [account["id"]]


async def test_one_disabled_contact_leaves_the_units_other_contacts_signed_in(client, world):
    first = await _account(client, world)
    await _account(client, world, phone="13600000002")
    other_token = (await _sign_in(client, phone="13600000002")).json()["access_token"]
    assert (await _set(client, world, first["id"], "disable")).status_code == 200
    assert (await _record(client, world, other_token)).status_code == 200
    assert (await _sign_in(client, phone="13600000002")).status_code == 200


async def test_an_account_out_of_sight_is_refused_like_one_that_does_not_exist(client, world):
    # Partner unit PB is registered at grid B: leader A does not see it or its accounts.
    account_b = await accounts.create_account(
        SYSTEM, world.partner_b, PartnerAccountIn(name="联系人乙", phone=PHONE, password=PASSWORD)
    )
    for action in ("disable", "enable"):
        hidden = await _set(client, world, account_b.id, action, as_member=world.leader_a)
        missing = await _set(client, world, 999999, action, as_member=world.leader_a)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"] == missing.json()["detail"]
    assert await _audited("partner_account.disable") == []


async def test_a_contact_account_gets_a_password_that_keeps_to_the_policy(client, world):
    for password, phone in (("password123", "13600000003"), ("13600000004", "13600000004")):
        refused = await client.post(
            f"/api/v1/partner-units/{world.partner}/accounts",
            json={"name": "联系人丁", "phone": phone, "password": password},
            headers=bearer(client, world.admin),
        )
        assert refused.status_code == 400, refused.text
        assert [e["field"] for e in refused.json()["errors"]] == ["password"]
        assert "密码" in refused.json()["errors"][0]["detail"]
