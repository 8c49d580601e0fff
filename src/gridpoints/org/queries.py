"""Query conditions over the grid tree: "lies within one of these subtrees" as index-backed
range conditions on `org_unit.path`, never a walk in Python."""

from __future__ import annotations

import operator
from functools import reduce

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.query.methods.select import Select

from gridpoints.org.tables import OrgUnit
from gridpoints.unit_paths import subtree_bounds


def within(path_column: Column, scopes: list[str]):
    """`path_column` lies in one of the subtrees rooted at `scopes`; no scopes match nothing."""
    if not scopes:
        return WhereRaw("1 = 0")
    conditions = []
    for scope in scopes:
        low, high = subtree_bounds(scope)
        conditions.append((path_column >= low) & (path_column < high))
    return reduce(operator.or_, conditions)


def unit_ids_within(scopes: list[str]) -> Select:
    """A sub-select of the ids of every unit in the subtrees at `scopes`."""
    return OrgUnit.select(OrgUnit.id).where(within(OrgUnit.path, scopes))
