"""A service record's `client_id` is unique where given, so two copies of one form sent at
once store one record.

SQLite cannot add a UNIQUE column to a table, so the uniqueness is an index of its own on both
engines; rows without a `client_id` (other clients, older records) never conflict.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T06:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "service records: unique client_id"

UNIQUE_CLIENT_ID = (
    "CREATE UNIQUE INDEX IF NOT EXISTS service_record_client_id ON service_record (client_id)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl(UNIQUE_CLIENT_ID)

    manager.add_raw(run)
    return manager
