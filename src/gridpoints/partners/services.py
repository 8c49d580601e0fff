"""Partner units (报到单位/共建单位), their pairings with communities (共建联建协议), and a
partner unit's quarterly record of its dual-registered members.

A partner unit belongs to the committee that registered it. Callers see it when their view
covers that committee's unit or lies inside it, so a grid leader can pick a member's employer
from the units their community registered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from piccolo.columns.combination import WhereRaw

from gridpoints.audit.services import Change, record
from gridpoints.auth.access import Target, check, sees
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.engine import is_postgres
from gridpoints.db.errors import unique_or
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, FieldProblem, Invalid, NotFound
from gridpoints.org.queries import within
from gridpoints.org.services import find_unit
from gridpoints.partners.schemas import PairingIn, PairingOut, PartnerUnitIn, PartnerUnitOut
from gridpoints.partners.tables import PartnerUnit, UnitPairing
from gridpoints.partners.vocab import RecordState
from gridpoints.phones import mask_phone, parse_phone
from gridpoints.schemas import Page
from gridpoints.settings import Settings
from gridpoints.unit_paths import ancestor_ids

PARTNER = "报到单位"
PAIRING = "共建协议"


# --- partner units ---------------------------------------------------------------------


def _partner_visibility(actor: Principal):
    scopes = actor.scopes(Capability.VIEW)
    if not scopes:
        return WhereRaw("1 = 0")
    above = sorted({a for scope in scopes for a in ancestor_ids(scope)})
    condition = within(PartnerUnit.org_unit._.path, scopes)
    return condition | PartnerUnit.org_unit.is_in(above) if above else condition


def _sees_partner(actor: Principal, org_path: str) -> bool:
    return sees(actor, Target(path=org_path, seen_from_below=True))


async def _partner_rows(condition: Any, limit: int = 1, offset: int = 0) -> list[dict[str, Any]]:
    return (
        await PartnerUnit.select(
            *PartnerUnit.all_columns(), PartnerUnit.org_unit._.path.as_alias("org_path")
        )
        .where(condition)
        .order_by(PartnerUnit.id)
        .limit(limit)
        .offset(offset)
    )


async def find_partner(
    actor: Principal, partner_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    """The partner unit, seen by those who see its community or a unit below it."""
    rows = await _partner_rows(PartnerUnit.id == partner_id)
    path = rows[0]["org_path"] if rows else None
    check(actor, Target(path=path, seen_from_below=True), capability, what=PARTNER)
    return rows[0]


async def _unit_field(
    actor: Principal, unit_id: int, capability: Capability, field: str
) -> dict[str, Any]:
    """An org unit named in a request body: one out of view is a bad field, worded as for an
    id that does not exist; one in view that the caller may not act on is forbidden."""
    try:
        return await find_unit(actor, unit_id, capability)
    except NotFound:
        raise Invalid.field(field, "组织单位不存在") from None


async def require_partner_field(actor: Principal, partner_id: int) -> None:
    """For forms that name a partner unit: an unknown or hidden one is a bad field."""
    try:
        await find_partner(actor, partner_id)
    except NotFound:
        raise Invalid.field("partner_unit_id", "报到单位不存在") from None


# How many members name each unit as their employer. The member table is named here, not
# imported: members point at partner units, so partners sit below members in the layers.
_MEMBER_COUNTS = (
    "SELECT partner_unit, count(*) AS count FROM member "
    "WHERE partner_unit IN ({}) GROUP BY partner_unit"
)


async def _present_partners(actor: Principal, rows: list[dict[str, Any]]) -> list[PartnerUnitOut]:
    counts: dict[int, int] = {}
    if rows:
        ids = [row["id"] for row in rows]
        counts = {
            r["partner_unit"]: r["count"]
            for r in await sql.fetch(_MEMBER_COUNTS.format(", ".join("{}" for _ in ids)), *ids)
        }
    out = []
    for row in rows:
        phone = row["contact_phone"]
        if phone and not actor.can(Capability.MANAGE_PARTNERS, row["org_path"]):
            phone = mask_phone(phone)
        out.append(
            PartnerUnitOut(
                id=row["id"],
                name=row["name"],
                kind=row["kind"],
                org_unit_id=row["org_unit"],
                contact_name=row["contact_name"],
                contact_phone=phone,
                member_count=counts.get(row["id"], 0),
            )
        )
    return out


async def list_partners(
    actor: Principal, *, q: str | None, limit: int, offset: int
) -> Page[PartnerUnitOut]:
    condition = _partner_visibility(actor)
    if q and q.strip():
        pattern = f"%{q.strip()}%"
        # SQLite's LIKE already ignores ASCII case; ILIKE is PostgreSQL's spelling of it.
        by_name = (
            PartnerUnit.name.ilike(pattern) if is_postgres() else PartnerUnit.name.like(pattern)
        )
        condition &= by_name
    rows = await _partner_rows(condition, limit, offset)
    total = await PartnerUnit.count().where(condition)
    return Page(items=await _present_partners(actor, rows), total=total, limit=limit, offset=offset)


async def get_partner(actor: Principal, partner_id: int) -> PartnerUnitOut:
    row = await find_partner(actor, partner_id)
    return (await _present_partners(actor, [row]))[0]


async def create_partner(actor: Principal, data: PartnerUnitIn) -> PartnerUnitOut:
    name = " ".join(data.name.split())
    if not name:
        raise Invalid.field("name", "名称不能为空")
    contact_phone = parse_phone(data.contact_phone, "contact_phone") if data.contact_phone else None
    async with writing():
        unit = await _unit_field(actor, data.org_unit_id, Capability.MANAGE_PARTNERS, "org_unit_id")
        if await PartnerUnit.exists().where(PartnerUnit.name == name):
            raise _name_taken()
        values = {
            "name": name,
            "kind": data.kind.value,
            "contact_name": data.contact_name,
            "contact_phone": contact_phone,
            "org_unit": unit["id"],
            "created_at": utcnow(),
        }
        with unique_or(_name_taken):
            inserted = await PartnerUnit.insert(PartnerUnit(**values)).returning(PartnerUnit.id)
        partner_id = inserted[0]["id"]
        await record(
            actor,
            Change(
                "partner_unit.create",
                "partner_unit",
                partner_id,
                unit["id"],
                after={k: v for k, v in values.items() if k != "created_at"},
            ),
        )
        row = await find_partner(actor, partner_id)
    return (await _present_partners(actor, [row]))[0]


def _name_taken() -> Conflict:
    return Conflict(
        "已有同名的报到单位",
        code="name_taken",
        problems=[FieldProblem("name", "已有同名的报到单位")],
    )


# --- pairings ----------------------------------------------------------------------------


def _pairing_out(row: dict[str, Any]) -> PairingOut:
    return PairingOut(
        id=row["id"],
        partner_unit_id=row["partner_unit"],
        community_id=row["community"],
        community_name=row["community_name"],
        agreement=row["agreement"],
        signed_on=row["signed_on"],
        ends_on=row["ends_on"],
        state=row["state"],
    )


async def _pairing_rows(condition: Any) -> list[dict[str, Any]]:
    return (
        await UnitPairing.select(
            *UnitPairing.all_columns(),
            UnitPairing.community._.name.as_alias("community_name"),
            UnitPairing.community._.path.as_alias("community_path"),
        )
        .where(condition)
        .order_by(UnitPairing.id)
    )


async def list_pairings(actor: Principal, partner_id: int) -> list[PairingOut]:
    await find_partner(actor, partner_id)
    rows = await _pairing_rows(UnitPairing.partner_unit == partner_id)
    return [_pairing_out(r) for r in rows if _sees_partner(actor, r["community_path"])]


async def create_pairing(
    actor: Principal, partner_id: int, data: PairingIn, settings: Settings
) -> PairingOut:
    if data.ends_on is not None and data.ends_on < data.signed_on:
        raise Invalid.field("ends_on", "结束日期不能早于签订日期")
    async with writing():
        await find_partner(actor, partner_id)
        community = await _unit_field(
            actor, data.community_id, Capability.MANAGE_PARTNERS, "community_id"
        )
        if community["level"] != settings.community_level:
            raise Invalid.field(
                "community_id", f"只能与{settings.community_level_name}签订共建协议"
            )
        duplicate = await UnitPairing.exists().where(
            (UnitPairing.partner_unit == partner_id)
            & (UnitPairing.community == community["id"])
            & (UnitPairing.state == RecordState.ACTIVE.value)
        )
        if duplicate:
            raise _pairing_taken()
        values = {
            "partner_unit": partner_id,
            "community": community["id"],
            "agreement": data.agreement.strip(),
            "signed_on": data.signed_on,
            "ends_on": data.ends_on,
            "state": RecordState.ACTIVE.value,
            "created_at": utcnow(),
        }
        # A concurrent pairing may get in between the check and the insert.
        with unique_or(_pairing_taken):
            inserted = await UnitPairing.insert(UnitPairing(**values)).returning(UnitPairing.id)
        pairing_id = inserted[0]["id"]
        await record(
            actor,
            Change(
                "pairing.create",
                "unit_pairing",
                pairing_id,
                community["id"],
                after={k: v for k, v in values.items() if k != "created_at"},
            ),
        )
        rows = await _pairing_rows(UnitPairing.id == pairing_id)
    return _pairing_out(rows[0])


def _pairing_taken() -> Conflict:
    return Conflict("该单位与此社区已有生效的共建协议", code="pairing_exists")


async def end_pairing(
    actor: Principal, partner_id: int, pairing_id: int, ended_on: date
) -> PairingOut:
    async with writing():
        await find_partner(actor, partner_id)
        rows = await _pairing_rows(
            (UnitPairing.id == pairing_id) & (UnitPairing.partner_unit == partner_id)
        )
        path = rows[0]["community_path"] if rows else None
        target = Target(path=path, seen_from_below=True)
        check(actor, target, Capability.MANAGE_PARTNERS, what=PAIRING)
        row = rows[0]
        require_endable(row["state"], row["signed_on"], ended_on, PAIRING)
        await UnitPairing.update(
            {UnitPairing.state: RecordState.ENDED.value, UnitPairing.ends_on: ended_on}
        ).where(UnitPairing.id == pairing_id)
        await record(
            actor,
            Change(
                "pairing.end",
                "unit_pairing",
                pairing_id,
                row["community"],
                before={"state": row["state"], "ends_on": row["ends_on"]},
                after={"state": RecordState.ENDED.value, "ends_on": ended_on},
            ),
        )
        rows = await _pairing_rows(UnitPairing.id == pairing_id)
    return _pairing_out(rows[0])


def require_endable(state: str, started: date, ended_on: date, what: str) -> None:
    """A dual-registration record (a pairing, a member's report) ends once, and not before it
    began."""
    if state != RecordState.ACTIVE.value:
        raise Conflict(f"该{what}已结束", code="already_ended")
    if ended_on < started:
        raise Invalid.field("ended_on", "结束日期不能早于开始日期")
