"""Locked quarters: once an org unit's quarterly review is final, the points that review rests
on are never rescored in that unit's subtree, whatever the rules say later.

The review workflow locks (`lock_period`); rescoring asks (`lock_over`) before it starts and
again inside its transaction. Scoring asks per member (`lock_holds`, a SQL condition): an event
of a quarter locked for the member's home unit is scored in the open quarter instead, and a
closed quarter's period-end rules are applied again only where it is not locked.
"""

from __future__ import annotations

from typing import Any

from gridpoints.audit.services import Change, record
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.sql import Fragment
from gridpoints.db.transactions import writing
from gridpoints.errors import Conflict
from gridpoints.periods import Quarter
from gridpoints.points.turns import scoring_turn
from gridpoints.unit_paths import covers

_INSERT = """
INSERT INTO points_period_lock (key, period, org_unit, reason, locked_by, locked_at)
VALUES ({}, {}, {}, {}, {}, {})
ON CONFLICT DO NOTHING
RETURNING id
"""
_LOCKS = """
SELECT l.period, l.reason, l.locked_at, o.id AS unit_id, o.name AS unit_name, o.path
FROM points_period_lock l JOIN org_unit o ON o.id = l.org_unit
WHERE l.period = {}
ORDER BY l.id
"""


# A lock on the quarter for a unit at or above the member's home unit.
_HOLDS = """EXISTS (
    SELECT 1 FROM points_period_lock l JOIN org_unit lo ON lo.id = l.org_unit
    WHERE l.period = {} AND substr({}, 1, length(lo.path)) = lo.path
)"""


def lock_holds(period: Fragment | str, member_path: str) -> Fragment:
    """SQL condition: the quarter whose label is `period` (a value, or an expression given as
    a Fragment) is locked for the member whose home unit's path is the column `member_path`
    (from the code, not a value)."""
    return Fragment(_HOLDS, [period, Fragment(member_path)])


class PeriodLocked(Conflict):
    code = "period_locked"


async def lock_period(actor: Principal, quarter: Quarter, org_unit_id: int, reason: str) -> bool:
    """Lock the quarter's points for the unit's subtree; True when locked by this call.

    Taken in the scorers' turn, so a rescore either commits before the lock or sees it."""
    async with writing():
        await scoring_turn()
        made = await sql.fetch(
            _INSERT,
            f"{quarter.label}:{org_unit_id}",
            quarter.label,
            org_unit_id,
            reason,
            actor.member_id,
            utcnow(),
        )
        if made:
            await record(
                actor,
                Change(
                    "points.period_lock",
                    "points_period_lock",
                    made[0]["id"],
                    org_unit_id,
                    after={"period": quarter.label, "reason": reason},
                ),
            )
    return bool(made)


async def lock_over(quarter: Quarter, scope_path: str) -> dict[str, Any] | None:
    """A lock on the quarter for a unit inside the subtree at `scope_path`, or above it."""
    for lock in await sql.fetch(_LOCKS, quarter.label):
        if covers(scope_path, lock["path"]) or covers(lock["path"], scope_path):
            return dict(lock)
    return None


async def refuse_if_locked(quarter: Quarter, scope_path: str) -> None:
    lock = await lock_over(quarter, scope_path)
    if lock is not None:
        raise PeriodLocked(
            f"{lock['unit_name']} {quarter.label} 的积分已锁定（{lock['reason']}），不能重算；"
            "已定稿的季度评议不随规则变化"
        )
