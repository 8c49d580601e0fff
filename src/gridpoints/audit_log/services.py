"""Reading the audit log: the entries about org units where the caller may read it."""

from __future__ import annotations

import msgspec

from gridpoints.audit.tables import AuditEntry
from gridpoints.audit_log.schemas import AuditEntryOut
from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.org.queries import unit_ids_within


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
