"""The ledger: verified events scored once by the rule in force, capped per quarter, reversed
when revoked, never updated or deleted; a member reads every entry and their rank."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.events import services as events
from gridpoints.events.tables import VerifiedEvent
from gridpoints.periods import Quarter
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.scoring import score_pending
from gridpoints.points.tables import PointsEntry
from tests.conftest import bearer


@pytest.fixture
def rulesets(settings):
    return load_rulesets(settings.scoring_rules_dir, settings.activity_categories)


def _period() -> str:
    return Quarter.of(utcnow(), "UTC").label


async def _event(
    world, source_id: int, *, kind="checkin", minutes=95, category=None, revoked=False, when=None
):
    event = events.EventIn(
        kind=kind,
        source_id=source_id,
        member_id=world.member_a,
        org_unit_id=world.units["A1-B1-U1"],
        category=category or "resident_service",
        occurred_at=when or utcnow() - timedelta(minutes=5),
        minutes=minutes,
    )
    async with writing():
        if revoked:
            await events.revoked(event, None)
        else:
            await events.verified(event, None)


async def _entries() -> list[dict]:
    return await PointsEntry.select().order_by(PointsEntry.id)


async def test_an_event_is_scored_once_by_the_rule_in_force(world, settings, rulesets):
    await _event(world, 1, minutes=95)
    assert await score_pending(rulesets, settings) == 1
    (entry,) = await _entries()
    assert entry["amount"] == 3 and entry["kind"] == "score"
    assert (entry["rule_set"], entry["rule"]) == ("default", "activity-hours")
    assert entry["rule_set_version"] == rulesets[0].version
    assert entry["label"] == "参加志愿活动，每小时 2 分" and entry["period"] == _period()
    assert await score_pending(rulesets, settings) == 0
    assert len(await _entries()) == 1


async def test_conditions_pick_the_rules_that_apply(world, settings, rulesets):
    await _event(world, 2, kind="service", minutes=90, category="dispute_mediation")
    await _event(world, 3, minutes=20)  # shorter than the half hour the rule asks
    await score_pending(rulesets, settings)
    assert {(e["rule"], e["amount"]) for e in await _entries()} == {
        ("service-hours", 3),
        ("mediation-bonus", 2),
    }


async def test_the_quarterly_cap_cuts_points_and_says_so(world, settings, rulesets):
    for source in range(10, 20):
        await _event(world, source, minutes=480)  # 8 points each, 60 a quarter at most
    await score_pending(rulesets, settings)
    amounts = [e["amount"] for e in await _entries()]
    assert sum(amounts) == 60
    assert amounts[:7] == [8] * 7 and amounts[7:] == [4, 0, 0]
    assert all(e["label"].endswith("（已达上限）") for e in (await _entries())[7:])


async def test_the_yearly_cap_counts_the_earlier_quarters_of_the_year_only(
    world, settings, rulesets
):
    now = utcnow()
    # Micro-wishes give 5 points each, 40 a year at most.
    for source in range(100, 103):  # last year: its own cap
        await _event(world, source, kind="wish", when=datetime(now.year - 1, 12, 1, tzinfo=UTC))
    await score_pending(rulesets, settings)
    for source in range(110, 117):  # 35 points earlier this year
        await _event(world, source, kind="wish", when=datetime(now.year, 1, 10, tzinfo=UTC))
    await score_pending(rulesets, settings)
    for source in range(120, 122):
        await _event(world, source, kind="wish")
    await score_pending(rulesets, settings)
    entries = await _entries()
    assert [e["amount"] for e in entries] == [5] * 3 + [5] * 7 + [5, 0]
    assert entries[-1]["label"].endswith("（已达上限）")


async def test_a_revoked_event_is_reversed_once(world, settings, rulesets):
    await _event(world, 30, minutes=120)
    await score_pending(rulesets, settings)
    await _event(world, 30, minutes=120, revoked=True)
    await score_pending(rulesets, settings)
    await score_pending(rulesets, settings)
    scored, reversal = await _entries()
    assert (scored["amount"], reversal["amount"]) == (4, -4)
    assert reversal["reverses"] == scored["id"] and reversal["label"].startswith("撤销：")


async def test_workers_racing_score_each_event_once_and_keep_the_cap(world, settings, rulesets):
    for source in range(40, 52):
        await _event(world, source, minutes=480)
    await asyncio.gather(*(score_pending(rulesets, settings, batch=3) for _ in range(4)))
    entries = await _entries()
    assert len(entries) == 12 and len({e["event"] for e in entries}) == 12
    assert sum(e["amount"] for e in entries) == 60


async def test_timed_rounds_look_among_recent_events_and_a_sweep_at_all(world, settings, rulesets):
    await _event(world, 80)
    await _event(world, 81)
    # Recorded (and committed) long ago, yet never scored: say the scorer was down.
    async with writing():
        await VerifiedEvent.update(
            {VerifiedEvent.recorded_at: utcnow() - timedelta(hours=3)}
        ).where(VerifiedEvent.source_id == 80)
    since = utcnow() - timedelta(hours=1)
    assert await score_pending(rulesets, settings, recorded_since=since) == 1
    assert {e["event"] for e in await _entries()} == {
        (await VerifiedEvent.select(VerifiedEvent.id).where(VerifiedEvent.source_id == 81))[0]["id"]
    }
    assert await score_pending(rulesets, settings) == 1
    assert len(await _entries()) == 2


@pytest.mark.parametrize(
    "statement",
    ["UPDATE points_entry SET amount = 100", "DELETE FROM points_entry"],
)
async def test_the_ledger_refuses_updates_and_deletes(world, settings, rulesets, statement):
    await _event(world, 60)
    await score_pending(rulesets, settings)
    before = await _entries()
    with pytest.raises(Exception, match="append-only"):
        async with writing():
            await PointsEntry.raw(statement)
    assert await _entries() == before


async def test_a_member_reads_total_rank_and_every_reason(client, world, settings, rulesets):
    await _event(world, 70, minutes=120)
    await _event(world, 71, kind="wish", minutes=0)
    await score_pending(rulesets, settings)
    path = f"/api/v1/members/{world.member_a}/points"
    mine = await client.get(
        path, params={"period": _period()}, headers=bearer(client, world.member_a)
    )
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["total"] == 9 and body["rank"] == 1 and body["grid_members"] >= 1
    assert [e["label"] for e in body["entries"]] == [
        "参加志愿活动，每小时 2 分",
        "认领并落实微心愿，每个 5 分",
    ]
    other_grid = await client.get(
        path, params={"period": _period()}, headers=bearer(client, world.leader_b)
    )
    assert other_grid.status_code == 404
    bad = await client.get(
        path, params={"period": "2026-3"}, headers=bearer(client, world.member_a)
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "period"
