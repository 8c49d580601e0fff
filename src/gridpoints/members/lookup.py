"""Finding a member the caller may act on, and presenting it with the phone masked unless the
caller manages that member."""

from __future__ import annotations

from typing import Any

from gridpoints.auth.access import Target, check, check_member_change
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal, RoleGrant
from gridpoints.auth.roles import Role
from gridpoints.members.schemas import MemberOut
from gridpoints.members.tables import Member, RoleAssignment
from gridpoints.phones import mask_phone

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


async def find_member(
    actor: Principal, member_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    """The member row if the caller may act on it; members may always read themselves.
    Changing a member's account, roles or standing goes through `find_changeable_member`."""
    row = await member_row(member_id)
    path = row["org_path"] if row else None
    check(actor, Target(path=path, owner=member_id), capability, what=WHAT)
    assert row is not None
    return row


async def grants_of(member_id: int) -> list[RoleGrant]:
    """Every role the member holds, with its unit's path."""
    rows = await RoleAssignment.select(
        RoleAssignment.role,
        RoleAssignment.org_unit,
        RoleAssignment.org_unit._.path.as_alias("path"),
    ).where(RoleAssignment.member == member_id)
    return [RoleGrant(Role(r["role"]), r["org_unit"], r["path"]) for r in rows]


async def find_changeable_member(
    actor: Principal, member_id: int, capability: Capability = Capability.MANAGE_MEMBERS
) -> dict[str, Any]:
    """The member row if the caller's authority strictly covers the member's (their home
    unit and every role they hold, `auth.access.covers_member`): NotFound when the member is
    out of view, Forbidden when not covered or when it is the caller."""
    row = await member_row(member_id)
    check_member_change(
        actor,
        capability,
        member_id=member_id,
        home_path=row["org_path"] if row else None,
        grants=await grants_of(member_id) if row else (),
        what=WHAT,
    )
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
