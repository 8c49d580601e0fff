"""Writing verified events, inside the transaction of the change that verifies the fact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from gridpoints.clock import utcnow
from gridpoints.db.errors import is_unique_violation
from gridpoints.events.tables import VerifiedEvent


class EventIn(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    source_id: int
    member_id: int
    org_unit_id: int
    category: str
    occurred_at: datetime
    minutes: int = 0
    detail: dict[str, Any] = msgspec.field(default_factory=dict)


async def _append(event: EventIn, action: str, by: int | None) -> bool:
    exists = await VerifiedEvent.exists().where(
        (VerifiedEvent.kind == event.kind)
        & (VerifiedEvent.source_id == event.source_id)
        & (VerifiedEvent.action == action)
    )
    if exists:
        return False
    try:
        await VerifiedEvent.insert(
            VerifiedEvent(
                kind=event.kind,
                action=action,
                source_id=event.source_id,
                member=event.member_id,
                org_unit=event.org_unit_id,
                category=event.category,
                occurred_at=event.occurred_at,
                minutes=event.minutes,
                recorded_at=utcnow(),
                recorded_by=by,
                detail=msgspec.json.encode(event.detail).decode(),
            )
        )
    except Exception as exc:
        if is_unique_violation(exc):
            return False
        raise
    return True


async def verified(event: EventIn, by: int | None) -> bool:
    """Record the fact as verified; False when it already was."""
    return await _append(event, "verified", by)


async def revoked(event: EventIn, by: int | None) -> bool:
    """Record that a verified fact no longer counts; False when it was not verified or
    already revoked."""
    was_verified = await VerifiedEvent.exists().where(
        (VerifiedEvent.kind == event.kind)
        & (VerifiedEvent.source_id == event.source_id)
        & (VerifiedEvent.action == "verified")
    )
    return was_verified and await _append(event, "revoked", by)
