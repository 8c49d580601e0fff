"""Checking in and out: stored once per `client_id`, flagged rather than refused when where
or when looks wrong, and turned into a verified event once closed and accepted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from gridpoints.activities.codes import (
    TOKEN_PROBLEM_LABELS,
    TokenProblem,
    check_token,
    make_receipt,
    read_receipt,
)
from gridpoints.activities.services import find_activity
from gridpoints.activities.tables import ActivityStatus
from gridpoints.audit.services import Change, record
from gridpoints.auth.access import Target, check, forbid_self_dealing, require, sees
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Caller, Principal
from gridpoints.auth.ratelimit import AddressLimiter
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
    ReceiptOut,
    ReviewIn,
)
from gridpoints.checkins.tables import CheckIn, Review
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    Forbidden,
    Invalid,
    Unauthenticated,
)
from gridpoints.events import services as events
from gridpoints.geo import Datum, to_wgs84
from gridpoints.members.account import load_principal
from gridpoints.members.lookup import find_member
from gridpoints.org.queries import within
from gridpoints.org.services import path_names
from gridpoints.replays import body_hash as replay_digest
from gridpoints.replays import check_same
from gridpoints.schemas import Page
from gridpoints.settings import Settings
from gridpoints.transitions import Transitions

log = logging.getLogger(__name__)

WHAT = "签到记录"
_ITEM_FAILED = ItemProblem(500, "internal", "服务器内部错误，请稍后再发送此条")
_FULL = "活动人数已满，无法再签到"
_COLUMNS = (
    CheckIn.all_columns(),
    CheckIn.activity._.title.as_alias("activity_title"),
    CheckIn.activity._.starts_at.as_alias("activity_starts_at"),
    CheckIn.activity._.ends_at.as_alias("activity_ends_at"),
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


# Fields added after check-ins were first stored, with their defaults (see `_body_hash`).
_ADDED_LATER: dict[str, object] = {"receipt": None, "datum": Datum.WGS84}


def _body_hash(member_id: int, data: msgspec.Struct) -> str:
    """What a replay must repeat. The phone's clock at sending (`sent_at`) changes with
    every resend and is left out; so is a field added since rows were first stored while it
    holds its default, so a replay of an older check-in still matches its row."""
    fields = msgspec.structs.asdict(data)
    fields.pop("sent_at", None)
    for name, default in _ADDED_LATER.items():
        if name in fields and fields[name] == default:
            del fields[name]
    return replay_digest(member_id, fields)


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
        activity_starts_at=row["activity_starts_at"],
        activity_ends_at=row["activity_ends_at"],
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
    check_same(row["body_hash"] if row["member"] == member_id else None, body_hash, "签到")
    return present(row)


def clock_offset(sent_at: datetime | None, received_at: datetime) -> timedelta | None:
    """How far the phone's clock runs behind the server's (negative: ahead), measured by
    the request: arrival − the phone's time at sending. None when the phone did not say."""
    return None if sent_at is None else received_at - sent_at


def on_server_clock(at: datetime | None, offset: timedelta | None, now: datetime) -> datetime:
    """A phone's time `at` on the server's clock: moved by the phone's offset when known,
    never later than `now` (no phone clock credits time yet to come); `now` without `at`."""
    if at is None:
        return now
    return min(at + offset if offset is not None else at, now)


async def check_in(
    caller: Caller,
    data: CheckInIn,
    settings: Settings,
    now: datetime,
    *,
    offset: timedelta | None = None,
) -> tuple[CheckInOut, bool]:
    """(the check-in, True when made now) for the member and session of a valid token; a
    replay of a stored one gives it back unchanged, even when its code has expired since.
    `offset` is the phone's clock offset measured for a whole batch; a single check-in's is
    measured from its own `sent_at`."""
    member_id = caller.member_id
    body_hash = _body_hash(member_id, data)
    if offset is None:
        offset = clock_offset(data.sent_at, now)
    try:
        actor, activity, values = await _admit(caller, data, settings, now, offset)
        values["body_hash"] = body_hash
        checkin_id = await _insert(actor, values, activity)
    except Unauthenticated:
        raise
    except DomainError as refusal:
        replay = await _replay(data.client_id, member_id, body_hash)
        if replay is not None:
            return replay, False
        if isinstance(refusal, _NotInvited):
            await _explain_not_invited(caller, data.activity_id, refusal, settings)
        raise
    return await _result(checkin_id, values, activity, member_name=actor.name)


