"""API shapes of the grid tree."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gridpoints.schemas import VISIBLE, Id

UnitName = Annotated[str, VISIBLE, msgspec.Meta(min_length=1, max_length=100)]
UnitCode = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=60,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Short unique code (letters, digits, dot, dash, underscore)",
    ),
]
LevelName = Annotated[str, VISIBLE, msgspec.Meta(min_length=1, max_length=20)]


class OrgUnitCreate(msgspec.Struct, forbid_unknown_fields=True):
    parent_id: Id
    name: UnitName
    code: UnitCode | None = None
    level_name: LevelName | None = None


class OrgUnitOut(msgspec.Struct):
    id: int
    parent_id: int | None
    name: str
    code: str
    level: int
    level_name: str
    path: str
    # Names from the top of the caller's view down to this unit, for breadcrumbs.
    path_names: list[str]


class OrgTreeNode(msgspec.Struct):
    id: int
    name: str
    code: str
    level: int
    level_name: str
    member_count: int
    children: list[OrgTreeNode]
