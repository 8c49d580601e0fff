"""Signed checkpoints of the audit chain's head, kept outside the database.

The chain shows a row altered or removed in the middle, but not rows cut off its end: the
shorter table still chains. So the head (row id, hash, time) is signed with the audit key and
appended as one JSON line to GRIDPOINTS_AUDIT_CHECKPOINT_FILE (`var/audit_checkpoints` by
default), and logged, regularly: daily by a worker, hourly and at start by the embedded
server (`gridpoints.wiring.periodic_work`), and on demand with `gridpoints audit checkpoint`.
`verify` then names the rows missing below the latest checkpoint, and refuses a line not
signed with the key.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import msgspec

from gridpoints.audit.chain import GENESIS_HASH, checkpoint_signature, same_digest
from gridpoints.audit.tables import AuditEntry
from gridpoints.clock import utcnow
from gridpoints.settings import Settings

log = logging.getLogger(__name__)


class Checkpoint(msgspec.Struct, frozen=True):
    row_id: int
    hash: str
    at: str
    signature: str


async def write_checkpoint(settings: Settings) -> Checkpoint:
    """Sign the chain's head as it stands and append it to the checkpoint file."""
    head = (
        await AuditEntry.select(AuditEntry.id, AuditEntry.hash)
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    row_id, digest = (head["id"], head["hash"]) if head else (0, GENESIS_HASH)
    at = utcnow().isoformat(timespec="seconds")
    key = settings.audit_key.encode()
    checkpoint = Checkpoint(row_id, digest, at, checkpoint_signature(key, row_id, digest, at))
    path = settings.audit_checkpoint_file
    path.parent.mkdir(parents=True, exist_ok=True)
    line = msgspec.json.encode(checkpoint).decode() + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
    log.info(
        "audit checkpoint: row %d hash %s at %s signature %s (appended to %s)",
        row_id,
        digest,
        at,
        checkpoint.signature,
        path,
    )
    return checkpoint


def read_checkpoints(path: Path, key: bytes) -> tuple[list[Checkpoint], str | None]:
    """The file's checkpoints, and the first line that is not one signed with `key`."""
    if not path.is_file():
        return [], None
    found: list[Checkpoint] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            checkpoint = _parsed(line)
            if checkpoint is None or not same_digest(
                checkpoint.signature,
                checkpoint_signature(key, checkpoint.row_id, checkpoint.hash, checkpoint.at),
            ):
                return found, (
                    f"checkpoint line {number} of {path} is not signed with the audit key "
                    "(forged or altered)"
                )
            found.append(checkpoint)
    return found, None


def _parsed(line: str) -> Checkpoint | None:
    try:
        raw: Any = json.loads(line)
        return msgspec.convert(raw, Checkpoint)
    except (ValueError, msgspec.ValidationError):
        return None
