"""Members and their roles: reading within the caller's view (phones masked unless the caller
manages the member), adding and editing members, appointing and removing role holders."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from gridpoints.audit.services import Change, record
from gridpoints.auth.access import covers_grant, require
from gridpoints.auth.passwords import check_new_password, hash_password
from gridpoints.auth.permissions import Capability, may_appoint
from gridpoints.auth.principal import Principal, RoleGrant
from gridpoints.auth.sessions import AccountKind, EndReason, end_sessions
from gridpoints.clock import local_today, utcnow
from gridpoints.db.errors import unique_or
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from gridpoints.members import registration
from gridpoints.members.adding import NewMember, add_members
from gridpoints.members.lookup import (
    MEMBER_COLUMNS,
    find_changeable_member,
    find_member,
    member_row,
    present,
)
from gridpoints.members.schemas import (
    MemberCreate,
    MemberDetail,
    MemberOut,
    MemberPatch,
    RoleGrantIn,
    RoleOut,
)
from gridpoints.members.search import member_search
from gridpoints.members.tables import Member, RoleAssignment
from gridpoints.members.vocab import Category, MemberStatus
from gridpoints.org.queries import within
from gridpoints.org.services import find_unit
from gridpoints.partners.services import require_partner_field
from gridpoints.phones import parse_phone
from gridpoints.schemas import Page
from gridpoints.settings import Settings

_AUDITED_FIELDS = (
    "name",
    "phone",
    "category",
    "org_unit",
    "status",
    "employer",
    "partner_unit",
)


def phone_taken(field: str = "phone") -> Conflict:
    return Conflict(
        "该手机号已登记", code="phone_taken", problems=[FieldProblem(field, "该手机号已登记")]
    )


def _role_taken() -> Conflict:
    return Conflict("该成员已在此单位担任此角色", code="role_exists")


async def _home_unit(actor: Principal, unit_id: int) -> dict[str, Any]:
    """The grid named as a member's home: one the caller cannot see is a bad field, worded
    as for an id that does not exist, so the answer says nothing about other grids."""
    try:
        return await find_unit(actor, unit_id, Capability.MANAGE_MEMBERS)
    except NotFound:
        raise Invalid.field("org_unit_id", "所在网格不存在") from None


async def list_members(
    actor: Principal,
    *,
    org_unit_id: int | None,
    category: Category | None,
    q: str | None,
    limit: int,
    offset: int,
) -> Page[MemberOut]:
    scopes = actor.scopes(Capability.VIEW)
    if org_unit_id is not None:
        scopes = [(await find_unit(actor, org_unit_id))["path"]]
    condition = within(Member.org_unit._.path, scopes)
    if category is not None:
        condition &= Member.category == category.value
    if q and q.strip():
        condition &= member_search(actor, q.strip())
    rows = (
        await Member.select(*MEMBER_COLUMNS)
        .where(condition)
        .order_by(Member.id)
        .limit(limit)
        .offset(offset)
    )
    total = await Member.count().where(condition)
    return Page(items=[present(actor, r) for r in rows], total=total, limit=limit, offset=offset)


async def get_member(actor: Principal, member_id: int) -> MemberDetail:
    row = await find_member(actor, member_id)
    return await _detail(actor, row)


async def _detail(actor: Principal, row: dict[str, Any]) -> MemberDetail:
    roles = await roles_of(row["id"])
    current = await registration.active_registration(row["id"])
    return MemberDetail(
        **msgspec.structs.asdict(present(actor, row)), roles=roles, registration=current
    )


async def roles_of(member_id: int) -> list[RoleOut]:
    rows = (
        await RoleAssignment.select(
            RoleAssignment.id,
            RoleAssignment.role,
            RoleAssignment.org_unit,
            RoleAssignment.org_unit._.name.as_alias("org_unit_name"),
        )
        .where(RoleAssignment.member == member_id)
        .order_by(RoleAssignment.id)
    )
    return [
        RoleOut(
            id=r["id"], role=r["role"], org_unit_id=r["org_unit"], org_unit_name=r["org_unit_name"]
        )
        for r in rows
    ]


async def create_member(actor: Principal, data: MemberCreate, settings: Settings) -> MemberDetail:
    phone = parse_phone(data.phone)
    name = _clean_name(data.name)
    # Hashing is slow on purpose: off the event loop, and before SQLite's write lock is taken.
    password_hash = None
    if data.password:
        await asyncio.to_thread(check_new_password, data.password, phone=phone, name=name)
        password_hash = await asyncio.to_thread(hash_password, data.password)
    async with writing():
        unit = await _home_unit(actor, data.org_unit_id)
        if data.partner_unit_id is not None:
            await require_partner_field(actor, data.partner_unit_id)
        if await Member.exists().where(Member.phone == phone):
            raise phone_taken()
        community = None
        if data.category is Category.IN_SERVICE:
            community = await registration.reporting_community(unit["path"], settings)
        new = NewMember(
            name=name,
            phone=phone,
            category=data.category,
            org_unit=unit["id"],
            employer=(data.employer or "").strip() or None,
            partner_unit=data.partner_unit_id,
            password_hash=password_hash,
            # A password one person sets for another is temporary (the platform's own
            # accounts, such as the first admin's from `bootstrap`, are not).
            must_change_password=password_hash is not None and actor.member_id is not None,
            community=community,
        )
        with unique_or(phone_taken):
            added = await add_members(actor, [new], reported_on=local_today(settings.timezone))
        [member_id] = added.member_ids
        row = await member_row(member_id)
    assert row is not None
    return await _detail(actor, row)


async def update_member(
    actor: Principal, member_id: int, patch: MemberPatch, settings: Settings
) -> MemberDetail:
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not msgspec.UNSET}
    if not changes:
        raise Invalid(FieldProblem("body", "没有要修改的字段"))
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _clean_name(changes["name"])
    if "phone" in changes:
        values["phone"] = parse_phone(changes["phone"])
    for key in ("category", "status"):
        if key in changes:
            values[key] = changes[key].value
    if "employer" in changes:
        values["employer"] = (changes["employer"] or "").strip() or None
    if "partner_unit_id" in changes:
        values["partner_unit"] = changes["partner_unit_id"]
    async with writing():
        row = await find_changeable_member(actor, member_id)
        if "org_unit_id" in changes:
            values["org_unit"] = (await _home_unit(actor, changes["org_unit_id"]))["id"]
        if values.get("partner_unit") is not None:
            await require_partner_field(actor, values["partner_unit"])
        phone_changes = "phone" in values and values["phone"] != row["phone"]
        if phone_changes and await Member.exists().where(Member.phone == values["phone"]):
            raise phone_taken()
        before = _audited(row)
        values["updated_at"] = utcnow()
        with unique_or(phone_taken):
            await Member.update(values).where(Member.id == member_id)
        updated = await member_row(member_id)
        assert updated is not None
        await record(
            actor,
            Change(
                "member.update",
                "member",
                member_id,
                updated["org_unit"],
                before=before,
                after=_audited(updated),
            ),
        )
        if {"category", "org_unit", "partner_unit"} & values.keys():
            await registration.follow_member(actor, updated, settings)
        if row["status"] == MemberStatus.ACTIVE and updated["status"] != MemberStatus.ACTIVE:
            # Reactivation later does not revive these: the member signs in afresh.
            await end_sessions(AccountKind.MEMBER, member_id, EndReason.DEACTIVATED)
    return await _detail(actor, updated)


async def set_password(actor: Principal, member_id: int, password: str) -> None:
    """A manager sets a temporary password for a member they cover (`find_changeable_member`):
    the member must change it at their next sign-in. One's own password is changed with the
    current one (`members.account.change_own_password`), never here."""
    async with writing():
        row = await find_changeable_member(actor, member_id)
    await asyncio.to_thread(check_new_password, password, phone=row["phone"], name=row["name"])
    password_hash = await asyncio.to_thread(hash_password, password)
    async with writing():
        row = await find_changeable_member(actor, member_id)
        await Member.update(
            {
                Member.password_hash: password_hash,
                Member.must_change_password: True,
                Member.updated_at: utcnow(),
            }
        ).where(Member.id == member_id)
        await end_sessions(AccountKind.MEMBER, member_id, EndReason.PASSWORD_RESET)
        # The hash itself never goes into the log.
        await record(
            actor,
            Change(
                "member.password_set",
                "member",
                member_id,
                row["org_unit"],
                after={"password": "set"},
            ),
        )


async def grant_role(actor: Principal, member_id: int, data: RoleGrantIn) -> RoleOut:
    async with writing():
        await find_member(actor, member_id)
        if actor.is_member(member_id):
            raise Forbidden("不能修改自己的职务，请由上级管理员办理")
        try:
            unit = await find_unit(actor, data.org_unit_id)
        except NotFound as exc:
            exc.problems = [FieldProblem("org_unit_id", exc.detail)]
            raise
        await find_changeable_member(actor, member_id, Capability.MANAGE_ROLES)
        require(actor, Capability.MANAGE_ROLES, unit["path"], "单位")
        # Nobody grants a role they could not then manage.
        granted = RoleGrant(data.role, unit["id"], unit["path"])
        if not covers_grant(actor, Capability.MANAGE_ROLES, granted) or not may_appoint(
            actor.capabilities_at(unit["path"]), data.role
        ):
            raise Forbidden("您只能任命低于自身职务的角色")
        exists = await RoleAssignment.exists().where(
            (RoleAssignment.member == member_id)
            & (RoleAssignment.role == data.role.value)
            & (RoleAssignment.org_unit == unit["id"])
        )
        if exists:
            raise _role_taken()
        # A concurrent grant of the same role may get in between the check and the insert.
        with unique_or(_role_taken):
            inserted = await RoleAssignment.insert(
                RoleAssignment(
                    member=member_id,
                    role=data.role.value,
                    org_unit=unit["id"],
                    granted_by=actor.member_id,
                    created_at=utcnow(),
                )
            ).returning(RoleAssignment.id)
        role_id = inserted[0]["id"]
        await record(
            actor,
            Change(
                "role.grant",
                "role_assignment",
                role_id,
                unit["id"],
                after={"member": member_id, "role": data.role.value, "org_unit": unit["id"]},
            ),
        )
    return RoleOut(id=role_id, role=data.role, org_unit_id=unit["id"], org_unit_name=unit["name"])


async def revoke_role(actor: Principal, member_id: int, role_id: int) -> None:
    async with writing():
        await find_changeable_member(actor, member_id, Capability.MANAGE_ROLES)
        row = (
            await RoleAssignment.select(
                RoleAssignment.id,
                RoleAssignment.member,
                RoleAssignment.role,
                RoleAssignment.org_unit,
                RoleAssignment.org_unit._.path.as_alias("path"),
            )
            .where((RoleAssignment.id == role_id) & (RoleAssignment.member == member_id))
            .first()
        )
        require(actor, Capability.MANAGE_ROLES, row["path"] if row else None, "角色")
        assert row is not None
        await RoleAssignment.delete().where(RoleAssignment.id == role_id)
        await end_sessions(AccountKind.MEMBER, member_id, EndReason.ROLE_REMOVED)
        await record(
            actor,
            Change(
                "role.revoke",
                "role_assignment",
                role_id,
                row["org_unit"],
                before={"member": row["member"], "role": row["role"], "org_unit": row["org_unit"]},
            ),
        )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise Invalid.field("name", "姓名不能为空")
    return cleaned


def _audited(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row.get(key) for key in _AUDITED_FIELDS}
