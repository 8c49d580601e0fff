"""The life of a micro-wish: open -> claimed (by one member) -> fulfilled (with evidence) ->
confirmed (by the community). Each step is a conditional update on the current state, so two
members racing to claim get one claim and one 409."""

from __future__ import annotations

from typing import Any

from gridpoints.activities.services import home_path
from gridpoints.audit.services import Change, record
from gridpoints.auth.access import Target, check, forbid_self_dealing
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict, Forbidden, Invalid
from gridpoints.events import services as events
from gridpoints.org.queries import within
from gridpoints.org.services import find_unit
from gridpoints.schemas import Page
from gridpoints.settings import Settings
from gridpoints.transitions import Transitions
from gridpoints.unit_paths import ancestor_ids
from gridpoints.wishes.schemas import WishIn, WishOut
from gridpoints.wishes.tables import Wish, WishState

WHAT = "心愿"
STATE_LABELS = {
    WishState.OPEN: "待认领",
    WishState.CLAIMED: "已认领",
    WishState.FULFILLED: "已落实",
    WishState.CONFIRMED: "已确认",
}
# What moving into each state is called, for the refusal.
_STEPS = {WishState.CLAIMED: "认领", WishState.FULFILLED: "落实", WishState.CONFIRMED: "确认"}
_COLUMNS = (Wish.all_columns(), Wish.org_unit._.path.as_alias("org_path"))


def present(row: dict[str, Any]) -> WishOut:
    return WishOut(
        id=row["id"],
        org_unit_id=row["org_unit"],
        title=row["title"],
        description=row["description"],
        category=row["category"],
        state=row["state"],
        state_label=STATE_LABELS[row["state"]],
        claimed_by=row["claimed_by"],
        claimed_at=row["claimed_at"],
        evidence=row["evidence"],
        fulfilled_at=row["fulfilled_at"],
        confirmed_at=row["confirmed_at"],
        created_at=row["created_at"],
    )


async def _row(wish_id: int) -> dict[str, Any] | None:
    return await Wish.select(*_COLUMNS).where(Wish.id == wish_id).first()


async def find_wish(
    actor: Principal, wish_id: int, capability: Capability = Capability.VIEW
) -> dict[str, Any]:
    """Seen by the unit's people and by members who live below it (they may claim it)."""
    row = await _row(wish_id)
    path = row["org_path"] if row else None
    check(actor, Target(path=path, invites_residents=True), capability, what=WHAT)
    assert row is not None
    return row


def _wrong_state(current: WishState, target: WishState) -> Conflict:
    return Conflict(
        f"该心愿当前为“{STATE_LABELS[current]}”，不能{_STEPS[target]}", code=f"state_{current}"
    )


MOVES = Transitions(
    WishState,
    {
        WishState.OPEN: {WishState.CLAIMED},
        WishState.CLAIMED: {WishState.FULFILLED},
        WishState.FULFILLED: {WishState.CONFIRMED},
    },
    _wrong_state,
)


async def post_wish(actor: Principal, data: WishIn, settings: Settings) -> WishOut:
    if data.category not in settings.activity_categories:
        raise Invalid.field("category", "未知类别")
    async with writing():
        unit = await find_unit(actor, data.org_unit_id, Capability.MANAGE_ACTIVITIES)
        values = {
            "org_unit": unit["id"],
            "title": data.title.strip(),
            "description": data.description.strip(),
            "category": data.category,
            "state": WishState.OPEN,
            "posted_by": actor.member_id,
            "created_at": utcnow(),
        }
        wish_id = (await Wish.insert(Wish(**values)).returning(Wish.id))[0]["id"]
        await record(actor, Change("wish.post", "wish", wish_id, unit["id"], after=values))
    row = await _row(wish_id)
    assert row is not None
    return present(row)


