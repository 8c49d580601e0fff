"""Routes of activities and their rotating check-in code."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody

from gridpoints.activities import services
from gridpoints.activities.qr import qr_svg
from gridpoints.activities.schemas import ActivityIn, ActivityOut, ActivityPatch, CheckinCode
from gridpoints.auth.dependencies import Actor
from gridpoints.clock import utcnow
from gridpoints.schemas import Page
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath, IdQuery, Limit, Offset

NO_STORE = {"Cache-Control": "no-store"}


class ActivityController(Controller):
    path = "/activities"
    tags = ["activities"]

    @get(
        "",
        operation_id="listActivities",
        summary="Activities in the caller's grids and those the caller may join",
        responses=problems(400, 404),
    )
    async def list_activities(
        self, actor: Actor, org_unit_id: IdQuery = None, limit: Limit = 50, offset: Offset = 0
    ) -> Page[ActivityOut]:
        return await services.list_activities(
            actor, org_unit_id=org_unit_id, limit=limit, offset=offset
        )

    @post(
        "",
        operation_id="createActivity",
        summary="Organise an activity in a grid the caller leads",
        responses=problems(400, 403, 404),
    )
    async def create_activity(
        self, actor: Actor, data: JSONBody[ActivityIn], settings: AppSettings
    ) -> ActivityOut:
        return await services.create_activity(actor, data, settings)

    @get(
        "/{activity_id:int}",
        operation_id="getActivity",
        summary="One activity",
        responses=problems(404),
    )
    async def get_activity(self, actor: Actor, activity_id: IdPath) -> ActivityOut:
        return await services.get_activity(actor, activity_id)

    @patch(
        "/{activity_id:int}",
        operation_id="updateActivity",
        summary="Edit an activity",
        responses=problems(400, 403, 404),
    )
    async def update_activity(
        self,
        actor: Actor,
        activity_id: IdPath,
        data: JSONBody[ActivityPatch],
        settings: AppSettings,
    ) -> ActivityOut:
        return await services.update_activity(actor, activity_id, data, settings)

    @get(
        "/{activity_id:int}/code",
        operation_id="getCheckinCode",
        summary="The current rotating check-in token and URL (organisers only)",
        responses=problems(403, 404),
    )
    async def get_code(
        self,
        actor: Actor,
        activity_id: IdPath,
        settings: AppSettings,
        request: Request[Any, Any, Any],
    ) -> Response[CheckinCode]:
        code = await services.current_code(
            actor, activity_id, settings, str(request.base_url), utcnow()
        )
        return Response(code, headers=NO_STORE)

    @get(
        "/{activity_id:int}/qr.svg",
        operation_id="getCheckinQr",
        summary="The current check-in URL as a QR code (organisers only)",
        media_type="image/svg+xml",
        responses=problems(403, 404),
    )
    async def get_qr(
        self,
        actor: Actor,
        activity_id: IdPath,
        settings: AppSettings,
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        code = await services.current_code(
            actor, activity_id, settings, str(request.base_url), utcnow()
        )
        return Response(qr_svg(code.checkin_url), media_type="image/svg+xml", headers=NO_STORE)
