"""Constraints and indexes that Piccolo's table classes cannot express.

- `org_unit.path` compares byte by byte on PostgreSQL (collation "C"), as it does on SQLite,
  so the range query for "everything below a unit" uses its index on both engines.
- One role per (member, role, org unit); one active registration per member; one active
  pairing per (partner unit, community).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T19:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "constraints: path collation, unique roles, one active registration"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS role_assignment_member_role_unit "
    "ON role_assignment (member, role, org_unit)",
    "CREATE UNIQUE INDEX IF NOT EXISTS member_registration_one_active "
    "ON member_registration (member) WHERE state = 'active'",
    "CREATE UNIQUE INDEX IF NOT EXISTS unit_pairing_one_active "
    "ON unit_pairing (partner_unit, community) WHERE state = 'active'",
    "CREATE INDEX IF NOT EXISTS member_name ON member (name)",
    "CREATE INDEX IF NOT EXISTS job_created_by ON job (created_by)",
]

POSTGRES_STATEMENTS = [
    'ALTER TABLE org_unit ALTER COLUMN path TYPE varchar(255) COLLATE "C"',
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = list(STATEMENTS)
        if engine.engine_type == "postgres":
            statements = POSTGRES_STATEMENTS + statements
        for statement in statements:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
