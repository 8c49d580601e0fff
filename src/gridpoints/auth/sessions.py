"""Opening and ending sign-in sessions (`auth.tables.AuthSession`).

A session is opened at each sign-in and names the token issued for it. The token check reads
the session in the same statement that loads the caller (`members.account.load_principal`,
and the scan route's own read in `checkins.store`), so ending a session takes effect on the
next request without a second read.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from gridpoints.auth.tables import AuthSession
from gridpoints.clock import utcnow
from gridpoints.errors import Forbidden

# Session ids are PostgreSQL integers: a token naming a larger one names no session.
_LARGEST_ID = 2**31 - 1


class PasswordChangeRequired(Forbidden):
    """Signed in with a temporary password: only changing it is allowed until then."""

    code = "password_change_required"

    def __init__(self) -> None:
        super().__init__("您正在使用临时密码，请先修改密码")


class AccountKind(StrEnum):
    MEMBER = "member"
    PARTNER = "partner"


class EndReason(StrEnum):
    LOGOUT = "logout"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    DEACTIVATED = "deactivated"
    ROLE_REMOVED = "role_removed"
    ACCOUNT_DISABLED = "account_disabled"


async def open_session(
    kind: AccountKind, account_id: int, *, forget_older_than: timedelta | None = None
) -> int:
    """A new standing session for the account; its id goes into the token as `jti`. The
    account's sessions opened longer ago than `forget_older_than` (the token lifetime: their
    tokens have expired) are deleted, so the table holds about the sign-ins still alive."""
    inserted = await AuthSession.insert(
        AuthSession(account_kind=kind.value, account_id=account_id, created_at=utcnow())
    ).returning(AuthSession.id)
    session_id = inserted[0]["id"]
    if forget_older_than is not None:
        # Only rows below the one just made: SQLite gives a new row the highest id plus one,
        # so deleting the highest row could hand its id (and its old tokens) to the next.
        await AuthSession.delete().where(
            (AuthSession.account_kind == kind.value)
            & (AuthSession.account_id == account_id)
            & (AuthSession.id < session_id)
            & (AuthSession.created_at < utcnow() - forget_older_than)
        )
    return session_id


async def end_session(session_id: int, reason: EndReason) -> None:
    await AuthSession.update(
        {AuthSession.ended_at: utcnow(), AuthSession.ended_reason: reason.value}
    ).where((AuthSession.id == session_id) & AuthSession.ended_at.is_null())


async def end_sessions(
    kind: AccountKind, account_id: int, reason: EndReason, *, keep: int | None = None
) -> None:
    """End every standing session of the account, but `keep` (the caller's own, when they
    change their own password)."""
    condition = (
        (AuthSession.account_kind == kind.value)
        & (AuthSession.account_id == account_id)
        & AuthSession.ended_at.is_null()
    )
    if keep is not None:
        condition &= AuthSession.id != keep
    await AuthSession.update(
        {AuthSession.ended_at: utcnow(), AuthSession.ended_reason: reason.value}
    ).where(condition)


def session_of(jti: str | None) -> int | None:
    """The session id a token names, or None for a token that names none (refused)."""
    if jti is None or not (jti.isascii() and jti.isdigit()) or len(jti) > 10:
        return None
    session_id = int(jti)
    return session_id if session_id <= _LARGEST_ID else None
