"""Quarters closed before `points_period_closed` existed are recorded as closed: those whose
ledger holds a period-end entry (closing a quarter wrote nothing else that says so)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T06:51:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "points: record the quarters already closed in points_period_closed"

BACKFILL = """
INSERT INTO points_period_closed (period, closed_at)
SELECT period, min(created_at) FROM points_entry WHERE kind = 'period_end' GROUP BY period
ON CONFLICT (period) DO NOTHING
"""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(BACKFILL)

    manager.add_raw(run)
    return manager
