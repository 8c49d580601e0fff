"""Dual registration (双报到) of members: an in-service member reports to the community where
they live, with their employer's partner unit; the report follows the member when they move or
change employer (`follow_member`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from gridpoints.audit.services import Change, record
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import local_today, utcnow
from gridpoints.db.errors import unique_or
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, Invalid, NotFound
from gridpoints.members.lookup import find_member
from gridpoints.members.schemas import RegistrationIn, RegistrationOut
from gridpoints.members.tables import MemberRegistration
from gridpoints.members.vocab import Category
from gridpoints.org.services import community_of
from gridpoints.partners.services import require_endable, require_partner_field
from gridpoints.partners.vocab import RecordState
from gridpoints.settings import Settings

REGISTRATION = "报到记录"


async def _registration_rows(condition: Any) -> list[dict[str, Any]]:
    return (
        await MemberRegistration.select(
            *MemberRegistration.all_columns(),
            MemberRegistration.community._.name.as_alias("community_name"),
            MemberRegistration.partner_unit._.name.as_alias("partner_unit_name"),
        )
        .where(condition)
        .order_by(MemberRegistration.id)
    )


def _registration_out(row: dict[str, Any]) -> RegistrationOut:
    return RegistrationOut(
        id=row["id"],
        member_id=row["member"],
        community_id=row["community"],
        community_name=row["community_name"],
        partner_unit_id=row["partner_unit"],
        partner_unit_name=row["partner_unit_name"],
        reported_on=row["reported_on"],
        ended_on=row["ended_on"],
        state=row["state"],
    )


async def active_registration(member_id: int) -> RegistrationOut | None:
    rows = await _registration_rows(
        (MemberRegistration.member == member_id)
        & (MemberRegistration.state == RecordState.ACTIVE.value)
    )
    return _registration_out(rows[0]) if rows else None


async def registrations_of(actor: Principal, member_id: int) -> list[RegistrationOut]:
    await find_member(actor, member_id)
    rows = await _registration_rows(MemberRegistration.member == member_id)
    return [_registration_out(r) for r in rows]


async def reporting_community(unit_path: str, settings: Settings) -> int:
    """The id of the community an in-service member living in the unit at `unit_path` reports
    to; a unit under no community is a bad `org_unit_id`."""
    community = await community_of(unit_path, settings)
    if community is None:
        raise Invalid.field("org_unit_id", f"所在网格不属于任何{settings.community_level_name}")
    return community["id"]


async def register_member(
    actor: Principal,
    *,
    member_id: int,
    unit_path: str,
    partner_unit_id: int | None,
    reported_on: date,
    settings: Settings,
) -> int:
    """Record the member's report to the community above `unit_path` (inside a transaction)."""
    community_id = await reporting_community(unit_path, settings)
    if await MemberRegistration.exists().where(
        (MemberRegistration.member == member_id)
        & (MemberRegistration.state == RecordState.ACTIVE.value)
    ):
        raise _registration_taken()
    values = {
        "member": member_id,
        "community": community_id,
        "partner_unit": partner_unit_id,
        "reported_on": reported_on,
        "state": RecordState.ACTIVE.value,
        "created_at": utcnow(),
    }
    # A concurrent report may get in between the check and the insert.
    with unique_or(_registration_taken):
        inserted = await MemberRegistration.insert(MemberRegistration(**values)).returning(
            MemberRegistration.id
        )
    registration_id = inserted[0]["id"]
    await record(
        actor,
        Change(
            "registration.create",
            "member_registration",
            registration_id,
            community_id,
            after={k: v for k, v in values.items() if k != "created_at"},
        ),
    )
    return registration_id


async def follow_member(actor: Principal, member: dict[str, Any], settings: Settings) -> None:
    """After a change to the member (inside its transaction), keep their report where they
    now are: an in-service member reports to the community they live in, with their partner
    unit; moving to another community, or changing employer, ends the old report and starts
    a new one today; a member no longer in service ends theirs."""
    current = await active_registration(member["id"])
    in_service = member["category"] == Category.IN_SERVICE.value
    if current is not None and in_service:
        community = await community_of(member["org_path"], settings)
        same_place = community is not None and community["id"] == current.community_id
        if same_place and current.partner_unit_id == member["partner_unit"]:
            return
    today = local_today(settings.timezone)
    if current is not None:
        await _end(actor, member, current, max(today, current.reported_on))
    if in_service:
        await register_member(
            actor,
            member_id=member["id"],
            unit_path=member["org_path"],
            partner_unit_id=member["partner_unit"],
            reported_on=today,
            settings=settings,
        )


async def _end(
    actor: Principal, member: dict[str, Any], current: RegistrationOut, ended_on: date
) -> None:
    await MemberRegistration.update(
        {MemberRegistration.state: RecordState.ENDED.value, MemberRegistration.ended_on: ended_on}
    ).where(MemberRegistration.id == current.id)
    await record(
        actor,
        Change(
            "registration.end",
            "member_registration",
            current.id,
            member["org_unit"],
            before={"state": current.state, "ended_on": current.ended_on},
            after={"state": RecordState.ENDED.value, "ended_on": ended_on},
        ),
    )


def _registration_taken() -> Conflict:
    return Conflict("该成员已有生效的报到记录", code="registration_exists")


async def create_registration(
    actor: Principal, member_id: int, data: RegistrationIn, settings: Settings
) -> RegistrationOut:
    async with writing():
        member = await find_member(actor, member_id, Capability.MANAGE_MEMBERS)
        partner_id = data.partner_unit_id or member["partner_unit"]
        if data.partner_unit_id is not None:
            await require_partner_field(actor, data.partner_unit_id)
        registration_id = await register_member(
            actor,
            member_id=member_id,
            unit_path=member["org_path"],
            partner_unit_id=partner_id,
            reported_on=data.reported_on,
            settings=settings,
        )
        rows = await _registration_rows(MemberRegistration.id == registration_id)
    return _registration_out(rows[0])


async def end_registration(
    actor: Principal, member_id: int, registration_id: int, ended_on: date
) -> RegistrationOut:
    async with writing():
        member = await find_member(actor, member_id, Capability.MANAGE_MEMBERS)
        rows = await _registration_rows(
            (MemberRegistration.id == registration_id) & (MemberRegistration.member == member_id)
        )
        if not rows:
            raise NotFound(REGISTRATION)
        row = rows[0]
        require_endable(row["state"], row["reported_on"], ended_on, REGISTRATION)
        await _end(actor, member, _registration_out(row), ended_on)
        rows = await _registration_rows(MemberRegistration.id == registration_id)
    return _registration_out(rows[0])
