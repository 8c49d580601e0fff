"""The audit chain is keyed: rows written before are re-chained under the key.

- Each row's hash becomes HMAC-SHA256 under GRIDPOINTS_AUDIT_KEY (`audit.chain.row_hash`,
  computed in Python only). The key is not in the database, so this migration takes it from
  the settings of the command that runs it (`db.engine.settings_in_use`).
- Rows written before are re-hashed under the key, in id order, as far as the old unkeyed
  chain (SHA-256) holds. At the first row where it does not (a row altered or removed before
  the upgrade) the migration stops and leaves that row and all after it as they are, so
  `gridpoints audit verify` keeps naming it: re-hashing it would launder the change. Rows
  already keyed (a second run) are left alone.
- PostgreSQL: `audit_append(...)`, which hashed in SQL, is dropped; `audit_append_rows(...)`
  replaces it and computes nothing: it takes the chain's lock, compares the head with the one
  the caller chained its rows onto, and inserts them only then; otherwise it answers the head,
  or with `p_strict` raises SQLSTATE GP409 (the head in DETAIL), for a caller whose statement
  also wrote the rows being audited and must then be undone whole.
"""

import hashlib
import logging

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString

from gridpoints.audit.chain import GENESIS_HASH, canonical_content, row_hash

ID = "2026-12-01T01:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Audit rows hashed with HMAC under the audit key; audit_append_rows"

log = logging.getLogger(__name__)

DROP_AUDIT_APPEND = """
DROP FUNCTION IF EXISTS audit_append(
    timestamptz, integer, varchar, varchar, varchar, integer, integer, text, text, bytea, bytea
)
"""

AUDIT_APPEND_ROWS = r"""
CREATE OR REPLACE FUNCTION audit_append_rows(
    p_expected varchar, p_at timestamptz[], p_actor_id integer[], p_actor_label varchar[],
    p_action varchar[], p_object_type varchar[], p_object_id integer[], p_org_unit_id integer[],
    p_before text[], p_after text[], p_prev_hash varchar[], p_hash varchar[],
    p_strict boolean DEFAULT false
) RETURNS varchar LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head varchar;
BEGIN
    -- Held to the end of the transaction; each statement here sees a fresh snapshot, so the
    -- head is read after the lock is held.
    PERFORM pg_advisory_xact_lock(1735551332);
    SELECT hash INTO head FROM audit_log ORDER BY id DESC LIMIT 1;
    head := coalesce(head, repeat('0', 64));
    IF head <> p_expected THEN
        IF p_strict THEN
            -- The caller's statement wrote more than these rows: it must not commit.
            RAISE EXCEPTION 'the audit chain''s head is not the expected one'
                USING ERRCODE = 'GP409', DETAIL = head;
        END IF;
        RETURN head;
    END IF;
    INSERT INTO audit_log (at, actor_id, actor_label, action, object_type, object_id,
                           org_unit_id, before, after, prev_hash, hash)
    SELECT at, actor_id, actor_label, action, object_type, object_id, org_unit_id, before,
           after, prev_hash, hash
    FROM unnest(p_at, p_actor_id, p_actor_label, p_action, p_object_type, p_object_id,
                p_org_unit_id, p_before, p_after, p_prev_hash, p_hash)
         WITH ORDINALITY AS t(at, actor_id, actor_label, action, object_type, object_id,
                              org_unit_id, before, after, prev_hash, hash, n)
    ORDER BY n;
    RETURN NULL;
END
$$
"""

_CHAIN_LOCK = "SELECT pg_advisory_xact_lock(1735551332)"
_BATCH = 5000


def _unkeyed(prev_hash: str, content: bytes) -> str:
    """The hash the chain had before it was keyed; used here only to check the old rows."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + content).hexdigest()


async def rechain_under_key(key: bytes) -> int:
    """Re-hash the unkeyed rows under `key` as far as their chain holds; how many were."""
    engine = engine_finder()
    postgres = engine.engine_type == "postgres"
    transaction = (
        engine.transaction()
        if postgres
        else engine.transaction(transaction_type=TransactionType.immediate)
    )
    rehashed = 0
    async with transaction:
        if postgres:
            await engine.run_querystring(QueryString(_CHAIN_LOCK))
        old_prev = new_prev = GENESIS_HASH
        last_id = 0
        while True:
            rows = await engine.run_querystring(
                QueryString(
                    "SELECT * FROM audit_log WHERE id > {} ORDER BY id LIMIT {}", last_id, _BATCH
                )
            )
            if not rows:
                return rehashed
            updates = []
            for row in rows:
                content = canonical_content(row)
                linked = row["prev_hash"] == old_prev
                if linked and _unkeyed(row["prev_hash"], content) == row["hash"]:
                    new_hash = row_hash(key, new_prev, content)
                    updates.append((row["id"], new_prev, new_hash))
                elif (
                    linked
                    and new_prev == old_prev
                    and row_hash(key, row["prev_hash"], content) == row["hash"]
                ):
                    new_hash = row["hash"]  # keyed already
                else:
                    log.warning(
                        "audit row %d does not hold in the old chain: it and the rows after "
                        "it are left as they are (gridpoints audit verify names it)",
                        row["id"],
                    )
                    await _update(engine, postgres, updates)
                    return rehashed + len(updates)
                old_prev, new_prev = row["hash"], new_hash
                last_id = row["id"]
            await _update(engine, postgres, updates)
            rehashed += len(updates)


async def _update(engine, postgres: bool, updates: list[tuple[int, str, str]]) -> None:
    if not updates:
        return
    if postgres:
        await engine.run_querystring(
            QueryString(
                "UPDATE audit_log SET prev_hash = u.prev_hash, hash = u.hash FROM unnest("
                "{}::int[], {}::varchar[], {}::varchar[]) AS u(id, prev_hash, hash) "
                "WHERE audit_log.id = u.id",
                [u[0] for u in updates],
                [u[1] for u in updates],
                [u[2] for u in updates],
            )
        )
        return
    for row_id, prev_hash, digest in updates:
        await engine.run_querystring(
            QueryString(
                "UPDATE audit_log SET prev_hash = {}, hash = {} WHERE id = {}",
                prev_hash,
                digest,
                row_id,
            )
        )


async def _key_of_this_deployment() -> bytes:
    from gridpoints.db.engine import settings_in_use
    from gridpoints.settings import load_settings

    try:
        settings = settings_in_use()
    except RuntimeError:
        settings = load_settings()
    return settings.audit_key.encode()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="gridpoints", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            await engine.run_ddl(DROP_AUDIT_APPEND)
            await engine.run_ddl(AUDIT_APPEND_ROWS)
        rows = await engine.run_querystring(QueryString("SELECT count(*) AS n FROM audit_log"))
        if rows and rows[0]["n"]:
            rehashed = await rechain_under_key(await _key_of_this_deployment())
            log.info("audit chain keyed: %d rows re-hashed under the audit key", rehashed)

    manager.add_raw(run)
    return manager
