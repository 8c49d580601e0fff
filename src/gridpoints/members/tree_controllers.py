"""The route of the grid tree with member counts (the rest of the tree's routes: `org`)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from gridpoints.auth.dependencies import Actor
from gridpoints.members import tree
from gridpoints.org.schemas import OrgTreeNode
from gridpoints.web.openapi import problems
from gridpoints.web.params import IdPath

Depth = Annotated[int, QueryParameter(ge=0, le=tree.MAX_TREE_DEPTH)]


class OrgTreeController(Controller):
    path = "/org-units"
    tags = ["org"]

    @get(
        "/{unit_id:int}/tree",
        operation_id="getOrgUnitTree",
        summary="The unit and everything below it, with member counts",
        responses=problems(400, 404),
    )
    async def get_tree(self, actor: Actor, unit_id: IdPath, depth: Depth = 3) -> OrgTreeNode:
        return await tree.subtree(actor, unit_id, depth)
