"""Checking in and out: stored once per `client_id`, flagged rather than refused when where
or when looks wrong, and turned into a verified event once closed and accepted."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from gridpoints.activities.codes import TOKEN_PROBLEM_LABELS, check_token
from gridpoints.activities.services import find_activity
from gridpoints.activities.tables import ActivityStatus
from gridpoints.audit.services import Change, record
from gridpoints.auth.access import Target, check, forbid_self_dealing, require, sees
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Caller, Principal
from gridpoints.auth.sessions import PasswordChangeRequired
from gridpoints.checkins import flags as rules
from gridpoints.checkins import store
from gridpoints.checkins.schemas import (
    BatchItemOut,
    BatchOut,
    CheckInIn,
    CheckInOut,
    ItemProblem,
    ProxyCheckInIn,
    ReviewIn,
)
from gridpoints.checkins.tables import CheckIn, Review
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, DomainError, Forbidden, Invalid, Unauthenticated
from gridpoints.events import services as events
from gridpoints.members.account import load_principal
from gridpoints.members.lookup import find_member
from gridpoints.org.queries import within
from gridpoints.schemas import Page
from gridpoints.settings import Settings
from gridpoints.transitions import Transitions

log = logging.getLogger(__name__)

WHAT = "签到记录"
_ITEM_FAILED = ItemProblem(500, "internal", "服务器内部错误，请稍后再发送此条")
# A phone clock a little ahead is normal; more than this and the arrival time is used.
_CLOCK_TOLERANCE = timedelta(minutes=5)
_COLUMNS = (
    CheckIn.all_columns(),
    CheckIn.activity._.title.as_alias("activity_title"),
    CheckIn.activity._.category.as_alias("activity_category"),
    CheckIn.activity._.org_unit.as_alias("activity_unit"),
    CheckIn.activity._.org_unit._.path.as_alias("activity_path"),
    CheckIn.member._.name.as_alias("member_name"),
)


def _ruled_already(current: Review, _target: Review) -> Conflict:
    return Conflict(f"该签到当前状态为 {current}，不能再通过", code="not_pending")


# A leader's rulings. A ruling that is the check-in's state already changes nothing, and a
# new flag at check-out sends an accepted check-in back to pending (`_close`).
RULINGS = Transitions(
    Review,
    {Review.PENDING: {Review.ACCEPTED, Review.REJECTED}, Review.ACCEPTED: {Review.REJECTED}},
    _ruled_already,
)


def _body_hash(member_id: int, data: msgspec.Struct) -> str:
    return hashlib.sha256(msgspec.json.encode([member_id, data], order="sorted")).hexdigest()


async def _row_by(condition: Any) -> dict[str, Any] | None:
    return await CheckIn.select(*_COLUMNS).where(condition).first()


def present(row: dict[str, Any]) -> CheckInOut:
    codes = rules.decode(row["flags"])
    minutes = None
    if row["checked_out_at"] is not None:
        minutes = max(0, int((row["checked_out_at"] - row["checked_in_at"]).total_seconds() // 60))
    return CheckInOut(
        id=row["id"],
        client_id=UUID(str(row["client_id"])),
        activity_id=row["activity"],
        activity_title=row["activity_title"],
        member_id=row["member"],
        member_name=row["member_name"],
        method=row["method"],
        checked_in_at=row["checked_in_at"],
        received_at=row["received_at"],
        checked_out_at=row["checked_out_at"],
        minutes=minutes,
        flags=[f.value for f in codes],
        flag_labels=[rules.FLAG_LABELS[f] for f in codes],
        review=row["review"],
        review_reason=row["review_reason"],
        proxy_reason=row["proxy_reason"],
    )


async def _replay(client_id: UUID, member_id: int, body_hash: str) -> CheckInOut | None:
    """The stored check-in when this is a replay of it; 409 when the id was used otherwise."""
    row = await _row_by(CheckIn.client_id == client_id)
    if row is None:
        return None
    if row["member"] != member_id or row["body_hash"] != body_hash:
        raise Conflict("该 client_id 已用于另一条签到", code="client_id_reused")
    return present(row)


def _scanned_at(claimed: datetime | None, now: datetime) -> datetime:
    """The phone's time of the scan, unless it is missing or runs too far ahead."""
    if claimed is None or claimed - now > _CLOCK_TOLERANCE:
        return now
    return min(claimed, now)


