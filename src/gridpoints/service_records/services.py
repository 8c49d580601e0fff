"""Service records: submitted by a member (or by a leader for them), decided by a leader of
the member's grid who is not the member; an approval is a verified event."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID

from gridpoints.activities.vocab import category_label
from gridpoints.audit.services import Change, record
from gridpoints.auth.access import Target, check, forbid_self_dealing, require
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.engine import is_postgres
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, FieldProblem, Invalid
from gridpoints.events import services as events
from gridpoints.members.lookup import find_member
from gridpoints.org.queries import within
from gridpoints.periods import day_bounds
from gridpoints.replays import body_hash, check_same
from gridpoints.schemas import Page
from gridpoints.service_records.photos import store_photo
from gridpoints.service_records.schemas import ServiceRecordIn, ServiceRecordOut
from gridpoints.service_records.tables import RecordState, ServiceRecord
from gridpoints.settings import Settings
from gridpoints.transitions import Transitions

WHAT = "服务记录"
STATE_LABELS = {
    RecordState.SUBMITTED: "待审核",
    RecordState.APPROVED: "已通过",
    RecordState.REJECTED: "已驳回",
}
_COLUMNS = (
    ServiceRecord.all_columns(),
    ServiceRecord.member._.name.as_alias("member_name"),
    ServiceRecord.member._.org_unit.as_alias("member_unit"),
    ServiceRecord.member._.org_unit._.path.as_alias("member_path"),
)
# A phone clock a little ahead is fine; a deed dated days ahead is a typo.
_FUTURE_TOLERANCE = timedelta(hours=1)
# pg_advisory_xact_lock(key, member): one new record of a member at a time ("svc"), so two
# copies of one deed sent together see each other.
_SUBMIT_LOCK = 0x737663


class Flag(StrEnum):
    """What the leader should look at before ruling; a flagged record is stored all the same."""

    LIKELY_DUPLICATE = "likely_duplicate"


FLAG_LABELS = {
    Flag.LIKELY_DUPLICATE: "可能重复登记：同一天已有类别、时长和内容都相同的服务记录",
}


def _decided_already(current: RecordState, _target: RecordState) -> Conflict:
    return Conflict(
        f"该服务记录当前状态为“{STATE_LABELS[current]}”，不能再审核", code=f"state_{current}"
    )


MOVES = Transitions(
    RecordState,
    {RecordState.SUBMITTED: {RecordState.APPROVED, RecordState.REJECTED}},
    _decided_already,
)


def present(row: dict[str, Any]) -> ServiceRecordOut:
    flags = [code for code in (row["flags"] or "").split(",") if code]
    return ServiceRecordOut(
        id=row["id"],
        member_id=row["member"],
        member_name=row["member_name"],
        category=row["category"],
        category_label=category_label(row["category"]),
        hours=round(row["minutes"] / 60, 2),
        description=row["description"],
        served_on=row["served_on"],
        has_photo=row["photo"] is not None,
        state=row["state"],
        reason=row["reason"],
        submitted_by=row["submitted_by"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        created_at=row["created_at"],
        client_id=UUID(str(row["client_id"])) if row["client_id"] is not None else None,
        flags=flags,
        flag_labels=[FLAG_LABELS.get(code, code) for code in flags],
    )


async def _row(record_id: int) -> dict[str, Any] | None:
    return await ServiceRecord.select(*_COLUMNS).where(ServiceRecord.id == record_id).first()


async def find_service_record(
    actor: Principal, record_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    row = await _row(record_id)
    target = Target(path=row["member_path"], owner=row["member"]) if row else Target(path=None)
    check(actor, target, capability, what=WHAT)
    assert row is not None
    return row


async def submit(actor: Principal, data: ServiceRecordIn, settings: Settings) -> ServiceRecordOut:
    """The record logged (or the one this request stored before, see `submit_once`)."""
    stored, _created = await submit_once(actor, data, settings)
    return stored


async def submit_once(
    actor: Principal, data: ServiceRecordIn, settings: Settings
) -> tuple[ServiceRecordOut, bool]:
    """(the record, True when stored now). A form sent again under its `client_id` answers
    with the record it stored, nothing new stored or scored; a likely copy of a deed already
    logged under another id is stored flagged for the leader."""
    digest = None
    if data.client_id is not None:
        digest = body_hash(actor.member_id, data)
        replay = await _replay(data.client_id, digest)
        if replay is not None:
            return replay, False
    problems = []
    if data.category not in settings.activity_categories:
        problems.append(FieldProblem("category", "未知类别"))
    if data.served_on - utcnow() > _FUTURE_TOLERANCE:
        problems.append(FieldProblem("served_on", "服务日期不能晚于今天"))
    if problems:
        raise Invalid(*problems)
    async with writing():
        if data.member_id is None or actor.is_member(data.member_id):
            if actor.member_id is None:
                raise Invalid.field("member_id", "请指明为哪位成员登记")
            member = await find_member(actor, actor.member_id)
        else:
            member = await find_member(actor, data.member_id, Capability.MANAGE_MEMBERS)
        values = {
            "member": member["id"],
            "category": data.category,
            "minutes": round(data.hours * 60),
            "description": data.description.strip(),
            "served_on": data.served_on,
            "state": RecordState.SUBMITTED,
            "submitted_by": actor.member_id,
            "created_at": utcnow(),
            "client_id": data.client_id,
            "body_hash": digest,
        }
        found = await _flags(values, settings.timezone)
        values["flags"] = ",".join(found)
        # A copy of this form stored meanwhile under the same client_id inserts nothing.
        inserted = (
            await ServiceRecord.insert(ServiceRecord(**values))
            .on_conflict(action="DO NOTHING")
            .returning(ServiceRecord.id)
        )
        if inserted:
            record_id = inserted[0]["id"]
            after = {k: v for k, v in values.items() if k not in ("client_id", "body_hash")}
            await record(
                actor,
                Change(
                    "service.submit", "service_record", record_id, member["org_unit"], after=after
                ),
            )
    if not inserted:
        assert data.client_id is not None and digest is not None
        winner = await _replay(data.client_id, digest)
        assert winner is not None
        return winner, False
    row = await _row(record_id)
    assert row is not None
    return present(row), True


async def _replay(client_id: UUID, digest: str) -> ServiceRecordOut | None:
    """The record stored under `client_id` when this request made it; 409 when another did."""
    row = await ServiceRecord.select(*_COLUMNS).where(ServiceRecord.client_id == client_id).first()
    if row is None:
        return None
    check_same(row["body_hash"], digest, WHAT)
    return present(row)


def _same_text(text: str) -> str:
    return " ".join(text.split())


async def _flags(values: dict[str, Any], tz_name: str) -> list[Flag]:
    """Inside the write transaction: what the leader should look at in the new record. The
    member's new records are taken one at a time, so two copies sent together meet here."""
    if is_postgres():
        await sql.fetch("SELECT pg_advisory_xact_lock({}, {})", _SUBMIT_LOCK, values["member"])
    start, end = day_bounds(values["served_on"], tz_name)
    same_day = await ServiceRecord.select(ServiceRecord.description).where(
        (ServiceRecord.member == values["member"])
        & (ServiceRecord.category == values["category"])
        & (ServiceRecord.minutes == values["minutes"])
        & (ServiceRecord.served_on >= start)
        & (ServiceRecord.served_on < end)
        & (ServiceRecord.state != RecordState.REJECTED)
    )
    text = _same_text(values["description"])
    if any(_same_text(r["description"]) == text for r in same_day):
        return [Flag.LIKELY_DUPLICATE]
    return []


