""" "Everything below unit X" is one range query on the indexed materialised path."""

from __future__ import annotations

from gridpoints.db.engine import is_postgres
from gridpoints.org.queries import unit_ids_within, within
from gridpoints.org.services import UnitSpec, create_root_unit, create_units_bulk
from gridpoints.org.tables import OrgUnit
from gridpoints.unit_paths import subtree_bounds
from tests.world import SYSTEM

DEPTH = 8


async def _deep_tree() -> dict[str, int]:
    """A root with two chains DEPTH deep and a few leaves hanging off each level."""
    units = {"root": await create_root_unit(SYSTEM, "深树", "root", "街道")}
    for branch in ("L", "R"):
        parent = units["root"]
        for level in range(1, DEPTH + 1):
            code = f"{branch}{level}"
            specs = [UnitSpec(parent, f"{branch}第{level}层", code, f"层{level}")]
            specs += [
                UnitSpec(parent, f"{branch}叶{level}-{n}", f"{code}-{n}", f"层{level}")
                for n in range(3)
            ]
            units.update(await create_units_bulk(SYSTEM, specs))
            parent = units[code]
    return units


async def test_the_subtree_query_returns_exactly_the_descendants(db):
    units = await _deep_tree()
    ids = {row["id"] for row in await unit_ids_within([(await _path(units["L3"]))])}
    expected = {units["L3"]}
    for level in range(4, DEPTH + 1):
        expected |= {units[f"L{level}"], *(units[f"L{level}-{n}"] for n in range(3))}
    assert ids == expected
    # Neither the other branch nor the siblings at the same level leak in.
    assert units["R3"] not in ids and units["L3-0"] not in ids
    everything = {row["id"] for row in await unit_ids_within([await _path(units["root"])])}
    assert everything == set(units.values())
    two_scopes = {
        row["id"]
        for row in await unit_ids_within([await _path(units["L7"]), await _path(units["R8"])])
    }
    # Leaves named "X8-n" hang off X7, beside X8: below L7, not below R8.
    assert two_scopes == {
        units["L7"],
        units["L8"],
        *(units[f"L8-{n}"] for n in range(3)),
        units["R8"],
    }


async def _path(unit_id: int) -> str:
    return (await OrgUnit.select(OrgUnit.path).where(OrgUnit.id == unit_id).first())["path"]


async def test_the_subtree_query_is_one_statement_on_the_path_index(db):
    units = await _deep_tree()
    path = await _path(units["L2"])
    query = OrgUnit.select(OrgUnit.id).where(within(OrgUnit.path, [path]))
    sql = str(query)
    assert sql.count("SELECT") == 1 and "path" in sql
    low, high = subtree_bounds(path)
    if is_postgres():
        # Few rows: the planner may prefer a scan, so ask whether the index can serve it.
        async with OrgUnit._meta.db.transaction():
            await OrgUnit.raw("SET LOCAL enable_seqscan = off")
            plan_rows = await OrgUnit.raw(
                "EXPLAIN SELECT id FROM org_unit WHERE path >= {} AND path < {}", low, high
            )
        plan = " ".join(row["QUERY PLAN"] for row in plan_rows)
        assert "Index" in plan and "path" in plan, plan
    else:
        plan_rows = await OrgUnit.raw(
            "EXPLAIN QUERY PLAN SELECT id FROM org_unit WHERE path >= {} AND path < {}",
            low,
            high,
        )
        plan = " ".join(row["detail"] for row in plan_rows)
        assert "USING" in plan and "INDEX" in plan and "path" in plan, plan
