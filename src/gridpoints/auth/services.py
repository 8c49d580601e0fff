"""Signing out: ending the sign-in session of this token, or every session of the account."""

from __future__ import annotations

from gridpoints.audit.services import Change, record
from gridpoints.auth.principal import Principal
from gridpoints.auth.sessions import AccountKind, EndReason, end_session, end_sessions
from gridpoints.db.transactions import writing


async def logout(actor: Principal) -> None:
    """End the session of the token this request came with."""
    if actor.session_id is None:
        return
    async with writing():
        await end_session(actor.session_id, EndReason.LOGOUT)
        await record(actor, Change("auth.logout", "auth_session", actor.session_id, None))


async def logout_all(actor: Principal) -> None:
    """End every session of the caller's account, this one included."""
    kind, account_id = _account(actor)
    async with writing():
        await end_sessions(kind, account_id, EndReason.LOGOUT_ALL)
        await record(
            actor, Change("auth.logout_all", kind.value, account_id, None, after={"ended": "all"})
        )


def _account(actor: Principal) -> tuple[AccountKind, int]:
    if actor.member_id is not None:
        return AccountKind.MEMBER, actor.member_id
    assert actor.partner_account_id is not None
    return AccountKind.PARTNER, actor.partner_account_id
