"""A grid's leaderboard for a quarter (`points.standings`), and its points by month and by
category for charts."""

from __future__ import annotations

from collections import Counter

from gridpoints.activities.vocab import category_label
from gridpoints.auth.principal import Principal
from gridpoints.clock import zone
from gridpoints.db import sql
from gridpoints.org.services import find_unit
from gridpoints.periods import Quarter
from gridpoints.points.schemas import Bucket, LeaderboardOut, LeaderOut
from gridpoints.points.standings import leaders
from gridpoints.settings import Settings
from gridpoints.unit_paths import subtree_bounds

_YEAR = """
SELECT p.occurred_at, p.category, p.amount
FROM points_entry p
JOIN member m ON m.id = p.member
JOIN org_unit o ON o.id = m.org_unit
WHERE p.period >= {} AND p.period <= {} AND o.path >= {} AND o.path < {}
"""
NO_CATEGORY = "other"


async def leaderboard(
    actor: Principal, unit_id: int, quarter: Quarter, limit: int, settings: Settings
) -> LeaderboardOut:
    unit = await find_unit(actor, unit_id)
    low, high = subtree_bounds(unit["path"])
    rows = await leaders(quarter, unit["path"], limit)
    year = quarter.year
    tz = zone(settings.timezone)
    months: Counter[int] = Counter()
    categories: Counter[str] = Counter()
    for row in await sql.fetch(_YEAR, f"{year}Q1", f"{year}Q4", low, high):
        months[row["occurred_at"].astimezone(tz).month] += row["amount"]
        categories[row["category"] or NO_CATEGORY] += row["amount"]
    return LeaderboardOut(
        org_unit_id=unit["id"],
        org_unit_name=unit["name"],
        period=quarter.label,
        members=int(rows[0]["n"]) if rows else 0,
        leaders=[
            LeaderOut(
                rank=int(r["place"]),
                member_id=r["member_id"],
                name=r["name"],
                total=int(r["total"]),
            )
            for r in rows
        ],
        by_month=[
            Bucket(key=f"{year}-{month:02d}", label=f"{month}月", points=months[month])
            for month in range(1, 13)
        ],
        by_category=[
            Bucket(
                key=code,
                label="其他" if code == NO_CATEGORY else category_label(code),
                points=points,
            )
            for code, points in categories.most_common()
        ],
    )