async def check_in_batch(
    caller: Caller, items: list[CheckInIn], sent_at: datetime | None, settings: Settings
) -> BatchOut:
    """A phone's offline queue, in order: each item as `check_in` takes it alone, arriving now.
    An item refused or failed answers with its own status and problem; the others stand.
    The batch's `sent_at` gives the phone's clock offset for every item (measured once, as
    the batch arrived)."""
    offset = clock_offset(sent_at, utcnow())
    results = []
    for item in items:
        client_id = str(item.client_id)
        try:
            checkin, created = await check_in(caller, item, settings, utcnow(), offset=offset)
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


class _TooManyScans(DomainError):
    status = 429
    title = "Too Many Requests"
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"扫码次数过多，请在 {retry_after} 秒后再试")
        self.headers = {"Retry-After": str(retry_after)}


async def issue_receipt(
    activity_id: int, token: str, settings: Settings, now: datetime
) -> ReceiptOut:
    """The server's signed word that `token` was the activity's live code at `now`, for a
    member who scanned it and has yet to sign in. Nothing is stored."""
    activity = await store.activity_code(activity_id)
    if activity is None:
        # Nothing said about which activities exist to whoever asks without signing in.
        raise _token_refusal(TokenProblem.FORGED)
    token_check = check_token(
        token,
        platform_secret=settings.secret_key,
        activity_secret=activity["code_secret"],
        activity_id=activity_id,
        received_at=now,
        scanned_at=now,
        slot_seconds=settings.checkin_slot_seconds,
        max_queue_seconds=0,
    )
    if token_check.problem is not None:
        raise _token_refusal(token_check.problem)
    if activity["status"] != ActivityStatus.SCHEDULED:
        raise Conflict("活动已取消", code="activity_cancelled")
    assert token_check.slot is not None
    receipt = make_receipt(settings.secret_key, activity_id, token_check.slot, now)
    return ReceiptOut(activity_id=activity_id, receipt=receipt, scanned_at=now)


async def limit_receipts(limiter: AddressLimiter, address: str) -> None:
    wait = await limiter.take(address)
    if wait:
        raise _TooManyScans(wait)


async def open_checkins(actor: Principal, activity_id: int | None) -> list[CheckInOut]:
    """The caller's own check-ins not yet checked out (of one activity), newest first."""
    if actor.member_id is None:
        return []
    condition = (CheckIn.member == actor.member_id) & CheckIn.checked_out_at.is_null()
    if activity_id is not None:
        condition &= CheckIn.activity == activity_id
    rows = (
        await CheckIn.select(*_COLUMNS)
        .where(condition)
        .order_by(CheckIn.checked_in_at, ascending=False)
    )
    return [present(r) for r in rows]


class _NotInvited(Forbidden):
    """No such activity, or the member is not among its invitees: which one the caller
    may learn depends on their roles and the code they hold (see `_explain_not_invited`)."""

    def __init__(self, unit_id: int | None = None, *, holds_live_code: bool = False) -> None:
        super().__init__("您不在本活动的参加范围内", code="not_invited")
        self.unit_id = unit_id
        self.holds_live_code = holds_live_code


async def _explain_not_invited(
    caller: Caller, activity_id: int, refusal: _NotInvited, settings: Settings
) -> None:
    """A member holding the activity's live code is at the event: they are told who may
    join it (its unit's names from the community down). Otherwise NotFound, unless the
    member may see the activity (a leader above it): then they are told plainly that only
    its invitees check in."""
    if refusal.holds_live_code and refusal.unit_id is not None:
        names = await path_names(refusal.unit_id)
        unit = "".join(names[settings.community_level :] or names)
        refusal.detail = f"本活动仅限「{unit}」的成员参加"
        return
    principal = await load_principal(caller.member_id, caller.session_id)
    if principal is None:  # signed out since the scan was read
        raise Unauthenticated()
    await find_activity(principal, activity_id)


