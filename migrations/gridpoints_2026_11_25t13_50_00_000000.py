"""Indexes for scoring in bulk: what the ledger holds per member and rule (caps), the events
of one scoring batch, and an entry reversed at most once (only reversals carry `reverses`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T13:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "points: indexes for bulk scoring"

STATEMENTS = [
    "CREATE INDEX IF NOT EXISTS points_entry_member_rule "
    "ON points_entry (member, rule_set, rule, period)",
    "CREATE INDEX IF NOT EXISTS points_scored_event_batch ON points_scored_event (scored_at)",
    "CREATE UNIQUE INDEX IF NOT EXISTS points_entry_reversed_once "
    "ON points_entry (reverses) WHERE reverses IS NOT NULL",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
