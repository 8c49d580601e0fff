"""Quarters are read on the community's clock: the arithmetic in `periods.Quarter`, and the
recent quarters the API gives the pages."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from gridpoints.periods import Quarter, recent_quarters
from tests.conftest import bearer

# 2026-09-30 18:00 UTC is already 2026-10-01 02:00 in Asia/Shanghai.
TURN_OF_QUARTER = datetime(2026, 9, 30, 18, 0, tzinfo=UTC)


def test_an_instant_falls_in_the_quarter_of_the_community_clock_not_utc():
    assert Quarter.of(TURN_OF_QUARTER, "UTC") == Quarter(2026, 3)
    assert Quarter.of(TURN_OF_QUARTER, "Asia/Shanghai") == Quarter(2026, 4)


def test_next_previous_and_span_cross_the_turn_of_the_year():
    assert Quarter(2025, 4).next == Quarter(2026, 1)
    assert Quarter(2026, 1).previous == Quarter(2025, 4)
    assert Quarter(2026, 2).previous == Quarter(2026, 1)
    assert [q.label for q in Quarter(2025, 3).span(Quarter(2026, 2))] == [
        "2025Q3",
        "2025Q4",
        "2026Q1",
        "2026Q2",
    ]
    assert list(Quarter(2026, 2).span(Quarter(2026, 1))) == []


def test_recent_quarters_start_at_the_current_one_newest_first():
    with time_machine.travel(TURN_OF_QUARTER, tick=False):
        assert [q.label for q in recent_quarters("Asia/Shanghai", 3)] == [
            "2026Q4",
            "2026Q3",
            "2026Q2",
        ]
        assert Quarter.current("UTC") == Quarter(2026, 3)


async def test_the_me_response_gives_the_recent_quarters_in_the_community_zone(
    client, world, settings
):
    assert settings.timezone == "Asia/Shanghai"
    with time_machine.travel(TURN_OF_QUARTER, tick=True):
        response = await client.get("/api/v1/me", headers=bearer(client, world.member_a))
    assert response.status_code == 200
    assert response.json()["recent_quarters"] == [
        "2026Q4",
        "2026Q3",
        "2026Q2",
        "2026Q1",
        "2025Q4",
        "2025Q3",
    ]
