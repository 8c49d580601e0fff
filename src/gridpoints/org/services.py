"""The grid tree: reading units within the caller's view, adding units, building subtrees."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from gridpoints.audit.services import Change, record, record_many
from gridpoints.auth.access import Target, check, require
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.errors import unique_or
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, FieldProblem, Invalid
from gridpoints.org.queries import within
from gridpoints.org.schemas import OrgUnitCreate, OrgUnitOut
from gridpoints.org.tables import OrgUnit
from gridpoints.schemas import Page
from gridpoints.settings import Settings
from gridpoints.unit_paths import ROOT_SCOPE, ancestor_ids, child_path

WHAT = "网格单位"
# New units get their parent's path plus their own id, in one statement.
_SET_PENDING_PATHS = """
UPDATE org_unit
SET path = (SELECT p.path FROM org_unit p WHERE p.id = org_unit.parent)
           || CAST(org_unit.id AS VARCHAR(20)) || '/'
WHERE org_unit.path LIKE 'pending-%'
"""


async def unit_row(unit_id: int) -> dict[str, Any] | None:
    return await OrgUnit.select().where(OrgUnit.id == unit_id).first()


async def find_unit(
    actor: Principal, unit_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    """The unit, if the caller holds `capability` on it (NotFound when it is out of view)."""
    row = await unit_row(unit_id)
    check(actor, Target(path=row["path"] if row else None), capability, what=WHAT)
    assert row is not None
    return row


async def get_unit(actor: Principal, unit_id: int) -> OrgUnitOut:
    row = await find_unit(actor, unit_id)
    return (await _with_path_names([row]))[0]


async def list_units(
    actor: Principal,
    *,
    parent_id: int | None,
    level: int | None,
    q: str | None,
    limit: int,
    offset: int,
) -> Page[OrgUnitOut]:
    condition = within(OrgUnit.path, actor.scopes(Capability.VIEW))
    if parent_id is not None:
        condition &= OrgUnit.parent == parent_id
    if level is not None:
        condition &= OrgUnit.level == level
    if q:
        condition &= OrgUnit.name.ilike(f"%{q.strip()}%")
    rows = (
        await OrgUnit.select().where(condition).order_by(OrgUnit.path).limit(limit).offset(offset)
    )
    total = await OrgUnit.count().where(condition)
    return Page(items=await _with_path_names(rows), total=total, limit=limit, offset=offset)


async def create_unit(actor: Principal, data: OrgUnitCreate, settings: Settings) -> OrgUnitOut:
    name = data.name.strip()
    if not name:
        raise Invalid.field("name", "名称不能为空")
    async with writing():
        parent = await find_unit(actor, data.parent_id, Capability.MANAGE_ORG)
        if data.code and await OrgUnit.exists().where(OrgUnit.code == data.code):
            raise _code_taken()
        level = parent["level"] + 1
        values = {
            "parent": parent["id"],
            "name": name,
            "code": data.code or f"pending-{uuid.uuid4().hex}",
            "level": level,
            "level_name": (data.level_name or "").strip() or settings.level_name(level),
            "path": f"{parent['path']}pending-{uuid.uuid4().hex}/",
            "created_at": utcnow(),
        }
        with unique_or(_code_taken):
            unit_id = await _insert_unit(values, parent["path"], generated_code=not data.code)
        row = await unit_row(unit_id)
        assert row is not None
        await record(
            actor,
            Change("org_unit.create", "org_unit", unit_id, unit_id, after=_state(row)),
        )
    return (await _with_path_names([row]))[0]


async def _insert_unit(values: dict[str, Any], parent_path: str, *, generated_code: bool) -> int:
    inserted = await OrgUnit.insert(OrgUnit(**values)).returning(OrgUnit.id)
    unit_id = inserted[0]["id"]
    changes: dict[Any, Any] = {OrgUnit.path: child_path(parent_path, unit_id)}
    if generated_code:
        changes[OrgUnit.code] = f"U{unit_id}"
    await OrgUnit.update(changes).where(OrgUnit.id == unit_id)
    return unit_id


def _code_taken() -> Conflict:
    return Conflict(
        "该编码已被使用",
        code="code_taken",
        problems=[FieldProblem(field="code", detail="该编码已被使用")],
    )


async def community_of(path: str, settings: Settings) -> dict[str, Any] | None:
    """The community (the unit at the community level) on `path`, if the path reaches it."""
    return (
        await OrgUnit.select()
        .where(OrgUnit.id.is_in(ancestor_ids(path)) & (OrgUnit.level == settings.community_level))
        .first()
    )


async def path_names(unit_id: int) -> list[str]:
    """The names from the top of the tree down to the unit (a member's own home, which they
    may read whatever their roles)."""
    row = await unit_row(unit_id)
    return (await _with_path_names([row]))[0].path_names if row else []


async def _with_path_names(rows: list[dict[str, Any]]) -> list[OrgUnitOut]:
    """Attach each unit's breadcrumb of names, fetching all ancestors in one query."""
    wanted = {ancestor for row in rows for ancestor in ancestor_ids(row["path"])}
    names: dict[int, str] = {}
    if wanted:
        names = {
            r["id"]: r["name"]
            for r in await OrgUnit.select(OrgUnit.id, OrgUnit.name).where(
                OrgUnit.id.is_in(sorted(wanted))
            )
        }
    return [
        OrgUnitOut(
            id=row["id"],
            parent_id=row["parent"],
            name=row["name"],
            code=row["code"],
            level=row["level"],
            level_name=row["level_name"],
            path=row["path"],
            path_names=[names.get(i, "") for i in ancestor_ids(row["path"])],
        )
        for row in rows
    ]


