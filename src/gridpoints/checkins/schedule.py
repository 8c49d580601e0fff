"""The scheduled closing of check-ins left open hours after their activity ended.

Run every quarter of an hour (`gridpoints.wiring.periodic_work`). Safe to run
anywhere and often: each check-in is closed in its own transaction, only while still open.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from gridpoints.auth.principal import Principal
from gridpoints.checkins.services import close_stale
from gridpoints.clock import utcnow
from gridpoints.settings import Settings

log = logging.getLogger(__name__)
SCHEDULER = Principal.system("定时任务")


async def close_stale_checkins(settings: Settings) -> int:
    now = utcnow()
    closed = await close_stale(
        SCHEDULER, ended_before=now - timedelta(hours=settings.checkin_auto_close_hours), now=now
    )
    if closed:
        log.info("closed %d check-ins left open (no check-out)", closed)
    return closed
