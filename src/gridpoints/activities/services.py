"""Activities: who may see, join and organise them, and their current check-in code."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import msgspec

from gridpoints.activities.codes import make_token, slot_ends_at, slot_of
from gridpoints.activities.schemas import ActivityIn, ActivityOut, ActivityPatch, CheckinCode
from gridpoints.activities.tables import Activity, ActivityStatus
from gridpoints.activities.vocab import category_label
from gridpoints.audit.services import Change, record
from gridpoints.auth.access import Target, check
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.errors import FieldProblem, Invalid, NotFound
from gridpoints.geo import Datum, to_wgs84
from gridpoints.members.tables import Member
from gridpoints.org.queries import within
from gridpoints.org.services import find_unit
from gridpoints.schemas import Page
from gridpoints.settings import Settings
from gridpoints.unit_paths import ancestor_ids

WHAT = "活动"
_COLUMNS = (
    Activity.id,
    Activity.org_unit,
    Activity.org_unit._.name.as_alias("org_unit_name"),
    Activity.org_unit._.path.as_alias("org_path"),
    Activity.title,
    Activity.category,
    Activity.description,
    Activity.starts_at,
    Activity.ends_at,
    Activity.lat,
    Activity.lng,
    Activity.radius_m,
    Activity.capacity,
    Activity.status,
    Activity.code_secret,
)
_AUDITED = (
    "title",
    "category",
    "description",
    "starts_at",
    "ends_at",
    "lat",
    "lng",
    "radius_m",
    "capacity",
    "status",
)


async def home_path(actor: Principal) -> str | None:
    if actor.member_id is None:
        return None
    if actor.home is not None:
        return actor.home
    row = (
        await Member.select(Member.org_unit._.path.as_alias("path"))
        .where(Member.id == actor.member_id)
        .first()
    )
    return row["path"] if row else None


async def activity_row(activity_id: int) -> dict[str, Any] | None:
    return await Activity.select(*_COLUMNS).where(Activity.id == activity_id).first()


async def find_activity(
    actor: Principal, activity_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    """The activity if the caller may see it (or act on it): else "not found" as for no id."""
    row = await activity_row(activity_id)
    path = row["org_path"] if row else None
    # Members who may join see it; doing more needs a role there.
    check(actor, Target(path=path, invites_residents=True), capability, what=WHAT)
    assert row is not None
    return row


def present(actor: Principal, row: dict[str, Any]) -> ActivityOut:
    return ActivityOut(
        id=row["id"],
        org_unit_id=row["org_unit"],
        org_unit_name=row["org_unit_name"],
        title=row["title"],
        category=row["category"],
        category_label=category_label(row["category"]),
        description=row["description"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        lat=row["lat"],
        lng=row["lng"],
        datum=Datum.WGS84,
        radius_m=row["radius_m"],
        capacity=row["capacity"],
        status=row["status"],
        organiser=actor.can(Capability.MANAGE_ACTIVITIES, row["org_path"]),
    )


def _check(values: dict[str, Any], settings: Settings) -> None:
    problems = []
    if values["category"] not in settings.activity_categories:
        allowed = "、".join(category_label(c) for c in settings.activity_categories)
        problems.append(FieldProblem("category", f"未知类别，可选：{allowed}"))
    if values["ends_at"] <= values["starts_at"]:
        problems.append(FieldProblem("ends_at", "结束时间必须晚于开始时间"))
    if not values["title"].strip():
        problems.append(FieldProblem("title", "标题不能为空"))
    if problems:
        raise Invalid(*problems)


def _audited(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values[k] for k in _AUDITED if k in values}


def _place_in_wgs84(values: dict[str, Any]) -> dict[str, Any]:
    """Turns the place in `values` (lat, lng and their datum) into WGS-84, in place; returns
    what was given when it had to be converted, for the audit log."""
    datum = Datum(values.pop("datum", Datum.WGS84))
    if "lat" not in values or datum is Datum.WGS84:
        return {}
    given = {"datum": datum.value, "lat": values["lat"], "lng": values["lng"]}
    values["lat"], values["lng"] = to_wgs84(values["lat"], values["lng"], datum)
    return {"given": given}


async def create_activity(actor: Principal, data: ActivityIn, settings: Settings) -> ActivityOut:
    values = msgspec.structs.asdict(data)
    values["title"] = values["title"].strip()
    given = _place_in_wgs84(values)
    _check(values, settings)
    now = utcnow()
    async with writing():
        unit = await find_unit(actor, data.org_unit_id, Capability.MANAGE_ACTIVITIES)
        row = {
            **{k: v for k, v in values.items() if k != "org_unit_id"},
            "org_unit": unit["id"],
            "code_secret": secrets.token_urlsafe(32),
            "status": ActivityStatus.SCHEDULED,
            "created_by": actor.member_id,
            "created_at": now,
            "updated_at": now,
        }
        inserted = await Activity.insert(Activity(**row)).returning(Activity.id)
        activity_id = inserted[0]["id"]
        await record(
            actor,
            Change(
                "activity.create",
                "activity",
                activity_id,
                unit["id"],
                after={**_audited(row), **given},
            ),
        )
    created = await activity_row(activity_id)
    assert created is not None
    return present(actor, created)


async def update_activity(
    actor: Principal, activity_id: int, patch: ActivityPatch, settings: Settings
) -> ActivityOut:
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not msgspec.UNSET}
    if not changes:
        raise Invalid(FieldProblem("body", "没有要修改的字段"))
    given = _place_in_wgs84(changes)
    async with writing():
        row = await find_activity(actor, activity_id, Capability.MANAGE_ACTIVITIES)
        merged = {**row, **changes}
        _check(merged, settings)
        await Activity.update({**changes, "updated_at": utcnow()}).where(Activity.id == activity_id)
        await record(
            actor,
            Change(
                "activity.update",
                "activity",
                activity_id,
                row["org_unit"],
                before=_audited({k: row[k] for k in changes}),
                after={**_audited(changes), **given},
            ),
        )
    updated = await activity_row(activity_id)
    assert updated is not None
    return present(actor, updated)


async def list_activities(
    actor: Principal, *, org_unit_id: int | None, limit: int, offset: int
) -> Page[ActivityOut]:
    """Activities in the caller's grids and those the caller may join, soonest last."""
    if org_unit_id is not None:
        condition = within(
            Activity.org_unit._.path, [(await find_unit(actor, org_unit_id))["path"]]
        )
    else:
        condition = within(Activity.org_unit._.path, actor.scopes(Capability.VIEW))
        home = await home_path(actor)
        if home:
            condition |= Activity.org_unit.is_in(ancestor_ids(home))
    rows = (
        await Activity.select(*_COLUMNS)
        .where(condition)
        .order_by(Activity.starts_at, ascending=False)
        .order_by(Activity.id)
        .limit(limit)
        .offset(offset)
    )
    total = await Activity.count().where(condition)
    return Page(items=[present(actor, r) for r in rows], total=total, limit=limit, offset=offset)


async def get_activity(actor: Principal, activity_id: int) -> ActivityOut:
    return present(actor, await find_activity(actor, activity_id))


def checkin_url(base_url: str, activity_id: int, token: str) -> str:
    return f"{base_url.rstrip('/')}/checkin.html?a={activity_id}&t={token}"


async def current_code(
    actor: Principal, activity_id: int, settings: Settings, base_url: str, now: datetime
) -> CheckinCode:
    row = await find_activity(actor, activity_id, Capability.MANAGE_ACTIVITIES)
    if row["status"] != ActivityStatus.SCHEDULED:
        raise NotFound(WHAT)
    slot = slot_of(now, settings.checkin_slot_seconds)
    token = make_token(settings.secret_key, row["code_secret"], activity_id, slot)
    return CheckinCode(
        token=token,
        slot_seconds=settings.checkin_slot_seconds,
        expires_at=slot_ends_at(slot, settings.checkin_slot_seconds),
        checkin_url=checkin_url(base_url, activity_id, token),
    )