async def check_in(
    caller: Caller, data: CheckInIn, settings: Settings, now: datetime
) -> tuple[CheckInOut, bool]:
    """(the check-in, True when made now) for the member and session of a valid token; a
    replay of a stored one gives it back unchanged, even when its code has expired since."""
    member_id = caller.member_id
    body_hash = _body_hash(member_id, data)
    try:
        actor, activity, values = await _admit(caller, data, settings, now)
        values["body_hash"] = body_hash
        checkin_id = await _insert(actor, values, activity)
    except Unauthenticated:
        raise
    except DomainError as refusal:
        replay = await _replay(data.client_id, member_id, body_hash)
        if replay is not None:
            return replay, False
        if isinstance(refusal, _NotInvited):
            await _explain_not_invited(caller, data.activity_id)
        raise
    return await _result(checkin_id, values, activity, member_name=actor.name)


async def check_in_batch(caller: Caller, items: list[CheckInIn], settings: Settings) -> BatchOut:
    """A phone's offline queue, in order: each item as `check_in` takes it alone, arriving now.
    An item refused or failed answers with its own status and problem; the others stand."""
    results = []
    for item in items:
        client_id = str(item.client_id)
        try:
            checkin, created = await check_in(caller, item, settings, utcnow())
        except DomainError as refusal:
            results.append(BatchItemOut(client_id, refusal.status, problem=ItemProblem.of(refusal)))
        except Exception:
            # Items before this one are stored: the batch still answers for each item,
            # and the phone keeps this one queued to send again.
            log.exception("check-in %s of a batch failed", item.client_id)
            results.append(BatchItemOut(client_id, 500, problem=_ITEM_FAILED))
        else:
            results.append(BatchItemOut(client_id, 201 if created else 200, checkin=checkin))
    return BatchOut(items=results)


class _NotInvited(Forbidden):
    """No such activity, or the member is not among its invitees: which one the caller
    may learn depends on their roles (see `_explain_not_invited`)."""

    def __init__(self) -> None:
        super().__init__("您不在本活动的参加范围内")


async def _explain_not_invited(caller: Caller, activity_id: int) -> None:
    """NotFound unless the member may see the activity (a leader above it): then they are
    told plainly that only its invitees check in."""
    principal = await load_principal(caller.member_id, caller.session_id)
    if principal is None:  # signed out since the scan was read
        raise Unauthenticated()
    await find_activity(principal, activity_id)


async def _admit(
    caller: Caller, data: CheckInIn, settings: Settings, now: datetime
) -> tuple[Principal, dict[str, Any], dict[str, Any]]:
    """The scanning member, the activity, and the check-in to store, flagged with what looks
    wrong; refuses what cannot be a check-in at all (a member who may no longer sign in, no
    such activity, not invited, a forged or foreign code)."""
    scanned_at = _scanned_at(data.at, now)
    member_id = caller.member_id
    activity = await store.scan(member_id, caller.session_id, data.activity_id, scanned_at)
    if activity is None:
        raise Unauthenticated()
    if activity["must_change_password"]:
        raise PasswordChangeRequired()
    # Who the audit log names; the member's roles are not needed to check in.
    actor = Principal(member_id=member_id, name=activity["member_name"], home=activity["home"])
    invitation = Target(path=activity["org_path"], invites_residents=True)
    if activity["id"] is None or not sees(actor, invitation):
        raise _NotInvited()
    if activity["status"] != ActivityStatus.SCHEDULED:
        raise Conflict("活动已取消", code="activity_cancelled")
    token = check_token(
        data.token,
        platform_secret=settings.secret_key,
        activity_secret=activity["code_secret"],
        activity_id=activity["id"],
        received_at=now,
        scanned_at=scanned_at,
        slot_seconds=settings.checkin_slot_seconds,
        max_queue_seconds=settings.checkin_max_queue_hours * 3600,
    )
    if token.problem is not None:
        raise Invalid.field("token", TOKEN_PROBLEM_LABELS[token.problem])
    has_fix = data.lat is not None and data.lng is not None
    fix = rules.Fix(data.lat, data.lng, data.accuracy_m or 0.0) if has_fix else None  # type: ignore[arg-type]
    found = rules.place_flags(
        rules.Place(activity["lat"], activity["lng"], activity["radius_m"]), fix
    )
    found += rules.window_flags(
        scanned_at,
        activity["starts_at"],
        activity["ends_at"],
        timedelta(minutes=settings.checkin_grace_minutes),
    )
    if token.late:
        found.append(rules.Flag.LATE_TOKEN)
    if fix is not None:
        found += rules.speed_flags(
            rules.Sighting(
                activity["previous_at"], activity["previous_lat"], activity["previous_lng"]
            )
            if activity["previous_at"] is not None
            else None,
            rules.Sighting(scanned_at, fix.lat, fix.lng),
            settings.checkin_max_speed_kmh,
        )
    values = {
        "client_id": data.client_id,
        "activity": activity["id"],
        "member": member_id,
        "method": "qr",
        "checked_in_at": scanned_at,
        "received_at": now,
        "lat": data.lat,
        "lng": data.lng,
        "accuracy_m": data.accuracy_m,
        "token_slot": token.slot,
        "flags": rules.encode(found),
        "review": Review.PENDING if found else Review.ACCEPTED,
    }
    return actor, activity, values


