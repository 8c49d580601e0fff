"""Route of the audit log: who changed what, within the caller's grids."""

from __future__ import annotations

from litestar import Controller, get

from gridpoints.audit_log import services
from gridpoints.audit_log.schemas import AuditEntryOut
from gridpoints.auth.dependencies import Actor
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdQuery, Limit, TextQuery


class AuditController(Controller):
    path = "/audit-log"
    tags = ["audit"]

    @get(
        "",
        operation_id="listAuditEntries",
        summary="Audit entries within the caller's grids, newest first",
        responses=problems(400),
    )
    async def list_entries(
        self,
        actor: Actor,
        object_type: TextQuery = None,
        object_id: IdQuery = None,
        before_id: IdQuery = None,
        limit: Limit = 50,
    ) -> list[AuditEntryOut]:
        return await services.readable_entries(
            actor, object_type=object_type, object_id=object_id, before_id=before_id, limit=limit
        )
