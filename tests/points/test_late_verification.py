"""Late verification: an event of a quarter whose period-end rules already ran, verified (or
revoked) later, has those rules applied again for its member by compensating entries; when
the quarter is locked by a final review, the event is scored in the open quarter instead and
labelled 补记 with the day it happened."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from gridpoints.clock import zone
from gridpoints.db.sql import Fragment
from gridpoints.db.transactions import writing
from gridpoints.events import services as events
from gridpoints.jobs.dispatch import RunByCaller, start_job
from gridpoints.jobs.runner import run_job
from gridpoints.jobs.tables import Job
from gridpoints.periods import Quarter
from gridpoints.points.late import settle_late
from gridpoints.points.locks import lock_period
from gridpoints.points.period_end import close_quarter
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.scoring import score_pending
from gridpoints.points.tables import PointsEntry
from gridpoints.points.turns import scoring_turn
from tests.conftest import bearer
from tests.world import SYSTEM

DEFAULT = Path(__file__).parents[2] / "scoring_rules" / "default.toml"
PENALTY = "在职党员本季度未参加志愿服务，扣 5 分"
DUTY = "在职党员完成本季度志愿服务，加 5 分"
SERVICE = "服务记录（经网格长审核），每小时 2 分"


@pytest.fixture
def rulesets(settings):
    return load_rulesets(settings.scoring_rules_dir, settings.activity_categories)


def _closed(settings) -> Quarter:
    """The quarter before this one: ended, its period-end rules run by the test."""
    return Quarter.current(settings.timezone).previous


def _in(quarter: Quarter, settings, days: int = 40) -> datetime:
    start, _ = quarter.bounds(settings.timezone)
    return start + timedelta(days=days, hours=10)


async def _service(world, source_id: int, when: datetime, *, member=None, revoked=False):
    event = events.EventIn(
        kind="service",
        source_id=source_id,
        member_id=member or world.member_a,
        org_unit_id=world.units["A1-B1-U1"],
        category="resident_service",
        occurred_at=when,
        minutes=60,
    )
    async with writing():
        await (events.revoked if revoked else events.verified)(event, None)


async def _entries(member: int, period: str) -> list[dict]:
    return await (
        PointsEntry.select()
        .where((PointsEntry.member == member) & (PointsEntry.period == period))
        .order_by(PointsEntry.id)
    )


def _explained(entries: list[dict]) -> list[tuple[int, str, str | None, str]]:
    return [(e["amount"], e["kind"], e["rule"], e["label"]) for e in entries]


async def test_a_late_service_in_a_closed_quarter_reverses_its_penalty(
    client, world, settings, rulesets
):
    # The reported input: the quarter closed with "did not serve" for member_a; a service of
    # that quarter is verified afterwards.
    quarter = _closed(settings)
    await close_quarter(rulesets, quarter, settings)
    assert _explained(await _entries(world.member_a, quarter.label)) == [
        (-5, "period_end", "in-service-no-activity", PENALTY)
    ]
    await _service(world, 1, _in(quarter, settings))
    assert await score_pending(rulesets, settings) == 1

    entries = await _entries(world.member_a, quarter.label)
    penalty = entries[0]
    assert _explained(entries[1:]) == [
        (2, "score", "service-hours", SERVICE),
        (
            5,
            "reversal",
            "in-service-no-activity",
            f"季度结算后又核实了本季度的记录，重新结算，撤销：{PENALTY}",
        ),
        (
            5,
            "period_end",
            "in-service-quarterly-duty",
            f"季度结算后又核实了本季度的记录，重新结算：{DUTY}",
        ),
    ]
    assert entries[2]["reverses"] == penalty["id"]
    assert entries[2]["rule_set"] == entries[3]["rule_set"] == "default"
    # −5 reversed by +5, the completed duty's +5, the service's +2.
    assert sum(e["amount"] for e in entries) == 7

    # The member reads the same on the points API.
    mine = await client.get(
        f"/api/v1/members/{world.member_a}/points",
        params={"period": quarter.label},
        headers=bearer(client, world.member_a),
    )
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["total"] == 7
    assert [(e["amount"], e["label"]) for e in body["entries"]][-3:] == [
        (-5, PENALTY),
        (5, f"季度结算后又核实了本季度的记录，重新结算，撤销：{PENALTY}"),
        (5, f"季度结算后又核实了本季度的记录，重新结算：{DUTY}"),
    ]
    assert body["entries"][-2]["reverses"] == penalty["id"]


async def test_with_only_a_penalty_rule_the_late_service_leaves_its_two_points(
    world, settings, tmp_path
):
    # Rules that fine a missed quarter but give nothing for a served one: the quarter's
    # total is the service's +2 once the −5 is reversed.
    text = DEFAULT.read_text(encoding="utf-8")
    duty = text.index('[[rules]]\nid = "in-service-quarterly-duty"')
    no_activity = text.index('[[rules]]\nid = "in-service-no-activity"')
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "default.toml").write_text(text[:duty] + text[no_activity:], encoding="utf-8")
    edited = msgspec.structs.replace(settings, scoring_rules_dir_setting=str(folder))
    rulesets = load_rulesets(folder, edited.activity_categories)
    quarter = _closed(edited)
    await close_quarter(rulesets, quarter, edited)
    await _service(world, 1, _in(quarter, edited))
    await score_pending(rulesets, edited)
    entries = await _entries(world.member_a, quarter.label)
    assert [(e["amount"], e["rule"]) for e in entries] == [
        (-5, "in-service-no-activity"),
        (2, "service-hours"),
        (5, "in-service-no-activity"),
    ]
    assert sum(e["amount"] for e in entries) == 2


async def test_a_late_revocation_brings_the_penalty_back(world, settings, rulesets):
    quarter = _closed(settings)
    await _service(world, 1, _in(quarter, settings))
    await score_pending(rulesets, settings)
    await close_quarter(rulesets, quarter, settings)
    assert await _total(world.member_a, quarter) == 2 + 5
    # The service is revoked after the quarter closed: it was the member's only one.
    await _service(world, 1, _in(quarter, settings), revoked=True)
    await score_pending(rulesets, settings)
    entries = await _entries(world.member_a, quarter.label)
    assert _explained(entries[2:]) == [
        (-2, "reversal", "service-hours", f"撤销：{SERVICE}"),
        (
            -5,
            "reversal",
            "in-service-quarterly-duty",
            f"季度结算后撤销了本季度的记录，重新结算，撤销：{DUTY}",
        ),
        (
            -5,
            "period_end",
            "in-service-no-activity",
            f"季度结算后撤销了本季度的记录，重新结算：{PENALTY}",
        ),
    ]
    assert await _total(world.member_a, quarter) == -5

    # Verified again (a new record of the same service): the penalty goes once more.
    await _service(world, 2, _in(quarter, settings, days=50))
    await score_pending(rulesets, settings)
    assert await _total(world.member_a, quarter) == 2 + 5
    standing = await _standing_period_end(world.member_a, quarter)
    assert standing == [("in-service-quarterly-duty", 5)]


async def test_settling_twice_or_in_racing_workers_writes_nothing_more(world, settings, rulesets):
    quarter = _closed(settings)
    await close_quarter(rulesets, quarter, settings)
    await _service(world, 1, _in(quarter, settings))
    # Two workers score at the same moment: the event is taken once.
    scored = await asyncio.gather(*(score_pending(rulesets, settings) for _ in range(2)))
    assert sorted(scored) == [0, 1]
    settled = await _entries(world.member_a, quarter.label)
    assert sum(e["amount"] for e in settled) == 7

    # The quarter's rules applied again for the same event, twice: nothing more to write.
    batch = Fragment("e.member = {}", [world.member_a])
    for _ in range(2):
        async with writing():
            await scoring_turn()
            assert (
                await settle_late(rulesets, quarter, batch, settings, _in(quarter, settings)) == []
            )
    # Closing the quarter again, and scoring again, change nothing either.
    assert await close_quarter(rulesets, quarter, settings) == 0
    assert await score_pending(rulesets, settings) == 0
    # A second late service of the same quarter: its points only.
    await _service(world, 2, _in(quarter, settings, days=41))
    await score_pending(rulesets, settings)
    entries = await _entries(world.member_a, quarter.label)
    assert entries[: len(settled)] == settled
    assert [(e["amount"], e["rule"]) for e in entries[len(settled) :]] == [(2, "service-hours")]


async def test_a_late_event_before_its_quarter_closed_is_settled_by_the_close(
    world, settings, rulesets
):
    # Verified before the close, scored after it: the close already counted the service, so
    # settling finds nothing to change.
    quarter = _closed(settings)
    await _service(world, 1, _in(quarter, settings))
    await close_quarter(rulesets, quarter, settings)
    await score_pending(rulesets, settings)
    assert await _standing_period_end(world.member_a, quarter) == [("in-service-quarterly-duty", 5)]
    kinds = [e["kind"] for e in await _entries(world.member_a, quarter.label)]
    assert sorted(kinds) == ["period_end", "score"]


async def test_a_locked_quarter_is_not_changed_the_late_event_counts_now(
    client, world, settings, rulesets
):
    quarter = _closed(settings)
    now = Quarter.current(settings.timezone)
    await close_quarter(rulesets, quarter, settings)
    assert await lock_period(SYSTEM, quarter, world.units["A"], "甲片区季度评议已定稿")
    before = await _entries(world.member_a, quarter.label)
    when = _in(quarter, settings)
    day = when.astimezone(zone(settings.timezone)).date().isoformat()
    await _service(world, 1, when)
    # member_b lives in grid B, which the lock does not cover: scored in its own quarter.
    await _service(world, 2, when, member=world.member_b)
    await score_pending(rulesets, settings)

    assert await _entries(world.member_a, quarter.label) == before
    late = f"补记（{day}，原季度已定稿）："
    (entry,) = await _entries(world.member_a, now.label)
    assert (entry["amount"], entry["kind"], entry["rule"]) == (2, "score", "service-hours")
    assert entry["label"] == late + SERVICE
    assert entry["occurred_at"] == when
    assert [(e["amount"], e["label"]) for e in await _entries(world.member_b, quarter.label)] == [
        (2, SERVICE)
    ]
    assert await _entries(world.member_b, now.label) == []

    # What the member reads: in the open quarter, the late entry with its real day.
    mine = await client.get(
        f"/api/v1/members/{world.member_a}/points",
        params={"period": now.label},
        headers=bearer(client, world.member_a),
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["total"] == 2
    (shown,) = mine.json()["entries"]
    assert shown["label"] == late + SERVICE
    assert shown["occurred_at"].startswith(when.date().isoformat())
    locked = await client.get(
        f"/api/v1/members/{world.member_a}/points",
        params={"period": quarter.label},
        headers=bearer(client, world.member_a),
    )
    assert locked.json()["total"] == -5

    # Revoked later still: taken back in the open quarter as well, the locked one untouched.
    await _service(world, 1, when, revoked=True)
    await score_pending(rulesets, settings)
    assert await _entries(world.member_a, quarter.label) == before
    reversal = (await _entries(world.member_a, now.label))[-1]
    assert (reversal["amount"], reversal["kind"], reversal["reverses"]) == (
        -2,
        "reversal",
        entry["id"],
    )
    assert reversal["label"] == f"撤销：{late}{SERVICE}"
    assert await _total(world.member_a, now) == 0


async def test_a_revocation_of_a_locked_quarters_event_is_taken_back_now(world, settings, rulesets):
    # Scored in its own quarter, which was then closed and locked, then revoked.
    quarter = _closed(settings)
    now = Quarter.current(settings.timezone)
    when = _in(quarter, settings)
    await _service(world, 1, when)
    await score_pending(rulesets, settings)
    await close_quarter(rulesets, quarter, settings)
    await lock_period(SYSTEM, quarter, world.units["C"], "社区季度评议已定稿")
    before = await _entries(world.member_a, quarter.label)
    await _service(world, 1, when, revoked=True)
    await score_pending(rulesets, settings)
    assert await _entries(world.member_a, quarter.label) == before
    day = when.astimezone(zone(settings.timezone)).date().isoformat()
    (reversal,) = await _entries(world.member_a, now.label)
    assert (reversal["amount"], reversal["kind"]) == (-2, "reversal")
    assert reversal["reverses"] == before[0]["id"]
    assert reversal["label"] == f"补记（{day}，原季度已定稿）：撤销：{SERVICE}"


async def test_a_rescore_of_the_open_quarter_leaves_a_late_entry_standing(
    world, settings, rulesets
):
    quarter = _closed(settings)
    now = Quarter.current(settings.timezone)
    await close_quarter(rulesets, quarter, settings)
    await lock_period(SYSTEM, quarter, world.units["C"], "社区季度评议已定稿")
    await _service(world, 1, _in(quarter, settings))
    await score_pending(rulesets, settings)
    before = await _entries(world.member_a, now.label)
    assert [e["amount"] for e in before] == [2]
    job_id = await start_job(
        RunByCaller(settings),
        SYSTEM,
        "points.rescore",
        {"period": now.label, "org_unit_id": world.units["C"]},
        org_unit_id=world.units["C"],
    )
    await run_job(job_id, settings)
    job = await Job.select().where(Job.id == job_id).first()
    assert job["status"] == "succeeded", job
    result = msgspec.json.decode(job["result"])
    assert (result["reversed_entries"], result["new_entries"]) == (0, 0)
    assert await _entries(world.member_a, now.label) == before


async def _total(member: int, quarter: Quarter) -> int:
    return sum(e["amount"] for e in await _entries(member, quarter.label))


async def _standing_period_end(member: int, quarter: Quarter) -> list[tuple[str, int]]:
    entries = await _entries(member, quarter.label)
    reversed_ids = {e["reverses"] for e in entries if e["reverses"] is not None}
    return [
        (e["rule"], e["amount"])
        for e in entries
        if e["kind"] == "period_end" and e["id"] not in reversed_ids
    ]
