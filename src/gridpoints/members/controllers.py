"""Routes of members, their roles and registrations, and the member import."""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import JSONBody, MultipartBody, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from gridpoints.auth.dependencies import Actor
from gridpoints.jobs.dependencies import Queue
from gridpoints.jobs.schemas import JobStarted
from gridpoints.members import registration, services
from gridpoints.members.export import exported_members, members_workbook
from gridpoints.members.roster_import.starting import start_import
from gridpoints.members.schemas import (
    MemberCreate,
    MemberDetail,
    MemberOut,
    MemberPatch,
    PasswordSet,
    RegistrationIn,
    RegistrationOut,
    RoleGrantIn,
    RoleOut,
)
from gridpoints.members.vocab import Category
from gridpoints.schemas import EndIn, Id, Page
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.files import XLSX_MEDIA_TYPE, attachment
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath, IdQuery, Limit, Offset, TextQuery


class ImportUpload(msgspec.Struct):
    """A member spreadsheet and the grid whose subtree its rows go into."""

    file: UploadFile
    org_unit_id: Id


class MemberController(Controller):
    path = "/members"
    tags = ["members"]

    @get(
        "",
        operation_id="listMembers",
        summary="Members within the caller's grids",
        responses=problems(400, 404),
    )
    async def list_members(
        self,
        actor: Actor,
        org_unit_id: IdQuery = None,
        category: Annotated[Category | None, QueryParameter()] = None,
        q: TextQuery = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[MemberOut]:
        return await services.list_members(
            actor, org_unit_id=org_unit_id, category=category, q=q, limit=limit, offset=offset
        )

    @get(
        "/export.xlsx",
        operation_id="exportMembers",
        summary="Members within the caller's grids as a spreadsheet (phones masked as in the list)",
        media_type=XLSX_MEDIA_TYPE,
        responses=problems(400, 404),
    )
    async def export_members(
        self,
        actor: Actor,
        org_unit_id: IdQuery = None,
        category: Annotated[Category | None, QueryParameter()] = None,
    ) -> Response[bytes]:
        members = await exported_members(actor, org_unit_id=org_unit_id, category=category)
        content = await asyncio.to_thread(members_workbook, members)
        return attachment(content, "members.xlsx", XLSX_MEDIA_TYPE)

    @post(
        "",
        operation_id="createMember",
        summary="Add a member to a grid the caller manages",
        responses=problems(400, 403, 404, 409),
    )
    async def create_member(
        self, actor: Actor, data: JSONBody[MemberCreate], settings: AppSettings
    ) -> MemberDetail:
        return await services.create_member(actor, data, settings)

    @get(
        "/{member_id:int}",
        operation_id="getMember",
        summary="One member with roles",
        responses=problems(404),
    )
    async def get_member(self, actor: Actor, member_id: IdPath) -> MemberDetail:
        return await services.get_member(actor, member_id)

    @patch(
        "/{member_id:int}",
        operation_id="updateMember",
        summary="Edit a member",
        responses=problems(400, 403, 404, 409),
    )
    async def update_member(
        self, actor: Actor, member_id: IdPath, data: JSONBody[MemberPatch], settings: AppSettings
    ) -> MemberDetail:
        return await services.update_member(actor, member_id, data, settings)

    @post(
        "/{member_id:int}/password",
        operation_id="setMemberPassword",
        summary="Set (reset) a member's password",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(400, 403, 404),
    )
    async def set_password(
        self, actor: Actor, member_id: IdPath, data: JSONBody[PasswordSet]
    ) -> None:
        await services.set_password(actor, member_id, data.password)

    @post(
        "/{member_id:int}/roles",
        operation_id="grantRole",
        summary="Appoint the member to a role on an org unit",
        responses=problems(400, 403, 404, 409),
    )
    async def grant_role(
        self, actor: Actor, member_id: IdPath, data: JSONBody[RoleGrantIn]
    ) -> RoleOut:
        return await services.grant_role(actor, member_id, data)

    @get(
        "/{member_id:int}/roles",
        operation_id="listRoles",
        summary="The member's roles",
        responses=problems(404),
    )
    async def list_roles(self, actor: Actor, member_id: IdPath) -> list[RoleOut]:
        return (await services.get_member(actor, member_id)).roles

    @delete(
        "/{member_id:int}/roles/{role_id:int}",
        operation_id="revokeRole",
        summary="Remove the member from a role",
        status_code=HTTP_204_NO_CONTENT,
        responses=problems(403, 404),
    )
    async def revoke_role(self, actor: Actor, member_id: IdPath, role_id: IdPath) -> None:
        await services.revoke_role(actor, member_id, role_id)

    @get(
        "/{member_id:int}/registrations",
        operation_id="listRegistrations",
        summary="The member's dual-registration records",
        responses=problems(404),
    )
    async def list_registrations(self, actor: Actor, member_id: IdPath) -> list[RegistrationOut]:
        return await registration.registrations_of(actor, member_id)

    @post(
        "/{member_id:int}/registrations",
        operation_id="createRegistration",
        summary="Record the member's report to their community",
        responses=problems(400, 403, 404, 409),
    )
    async def create_registration(
        self, actor: Actor, member_id: IdPath, data: JSONBody[RegistrationIn], settings: AppSettings
    ) -> RegistrationOut:
        return await registration.create_registration(actor, member_id, data, settings)

    @post(
        "/{member_id:int}/registrations/{registration_id:int}/end",
        operation_id="endRegistration",
        summary="End a dual-registration record",
        status_code=200,
        responses=problems(400, 403, 404, 409),
    )
    async def end_registration(
        self, actor: Actor, member_id: IdPath, registration_id: IdPath, data: JSONBody[EndIn]
    ) -> RegistrationOut:
        return await registration.end_registration(actor, member_id, registration_id, data.ended_on)

    @post(
        "/import",
        operation_id="importMembers",
        summary="Import members from a CSV or XLSX file (a background job)",
        description="Columns 姓名, 手机号, 类别, 所在网格, 工作单位. All rows or none: the job's "
        "result lists every bad row with its row number and reason.",
        status_code=HTTP_202_ACCEPTED,
        responses=problems(400, 403, 404, 413),
    )
    async def import_members(
        self,
        actor: Actor,
        job_queue: Queue,
        settings: AppSettings,
        data: MultipartBody[ImportUpload],
    ) -> JobStarted:
        content = await data.file.read()
        job_id = await start_import(
            job_queue, actor, data.org_unit_id, data.file.filename, content, settings
        )
        return JobStarted(job_id=job_id)