async def _step(
    actor: Principal,
    row: dict[str, Any],
    *,
    action: str,
    target: WishState,
    values: dict[Any, Any],
) -> WishOut:
    """Move the wish on to `target`, but only from the state `row` has (checked against
    `MOVES` by the caller); the loser of a race gets 409."""
    expected = row["state"]
    values = {Wish.state: target, **values}
    async with writing():
        moved = (
            await Wish.update(values)
            .where((Wish.id == row["id"]) & (Wish.state == expected))
            .returning(Wish.id)
        )
        if not moved:
            current = await _row(row["id"])
            raise MOVES.refused((current or row)["state"], target)
        await record(
            actor,
            Change(
                action,
                "wish",
                row["id"],
                row["org_unit"],
                before={"state": expected},
                after={str(k._meta.name): v for k, v in values.items()},
            ),
        )
        if action == "wish.confirm":
            await events.verified(
                events.EventIn(
                    kind="wish",
                    source_id=row["id"],
                    member_id=row["claimed_by"],
                    org_unit_id=row["org_unit"],
                    category=row["category"],
                    occurred_at=row["fulfilled_at"] or utcnow(),
                    detail={"title": row["title"]},
                ),
                actor.member_id,
            )
    updated = await _row(row["id"])
    assert updated is not None
    return present(updated)


async def claim(actor: Principal, wish_id: int) -> WishOut:
    if actor.member_id is None:
        raise Forbidden("只有成员本人可以认领心愿")
    row = await find_wish(actor, wish_id)
    if _holds(actor, row):
        return present(row)
    MOVES.check(row["state"], WishState.CLAIMED)
    try:
        return await _step(
            actor,
            row,
            action="wish.claim",
            target=WishState.CLAIMED,
            values={Wish.claimed_by: actor.member_id, Wish.claimed_at: utcnow()},
        )
    except Conflict:
        # Two copies of one member's claim sent together: the other one claimed it.
        current = await _row(wish_id)
        if current is not None and _holds(actor, current):
            return present(current)
        raise


def _holds(actor: Principal, row: dict[str, Any]) -> bool:
    """The caller's claim of this wish stands: a claim sent again (a lost answer, a retry)
    answers with the wish as it is, nothing changed."""
    return row["state"] == WishState.CLAIMED and actor.is_member(row["claimed_by"])


async def fulfil(actor: Principal, wish_id: int, evidence: str) -> WishOut:
    row = await find_wish(actor, wish_id)
    MOVES.check(row["state"], WishState.FULFILLED)
    if not actor.is_member(row["claimed_by"]):
        raise Forbidden("只有认领人可以落实心愿")
    return await _step(
        actor,
        row,
        action="wish.fulfil",
        target=WishState.FULFILLED,
        values={Wish.evidence: evidence.strip(), Wish.fulfilled_at: utcnow()},
    )


async def confirm(actor: Principal, wish_id: int) -> WishOut:
    row = await find_wish(actor, wish_id, Capability.MANAGE_ACTIVITIES)
    MOVES.check(row["state"], WishState.CONFIRMED)
    forbid_self_dealing(actor, row["claimed_by"], action="确认")
    return await _step(
        actor,
        row,
        action="wish.confirm",
        target=WishState.CONFIRMED,
        values={Wish.confirmed_by: actor.member_id, Wish.confirmed_at: utcnow()},
    )


async def list_wishes(
    actor: Principal,
    *,
    status: str | None,
    limit: int,
    offset: int,
    claimed_by: int | None = None,
) -> Page[WishOut]:
    """Wishes in the caller's grids and those above the caller's home (they may claim);
    `claimed_by` narrows them to those one member claimed."""
    condition = within(Wish.org_unit._.path, actor.scopes(Capability.VIEW))
    home = await home_path(actor)
    if home:
        condition |= Wish.org_unit.is_in(ancestor_ids(home))
    if status is not None:
        condition &= Wish.state == status
    if claimed_by is not None:
        condition &= Wish.claimed_by == claimed_by
    rows = (
        await Wish.select(*_COLUMNS)
        .where(condition)
        .order_by(Wish.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await Wish.count().where(condition)
    return Page(items=[present(r) for r in rows], total=total, limit=limit, offset=offset)
