"""The scheduled closing of check-ins left open hours after their activity ended.

Run by arq's cron in `gridpoints worker`, or by a loop inside the embedded server. Safe to run
anywhere and often: each check-in is closed in its own transaction, only while still open.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from gridpoints.auth.principal import Principal
from gridpoints.checkins.services import close_stale
from gridpoints.clock import utcnow
from gridpoints.settings import Settings

log = logging.getLogger(__name__)
EVERY = timedelta(minutes=15)
SCHEDULER = Principal.system("定时任务")


async def close_stale_checkins(settings: Settings) -> int:
    now = utcnow()
    closed = await close_stale(
        SCHEDULER, ended_before=now - timedelta(hours=settings.checkin_auto_close_hours), now=now
    )
    if closed:
        log.info("closed %d check-ins left open (no check-out)", closed)
    return closed


async def close_stale_checkins_task(ctx: dict[str, Any]) -> int:
    """The arq cron entry."""
    return await close_stale_checkins(ctx["settings"])
