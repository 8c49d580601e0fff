"""The audit chain's arithmetic: canonical content of a row and its hash.

A row's hash is SHA-256 over the previous row's hash and the row's canonical JSON (sorted
keys, UTF-8, instants in UTC ISO form). Pure functions: the writer and `verify` share them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import msgspec

GENESIS_HASH = "0" * 64


def encode_state(value: Any) -> str | None:
    """The stored form of a before/after state: canonical JSON, or NULL for no state."""
    if value is None:
        return None
    return msgspec.json.encode(value, order="sorted").decode()


def canonical_content(
    *,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    object_id: int | None,
    org_unit_id: int | None,
    before: str | None,
    after: str | None,
) -> bytes:
    return msgspec.json.encode(
        {
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "org_unit_id": org_unit_id,
            "before": before,
            "after": after,
        },
        order="sorted",
    )


def chain_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + content).hexdigest()
