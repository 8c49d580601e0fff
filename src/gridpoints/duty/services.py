"""For a quarter: each dual-registered in-service member's verified service (check-ins,
services, wishes, net of revocations), and who still owes the quarterly activity; the same
for the members a partner unit employs, as that unit's record."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec

from gridpoints.auth.access import Target, check
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.db import sql
from gridpoints.db.sql import Fragment, listed
from gridpoints.events.served import served
from gridpoints.events.tables import VerifiedEvent
from gridpoints.members.tables import MemberRegistration
from gridpoints.members.vocab import Category
from gridpoints.org.queries import within
from gridpoints.org.services import find_unit
from gridpoints.partners.tables import PartnerUnit
from gridpoints.periods import Quarter
from gridpoints.settings import Settings

_CHUNK = 500


class MemberDuty(msgspec.Struct):
    member_id: int
    name: str
    org_unit_id: int
    org_unit_name: str
    partner_unit_id: int | None
    partner_unit_name: str | None
    checkins: int
    services: int
    wishes: int
    minutes: int
    done: bool


class GroupDuty(msgspec.Struct):
    id: int | None
    name: str
    members: int
    done: int
    owing: int


class DutyReport(msgspec.Struct):
    period: str
    members: list[MemberDuty]
    by_grid: list[GroupDuty]
    by_partner: list[GroupDuty]


async def _registered(condition: Any) -> list[dict[str, Any]]:
    return await (
        MemberRegistration.select(
            MemberRegistration.member.as_alias("member_id"),
            MemberRegistration.member._.name.as_alias("name"),
            MemberRegistration.member._.org_unit.as_alias("org_unit_id"),
            MemberRegistration.member._.org_unit._.name.as_alias("org_unit_name"),
            MemberRegistration.partner_unit.as_alias("partner_unit_id"),
            MemberRegistration.partner_unit._.name.as_alias("partner_unit_name"),
        )
        .where(
            condition
            & (MemberRegistration.state == "active")
            & (MemberRegistration.member._.category == Category.IN_SERVICE.value)
            & (MemberRegistration.member._.status == "active")
        )
        .order_by(MemberRegistration.member)
    )


async def _counted(member_ids: list[int], quarter: Quarter, settings: Settings) -> dict:
    """member -> kind -> (count, minutes), verified minus revoked, within the quarter."""
    start, end = quarter.bounds(settings.timezone)
    facts: dict[tuple[str, int], dict[str, Any]] = {}
    for offset in range(0, len(member_ids), _CHUNK):
        rows = await VerifiedEvent.select(
            VerifiedEvent.member,
            VerifiedEvent.kind,
            VerifiedEvent.source_id,
            VerifiedEvent.action,
            VerifiedEvent.minutes,
        ).where(
            VerifiedEvent.member.is_in(member_ids[offset : offset + _CHUNK])
            & (VerifiedEvent.occurred_at >= start)
            & (VerifiedEvent.occurred_at < end)
        )
        for row in rows:
            key = (row["kind"], row["source_id"])
            if row["action"] == "revoked":
                facts[key] = {"revoked": True}
            elif not facts.get(key, {}).get("revoked"):
                facts[key] = row
    totals: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for fact in facts.values():
        if fact.get("revoked"):
            continue
        total = totals[fact["member"]][fact["kind"]]
        total[0] += 1
        total[1] += fact["minutes"]
    return totals


async def _served(member_ids: list[int], quarter: Quarter, settings: Settings) -> set[int]:
    """The members who served in the quarter (`events.served`, as the period-end rules ask)."""
    start, end = quarter.bounds(settings.timezone)
    found: set[int] = set()
    for offset in range(0, len(member_ids), _CHUNK):
        chunk = member_ids[offset : offset + _CHUNK]
        statement = Fragment(
            "SELECT m.id FROM member m WHERE m.id IN ({}) AND {}",
            [listed(chunk), served("m.id", start, end)],
        )
        found.update(row["id"] for row in await sql.fetch(statement.text, *statement.args))
    return found


def _group(members: list[MemberDuty], key: str, name: str) -> list[GroupDuty]:
    groups: dict[Any, GroupDuty] = {}
    for member in members:
        group_id = getattr(member, key)
        group = groups.setdefault(
            group_id,
            GroupDuty(
                id=group_id, name=getattr(member, name) or "无报到单位", members=0, done=0, owing=0
            ),
        )
        group.members += 1
        group.done += member.done
        group.owing += not member.done
    return sorted(groups.values(), key=lambda g: (-g.owing, g.name))


async def duty_report(
    actor: Principal, org_unit_id: int, quarter: Quarter, settings: Settings
) -> DutyReport:
    unit = await find_unit(actor, org_unit_id)
    return await duty_of(
        within(MemberRegistration.member._.org_unit._.path, [unit["path"]]), quarter, settings
    )


async def duty_of(condition: Any, quarter: Quarter, settings: Settings) -> DutyReport:
    """The quarter's duty of the active, in-service members whose active registration meets
    `condition` (a Piccolo condition on `MemberRegistration`); no permission is checked."""
    registered = await _registered(condition)
    return await _report(registered, quarter, settings)


async def _report(
    registered: list[dict[str, Any]], quarter: Quarter, settings: Settings
) -> DutyReport:
    member_ids = [r["member_id"] for r in registered]
    totals = await _counted(member_ids, quarter, settings)
    served_ids = await _served(member_ids, quarter, settings)
    members = []
    for row in registered:
        kinds = totals.get(row["member_id"], {})
        checkins, services, wishes = (kinds.get(k, [0, 0]) for k in ("checkin", "service", "wish"))
        members.append(
            MemberDuty(
                **row,
                checkins=checkins[0],
                services=services[0],
                wishes=wishes[0],
                minutes=checkins[1] + services[1] + wishes[1],
                done=row["member_id"] in served_ids,
            )
        )
    return DutyReport(
        period=quarter.label,
        members=members,
        by_grid=_group(members, "org_unit_id", "org_unit_name"),
        by_partner=_group(members, "partner_unit_id", "partner_unit_name"),
    )


async def partner_report(
    actor: Principal, partner_id: int, quarter: Quarter, settings: Settings
) -> tuple[str, DutyReport]:
    """The partner unit's name and its dual-registered members' duty for the quarter."""
    partner = (
        await PartnerUnit.select(PartnerUnit.name, PartnerUnit.org_unit._.path.as_alias("path"))
        .where(PartnerUnit.id == partner_id)
        .first()
    )
    # A partner unit's own contacts read its record; otherwise those who manage the unit.
    target = Target(
        path=partner["path"] if partner else None,
        owner_partner_unit=partner_id,
        seen_with=Capability.MANAGE_PARTNERS,
    )
    check(actor, target, Capability.MANAGE_PARTNERS, what="共建单位")
    assert partner is not None
    report = await duty_of(MemberRegistration.partner_unit == partner_id, quarter, settings)
    return partner["name"], report
