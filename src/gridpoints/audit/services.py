"""Appending to the audit log and checking its chain.

`record` runs inside the caller's write transaction, so a state change and its audit row
commit together or not at all. Appends are serialised (an advisory lock on PostgreSQL; the
write lock that `BEGIN IMMEDIATE` already holds on SQLite), so each row chains onto the last.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from gridpoints.audit.chain import (
    GENESIS_HASH,
    canonical_content,
    chain_hash,
    content_around_id,
    encode_state,
)
from gridpoints.audit.schemas import AuditEntryOut
from gridpoints.audit.tables import AuditEntry
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.clock import utcnow
from gridpoints.db.engine import is_postgres
from gridpoints.db.transactions import in_transaction
from gridpoints.org.queries import unit_ids_within

# pg_advisory_xact_lock key that serialises appends to the chain ("grid" in ASCII).
_CHAIN_LOCK_KEY = 0x67726964
_INSERT_CHUNK = 500


class Change(msgspec.Struct, frozen=True):
    """One state change to record."""

    action: str
    object_type: str
    object_id: int | None
    org_unit_id: int | None
    before: Any = None
    after: Any = None


async def record(actor: Principal, change: Change) -> None:
    await record_many(actor, [change])


async def record_many(actor: Principal, changes: Iterable[Change]) -> int:
    """Append the changes, in order, to the chain; returns how many rows were written."""
    if not in_transaction():
        raise RuntimeError("audit rows are written inside the change's write transaction")
    prev_hash = await _lock_chain_head()
    at = utcnow()
    rows: list[AuditEntry] = []
    for change in changes:
        before, after = encode_state(change.before), encode_state(change.after)
        content = canonical_content(
            at=at,
            actor_id=actor.member_id,
            actor_label=actor.label,
            action=change.action,
            object_type=change.object_type,
            object_id=change.object_id,
            org_unit_id=change.org_unit_id,
            before=before,
            after=after,
        )
        digest = chain_hash(prev_hash, content)
        rows.append(
            AuditEntry(
                at=at,
                actor_id=actor.member_id,
                actor_label=actor.label,
                action=change.action,
                object_type=change.object_type,
                object_id=change.object_id,
                org_unit_id=change.org_unit_id,
                before=before,
                after=after,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        prev_hash = digest
    for start in range(0, len(rows), _INSERT_CHUNK):
        await AuditEntry.insert(*rows[start : start + _INSERT_CHUNK])
    return len(rows)


def append_args(actor: Principal, change: Change) -> list[Any]:
    """The arguments of the database's `audit_append` (PostgreSQL) but the object's id,
    which the caller's statement supplies: `audit_append(at, actor_id, actor_label, action,
    object_type, <object id>, org_unit_id, before, after, head, tail)` writes the change's
    audit row chained onto the log, in the statement that makes the object."""
    at = utcnow()
    before, after = encode_state(change.before), encode_state(change.after)
    head, tail = content_around_id(
        at=at,
        actor_id=actor.member_id,
        actor_label=actor.label,
        action=change.action,
        object_type=change.object_type,
        org_unit_id=change.org_unit_id,
        before=before,
        after=after,
    )
    return [
        at,
        actor.member_id,
        actor.label,
        change.action,
        change.object_type,
        change.org_unit_id,
        before,
        after,
        head,
        tail,
    ]


async def _lock_chain_head() -> str:
    if is_postgres():
        await AuditEntry.raw("SELECT pg_advisory_xact_lock({})", _CHAIN_LOCK_KEY)
    last = await AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id, ascending=False).first()
    return last["hash"] if last else GENESIS_HASH


class ChainReport(msgspec.Struct, frozen=True):
    checked: int
    intact: bool
    first_broken_id: int | None = None
    reason: str | None = None


async def verify(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in id order and name the first row that does not hold."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        batch = (
            await AuditEntry.select()
            .where(AuditEntry.id > last_id)
            .order_by(AuditEntry.id)
            .limit(batch_size)
        )
        if not batch:
            return ChainReport(checked=checked, intact=True)
        for row in batch:
            reason = _row_fault(row, expected_prev)
            if reason:
                return ChainReport(
                    checked=checked, intact=False, first_broken_id=row["id"], reason=reason
                )
            expected_prev = row["hash"]
            checked += 1
            last_id = row["id"]


def _row_fault(row: dict[str, Any], expected_prev: str) -> str | None:
    if row["prev_hash"] != expected_prev:
        return "prev_hash does not match the previous row's hash (a row was removed or reordered)"
    content = canonical_content(
        at=row["at"],
        actor_id=row["actor_id"],
        actor_label=row["actor_label"],
        action=row["action"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        org_unit_id=row["org_unit_id"],
        before=row["before"],
        after=row["after"],
    )
    if chain_hash(row["prev_hash"], content) != row["hash"]:
        return "content does not match its hash (the row was altered)"
    return None


async def readable_entries(
    actor: Principal,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[AuditEntryOut]:
    """Newest first: rows about org units where the caller may read the audit log."""
    query = (
        AuditEntry.select()
        .where(AuditEntry.org_unit_id.is_in(unit_ids_within(actor.scopes(Capability.VIEW_AUDIT))))
        .order_by(AuditEntry.id, ascending=False)
        .limit(limit)
    )
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return [
        AuditEntryOut(
            id=row["id"],
            at=row["at"],
            actor_id=row["actor_id"],
            actor_label=row["actor_label"],
            action=row["action"],
            object_type=row["object_type"],
            object_id=row["object_id"],
            org_unit_id=row["org_unit_id"],
            before=msgspec.json.decode(row["before"]) if row["before"] else None,
            after=msgspec.json.decode(row["after"]) if row["after"] else None,
            hash=row["hash"],
        )
        for row in await query
    ]
