"""Finding a member the caller may act on, and presenting it with the phone masked unless the
caller manages that member."""

from __future__ import annotations

from typing import Any

from gridpoints.auth.access import require
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.members.phones import mask_phone
from gridpoints.members.schemas import MemberOut
from gridpoints.members.tables import Member

WHAT = "成员"

MEMBER_COLUMNS = (
    Member.id,
    Member.name,
    Member.phone,
    Member.category,
    Member.org_unit,
    Member.status,
    Member.employer,
    Member.partner_unit,
    Member.created_at,
    Member.updated_at,
    Member.org_unit._.name.as_alias("org_unit_name"),
    Member.org_unit._.path.as_alias("org_path"),
)


async def member_row(member_id: int) -> dict[str, Any] | None:
    return await Member.select(*MEMBER_COLUMNS).where(Member.id == member_id).first()


async def authorized_member(
    actor: Principal, member_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    """The member row if the caller may act on it; members may always read themselves."""
    row = await member_row(member_id)
    if row is not None and capability is Capability.VIEW and actor.is_member(member_id):
        return row
    require(actor, capability, row["org_path"] if row else None, WHAT)
    assert row is not None
    return row


def present(actor: Principal, row: dict[str, Any]) -> MemberOut:
    shows_phone = actor.is_member(row["id"]) or actor.can(
        Capability.MANAGE_MEMBERS, row["org_path"]
    )
    return MemberOut(
        id=row["id"],
        name=row["name"],
        phone=row["phone"] if shows_phone else mask_phone(row["phone"]),
        phone_masked=not shows_phone,
        category=row["category"],
        org_unit_id=row["org_unit"],
        org_unit_name=row["org_unit_name"],
        status=row["status"],
        employer=row["employer"],
        partner_unit_id=row["partner_unit"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
