"""Routes of the grid tree."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import JSONBody

from gridpoints.auth.dependencies import Actor
from gridpoints.org import services
from gridpoints.org.schemas import OrgUnitCreate, OrgUnitOut
from gridpoints.schemas import Page
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath, IdQuery, LevelQuery, Limit, Offset, TextQuery


class OrgUnitController(Controller):
    path = "/org-units"
    tags = ["org"]

    @get(
        "",
        operation_id="listOrgUnits",
        summary="Org units within the caller's grids",
        responses=problems(400, 404),
    )
    async def list_units(
        self,
        actor: Actor,
        parent_id: IdQuery = None,
        level: LevelQuery = None,
        q: TextQuery = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[OrgUnitOut]:
        return await services.list_units(
            actor, parent_id=parent_id, level=level, q=q, limit=limit, offset=offset
        )

    @post(
        "",
        operation_id="createOrgUnit",
        summary="Add an org unit below one the caller manages",
        responses=problems(400, 403, 404, 409),
    )
    async def create_unit(
        self, actor: Actor, data: JSONBody[OrgUnitCreate], settings: AppSettings
    ) -> OrgUnitOut:
        return await services.create_unit(actor, data, settings)

    @get(
        "/{unit_id:int}", operation_id="getOrgUnit", summary="One org unit", responses=problems(404)
    )
    async def get_unit(self, actor: Actor, unit_id: IdPath) -> OrgUnitOut:
        return await services.get_unit(actor, unit_id)
