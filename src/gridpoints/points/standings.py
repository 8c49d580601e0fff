"""Every member's total for a quarter and their rank in their grid, streamed in chunks: one
statement however many members there are, and never the whole answer in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec

from gridpoints.db import sql
from gridpoints.periods import Quarter
from gridpoints.settings import Settings

_STANDINGS = """
SELECT t.member, g.id AS grid, t.total,
       rank() OVER (PARTITION BY g.id ORDER BY t.total DESC) AS place
FROM (SELECT member, sum(amount) AS total FROM points_entry WHERE period = {} GROUP BY member) t
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


async def quarter_standings(
    quarter: Quarter, settings: Settings, chunk: int = 10_000
) -> AsyncIterator[list[Standing]]:
    """Members with entries in the quarter: their total and rank within their grid (the unit
    one level below the community), a chunk at a time."""
    grid_level = settings.community_level + 1
    async for rows in sql.stream(_STANDINGS, quarter.label, grid_level, chunk=chunk):
        yield [
            Standing(
                member_id=row["member"],
                grid_id=row["grid"],
                total=int(row["total"]),
                rank=int(row["place"]),
            )
            for row in rows
        ]
