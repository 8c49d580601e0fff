"""Scoring on a timer: what is pending, often, and the quarter that has ended, daily (the
cadence is `gridpoints.wiring.periodic_work`). Safe anywhere and often: each event is scored
once whoever gets to it first (see `points.scoring`)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.periods import Quarter
from gridpoints.points.period_end import close_quarter
from gridpoints.points.rules import RuleSet
from gridpoints.points.scoring import score_pending
from gridpoints.settings import Settings

log = logging.getLogger(__name__)


class ScoringWindow:
    """Where a process's timed rounds look for pending events.

    The first round looks at every event (the process may have been down); each later round
    at the events recorded since the last round that finished began, less a margin for
    write transactions open at that moment. A round that fails moves nothing, so the next
    one looks from the same place; the daily quarter close looks at every event anyway."""

    MARGIN = timedelta(minutes=10)

    def __init__(self) -> None:
        self._last_start: datetime | None = None

    async def score(self, rulesets: list[RuleSet], settings: Settings) -> int:
        start = utcnow()
        since = None if self._last_start is None else self._last_start - self.MARGIN
        scored = await score_pending(rulesets, settings, recorded_since=since)
        self._last_start = start
        return scored


async def close_previous_quarter(settings: Settings, rulesets: list[RuleSet]) -> int:
    """Score what is pending, then close the quarter that has ended (a no-op once done).

    Only a quarter the platform saw from its start: closing one that began before the grid
    tree existed would fine every in-service member for service nobody could record."""
    await score_pending(rulesets, settings)
    quarter = Quarter.current(settings.timezone).previous
    began = await sql.fetch_one("SELECT min(created_at) AS began FROM org_unit")
    start, _ = quarter.bounds(settings.timezone)
    if began is None or began["began"] is None or sql.instant(began["began"]) > start:
        return 0
    written = await close_quarter(rulesets, quarter, settings)
    if written:
        log.info("closed quarter %s: %d period-end entries", quarter.label, written)
    return written