def _state(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("parent", "name", "code", "level", "level_name", "path")}


class UnitSpec(msgspec.Struct, frozen=True):
    """A unit to add under an existing parent (bulk building of a tree)."""

    parent_id: int
    name: str
    code: str
    level_name: str


async def create_units_bulk(actor: Principal, specs: list[UnitSpec]) -> dict[str, int]:
    """Add many units under existing parents in one transaction; returns code -> id.

    Paths are set by one UPDATE from each new unit's parent, not row by row.
    """
    if not specs:
        return {}
    async with writing():
        parents = {
            row["id"]: row
            for row in await OrgUnit.select(OrgUnit.id, OrgUnit.level, OrgUnit.path).where(
                OrgUnit.id.is_in(sorted({s.parent_id for s in specs}))
            )
        }
        for parent in parents.values():
            require(actor, Capability.MANAGE_ORG, parent["path"], WHAT)
        now = utcnow()
        rows = [
            OrgUnit(
                parent=spec.parent_id,
                name=spec.name,
                code=spec.code,
                level=parents[spec.parent_id]["level"] + 1,
                level_name=spec.level_name,
                path=f"pending-{uuid.uuid4().hex}/",
                created_at=now,
            )
            for spec in specs
        ]
        ids: dict[str, int] = {}
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            inserted = await OrgUnit.insert(*chunk).returning(OrgUnit.id, OrgUnit.code)
            ids.update({row["code"]: row["id"] for row in inserted})
        await OrgUnit.raw(_SET_PENDING_PATHS)
        created = await OrgUnit.select().where(OrgUnit.id.is_in(sorted(ids.values())))
        await record_many(
            actor,
            [
                Change("org_unit.create", "org_unit", row["id"], row["id"], after=_state(row))
                for row in sorted(created, key=lambda r: r["id"])
            ],
        )
    return ids


async def create_root_unit(actor: Principal, name: str, code: str, level_name: str) -> int:
    """Start a tree (a sub-district, say). Only the platform itself may do this."""
    require(actor, Capability.MANAGE_ORG, ROOT_SCOPE, WHAT)
    async with writing():
        if await OrgUnit.exists().where(OrgUnit.code == code):
            raise _code_taken()
        unit_id = await _insert_unit(
            {
                "parent": None,
                "name": name,
                "code": code,
                "level": 0,
                "level_name": level_name,
                "path": f"pending-{uuid.uuid4().hex}/",
                "created_at": utcnow(),
            },
            ROOT_SCOPE,
            generated_code=False,
        )
        row = await unit_row(unit_id)
        assert row is not None
        await record(
            actor, Change("org_unit.create", "org_unit", unit_id, unit_id, after=_state(row))
        )
    return unit_id
