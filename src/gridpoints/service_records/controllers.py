"""Routes of service records and their verification."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import JSONBody, MultipartBody, QueryParameter
from litestar.response import File
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from gridpoints.auth.dependencies import Actor
from gridpoints.schemas import Page
from gridpoints.service_records import services
from gridpoints.service_records.photos import MEDIA_TYPES
from gridpoints.service_records.schemas import RejectIn, ServiceRecordIn, ServiceRecordOut
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.openapi import problems, replayed
from gridpoints.web.params import IdPath, IdQuery, Limit, Offset

StateQuery = Annotated[
    Literal["submitted", "approved", "rejected"] | None,
    # Litestar keeps the name `state` for the app state, so the filter is `?status=`.
    QueryParameter(required=False),
]


class PhotoUpload(msgspec.Struct):
    file: UploadFile


class ServiceRecordController(Controller):
    path = "/service-records"
    tags = ["service records"]

    @get(
        "",
        operation_id="listServiceRecords",
        summary="Service records of members the caller manages, and the caller's own",
        responses=problems(400),
    )
    async def list_records(
        self,
        actor: Actor,
        status: StateQuery = None,
        member_id: IdQuery = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ServiceRecordOut]:
        return await services.list_records(
            actor, state=status, member_id=member_id, limit=limit, offset=offset
        )

    @post(
        "",
        operation_id="submitServiceRecord",
        summary="Log a service (one's own, or a member's as their leader)",
        description="201 with the new record; the same client_id and body again answer 200 "
        "with it (nothing new stored), another body under it 409 `client_id_reused`.",
        status_code=HTTP_201_CREATED,
        responses={**problems(400, 403, 404, 409), **replayed(ServiceRecordOut)},
    )
    async def submit(
        self, actor: Actor, data: JSONBody[ServiceRecordIn], settings: AppSettings
    ) -> Response[ServiceRecordOut]:
        stored, created = await services.submit_once(actor, data, settings)
        return Response(stored, status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get(
        "/{record_id:int}",
        operation_id="getServiceRecord",
        summary="One service record",
        responses=problems(404),
    )
    async def get_record(self, actor: Actor, record_id: IdPath) -> ServiceRecordOut:
        return services.present(await services.find_service_record(actor, record_id))

    @post(
        "/{record_id:int}/approve",
        operation_id="approveServiceRecord",
        summary="Approve (a leader of the member's grid, never the member)",
        status_code=HTTP_200_OK,
        responses=problems(403, 404, 409),
    )
    async def approve(self, actor: Actor, record_id: IdPath) -> ServiceRecordOut:
        return await services.approve(actor, record_id)

    @post(
        "/{record_id:int}/reject",
        operation_id="rejectServiceRecord",
        summary="Reject with a reason (a leader of the member's grid, never the member)",
        status_code=HTTP_200_OK,
        responses=problems(400, 403, 404, 409),
    )
    async def reject(
        self, actor: Actor, record_id: IdPath, data: JSONBody[RejectIn]
    ) -> ServiceRecordOut:
        return await services.reject(actor, record_id, data.reason)

    @post(
        "/{record_id:int}/photo",
        operation_id="attachServicePhoto",
        summary="Attach an evidence photo (JPEG, PNG or WebP)",
        status_code=HTTP_200_OK,
        responses=problems(400, 403, 404, 409),
    )
    async def attach_photo(
        self,
        actor: Actor,
        record_id: IdPath,
        data: MultipartBody[PhotoUpload],
        settings: AppSettings,
    ) -> ServiceRecordOut:
        content = await data.file.read()
        return await services.attach_photo(actor, record_id, content, settings)

    @get(
        "/{record_id:int}/photo",
        operation_id="getServicePhoto",
        summary="The evidence photo",
        media_type="image/*",
        responses=problems(404),
    )
    async def get_photo(self, actor: Actor, record_id: IdPath, settings: AppSettings) -> File:
        path = await services.photo_path(actor, record_id, settings)
        kind = path.suffix.lstrip(".")
        return File(path=path, media_type=MEDIA_TYPES.get(kind, "application/octet-stream"))
