"""The points ledger is append-only, enforced by the database: an UPDATE or a DELETE of an
entry (or of the record that an event was scored) fails, whoever sends it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T13:29:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "points ledger: append-only by triggers"

TABLES = ("points_entry", "points_scored_event")

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION refuse_ledger_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the points ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    *(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_ledger_change()"
        for table in TABLES
    ),
]

SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'the points ledger is append-only: {op} on {table} refused'); END"
    for table in TABLES
    for op in ("UPDATE", "DELETE")
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in POSTGRES if engine.engine_type == "postgres" else SQLITE:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