async def proxy_check_in(
    actor: Principal, data: ProxyCheckInIn, settings: Settings, now: datetime
) -> tuple[CheckInOut, bool]:
    """A leader checks in a member who has no smartphone, giving the reason."""
    by = actor.member_id or 0
    body_hash = _body_hash(by, data)
    existing = await _row_by(CheckIn.client_id == data.client_id)
    if existing is not None:
        if existing["body_hash"] != body_hash:
            raise Conflict("该 client_id 已用于另一条签到", code="client_id_reused")
        return present(existing), False
    activity = await find_activity(actor, data.activity_id, Capability.MANAGE_ACTIVITIES)
    if actor.is_member(data.member_id):
        raise Invalid.field("member_id", "不能为自己代签到，请扫码签到")
    member = await find_member(actor, data.member_id)
    if not member["org_path"].startswith(activity["org_path"]):
        raise Invalid.field("member_id", "该成员不在本活动的参加范围内")
    values = {
        "client_id": data.client_id,
        "activity": activity["id"],
        "member": member["id"],
        "method": "proxy",
        "checked_in_at": now,
        "received_at": now,
        "flags": "",
        "review": Review.ACCEPTED,
        "proxy_by": actor.member_id,
        "proxy_reason": data.reason.strip(),
        "body_hash": body_hash,
    }
    checkin_id = await _insert(actor, values, activity)
    return await _result(checkin_id, values, activity, member_name=member["name"])


async def _insert(actor: Principal, values: dict[str, Any], activity: dict[str, Any]) -> int | None:
    """The new check-in's id, or None when one like it is stored (see `_result`)."""
    capacity = activity["capacity"]
    if capacity is not None and not await store.has_room(
        activity["id"], values["member"], capacity
    ):
        raise Conflict("活动人数已满", code="activity_full")
    change = Change(
        "checkin.create",
        "checkin",
        None,
        activity["org_unit"],
        after={
            "activity": activity["id"],
            "member": values["member"],
            "method": values["method"],
            "flags": values["flags"],
            "review": values["review"],
        },
    )
    return await store.insert_once(actor, values, change)


async def _result(
    checkin_id: int | None, values: dict[str, Any], activity: dict[str, Any], *, member_name: str
) -> tuple[CheckInOut, bool]:
    if checkin_id is None:
        # A copy of this check-in won the race for its client_id, or the member is
        # checked in already.
        winner = await _row_by(CheckIn.client_id == values["client_id"])
        if winner is None:
            raise Conflict("您已签到，尚未签退", code="already_checked_in")
        if winner["body_hash"] != values["body_hash"]:
            raise Conflict("该 client_id 已用于另一条签到", code="client_id_reused")
        return present(winner), False
    made = {
        "id": checkin_id,
        "activity_title": activity["title"],
        "member_name": member_name,
        "checked_out_at": None,
        "review_reason": None,
        "proxy_reason": None,
        **values,
    }
    return present(made), True


