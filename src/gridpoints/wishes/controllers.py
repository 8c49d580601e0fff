"""Routes of micro-wishes."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from gridpoints.auth.dependencies import Actor
from gridpoints.schemas import Page
from gridpoints.web.dependencies import AppSettings
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath, IdQuery, Limit, Offset
from gridpoints.wishes import services
from gridpoints.wishes.schemas import FulfilIn, WishIn, WishOut

StatusQuery = Annotated[
    Literal["open", "claimed", "fulfilled", "confirmed"] | None, QueryParameter(required=False)
]


class WishController(Controller):
    path = "/wishes"
    tags = ["micro-wishes"]

    @get(
        "",
        operation_id="listWishes",
        summary="Wishes in the caller's grids and those the caller may claim",
        responses=problems(400),
    )
    async def list_wishes(
        self,
        actor: Actor,
        status: StatusQuery = None,
        claimed_by: IdQuery = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[WishOut]:
        return await services.list_wishes(
            actor, status=status, claimed_by=claimed_by, limit=limit, offset=offset
        )

    @post(
        "",
        operation_id="postWish",
        summary="Post a resident's wish (the community)",
        status_code=HTTP_201_CREATED,
        responses=problems(400, 403, 404),
    )
    async def post_wish(
        self, actor: Actor, data: JSONBody[WishIn], settings: AppSettings
    ) -> WishOut:
        return await services.post_wish(actor, data, settings)

    @get("/{wish_id:int}", operation_id="getWish", summary="One wish", responses=problems(404))
    async def get_wish(self, actor: Actor, wish_id: IdPath) -> WishOut:
        return services.present(await services.find_wish(actor, wish_id))

    @post(
        "/{wish_id:int}/claim",
        operation_id="claimWish",
        summary="Claim an open wish (one member only)",
        status_code=HTTP_200_OK,
        responses=problems(403, 404, 409),
    )
    async def claim(self, actor: Actor, wish_id: IdPath) -> WishOut:
        return await services.claim(actor, wish_id)

    @post(
        "/{wish_id:int}/fulfil",
        operation_id="fulfilWish",
        summary="Report a claimed wish fulfilled, with evidence (the claimant)",
        status_code=HTTP_200_OK,
        responses=problems(400, 403, 404, 409),
    )
    async def fulfil(self, actor: Actor, wish_id: IdPath, data: JSONBody[FulfilIn]) -> WishOut:
        return await services.fulfil(actor, wish_id, data.evidence)

    @post(
        "/{wish_id:int}/confirm",
        operation_id="confirmWish",
        summary="Confirm a fulfilled wish (the community, not the claimant)",
        status_code=HTTP_200_OK,
        responses=problems(403, 404, 409),
    )
    async def confirm(self, actor: Actor, wish_id: IdPath) -> WishOut:
        return await services.confirm(actor, wish_id)
