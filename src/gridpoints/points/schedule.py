"""When verified events are scored: by arq's cron in `gridpoints worker` every minute, or by a
loop inside the embedded server. Safe anywhere and often: each event is scored once whoever
gets to it first (see `points.engine`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from gridpoints.points.engine import score_pending
from gridpoints.points.rules import RuleSet
from gridpoints.settings import Settings

log = logging.getLogger(__name__)
EMBEDDED_EVERY = timedelta(seconds=15)


async def score_pending_task(ctx: dict[str, Any]) -> int:
    """The arq cron entry."""
    return await score_pending(ctx["rulesets"], ctx["settings"])


async def run_scoring(
    settings: Settings, rulesets: list[RuleSet], interval: timedelta = EMBEDDED_EVERY
) -> None:
    """The embedded server's scoring: until cancelled at shut-down."""
    while True:
        try:
            scored = await score_pending(rulesets, settings)
            if scored:
                log.info("scored %d verified events", scored)
        except Exception:  # a failed round must not end the schedule
            log.exception("scoring verified events failed")
        await asyncio.sleep(interval.total_seconds())