async def find_checkin(
    actor: Principal, checkin_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    row = await _row_by(CheckIn.id == checkin_id)
    target = Target(path=row["activity_path"], owner=row["member"]) if row else Target(path=None)
    # One's own check-in is always visible; doing more needs a role there.
    check(actor, target, capability, what=WHAT)
    assert row is not None
    return row


def _event(row: dict[str, Any]) -> events.EventIn:
    closed = row["checked_out_at"]
    return events.EventIn(
        kind="checkin",
        source_id=row["id"],
        member_id=row["member"],
        org_unit_id=row["activity_unit"],
        category=row["activity_category"],
        occurred_at=row["checked_in_at"],
        minutes=max(0, int((closed - row["checked_in_at"]).total_seconds() // 60)),
        detail={"activity": row["activity"], "method": row["method"], "flags": row["flags"]},
    )


async def check_out(
    actor: Principal, checkin_id: int, at: datetime | None, now: datetime
) -> CheckInOut:
    """Close an open check-in (the member, or a leader of the activity)."""
    async with writing():
        row = await find_checkin(actor, checkin_id)
        own = actor.is_member(row["member"])
        if not own:
            require(actor, Capability.MANAGE_ACTIVITIES, row["activity_path"], WHAT)
        if row["checked_out_at"] is not None:
            return present(row)
        closed_at = max(min(at or now, now), row["checked_in_at"])
        await _close(actor, row, closed_at, "member" if own else "leader", flags=row["flags"])
    updated = await _row_by(CheckIn.id == checkin_id)
    assert updated is not None
    return present(updated)


async def _close(
    actor: Principal, row: dict[str, Any], closed_at: datetime, kind: str, *, flags: str
) -> None:
    review = row["review"]
    if flags != row["flags"] and review == Review.ACCEPTED:
        review = Review.PENDING
    await CheckIn.update(
        {
            CheckIn.checked_out_at: closed_at,
            CheckIn.checkout_kind: kind,
            CheckIn.flags: flags,
            CheckIn.review: review,
        }
    ).where((CheckIn.id == row["id"]) & CheckIn.checked_out_at.is_null())
    await record(
        actor,
        Change(
            "checkin.checkout",
            "checkin",
            row["id"],
            row["activity_unit"],
            before={"checked_out_at": None},
            after={"checked_out_at": closed_at, "by": kind, "flags": flags},
        ),
    )
    if review == Review.ACCEPTED:
        await events.verified(_event({**row, "checked_out_at": closed_at}), actor.member_id)


async def close_stale(actor: Principal, ended_before: datetime, now: datetime) -> int:
    """Close check-ins still open after their activity ended, flagged "no check-out"."""
    rows = await CheckIn.select(*_COLUMNS).where(
        CheckIn.checked_out_at.is_null() & (CheckIn.activity._.ends_at < ended_before)
    )
    for row in rows:
        async with writing():
            fresh = await _row_by((CheckIn.id == row["id"]) & CheckIn.checked_out_at.is_null())
            if fresh is None:
                continue
            flags = rules.encode([*rules.decode(fresh["flags"]), rules.Flag.NO_CHECKOUT])
            closed_at = max(fresh["checked_in_at"], min(now, row["received_at"]))
            await _close(actor, fresh, closed_at, "auto", flags=flags)
    return len(rows)


async def review(actor: Principal, checkin_id: int, data: ReviewIn) -> CheckInOut:
    """A leader rules on a flagged check-in; a rejection needs a reason."""
    decision = Review(data.decision)
    if decision == Review.REJECTED and len(data.reason.strip()) < 2:
        raise Invalid.field("reason", "驳回时请填写理由")
    async with writing():
        row = await find_checkin(actor, checkin_id, Capability.MANAGE_ACTIVITIES)
        # Nor one the ruler made themselves for someone else (a proxy check-in).
        forbid_self_dealing(actor, row["member"], row["proxy_by"], action="审核")
        if row["review"] == decision:
            return present(row)
        RULINGS.check(row["review"], decision)
        await CheckIn.update(
            {
                CheckIn.review: decision,
                CheckIn.review_reason: data.reason.strip() or None,
                CheckIn.reviewed_by: actor.member_id,
                CheckIn.reviewed_at: utcnow(),
            }
        ).where(CheckIn.id == checkin_id)
        await record(
            actor,
            Change(
                "checkin.review",
                "checkin",
                checkin_id,
                row["activity_unit"],
                before={"review": row["review"]},
                after={"review": decision, "reason": data.reason.strip()},
            ),
        )
        if row["checked_out_at"] is not None:
            event = _event(row)
            if decision == Review.ACCEPTED:
                await events.verified(event, actor.member_id)
            else:
                await events.revoked(event, actor.member_id)
    updated = await _row_by(CheckIn.id == checkin_id)
    assert updated is not None
    return present(updated)


async def list_checkins(
    actor: Principal,
    *,
    activity_id: int | None,
    review: str | None,
    limit: int,
    offset: int,
    member_id: int | None = None,
) -> Page[CheckInOut]:
    """Check-ins of activities the caller organises (or the caller's own), newest first;
    `member_id` narrows them to one member's (a member's own record page asks for its own)."""
    condition = within(
        CheckIn.activity._.org_unit._.path, actor.scopes(Capability.MANAGE_ACTIVITIES)
    )
    if actor.member_id is not None:
        condition |= CheckIn.member == actor.member_id
    if activity_id is not None:
        await find_activity(actor, activity_id)
        condition &= CheckIn.activity == activity_id
    if review is not None:
        condition &= CheckIn.review == review
    if member_id is not None:
        condition &= CheckIn.member == member_id
    rows = (
        await CheckIn.select(*_COLUMNS)
        .where(condition)
        .order_by(CheckIn.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await CheckIn.count().where(condition)
    return Page(items=[present(r) for r in rows], total=total, limit=limit, offset=offset)
