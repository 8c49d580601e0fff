"""Sign-in, the loading of the signed-in principal, and the member's own account."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec

from gridpoints.auth.passwords import verify_password
from gridpoints.auth.principal import Principal, RoleGrant
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.auth.schemas import LoginIn, LoginOut, MeOut
from gridpoints.db import sql
from gridpoints.errors import DomainError, Forbidden, Invalid
from gridpoints.members.phones import BadPhone, normalise_phone
from gridpoints.members.services import get_member, set_password
from gridpoints.members.tables import Member
from gridpoints.members.vocab import MemberStatus, Role
from gridpoints.org.services import get_unit

if TYPE_CHECKING:
    from gridpoints.auth.tokens import TokenIssuer

# One query for the member, their home unit's path, and every role they hold, with each
# role's org unit path.
_PRINCIPAL_SQL = """
SELECT m.id, m.name, h.path AS home, r.role, r.org_unit AS role_unit, o.path AS role_path
FROM member m
JOIN org_unit h ON h.id = m.org_unit
LEFT JOIN role_assignment r ON r.member = m.id
LEFT JOIN org_unit o ON o.id = r.org_unit
WHERE m.id = {} AND m.status = {}
"""


class BadCredentials(DomainError):
    status = 401
    title = "Unauthorized"
    code = "bad_credentials"

    def __init__(self) -> None:
        super().__init__("手机号或密码不正确")


class TooManyAttempts(DomainError):
    status = 429
    title = "Too Many Requests"
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"登录尝试次数过多，请在 {retry_after} 秒后再试")
        self.headers = {"Retry-After": str(retry_after)}


async def load_principal(member_id: int) -> Principal | None:
    rows = await sql.fetch(_PRINCIPAL_SQL, member_id, MemberStatus.ACTIVE.value)
    if not rows:
        return None
    grants = tuple(
        RoleGrant(role=Role(row["role"]), org_unit_id=row["role_unit"], path=row["role_path"])
        for row in rows
        if row["role"] is not None
    )
    first = rows[0]
    return Principal(member_id=first["id"], name=first["name"], grants=grants, home=first["home"])


async def login(
    data: LoginIn, address: str, limiter: LoginLimiter, tokens: TokenIssuer
) -> LoginOut:
    member_id = await authenticate(data.phone, data.password, address, limiter)
    principal = await load_principal(member_id)
    assert principal is not None
    return LoginOut(
        access_token=tokens.issue(member_id),
        token_type="bearer",
        expires_in=tokens.ttl_seconds,
        member=await me(principal),
    )


async def authenticate(
    phone: str,
    password: str,
    address: str,
    limiter: LoginLimiter,
    find: Callable[[str], Awaitable[tuple[int, str | None] | None]] | None = None,
) -> int:
    """The account id for a correct phone and password; the same refusal for every wrong
    one. `find` gives (id, password hash) of the active account with a phone: a member's
    unless told otherwise."""
    try:
        phone = normalise_phone(phone)
    except BadPhone:
        phone = phone.strip()
    wait = await limiter.seconds_until_allowed(phone, address)
    if wait:
        raise TooManyAttempts(wait)
    account = await (find or _member_by_phone)(phone)
    stored_hash = account[1] if account else None
    # argon2 takes tens of milliseconds by design: off the event loop.
    matches = await asyncio.to_thread(verify_password, password, stored_hash)
    if not matches or account is None:
        await limiter.record_failure(phone, address)
        raise BadCredentials()
    return account[0]


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


async def me(actor: Principal) -> MeOut:
    """The signed-in member as the "me" page shows them."""
    detail = await get_member(actor, _own_member(actor))
    home = await get_unit(Principal.system(), detail.org_unit_id)
    return MeOut(**msgspec.structs.asdict(detail), org_unit_path=home.path_names)


async def change_own_password(actor: Principal, current: str, new: str) -> None:
    member_id = _own_member(actor)
    row = await Member.select(Member.password_hash).where(Member.id == member_id).first()
    if row is None or not await asyncio.to_thread(verify_password, current, row["password_hash"]):
        raise Invalid.field("current_password", "当前密码不正确")
    await set_password(actor, member_id, new)
