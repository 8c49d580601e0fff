"""A grid's leaderboard for a quarter, with the year's points by month and by category."""

from __future__ import annotations

from gridpoints.clock import utcnow, zone
from gridpoints.db.transactions import writing
from gridpoints.events import services as events
from gridpoints.periods import Quarter
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.scoring import score_pending
from gridpoints.points.standings import quarter_standings
from tests.conftest import bearer


async def test_a_leader_reads_the_grids_leaderboard_and_its_charts(client, world, settings):
    now = utcnow()
    for source, member, kind, minutes, category in [
        (1, world.member_a, "checkin", 120, "resident_service"),
        (2, world.member_a, "service", 60, "dispute_mediation"),
        (3, world.viewer_a, "checkin", 60, "resident_service"),
    ]:
        async with writing():
            await events.verified(
                events.EventIn(
                    kind=kind,
                    source_id=source,
                    member_id=member,
                    org_unit_id=world.units["A"],
                    category=category,
                    occurred_at=now,
                    minutes=minutes,
                ),
                None,
            )
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    await score_pending(rulesets, settings)
    period = Quarter.of(now, settings.timezone).label
    path = f"/api/v1/org-units/{world.units['A']}/leaderboard"
    board = await client.get(
        path, params={"period": period}, headers=bearer(client, world.leader_a)
    )
    assert board.status_code == 200, board.text
    body = board.json()
    leaders = [(e["rank"], e["member_id"], e["total"]) for e in body["leaders"]]
    # member_a: 4 (activity) + 2 (service) + 2 (mediation); viewer_a: 2; the rest 0, tied.
    assert leaders[:2] == [(1, world.member_a, 8), (2, world.viewer_a, 2)]
    assert {rank for rank, _, total in leaders if total == 0} == {3}
    month = now.astimezone(zone(settings.timezone)).month
    assert body["by_month"][month - 1]["points"] == 10
    assert sum(b["points"] for b in body["by_month"]) == 10
    assert {b["key"]: b["points"] for b in body["by_category"]} == {
        "resident_service": 6,
        "dispute_mediation": 4,
    }
    for outsider in (world.leader_b, world.member_a):
        refused = await client.get(
            path, params={"period": period}, headers=bearer(client, outsider)
        )
        assert refused.status_code == 404


async def test_standings_give_every_member_with_points_their_grid_rank(world, settings):
    now = utcnow()
    for source, member, unit, minutes in [
        (1, world.member_a, "A", 120),
        (2, world.viewer_a, "A", 60),
        (3, world.member_b, "B", 180),
    ]:
        async with writing():
            await events.verified(
                events.EventIn(
                    kind="checkin",
                    source_id=source,
                    member_id=member,
                    org_unit_id=world.units[unit],
                    category="resident_service",
                    occurred_at=now,
                    minutes=minutes,
                ),
                None,
            )
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    await score_pending(rulesets, settings)
    quarter = Quarter.of(now, settings.timezone)
    found = [s async for chunk in quarter_standings(quarter, settings, chunk=2) for s in chunk]
    assert {(s.member_id, s.grid_id, s.total, s.rank) for s in found} == {
        (world.member_a, world.units["A"], 4, 1),
        (world.viewer_a, world.units["A"], 2, 2),
        (world.member_b, world.units["B"], 6, 1),
    }
