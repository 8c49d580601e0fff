"""Constraints of check-ins and verified events that Piccolo's table classes cannot express.

- One open check-in per (member, activity): a second scan while checked in is refused.
- One verified and one revoked event per fact: a second delivery writes nothing.
- Verified events are read by period: an index on when they happened.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T21:09:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints: one open check-in, one event per fact and action"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS checkin_one_open "
    "ON checkin (member, activity) WHERE checked_out_at IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS verified_event_once "
    "ON verified_event (kind, source_id, action)",
    "CREATE INDEX IF NOT EXISTS verified_event_occurred ON verified_event (occurred_at)",
    "CREATE INDEX IF NOT EXISTS checkin_open_by_activity "
    "ON checkin (activity) WHERE checked_out_at IS NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