def _plainly(field: str, detail: str) -> Invalid:
    """A refused field whose problem's own text is the plain sentence (no field name)."""
    return Invalid(FieldProblem(field=field, detail=detail), detail=detail)


def _token_refusal(problem: TokenProblem) -> Invalid:
    """A code that cannot be checked in with: the plain sentence, and its machine code."""
    label = TOKEN_PROBLEM_LABELS[problem]
    refusal = Invalid(FieldProblem(field="token", detail=label), detail=label)
    refusal.code = problem.code
    return refusal


async def _admit(
    caller: Caller, data: CheckInIn, settings: Settings, now: datetime, offset: timedelta | None
) -> tuple[Principal, dict[str, Any], dict[str, Any]]:
    """The scanning member, the activity, and the check-in to store, flagged with what looks
    wrong; refuses what cannot be a check-in at all (a member who may no longer sign in, no
    such activity, not invited, a forged or foreign code).

    The scan counts at a receipt's time when the check-in carries a good one (the server
    saw the code then); else at the phone's `at` on the server's clock (`offset`), never
    before the code's slot began nor after arrival (`check_token`)."""
    witnessed = (
        read_receipt(
            data.receipt,
            platform_secret=settings.secret_key,
            activity_id=data.activity_id,
            token=data.token,
            received_at=now,
            max_age_seconds=settings.checkin_receipt_max_minutes * 60,
        )
        if data.receipt is not None
        else None
    )
    scanned_at = witnessed or on_server_clock(data.at, offset, now)
    member_id = caller.member_id
    activity = await store.scan(member_id, caller.session_id, data.activity_id, scanned_at)
    if activity is None:
        raise Unauthenticated()
    if activity["must_change_password"]:
        raise PasswordChangeRequired()
    # Who the audit log names; the member's roles are not needed to check in.
    actor = Principal(member_id=member_id, name=activity["member_name"], home=activity["home"])
    if activity["id"] is None:
        raise _NotInvited()
    token = check_token(
        data.token,
        platform_secret=settings.secret_key,
        activity_secret=activity["code_secret"],
        activity_id=activity["id"],
        received_at=now,
        scanned_at=scanned_at,
        slot_seconds=settings.checkin_slot_seconds,
        max_queue_seconds=settings.checkin_max_queue_hours * 3600,
        # A receipt's wait is the member signing in, witnessed: never "late".
        late_after_seconds=settings.checkin_receipt_max_minutes * 60
        if witnessed is not None
        else settings.checkin_late_after_minutes * 60,
    )
    invitation = Target(path=activity["org_path"], invites_residents=True)
    if not sees(actor, invitation):
        # Holding the live code proves presence: such a member learns who may join.
        raise _NotInvited(activity["org_unit"], holds_live_code=token.problem is None)
    if activity["status"] != ActivityStatus.SCHEDULED:
        raise Conflict("活动已取消", code="activity_cancelled")
    if token.problem is not None:
        raise _token_refusal(token.problem)
    assert token.scanned_at is not None
    scanned_at = token.scanned_at
    fix = None
    if data.lat is not None and data.lng is not None:
        fix = rules.Fix(*to_wgs84(data.lat, data.lng, data.datum), data.accuracy_m or 0.0)
    found = rules.place_flags(
        rules.Place(activity["lat"], activity["lng"], activity["radius_m"]),
        fix,
        settings.checkin_max_accuracy_m,
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
        "lat": fix.lat if fix else None,
        "lng": fix.lng if fix else None,
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
        check_same(existing["body_hash"], body_hash, "签到")
        return present(existing), False
    activity = await find_activity(actor, data.activity_id, Capability.MANAGE_ACTIVITIES)
    if actor.is_member(data.member_id):
        raise _plainly("member_id", "不能为自己代签到，请扫码签到")
    member = await find_member(actor, data.member_id)
    if not member["org_path"].startswith(activity["org_path"]):
        raise _plainly("member_id", "该成员不在本活动的参加范围内")
    # Recorded once the activity is over, nobody saw the member there: a second leader looks.
    found = [rules.Flag.PROXY_AFTER_END] if now > activity["ends_at"] else []
    values = {
        "client_id": data.client_id,
        "activity": activity["id"],
        "member": member["id"],
        "method": "proxy",
        "checked_in_at": now,
        "received_at": now,
        "flags": rules.encode(found),
        "review": Review.PENDING if found else Review.ACCEPTED,
        "proxy_by": actor.member_id,
        "proxy_reason": data.reason.strip(),
        "body_hash": body_hash,
    }
    checkin_id = await _insert(actor, values, activity)
    return await _result(checkin_id, values, activity, member_name=member["name"])


async def _insert(actor: Principal, values: dict[str, Any], activity: dict[str, Any]) -> int | None:
    """The new check-in's id, or None when one like it is stored (see `_result`)."""
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
    try:
        return await store.insert_once(actor, values, change, capacity=activity["capacity"])
    except store.NoRoom:
        raise Conflict(_FULL, code="activity_full") from None


async def _result(
    checkin_id: int | None, values: dict[str, Any], activity: dict[str, Any], *, member_name: str
) -> tuple[CheckInOut, bool]:
    if checkin_id is None:
        # A copy of this check-in won the race for its client_id, or the member is
        # checked in already.
        winner = await _row_by(CheckIn.client_id == values["client_id"])
        if winner is None:
            raise Conflict("您已签到，尚未签退", code="already_checked_in")
        check_same(winner["body_hash"], values["body_hash"], "签到")
        return present(winner), False
    made = {
        "id": checkin_id,
        "activity_title": activity["title"],
        "activity_starts_at": activity["starts_at"],
        "activity_ends_at": activity["ends_at"],
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
    actor: Principal,
    checkin_id: int,
    at: datetime | None,
    now: datetime,
    *,
    sent_at: datetime | None = None,
) -> CheckInOut:
    """Close an open check-in (the member, or a leader of the activity) at the phone's `at`
    on the server's clock (moved by the offset `sent_at` measures), never before the
    check-in nor after now."""
    async with writing():
        row = await find_checkin(actor, checkin_id)
        own = actor.is_member(row["member"])
        if not own:
            require(actor, Capability.MANAGE_ACTIVITIES, row["activity_path"], WHAT)
        if row["checked_out_at"] is not None:
            return present(row)
        closed_at = max(on_server_clock(at, clock_offset(sent_at, now), now), row["checked_in_at"])
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
    """Close check-ins still open after their activity ended, flagged "no check-out": at the
    activity's end (at the check-in itself when it came later), so nothing beyond the end is
    credited."""
    rows = await CheckIn.select(*_COLUMNS).where(
        CheckIn.checked_out_at.is_null() & (CheckIn.activity._.ends_at < ended_before)
    )
    for row in rows:
        async with writing():
            fresh = await _row_by((CheckIn.id == row["id"]) & CheckIn.checked_out_at.is_null())
            if fresh is None:
                continue
            flags = rules.encode([*rules.decode(fresh["flags"]), rules.Flag.NO_CHECKOUT])
            closed_at = max(fresh["checked_in_at"], min(now, fresh["activity_ends_at"]))
            await _close(actor, fresh, closed_at, "auto", flags=flags)
    return len(rows)


async def review(actor: Principal, checkin_id: int, data: ReviewIn) -> CheckInOut:
    """A leader rules on a flagged check-in; a rejection needs a reason."""
    decision = Review(data.decision)
    if decision == Review.REJECTED and len(data.reason.strip()) < 2:
        raise _plainly("reason", "驳回时请填写理由")
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
