"""The grid tree as the roster sees it: each unit with how many members live in it."""

from __future__ import annotations

from piccolo.query.functions.aggregate import Count

from gridpoints.auth.principal import Principal
from gridpoints.members.tables import Member
from gridpoints.org.queries import unit_ids_within, within
from gridpoints.org.schemas import OrgTreeNode
from gridpoints.org.services import find_unit
from gridpoints.org.tables import OrgUnit

MAX_TREE_DEPTH = 12


async def subtree(actor: Principal, unit_id: int, depth: int) -> OrgTreeNode:
    """The unit and everything below it (down to `depth` levels), with member counts."""
    root = await find_unit(actor, unit_id)
    rows = (
        await OrgUnit.select(
            OrgUnit.id,
            OrgUnit.parent,
            OrgUnit.name,
            OrgUnit.code,
            OrgUnit.level,
            OrgUnit.level_name,
        )
        .where(within(OrgUnit.path, [root["path"]]) & (OrgUnit.level <= root["level"] + depth))
        .order_by(OrgUnit.path)
    )
    counts = {
        row["org_unit"]: row["count"]
        for row in await Member.select(Member.org_unit, Count(alias="count"))
        .where(Member.org_unit.is_in(unit_ids_within([root["path"]])))
        .group_by(Member.org_unit)
    }
    nodes = {
        row["id"]: OrgTreeNode(
            id=row["id"],
            name=row["name"],
            code=row["code"],
            level=row["level"],
            level_name=row["level_name"],
            member_count=counts.get(row["id"], 0),
            children=[],
        )
        for row in rows
    }
    for row in rows:
        if row["id"] != root["id"] and row["parent"] in nodes:
            nodes[row["parent"]].children.append(nodes[row["id"]])
    return nodes[root["id"]]
