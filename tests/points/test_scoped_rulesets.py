"""A rule set scoped to a grid scores that grid's events; the set for everywhere scores the
rest, and takes over again for the days the scoped set is not in force."""

from __future__ import annotations

from datetime import UTC, datetime

from gridpoints.db.transactions import writing
from gridpoints.events import services as events
from gridpoints.events.tables import VerifiedEvent
from gridpoints.org.tables import OrgUnit
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.scoring import score_pending
from gridpoints.points.tables import PointsEntry

EVERYWHERE = """
id = "city"
label = "全市规则"
effective_from = 2026-01-01
[[rules]]
id = "act"
label = "活动每次 1 分"
event = "checkin"
points = { fixed = 1 }
"""
GRID_A = """
id = "grid-a"
label = "甲片区规则"
effective_from = 2026-04-01
effective_to = 2026-06-30
scope = "{code}"
[[rules]]
id = "act"
label = "活动每次 3 分"
event = "checkin"
points = {{ fixed = 3 }}
"""


async def _checkin(world, source_id: int, unit: str, when: datetime) -> None:
    async with writing():
        await events.verified(
            events.EventIn(
                kind="checkin",
                source_id=source_id,
                member_id=world.member_a,
                org_unit_id=world.units[unit],
                category="resident_service",
                occurred_at=when,
                minutes=60,
            ),
            None,
        )


async def test_the_narrowest_set_in_force_scores_each_event(world, settings, tmp_path):
    code = (await OrgUnit.select(OrgUnit.code).where(OrgUnit.id == world.units["A"]).first())[
        "code"
    ]
    (tmp_path / "city.toml").write_text(EVERYWHERE, encoding="utf-8")
    (tmp_path / "grid-a.toml").write_text(GRID_A.format(code=code), encoding="utf-8")
    rulesets = load_rulesets(tmp_path, settings.activity_categories)
    may = datetime(2026, 5, 10, 2, tzinfo=UTC)
    august = datetime(2026, 8, 10, 2, tzinfo=UTC)
    await _checkin(world, 1, "A1-B1-U1", may)  # inside grid A, while its set is in force
    await _checkin(world, 2, "B", may)  # outside grid A
    await _checkin(world, 3, "A1-B1-U1", august)  # grid A, after its set ended
    await score_pending(rulesets, settings)
    source_of = {r["id"]: r["source_id"] for r in await VerifiedEvent.select()}
    scored = {
        source_of[row["event"]]: (row["rule_set"], row["amount"], row["period"])
        for row in await PointsEntry.select()
    }
    assert scored == {
        1: ("grid-a", 3, "2026Q2"),
        2: ("city", 1, "2026Q2"),
        3: ("city", 1, "2026Q3"),
    }
