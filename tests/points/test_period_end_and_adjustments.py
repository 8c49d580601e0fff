"""Closing a quarter applies the period-end rules once per member, even with two closings
racing; a committee member's manual adjustment names its reason and author and is audited."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.events import services as events
from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit
from gridpoints.periods import Quarter
from gridpoints.points.period_end import close_quarter
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.schedule import close_previous_quarter
from gridpoints.points.tables import PointsEntry
from tests.conftest import bearer


@pytest.fixture
def rulesets(settings):
    return load_rulesets(settings.scoring_rules_dir, settings.activity_categories)


def _quarter() -> Quarter:
    return Quarter.of(utcnow(), "UTC")


async def _served(world, member_id: int, source_id: int) -> None:
    async with writing():
        await events.verified(
            events.EventIn(
                kind="checkin",
                source_id=source_id,
                member_id=member_id,
                org_unit_id=world.units["A"],
                category="resident_service",
                occurred_at=utcnow() - timedelta(minutes=30),
                minutes=60,
            ),
            None,
        )


async def _period_entries() -> dict[int, list[tuple[str, int]]]:
    found: dict[int, list[tuple[str, int]]] = {}
    for row in await PointsEntry.select().where(PointsEntry.kind == "period_end"):
        found.setdefault(row["member"], []).append((row["rule"], row["amount"]))
    return found


async def test_closing_a_quarter_applies_period_end_rules_once(world, settings, rulesets):
    # member_a is in service and served; a second in-service member did not.
    idle = await Member.select(Member.id).where(Member.category == "in_service")
    idle_ids = [r["id"] for r in idle if r["id"] != world.member_a]
    await _served(world, world.member_a, 1)
    written = sum(
        await asyncio.gather(*(close_quarter(rulesets, _quarter(), settings) for _ in range(3)))
    )
    entries = await _period_entries()
    assert entries[world.member_a] == [("in-service-quarterly-duty", 5)]
    for member in idle_ids:
        assert entries[member] == [("in-service-no-activity", -5)]
    assert world.member_b not in entries  # a resident member owes no quarterly duty
    assert written == len(entries)
    assert await close_quarter(rulesets, _quarter(), settings) == 0


async def test_a_committee_member_adjusts_points_with_a_reason(client, world):
    path = f"/api/v1/members/{world.member_a}/points/adjustments"
    body = {
        "client_id": str(uuid.uuid4()),
        "period": _quarter().label,
        "amount": 3,
        "reason": "协助社区应急值守",
    }
    refused = await client.post(path, json=body, headers=bearer(client, world.leader_a))
    assert refused.status_code == 403
    made = await client.post(path, json=body, headers=bearer(client, world.admin))
    assert made.status_code == 201, made.text
    again = await client.post(path, json=body, headers=bearer(client, world.admin))
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    assert made.json()["label"] == "人工调整：协助社区应急值守"
    (entry,) = await PointsEntry.select().where(PointsEntry.kind == "adjustment")
    assert (entry["amount"], entry["author"]) == (3, world.admin)
    audited = await AuditEntry.select(AuditEntry.object_id).where(
        AuditEntry.action == "points.adjust"
    )
    assert audited == [{"object_id": entry["id"]}]
    zero = await client.post(
        path,
        json={**body, "client_id": str(uuid.uuid4()), "amount": 0},
        headers=bearer(client, world.admin),
    )
    assert zero.status_code == 400 and zero.json()["errors"][0]["field"] == "amount"
    points = await client.get(
        f"/api/v1/members/{world.member_a}/points",
        params={"period": _quarter().label},
        headers=bearer(client, world.member_a),
    )
    assert points.json()["total"] == 3


async def test_the_ended_quarter_is_closed_only_if_the_platform_saw_all_of_it(
    world, settings, rulesets
):
    # The tree was made just now: the ended quarter went unrecorded and is left alone.
    assert await close_previous_quarter(settings, rulesets) == 0
    assert await _period_entries() == {}
    await OrgUnit.update({OrgUnit.created_at: utcnow() - timedelta(days=400)}).where(OrgUnit.id > 0)
    assert await close_previous_quarter(settings, rulesets) > 0
    assert await _period_entries() != {}
