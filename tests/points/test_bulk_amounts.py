"""The database computes a rule's points exactly as `Rule.amount` does, for every rounding,
multiplier, negative amount and per-event cap, on both engines."""

from __future__ import annotations

import pytest

from gridpoints.db import sql
from gridpoints.points.amounts import amount_sql
from gridpoints.points.rules import Points, Rule

MINUTES = [0, 1, 20, 29, 30, 44, 45, 59, 60, 89, 90, 95, 100, 600, 1441]
RULES = [
    Rule(id="a", label="a", event="checkin", points=Points(per_hour=2, rounding="down")),
    Rule(id="b", label="b", event="checkin", points=Points(per_hour=2, rounding="up")),
    Rule(id="c", label="c", event="checkin", points=Points(per_hour=2, rounding="half_up")),
    Rule(
        id="d",
        label="d",
        event="checkin",
        points=Points(fixed=1, per_hour=1.5, multiplier=1.25, rounding="half_up"),
        cap_per_event=7,
    ),
    Rule(id="e", label="e", event="wish", points=Points(fixed=-2.5, rounding="down")),
    Rule(id="f", label="f", event="wish", points=Points(fixed=-2.5, rounding="up")),
    Rule(id="g", label="g", event="wish", points=Points(fixed=-2.5, rounding="half_up")),
    Rule(id="h", label="h", event="wish", points=Points(fixed=-20), cap_per_event=8),
    Rule(id="i", label="i", event="checkin", points=Points(per_hour=0.75, multiplier=0.5)),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
async def test_points_in_the_database_match_the_rule(db, rule):
    values = " UNION ALL ".join(f"SELECT {m} AS minutes" for m in MINUTES)
    rows = await sql.fetch(
        f"SELECT minutes, {amount_sql(rule, 'minutes')} AS points FROM ({values}) t"
    )
    computed = {row["minutes"]: row["points"] for row in rows}
    assert computed == {m: rule.amount(m) for m in MINUTES}
