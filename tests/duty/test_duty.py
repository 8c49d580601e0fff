"""Dual-registration duty: who has done the quarter's service, per grid and partner unit, and
the partner unit's spreadsheet of its members' record."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.errors import Invalid
from gridpoints.events.services import EventIn, revoked, verified
from gridpoints.periods import Quarter, parse_quarter
from tests.conftest import bearer

PERIOD = Quarter.of(utcnow(), "UTC").label


async def _served(world, minutes: int, source: int, *, kind: str = "service") -> EventIn:
    event = EventIn(
        kind=kind,
        source_id=source,
        member_id=world.member_a,
        org_unit_id=world.units["A"],
        category="resident_service",
        occurred_at=utcnow() - timedelta(minutes=5),
        minutes=minutes,
    )
    async with writing():
        await verified(event, None)
    return event


async def test_the_duty_report_lists_who_still_owes_the_quarter(client, world):
    admin = bearer(client, world.admin)
    before = await client.get(
        "/api/v1/duty", params={"org_unit_id": world.units["C"], "period": PERIOD}, headers=admin
    )
    assert before.status_code == 200, before.text
    members = {m["member_id"]: m for m in before.json()["members"]}
    assert list(members) == [world.member_a], "only dual-registered in-service members"
    assert members[world.member_a]["done"] is False
    assert before.json()["by_partner"][0]["owing"] == 1

    event = await _served(world, 90, 1)
    after = await client.get(
        "/api/v1/duty", params={"org_unit_id": world.units["C"], "period": PERIOD}, headers=admin
    )
    member = after.json()["members"][0]
    assert (member["services"], member["minutes"], member["done"]) == (1, 90, True)
    assert after.json()["by_grid"][0]["done"] == 1

    async with writing():
        await revoked(event, None)
    revoked_view = await client.get(
        "/api/v1/duty", params={"org_unit_id": world.units["C"], "period": PERIOD}, headers=admin
    )
    assert revoked_view.json()["members"][0]["done"] is False


async def test_the_partner_unit_downloads_its_members_record(client, world):
    await _served(world, 120, 7, kind="checkin")
    response = await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx",
        params={"period": PERIOD},
        headers=bearer(client, world.admin),
    )
    assert response.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert PERIOD in rows[0][0]
    assert rows[1][0] == "姓名"
    assert rows[2][:3] == ("在职甲", "1单元", 1) and rows[2][-1] == "已完成"
    other_quarter = await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx",
        params={"period": "2020Q1"},
        headers=bearer(client, world.admin),
    )
    old = list(
        load_workbook(io.BytesIO(other_quarter.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert old[2][-1] == "未完成"


async def test_a_bad_period_or_someone_elses_partner_is_refused(client, world):
    bad = await client.get(
        "/api/v1/duty",
        params={"org_unit_id": world.units["A"], "period": "2026Q5"},
        headers=bearer(client, world.leader_a),
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "period"
    hidden = await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx",
        params={"period": PERIOD},
        headers=bearer(client, world.leader_b),
    )
    assert hidden.status_code == 404


@pytest.mark.parametrize("text", ["2026Q0", "26Q1", "2026q3x", ""])
def test_quarters_parse_strictly(text):
    with pytest.raises(Invalid):
        parse_quarter(text)


def test_quarter_bounds_follow_the_community_clock():
    start, end = parse_quarter("2026Q4").bounds("Asia/Shanghai")
    assert (start.month, end.year, end.month) == (10, 2027, 1)
    assert start.utcoffset() == timedelta(hours=8)
