"""Appending to the audit log and checking its chain.

`record` runs inside the caller's write transaction, so a state change and its audit row
commit together or not at all. Appends are serialised (an advisory lock on PostgreSQL, held to
the end of the transaction; the write lock that `BEGIN IMMEDIATE` already holds on SQLite), so
each row chains onto the last. Hashes are computed here, in Python, under the deployment's
audit key (`audit.chain`); the database only stores them.

On PostgreSQL the rows go in through `audit_append_rows` (migration 2026-12-01T01:20), which
takes the lock, compares the chain's head with the one the rows were chained onto, and inserts
them only if it is the same; otherwise it answers the head and the rows are chained again
(the lock is then held, so the second try holds). The head is guessed from the last append of
this process, so a busy writer (the check-in hot path) takes the lock in one statement.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import msgspec

from gridpoints.audit.chain import (
    CONTENT_FIELDS,
    GENESIS_HASH,
    canonical_content,
    encode_state,
    row_hash,
    same_digest,
)
from gridpoints.audit.checkpoints import Checkpoint, read_checkpoints
from gridpoints.audit.tables import AuditEntry
from gridpoints.clock import utcnow
from gridpoints.db import sql
from gridpoints.db.engine import is_postgres, settings_in_use
from gridpoints.db.transactions import in_transaction
from gridpoints.settings import Settings

log = logging.getLogger(__name__)

_INSERT_CHUNK = 500
_COLUMNS = (*CONTENT_FIELDS, "prev_hash", "hash")
_APPEND = "SELECT audit_append_rows({}, " + ", ".join("{}" for _ in _COLUMNS) + ") AS head"


class Change(msgspec.Struct, frozen=True):
    """One state change to record."""

    action: str
    object_type: str
    object_id: int | None
    org_unit_id: int | None
    before: Any = None
    after: Any = None


class Entry(msgspec.Struct, frozen=True):
    """An audit row's content, ready to be chained: `prepare` makes it when the change is
    known, a writer that learns the object's id only from its own insert fills it in with
    `msgspec.structs.replace(entry, object_id=...)`."""

    at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: int | None
    org_unit_id: int | None
    before: str | None
    after: str | None

    def content(self) -> bytes:
        return canonical_content(msgspec.structs.asdict(self))


class Actor(Protocol):
    """Who made a change, as the log names them (the signed-in `auth.principal.Principal`,
    or the platform itself): a member's id, if a member, and a label for people to read."""

    @property
    def member_id(self) -> int | None: ...

    @property
    def label(self) -> str: ...


def prepare(actor: Actor, change: Change, at: datetime | None = None) -> Entry:
    return Entry(
        at=at or utcnow(),
        actor_id=actor.member_id,
        actor_label=actor.label,
        action=change.action,
        object_type=change.object_type,
        object_id=change.object_id,
        org_unit_id=change.org_unit_id,
        before=encode_state(change.before),
        after=encode_state(change.after),
    )


def audit_key() -> bytes:
    """The deployment's audit key (GRIDPOINTS_AUDIT_KEY): the settings of the database in use."""
    return settings_in_use().audit_key.encode()


async def record(actor: Actor, change: Change) -> None:
    await record_many(actor, [change])


async def record_many(actor: Actor, changes: Iterable[Change]) -> int:
    """Append the changes, in order, to the chain; returns how many rows were written."""
    at = utcnow()
    return await append([prepare(actor, change, at) for change in changes])


# The last head this process appended (PostgreSQL): the likely head of its next append.
_last_head: str | None = None


async def append(entries: Sequence[Entry]) -> int:
    """Chain the entries, in order, onto the log, inside the caller's write transaction."""
    global _last_head
    if not in_transaction():
        raise RuntimeError("audit rows are written inside the change's write transaction")
    if not entries:
        return 0
    key = audit_key()
    if not is_postgres():
        head = await _head()
        rows = _chained(key, head, entries)
        for start in range(0, len(rows), _INSERT_CHUNK):
            await AuditEntry.insert(
                *(AuditEntry(**row) for row in rows[start : start + _INSERT_CHUNK])
            )
        return len(rows)
    guess = _last_head or GENESIS_HASH
    for _ in range(2):
        rows = _chained(key, guess, entries)
        columns = [[row[column] for row in rows] for column in _COLUMNS]
        answer = await sql.fetch_one(_APPEND, guess, *columns)
        assert answer is not None
        if answer["head"] is None:
            _last_head = rows[-1]["hash"]
            return len(rows)
        # Someone else appended since: the lock is now ours, so the real head stays put.
        guess = answer["head"]
    raise RuntimeError("the audit chain's head moved while its lock was held")


