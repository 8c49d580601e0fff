"""Partner units' accounts: made by the committee that registered the unit, signed in with
phone and password like members, and able to read nothing but their own unit's record.

The committee may disable a contact's account (they leave the partner unit, a phone is
lost) and enable it again. A disabled account cannot sign in, and its tokens stop at once:
the principal loader reads the account's status on every request. Disabling also ends the
account's sign-in sessions (`auth.sessions`), so once partner tokens name their session,
enabling the account again does not revive a token from before.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gridpoints.audit.services import Change, record
from gridpoints.auth.passwords import check_new_password, hash_password
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.auth.sessions import AccountKind, EndReason, end_sessions, open_session
from gridpoints.auth.sign_in import BadCredentials, authenticate
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.errors import unique_or
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, Invalid, NotFound
from gridpoints.partners.schemas import (
    PartnerAccountIn,
    PartnerAccountOut,
    PartnerLoginOut,
    PartnerSelf,
)
from gridpoints.partners.services import find_partner
from gridpoints.partners.tables import PartnerAccount
from gridpoints.periods import recent_quarters
from gridpoints.phones import mask_phone, parse_phone

if TYPE_CHECKING:
    from gridpoints.auth.schemas import LoginIn
    from gridpoints.auth.tokens import TokenIssuer

ACTIVE = "active"
DISABLED = "disabled"
ACCOUNT = "共建单位账号"

_PRINCIPAL_SQL = """
SELECT a.id, a.name, a.partner_unit, p.name AS unit_name
FROM partner_account a JOIN partner_unit p ON p.id = a.partner_unit
WHERE a.id = {} AND a.status = {}
"""
# The same, only while the sign-in session the token names stands (one statement).
_PRINCIPAL_IN_SESSION_SQL = """
SELECT a.id, a.name, a.partner_unit, p.name AS unit_name
FROM partner_account a
JOIN partner_unit p ON p.id = a.partner_unit
JOIN auth_session s ON s.id = {} AND s.account_kind = {} AND s.account_id = a.id
    AND s.ended_at IS NULL
WHERE a.id = {} AND a.status = {}
"""


async def load_partner_principal(account_id: int, session_id: int) -> Principal | None:
    """The contact behind a partner token: None once the account is disabled or the token's
    sign-in session has ended."""
    row = await sql.fetch_one(
        _PRINCIPAL_IN_SESSION_SQL, session_id, AccountKind.PARTNER.value, account_id, ACTIVE
    )
    if row is None:
        return None
    return Principal(
        member_id=None,
        name=f"{row['name']}（{row['unit_name']}）",
        partner_unit_id=row["partner_unit"],
        partner_account_id=row["id"],
        session_id=session_id,
    )


async def create_account(
    actor: Principal, partner_id: int, data: PartnerAccountIn
) -> PartnerAccountOut:
    """A contact's account on a partner unit, by those who manage the unit."""
    # Every bad field named at once: the phone and the password.
    problems = []
    phone = None
    try:
        phone = parse_phone(data.phone)
    except Invalid as bad:
        problems += bad.problems
    try:
        await asyncio.to_thread(check_new_password, data.password, phone=phone, name=data.name)
    except Invalid as bad:
        problems += bad.problems
    if problems:
        raise Invalid(*problems)
    password_hash = await asyncio.to_thread(hash_password, data.password)
    async with writing():
        partner = await find_partner(actor, partner_id, Capability.MANAGE_PARTNERS)
        values = {
            "partner_unit": partner_id,
            "name": data.name.strip(),
            "phone": phone,
            "password_hash": password_hash,
            "status": ACTIVE,
            "created_at": utcnow(),
        }
        with unique_or(_phone_taken):
            inserted = await PartnerAccount.insert(PartnerAccount(**values)).returning(
                PartnerAccount.id
            )
        account_id = inserted[0]["id"]
        await record(
            actor,
            Change(
                "partner_account.create",
                "partner_account",
                account_id,
                partner["org_unit"],
                after={"partner_unit": partner_id, "name": values["name"], "phone": phone},
            ),
        )
    return _present({**values, "id": account_id})


def _phone_taken() -> Conflict:
    return Conflict("该手机号已有共建单位账号", code="phone_taken")


async def list_accounts(actor: Principal, partner_id: int) -> list[PartnerAccountOut]:
    await find_partner(actor, partner_id, Capability.MANAGE_PARTNERS)
    rows = (
        await PartnerAccount.select()
        .where(PartnerAccount.partner_unit == partner_id)
        .order_by(PartnerAccount.id)
    )
    return [_present(row) for row in rows]


async def set_account_status(
    actor: Principal, account_id: int, *, enabled: bool
) -> PartnerAccountOut:
    """Disable a contact's account (no sign-in; its tokens and sessions end at once) or
    enable it again, by those who manage the partner unit's accounts. Asking for the status
    the account already has changes nothing."""
    status = ACTIVE if enabled else DISABLED
    async with writing():
        row = await PartnerAccount.select().where(PartnerAccount.id == account_id).first()
        if row is None:
            raise NotFound(ACCOUNT)
        try:
            partner = await find_partner(actor, row["partner_unit"], Capability.MANAGE_PARTNERS)
        except NotFound:
            # Out of the caller's sight: worded as for an account that does not exist.
            raise NotFound(ACCOUNT) from None
        if row["status"] != status:
            await PartnerAccount.update({PartnerAccount.status: status}).where(
                PartnerAccount.id == account_id
            )
            if not enabled:
                await end_sessions(AccountKind.PARTNER, account_id, EndReason.ACCOUNT_DISABLED)
            await record(
                actor,
                Change(
                    "partner_account.enable" if enabled else "partner_account.disable",
                    "partner_account",
                    account_id,
                    partner["org_unit"],
                    before={"status": row["status"]},
                    after={"status": status},
                ),
            )
            row = {**row, "status": status}
    return _present(row)


def _present(row: dict[str, Any]) -> PartnerAccountOut:
    return PartnerAccountOut(
        id=row["id"],
        partner_unit_id=row["partner_unit"],
        name=row["name"],
        phone=mask_phone(row["phone"]),
        status=row["status"],
        created_at=row["created_at"],
    )


async def _account_by_phone(phone: str) -> tuple[int, str | None] | None:
    row = (
        await PartnerAccount.select(PartnerAccount.id, PartnerAccount.password_hash)
        .where((PartnerAccount.phone == phone) & (PartnerAccount.status == ACTIVE))
        .first()
    )
    return (row["id"], row["password_hash"]) if row else None


async def login(
    data: LoginIn, address: str, limiter: LoginLimiter, tokens: TokenIssuer, tz_name: str
) -> PartnerLoginOut:
    account_id = await authenticate(
        data.phone, data.password, address, limiter, find=_account_by_phone
    )
    row = await sql.fetch_one(_PRINCIPAL_SQL, account_id, ACTIVE)
    if row is None:  # disabled between the password check and now
        raise BadCredentials()
    async with writing():
        session_id = await open_session(
            AccountKind.PARTNER, account_id, forget_older_than=tokens.lifetime
        )
    return PartnerLoginOut(
        access_token=tokens.issue_partner(account_id, session_id),
        token_type="bearer",
        expires_in=tokens.ttl_seconds,
        account=PartnerSelf(
            account_id=account_id,
            name=row["name"],
            partner_unit_id=row["partner_unit"],
            partner_unit_name=row["unit_name"],
        ),
        recent_quarters=[q.label for q in recent_quarters(tz_name)],
    )
