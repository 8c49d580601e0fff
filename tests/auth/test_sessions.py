"""Each sign-in is a session its token names: signing out, a password change or reset,
deactivation and the removal of a role end sessions at once, and reactivation never revives
them. The check stays inside the one read each request makes (the scan route included)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from gridpoints.auth.passwords import hash_password
from gridpoints.auth.tables import AuthSession
from gridpoints.clock import utcnow
from gridpoints.members.tables import Member
from tests.conftest import bearer
from tests.world import PASSWORD

ME = "/api/v1/me"


async def _sign_in(client, phone: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _status(client, headers) -> int:
    return (await client.get(ME, headers=headers)).status_code


async def test_logout_ends_this_sign_in_only_and_logout_all_ends_every_one(client, world):
    phone = world.phones["leader_a"]
    phone_a, phone_b, pc = [await _sign_in(client, phone) for _ in range(3)]
    assert (await client.post("/api/v1/auth/logout", headers=phone_a)).status_code == 204
    assert await _status(client, phone_a) == 401
    assert await _status(client, phone_b) == 200
    assert (await client.post("/api/v1/auth/logout-all", headers=pc)).status_code == 204
    assert await _status(client, phone_b) == await _status(client, pc) == 401
    # Signing in again works, and the ended tokens stay ended.
    fresh = await _sign_in(client, phone)
    assert await _status(client, fresh) == 200
    assert await _status(client, phone_a) == 401


async def test_changing_ones_password_keeps_this_sign_in_and_ends_the_others(client, world):
    phone = world.phones["leader_a"]
    here, elsewhere = await _sign_in(client, phone), await _sign_in(client, phone)
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "Quiet-harbour-73"},
        headers=here,
    )
    assert changed.status_code == 204, changed.text
    assert await _status(client, here) == 200
    assert await _status(client, elsewhere) == 401


async def test_a_reset_ends_every_sign_in_and_the_temporary_password_must_be_changed(client, world):
    phone = world.phones["leader_a"]
    before = await _sign_in(client, phone)
    reset = await client.post(
        f"/api/v1/members/{world.leader_a}/password",
        json={"password": "Temporary-pass-58"},
        headers=bearer(client, world.admin),
    )
    assert reset.status_code == 204, reset.text
    assert await _status(client, before) == 401
    login = await client.post(
        "/api/v1/auth/login", json={"phone": phone, "password": "Temporary-pass-58"}
    )
    assert login.json()["password_change_required"] is True
    temporary = {"Authorization": f"Bearer {login.json()['access_token']}"}
    # Only reading oneself, changing the password and signing out until it is changed.
    refused = await client.get("/api/v1/activities", headers=temporary)
    assert refused.status_code == 403 and refused.json()["code"] == "password_change_required"
    scan = await client.post(
        "/api/v1/checkins",
        json={"client_id": str(uuid.uuid4()), "activity_id": 1, "token": "x" * 20},
        headers=temporary,
    )
    assert scan.status_code == 403, "the scan route's own read refuses it too"
    assert scan.json()["code"] == "password_change_required"
    assert await _status(client, temporary) == 200
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": "Temporary-pass-58", "new_password": "Lantern-garden-91"},
        headers=temporary,
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/api/v1/activities", headers=temporary)).status_code == 200


async def test_deactivation_ends_sign_ins_and_reactivation_does_not_revive_them(client, world):
    phone = world.phones["leader_a"]
    token = await _sign_in(client, phone)
    admin = bearer(client, world.admin)
    path = f"/api/v1/members/{world.leader_a}"
    assert (await client.patch(path, json={"status": "inactive"}, headers=admin)).is_success
    assert await _status(client, token) == 401
    assert (await client.patch(path, json={"status": "active"}, headers=admin)).is_success
    assert await _status(client, token) == 401
    assert await _status(client, await _sign_in(client, phone)) == 200


async def test_a_token_that_names_no_session_or_anothers_session_is_refused(client, world):
    tokens = client.app.state.tokens
    own = await _sign_in(client, world.phones["admin"])
    session = (
        await AuthSession.select(AuthSession.id).order_by(AuthSession.id, ascending=False).first()
    )["id"]
    # The admin's session under another member's id, and a session that does not exist.
    for member_id, session_id in ((world.leader_a, session), (world.admin, session + 999)):
        forged = {"Authorization": f"Bearer {tokens.issue(member_id, session_id)}"}
        assert await _status(client, forged) == 401
    assert await _status(client, own) == 200


async def test_signing_in_forgets_the_accounts_sessions_whose_tokens_have_expired(client, world):
    await Member.update({Member.password_hash: hash_password(PASSWORD)}).where(
        Member.id == world.viewer_a
    )
    phone = world.phones["viewer_a"]
    old = await _sign_in(client, phone)
    lifetime = client.app.state.tokens.lifetime
    await AuthSession.update(
        {AuthSession.created_at: utcnow() - lifetime - timedelta(minutes=1)}
    ).where(AuthSession.account_id == world.viewer_a)
    await _sign_in(client, phone)
    kept = await AuthSession.count().where(
        (AuthSession.account_id == world.viewer_a) & (AuthSession.account_kind == "member")
    )
    assert kept == 1
    assert await _status(client, old) == 401