# For a statement that writes objects and their audit rows at once (PostgreSQL): a call of
# `strict_append()` taking `strict_append_args`, which raises GP409 (`head_if_moved`) unless
# the chain's head is the one the rows were chained onto, so the statement is undone whole.
def strict_append(expected: str = "{}") -> str:
    """The call, its first argument (the expected head) given as SQL, the others `{}`."""
    return f"audit_append_rows({expected}, " + ", ".join("{}" for _ in _COLUMNS) + ", true)"


def strict_append_args(entries: Sequence[Entry]) -> tuple[list[Any], str]:
    """The arguments of `strict_append()` for the entries chained onto this process's last known
    head, and the hash they end on (to pass to `appended` once committed)."""
    rows = _chained(audit_key(), _last_head or GENESIS_HASH, entries)
    return [rows[0]["prev_hash"], *([row[c] for row in rows] for c in _COLUMNS)], rows[-1]["hash"]


def note_head(head: str) -> None:
    """The chain's head as a statement with `strict_append()` left it (committed or refused)."""
    global _last_head
    _last_head = head


def head_if_moved(error: BaseException) -> str | None:
    """The chain's actual head when `error` is `strict_append()` refusing; else None."""
    if getattr(error, "sqlstate", None) != "GP409":
        return None
    return str(getattr(error, "detail", "") or "") or None


def _chained(key: bytes, prev_hash: str, entries: Sequence[Entry]) -> list[dict[str, Any]]:
    rows = []
    for entry in entries:
        digest = row_hash(key, prev_hash, entry.content())
        rows.append({**msgspec.structs.asdict(entry), "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    return rows


async def _head() -> str:
    last = await AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id, ascending=False).first()
    return last["hash"] if last else GENESIS_HASH


class ChainReport(msgspec.Struct, frozen=True):
    checked: int
    intact: bool
    first_broken_id: int | None = None
    reason: str | None = None
    # Rows cut off the end: the first and last id the latest checkpoint says must exist.
    missing: tuple[int, int] | None = None
    checkpoints: int = 0


async def verify(batch_size: int = 5000, *, settings: Settings | None = None) -> ChainReport:
    """Walk the whole chain in id order under the audit key and name the first row that does
    not hold; then hold the table against the signed checkpoints of its head (a checkpoint
    line not signed with the key, or rows missing below the latest checkpoint, fail)."""
    settings = settings or settings_in_use()
    key = settings.audit_key.encode()
    checkpoints, bad_line = read_checkpoints(settings.audit_checkpoint_file, key)
    if bad_line:
        return ChainReport(checked=0, intact=False, reason=bad_line)
    by_row = {c.row_id: c for c in checkpoints}
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
            break
        for row in batch:
            reason = _row_fault(key, row, expected_prev) or _checkpoint_fault(
                row, by_row.get(row["id"])
            )
            if reason:
                return ChainReport(
                    checked=checked,
                    intact=False,
                    first_broken_id=row["id"],
                    reason=reason,
                    checkpoints=len(checkpoints),
                )
            expected_prev = row["hash"]
            checked += 1
            last_id = row["id"]
    latest = max(checkpoints, key=lambda c: c.row_id, default=None)
    if latest is not None and latest.row_id > last_id:
        return ChainReport(
            checked=checked,
            intact=False,
            first_broken_id=last_id + 1,
            reason=(
                f"rows {last_id + 1}–{latest.row_id} are missing: the table ends at row "
                f"{last_id}, below the checkpoint of {latest.at} (row {latest.row_id})"
            ),
            missing=(last_id + 1, latest.row_id),
            checkpoints=len(checkpoints),
        )
    return ChainReport(checked=checked, intact=True, checkpoints=len(checkpoints))


def _row_fault(key: bytes, row: dict[str, Any], expected_prev: str) -> str | None:
    if row["prev_hash"] != expected_prev:
        return "prev_hash does not match the previous row's hash (a row was removed or reordered)"
    content = canonical_content(row)
    if not same_digest(row_hash(key, row["prev_hash"], content), row["hash"]):
        return "content does not match its hash under the audit key (the row was altered)"
    return None


def _checkpoint_fault(row: dict[str, Any], checkpoint: Checkpoint | None) -> str | None:
    if checkpoint is None or same_digest(checkpoint.hash, row["hash"]):
        return None
    return (
        f"the row does not match the checkpoint of {checkpoint.at} (rows from here on were "
        "replaced after it was taken)"
    )
