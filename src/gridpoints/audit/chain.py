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


# Stands in for the object's id while the rest of the content is encoded; its digits never
# occur elsewhere in canonical JSON with unescaped quotes around the key.
_ID_MARK = -7_366_218_551
_ID_KEY = b'"object_id":'


def content_around_id(
    *,
    at: datetime,
    actor_id: int | None,
    actor_label: str,
    action: str,
    object_type: str,
    org_unit_id: int | None,
    before: str | None,
    after: str | None,
) -> tuple[bytes, bytes]:
    """The canonical content before and after the object's id, for a writer that learns
    the id only when the database inserts the row (see `audit_append`)."""
    encoded = msgspec.json.encode(
        {
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor_label": actor_label,
            "action": action,
            "object_type": object_type,
            "object_id": _ID_MARK,
            "org_unit_id": org_unit_id,
            "before": before,
            "after": after,
        },
        order="sorted",
    )
    head, tail = encoded.split(_ID_KEY + str(_ID_MARK).encode())
    return head + _ID_KEY, tail


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
    head, tail = content_around_id(
        at=at,
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        object_type=object_type,
        org_unit_id=org_unit_id,
        before=before,
        after=after,
    )
    return head + (b"null" if object_id is None else str(object_id).encode()) + tail


def chain_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + content).hexdigest()
