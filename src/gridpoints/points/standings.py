"""Standings in one place: members' totals for a quarter and their rank among the members
of a grid (or any subtree), for the leaderboard, a member's own page, and every member at
once, streamed.

A rank is one more than the number of members ahead (ties share a rank, as SQL's rank()).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import msgspec

from gridpoints.db import sql
from gridpoints.db.sql import Fragment
from gridpoints.members.vocab import MemberStatus
from gridpoints.periods import Quarter
from gridpoints.settings import Settings
from gridpoints.unit_paths import subtree_bounds

# Each member's total for the quarter (members with entries in it only).
_TOTALS = "SELECT member, sum(amount) AS total FROM points_entry WHERE period = {} GROUP BY member"
# The active members of a subtree and their totals (0 without entries): who a rank counts.
_IN_SUBTREE = """
SELECT m.id AS member_id, m.name, coalesce(t.total, 0) AS total
FROM member m
JOIN org_unit o ON o.id = m.org_unit
LEFT JOIN ({}) t ON t.member = m.id
WHERE o.path >= {} AND o.path < {} AND m.status = {}
"""
_LEADERS = """
SELECT member_id, name, total, rank() OVER (ORDER BY total DESC) AS place, count(*) OVER () AS n
FROM ({}) standing
ORDER BY total DESC, member_id
LIMIT {}
"""
_PLACE = """
SELECT sum(CASE WHEN total > {} THEN 1 ELSE 0 END) AS above, count(*) AS members
FROM ({}) standing
"""
_STANDINGS = """
SELECT t.member, g.id AS grid, t.total,
       rank() OVER (PARTITION BY g.id ORDER BY t.total DESC) AS place
FROM ({}) t
JOIN member m ON m.id = t.member
JOIN org_unit o ON o.id = m.org_unit
JOIN org_unit g ON g.level = {} AND o.path >= g.path
    AND o.path < substr(g.path, 1, length(g.path) - 1) || '0'
"""


class Standing(msgspec.Struct, frozen=True):
    member_id: int
    grid_id: int
    total: int
    rank: int


def _in_subtree(quarter: Quarter, path: str) -> Fragment:
    low, high = subtree_bounds(path)
    totals = Fragment(_TOTALS, [quarter.label])
    return Fragment(_IN_SUBTREE, [totals, low, high, MemberStatus.ACTIVE.value])


async def leaders(quarter: Quarter, path: str, limit: int) -> Sequence[sql.Row]:
    """The first `limit` active members of the subtree at `path` by total for the quarter:
    member_id, name, total, place (their rank) and n (how many the subtree has)."""
    statement = Fragment(_LEADERS, [_in_subtree(quarter, path), limit])
    return await sql.fetch(statement.text, *statement.args)


async def place(quarter: Quarter, path: str, total: int) -> tuple[int, int]:
    """The rank a total for the quarter holds among the active members of the subtree at
    `path`, and how many they are."""
    statement = Fragment(_PLACE, [total, _in_subtree(quarter, path)])
    row = await sql.fetch_one(statement.text, *statement.args)
    assert row is not None
    return int(row["above"] or 0) + 1, int(row["members"])


async def quarter_standings(
    quarter: Quarter, settings: Settings, chunk: int = 10_000
) -> AsyncIterator[list[Standing]]:
    """Members with entries in the quarter: their total and rank within their grid (the unit
    one level below the community), a chunk at a time: one statement however many members
    there are, and never the whole answer in memory."""
    grid_level = settings.community_level + 1
    totals = Fragment(_TOTALS, [quarter.label])
    statement = Fragment(_STANDINGS, [totals, grid_level])
    async for rows in sql.stream(statement.text, *statement.args, chunk=chunk):
        yield [
            Standing(
                member_id=row["member"],
                grid_id=row["grid"],
                total=int(row["total"]),
                rank=int(row["place"]),
            )
            for row in rows
        ]
