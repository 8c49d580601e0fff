"""The grid tree through the API: each caller sees and grows only their own subtrees."""

from __future__ import annotations

from gridpoints.audit.tables import AuditEntry
from gridpoints.org.tables import OrgUnit
from tests.conftest import bearer

UNITS = "/api/v1/org-units"


async def test_a_committee_admin_adds_a_unit_with_the_next_level_name_and_it_is_audited(
    client, world
):
    before = await AuditEntry.count()
    created = await client.post(
        UNITS,
        json={"parent_id": world.units["A1"], "name": "2号楼"},
        headers=bearer(client, world.admin),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["parent_id"] == world.units["A1"]
    assert body["level_name"] == "楼栋"
    assert await AuditEntry.count() == before + 1
    tree = await client.get(
        f"{UNITS}/{world.units['A']}/tree", headers=bearer(client, world.leader_a)
    )
    assert tree.status_code == 200
    names = []

    def walk(node):
        names.append(node["name"])
        for child in node.get("children", []):
            walk(child)

    walk(tree.json())
    assert names[0] == "甲片区" and "2号楼" in names and "乙一小区" not in names


async def test_units_cannot_be_added_where_the_caller_has_no_say(client, world):
    counts = (await OrgUnit.count(), await AuditEntry.count())
    sibling = await client.post(
        UNITS,
        json={"parent_id": world.units["B1"], "name": "越界楼"},
        headers=bearer(client, world.leader_a),
    )
    assert sibling.status_code == 404
    own_grid = await client.post(
        UNITS,
        json={"parent_id": world.units["A1"], "name": "无权楼"},
        headers=bearer(client, world.leader_a),
    )
    assert own_grid.status_code == 403  # grid leaders manage members, not the tree
    assert (await OrgUnit.count(), await AuditEntry.count()) == counts


async def test_bad_units_are_refused_naming_the_field(client, world):
    admin = bearer(client, world.admin)
    counts = await OrgUnit.count()
    empty = await client.post(
        UNITS, json={"parent_id": world.units["A1"], "name": ""}, headers=admin
    )
    assert empty.status_code == 400
    assert "name" in [e["field"] for e in empty.json()["errors"]]
    first = await client.post(
        UNITS,
        json={"parent_id": world.units["A1"], "name": "3号楼", "code": "A1-B3"},
        headers=admin,
    )
    assert first.status_code == 201
    again = await client.post(
        UNITS,
        json={"parent_id": world.units["A1"], "name": "4号楼", "code": "A1-B3"},
        headers=admin,
    )
    assert again.status_code == 409
    assert await OrgUnit.count() == counts + 1


async def test_a_leader_lists_only_their_subtree(client, world):
    listed = await client.get(UNITS, params={"limit": 500}, headers=bearer(client, world.leader_a))
    ids = {u["id"] for u in listed.json()["items"]}
    assert ids == {world.units[k] for k in ("A", "A1", "A1-B1", "A1-B1-U1")}
