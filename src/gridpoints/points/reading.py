"""Reading points: a member's total for a quarter, their rank in their grid, and every entry
with the label of the rule that gave it, so the member reads why."""

from __future__ import annotations

from typing import Any

from gridpoints.activities.vocab import category_label
from gridpoints.auth.principal import Principal
from gridpoints.db import sql
from gridpoints.members.lookup import find_member
from gridpoints.periods import Quarter
from gridpoints.points.schemas import EntryOut, MemberPointsOut
from gridpoints.points.standings import place
from gridpoints.settings import Settings
from gridpoints.unit_paths import ancestor_ids

_ENTRIES = """
SELECT id, amount, kind, label, occurred_at, category, rule_set, rule_set_version, rule,
       reverses, created_at
FROM points_entry WHERE member = {} AND period = {}
ORDER BY occurred_at, id
"""
_UNIT = "SELECT id, name, path FROM org_unit WHERE id = {}"


def grid_unit_id(member_path: str, settings: Settings) -> int:
    """The member's grid: the unit one level below the community on their path (their own
    unit when it lies no deeper)."""
    ids = ancestor_ids(member_path)
    return ids[min(settings.community_level + 1, len(ids) - 1)]


async def member_points(
    actor: Principal, member_id: int, quarter: Quarter, settings: Settings
) -> MemberPointsOut:
    member = await find_member(actor, member_id)
    period = quarter.label
    rows = await sql.fetch(_ENTRIES, member_id, period)
    total = sum(row["amount"] for row in rows)
    grid = await sql.fetch_one(_UNIT, grid_unit_id(member["org_path"], settings))
    assert grid is not None
    rank, grid_members = await place(quarter, grid["path"], total)
    return MemberPointsOut(
        member_id=member_id,
        member_name=member["name"],
        period=period,
        total=total,
        rank=rank,
        grid_id=grid["id"],
        grid_name=grid["name"],
        grid_members=grid_members,
        entries=[entry_out(row) for row in rows],
    )


def entry_out(row: Any) -> EntryOut:
    return EntryOut(
        id=row["id"],
        amount=row["amount"],
        kind=row["kind"],
        label=row["label"],
        occurred_at=row["occurred_at"],
        category=row["category"],
        category_label=category_label(row["category"]) if row["category"] else None,
        rule_set=row["rule_set"],
        rule_set_version=row["rule_set_version"],
        rule=row["rule"],
        reverses=row["reverses"],
        created_at=row["created_at"],
    )
