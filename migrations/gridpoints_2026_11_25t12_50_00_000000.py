"""Appending to the audit chain in one statement, and finding a member's last check-in fast.

- `audit_append(...)` (PostgreSQL): takes the chain's lock, reads the last hash, and inserts
  the row chained onto it, all on the server. A write made of one statement then holds the
  lock only while the server runs it, not across round trips to a busy application. The
  caller sends the canonical content split around the object's id (`audit.chain`), since
  the id of a row inserted by the same statement is known only there; the hash is the one
  `audit.chain.chain_hash` computes.
  Each statement of a volatile function sees a fresh snapshot, so the last hash is read
  after the lock is held.
- `checkin_member_time`: the speed check reads a member's previous check-in by time.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T12:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_append in the database; a member's check-ins by time"

AUDIT_APPEND = r"""
CREATE OR REPLACE FUNCTION audit_append(
    p_at timestamptz, p_actor_id integer, p_actor_label varchar, p_action varchar,
    p_object_type varchar, p_object_id integer, p_org_unit_id integer,
    p_before text, p_after text, p_head bytea, p_tail bytea
) RETURNS varchar LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    prev varchar;
    digest varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(1735551332);
    SELECT hash INTO prev FROM audit_log ORDER BY id DESC LIMIT 1;
    prev := coalesce(prev, repeat('0', 64));
    digest := encode(sha256(
        convert_to(prev, 'UTF8') || '\x0a'::bytea
        || p_head || convert_to(coalesce(p_object_id::text, 'null'), 'UTF8') || p_tail
    ), 'hex');
    INSERT INTO audit_log (at, actor_id, actor_label, action, object_type, object_id,
                           org_unit_id, before, after, prev_hash, hash)
    VALUES (p_at, p_actor_id, p_actor_label, p_action, p_object_type, p_object_id,
            p_org_unit_id, p_before, p_after, prev, digest);
    RETURN digest;
END
$$
"""

INDEXES = [
    "CREATE INDEX IF NOT EXISTS checkin_member_time ON checkin (member, checked_in_at)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            await engine.run_ddl(AUDIT_APPEND)
        for statement in INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
