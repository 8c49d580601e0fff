"""The audit chain's arithmetic: canonical content of a row, its hash, and checkpoint signatures.

A row's hash is HMAC-SHA256, under the deployment's audit key (GRIDPOINTS_AUDIT_KEY, never
stored in the database), over the previous row's hash and the row's canonical JSON (sorted
keys, UTF-8, instants in UTC ISO form). Without the key nobody can rewrite a row and recompute
the hashes after it, not even with this code. This module is the only implementation of the
hash: every writer (both engines, the check-in hot path included) and `verify` call it.

A checkpoint signs the chain's head (row id, hash, time) with the same key; its message starts
with a fixed label, so a signature can never pass for a row hash or the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

GENESIS_HASH = "0" * 64
CONTENT_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "org_unit_id",
    "before",
    "after",
)
_CHECKPOINT_LABEL = "gridpoints-audit-checkpoint"


def encode_state(value: Any) -> str | None:
    """The stored form of a before/after state: canonical JSON, or NULL for no state."""
    if value is None:
        return None
    return msgspec.json.encode(value, order="sorted").decode()


def canonical_content(row: Mapping[str, Any]) -> bytes:
    """What a row's hash covers: its `CONTENT_FIELDS`, taken from a stored audit row or an
    entry about to be written (`before` and `after` already encoded by `encode_state`)."""
    content = {field: row[field] for field in CONTENT_FIELDS}
    at: datetime = row["at"]
    content["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    return msgspec.json.encode(content, order="sorted")


def row_hash(key: bytes, prev_hash: str, content: bytes) -> str:
    """The hash of a row whose canonical content is `content`, chained onto `prev_hash`."""
    return hmac.new(key, prev_hash.encode() + b"\n" + content, hashlib.sha256).hexdigest()


def checkpoint_signature(key: bytes, row_id: int, head_hash: str, at: str) -> str:
    message = f"{_CHECKPOINT_LABEL}\n{row_id}\n{head_hash}\n{at}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
