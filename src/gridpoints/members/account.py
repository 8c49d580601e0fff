"""A member's own account: signing in, the principal a member's token stands for, the "me"
page and changing one's own password."""

from __future__ import annotations

import asyncio

import msgspec

from gridpoints.audit.services import Change, record
from gridpoints.auth.passwords import check_new_password, hash_password, verify_password
from gridpoints.auth.principal import Principal, RoleGrant
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.auth.roles import Role
from gridpoints.auth.schemas import LoginIn
from gridpoints.auth.sessions import AccountKind, EndReason, end_sessions, open_session
from gridpoints.auth.sign_in import BadCredentials, authenticate
from gridpoints.auth.tokens import TokenIssuer
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.transactions import writing
from gridpoints.errors import Forbidden, Invalid
from gridpoints.members.schemas import LoginOut, MeOut
from gridpoints.members.services import get_member
from gridpoints.members.tables import Member
from gridpoints.members.vocab import MemberStatus
from gridpoints.org.services import path_names
from gridpoints.periods import recent_quarters

# One query for the member (if active), their home unit's path, and every role they hold,
# with each role's org unit path; for a token, only while its session stands.
_MEMBER_PRINCIPAL = """
SELECT m.id, m.name, m.must_change_password, h.path AS home,
       r.role, r.org_unit AS role_unit, o.path AS role_path
FROM member m
{session}
JOIN org_unit h ON h.id = m.org_unit
LEFT JOIN role_assignment r ON r.member = m.id
LEFT JOIN org_unit o ON o.id = r.org_unit
WHERE m.id = {{}} AND m.status = {{}}
"""
_PRINCIPAL_SQL = _MEMBER_PRINCIPAL.format(
    session="JOIN auth_session s ON s.id = {} AND s.account_kind = 'member' "
    "AND s.account_id = m.id AND s.ended_at IS NULL"
)
_ACTING_MEMBER_SQL = _MEMBER_PRINCIPAL.format(session="")


async def load_principal(member_id: int, session_id: int) -> Principal | None:
    """The signed-in member of a token, or None when the member is no longer active or the
    token's session has ended."""
    rows = await sql.fetch(_PRINCIPAL_SQL, session_id, member_id, MemberStatus.ACTIVE.value)
    return _principal(rows, session_id)


async def acting_member(member_id: int) -> Principal | None:
    """The active member as they act now, outside any request (a background job acts as its
    starter, with the roles the starter holds when it runs); None when not active."""
    rows = await sql.fetch(_ACTING_MEMBER_SQL, member_id, MemberStatus.ACTIVE.value)
    return _principal(rows, None)


def _principal(rows: list, session_id: int | None) -> Principal | None:
    if not rows:
        return None
    grants = tuple(
        RoleGrant(role=Role(row["role"]), org_unit_id=row["role_unit"], path=row["role_path"])
        for row in rows
        if row["role"] is not None
    )
    first = rows[0]
    return Principal(
        member_id=first["id"],
        name=first["name"],
        grants=grants,
        home=first["home"],
        session_id=session_id,
        must_change_password=bool(first["must_change_password"]),
    )


async def login(
    data: LoginIn, address: str, limiter: LoginLimiter, tokens: TokenIssuer, tz_name: str
) -> LoginOut:
    member_id = await authenticate(data.phone, data.password, address, limiter, _member_by_phone)
    async with writing():
        session_id = await open_session(
            AccountKind.MEMBER, member_id, forget_older_than=tokens.lifetime
        )
    principal = await load_principal(member_id, session_id)
    if principal is None:  # deactivated between the password check and now
        raise BadCredentials()
    return LoginOut(
        access_token=tokens.issue(member_id, session_id),
        token_type="bearer",
        expires_in=tokens.ttl_seconds,
        member=await me(principal, tz_name),
        password_change_required=principal.must_change_password,
    )


async def _member_by_phone(phone: str) -> tuple[int, str | None] | None:
    member = (
        await Member.select(Member.id, Member.password_hash)
        .where((Member.phone == phone) & (Member.status == MemberStatus.ACTIVE.value))
        .first()
    )
    return (member["id"], member["password_hash"]) if member else None


def _own_member(actor: Principal) -> int:
    if actor.member_id is None:
        raise Forbidden("共建单位账号没有个人资料，请使用共建单位页面")
    return actor.member_id


async def me(actor: Principal, tz_name: str) -> MeOut:
    """The signed-in member as the "me" page shows them, with the recent quarters in the
    community's time zone `tz_name`."""
    detail = await get_member(actor, _own_member(actor))
    return MeOut(
        **msgspec.structs.asdict(detail),
        org_unit_path=await path_names(detail.org_unit_id),
        password_change_required=actor.must_change_password,
        recent_quarters=[q.label for q in recent_quarters(tz_name)],
    )


async def change_own_password(actor: Principal, current: str, new: str) -> None:
    """The caller's own password, given the current one: ends every other sign-in of theirs
    and clears a temporary password's "must change"."""
    member_id = _own_member(actor)
    row = (
        await Member.select(Member.password_hash, Member.phone, Member.name)
        .where(Member.id == member_id)
        .first()
    )
    if row is None or not await asyncio.to_thread(verify_password, current, row["password_hash"]):
        raise Invalid.field("current_password", "当前密码不正确")
    await asyncio.to_thread(
        check_new_password, new, phone=row["phone"], name=row["name"], field="new_password"
    )
    if new == current:
        raise Invalid.field("new_password", "新密码不能与当前密码相同")
    password_hash = await asyncio.to_thread(hash_password, new)
    async with writing():
        await Member.update(
            {
                Member.password_hash: password_hash,
                Member.must_change_password: False,
                Member.updated_at: utcnow(),
            }
        ).where(Member.id == member_id)
        await end_sessions(
            AccountKind.MEMBER, member_id, EndReason.PASSWORD_CHANGED, keep=actor.session_id
        )
        # The hash itself never goes into the log.
        await record(
            actor,
            Change("member.password_change", "member", member_id, None, after={"password": "set"}),
        )
