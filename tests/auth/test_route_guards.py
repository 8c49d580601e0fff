"""What a kind of caller may reach at all is decided once, before any route runs: a partner
unit's contact reaches their unit's record and signing out, and nothing meant for members."""

from __future__ import annotations

from gridpoints.auth.sessions import AccountKind, open_session
from gridpoints.partners.accounts import create_account
from gridpoints.partners.schemas import PartnerAccountIn
from tests.world import SYSTEM


async def _contact_headers(client, world) -> dict[str, str]:
    account = await create_account(
        SYSTEM,
        world.partner,
        PartnerAccountIn(name="联系人甲", phone="13600000029", password="partner-pass-123"),
    )
    session = await open_session(AccountKind.PARTNER, account.id)
    token = client.app.state.tokens.issue_partner(account.id, session)
    return {"Authorization": f"Bearer {token}"}


async def test_a_partner_contact_reaches_only_the_routes_opened_to_them(client, world):
    headers = await _contact_headers(client, world)
    for path in (
        "/api/v1/me",
        "/api/v1/activities",
        "/api/v1/wishes",
        "/api/v1/members",
        "/api/v1/org-units",
        "/api/v1/service-records",
        f"/api/v1/members/{world.member_a}/points?period=2026Q4",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["code"] == "members_only"
    own = await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx?period=2026Q4", headers=headers
    )
    assert own.status_code == 200, own.text
    other = await client.get(
        f"/api/v1/partner-units/{world.partner_b}/record.xlsx?period=2026Q4", headers=headers
    )
    assert other.status_code == 404
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
