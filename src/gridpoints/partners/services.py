"""Partner units' accounts: made by the committee that registered the unit, signed in with
phone and password like members, and able to read nothing but their own unit's record."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from gridpoints.audit.services import Change, record
from gridpoints.auth.passwords import hash_password
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.auth.ratelimit import LoginLimiter
from gridpoints.auth.services import authenticate
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.errors import is_unique_violation
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict
from gridpoints.members.phones import mask_phone, parse_phone
from gridpoints.members.registration import authorized_partner
from gridpoints.partners.schemas import (
    PartnerAccountIn,
    PartnerAccountOut,
    PartnerLoginOut,
    PartnerSelf,
)
from gridpoints.partners.tables import PartnerAccount

if TYPE_CHECKING:
    from gridpoints.auth.schemas import LoginIn
    from gridpoints.auth.tokens import TokenIssuer

ACTIVE = "active"

_PRINCIPAL_SQL = """
SELECT a.id, a.name, a.partner_unit, p.name AS unit_name
FROM partner_account a JOIN partner_unit p ON p.id = a.partner_unit
WHERE a.id = {} AND a.status = {}
"""


async def load_partner_principal(account_id: int) -> Principal | None:
    row = await sql.fetch_one(_PRINCIPAL_SQL, account_id, ACTIVE)
    if row is None:
        return None
    return Principal(
        member_id=None,
        name=f"{row['name']}（{row['unit_name']}）",
        partner_unit_id=row["partner_unit"],
    )


async def create_account(
    actor: Principal, partner_id: int, data: PartnerAccountIn
) -> PartnerAccountOut:
    """A contact's account on a partner unit, by those who manage the unit."""
    phone = parse_phone(data.phone)
    password_hash = await asyncio.to_thread(hash_password, data.password)
    async with writing():
        partner = await authorized_partner(actor, partner_id, Capability.MANAGE_PARTNERS)
        values = {
            "partner_unit": partner_id,
            "name": data.name.strip(),
            "phone": phone,
            "password_hash": password_hash,
            "status": ACTIVE,
            "created_at": utcnow(),
        }
        try:
            inserted = await PartnerAccount.insert(PartnerAccount(**values)).returning(
                PartnerAccount.id
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict("该手机号已有共建单位账号", code="phone_taken") from exc
            raise
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


async def list_accounts(actor: Principal, partner_id: int) -> list[PartnerAccountOut]:
    await authorized_partner(actor, partner_id, Capability.MANAGE_PARTNERS)
    rows = (
        await PartnerAccount.select()
        .where(PartnerAccount.partner_unit == partner_id)
        .order_by(PartnerAccount.id)
    )
    return [_present(row) for row in rows]


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
    data: LoginIn, address: str, limiter: LoginLimiter, tokens: TokenIssuer
) -> PartnerLoginOut:
    account_id = await authenticate(
        data.phone, data.password, address, limiter, find=_account_by_phone
    )
    row = await sql.fetch_one(_PRINCIPAL_SQL, account_id, ACTIVE)
    assert row is not None
    return PartnerLoginOut(
        access_token=tokens.issue_partner(account_id),
        token_type="bearer",
        expires_in=tokens.ttl_seconds,
        account=PartnerSelf(
            account_id=account_id,
            name=row["name"],
            partner_unit_id=row["partner_unit"],
            partner_unit_name=row["unit_name"],
        ),
    )