async def _decide(
    actor: Principal, record_id: int, decision: RecordState, reason: str | None
) -> ServiceRecordOut:
    async with writing():
        row = await find_service_record(actor, record_id, Capability.MANAGE_MEMBERS)
        forbid_self_dealing(actor, row["member"], row["submitted_by"], action="审核")
        MOVES.check(row["state"], decision)
        now = utcnow()
        await ServiceRecord.update(
            {
                ServiceRecord.state: decision,
                ServiceRecord.decided_by: actor.member_id,
                ServiceRecord.decided_at: now,
                ServiceRecord.reason: reason,
            }
        ).where((ServiceRecord.id == record_id) & (ServiceRecord.state == RecordState.SUBMITTED))
        await record(
            actor,
            Change(
                f"service.{decision}",
                "service_record",
                record_id,
                row["member_unit"],
                before={"state": row["state"]},
                after={"state": decision, "reason": reason},
            ),
        )
        if decision == RecordState.APPROVED:
            await events.verified(
                events.EventIn(
                    kind="service",
                    source_id=record_id,
                    member_id=row["member"],
                    org_unit_id=row["member_unit"],
                    category=row["category"],
                    occurred_at=row["served_on"],
                    minutes=row["minutes"],
                    detail={"submitted_by": row["submitted_by"]},
                ),
                actor.member_id,
            )
    updated = await _row(record_id)
    assert updated is not None
    return present(updated)


async def approve(actor: Principal, record_id: int) -> ServiceRecordOut:
    return await _decide(actor, record_id, RecordState.APPROVED, None)


async def reject(actor: Principal, record_id: int, reason: str) -> ServiceRecordOut:
    return await _decide(actor, record_id, RecordState.REJECTED, reason.strip())


async def attach_photo(
    actor: Principal, record_id: int, data: bytes, settings: Settings
) -> ServiceRecordOut:
    row = await find_service_record(actor, record_id)
    if not (actor.is_member(row["member"]) or actor.is_member(row["submitted_by"] or -1)):
        require(actor, Capability.MANAGE_MEMBERS, row["member_path"], WHAT)
    if row["state"] != RecordState.SUBMITTED:
        raise Conflict("已审核的服务记录不能再换照片", code=f"state_{row['state']}")
    name = await store_photo(settings, record_id, data)
    async with writing():
        await ServiceRecord.update({ServiceRecord.photo: name}).where(ServiceRecord.id == record_id)
        await record(
            actor,
            Change(
                "service.photo",
                "service_record",
                record_id,
                row["member_unit"],
                before={"photo": row["photo"]},
                after={"photo": name},
            ),
        )
    updated = await _row(record_id)
    assert updated is not None
    return present(updated)


async def photo_path(actor: Principal, record_id: int, settings: Settings) -> Path:
    row = await find_service_record(actor, record_id)
    if row["photo"] is None:
        require(actor, Capability.VIEW, None, "照片")
    return settings.uploads_dir / row["photo"]


async def list_records(
    actor: Principal, *, state: str | None, limit: int, offset: int, member_id: int | None = None
) -> Page[ServiceRecordOut]:
    """Records of members the caller manages, and the caller's own; newest first; `member_id`
    narrows them to one member's."""
    condition = within(
        ServiceRecord.member._.org_unit._.path, actor.scopes(Capability.MANAGE_MEMBERS)
    )
    if actor.member_id is not None:
        condition |= ServiceRecord.member == actor.member_id
    if state is not None:
        condition &= ServiceRecord.state == state
    if member_id is not None:
        condition &= ServiceRecord.member == member_id
    rows = (
        await ServiceRecord.select(*_COLUMNS)
        .where(condition)
        .order_by(ServiceRecord.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await ServiceRecord.count().where(condition)
    return Page(items=[present(r) for r in rows], total=total, limit=limit, offset=offset)
