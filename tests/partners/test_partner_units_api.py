"""Partner units and their pairings with a community through the API, each with dates and a
state; created, listed and ended by those who may; one active pairing per partner unit and
community, also when requests race."""

from __future__ import annotations

import asyncio

import pytest

from gridpoints.partners.tables import UnitPairing
from tests.conftest import bearer
from tests.dual_registration import (
    NOWHERE,
    PARTNERS,
    last_audit,
    refused,
    row_counts,
)

# --- partner units -------------------------------------------------------------------------


async def test_an_admin_registers_a_partner_unit_and_it_is_audited(client, world):
    counts = await row_counts()
    created = await client.post(
        PARTNERS,
        json={
            "name": " 区税务局 机关党委 ",
            "kind": "government",
            "org_unit_id": world.units["C"],
            "contact_name": "王主任",
            "contact_phone": "+86 137-0000-8888",
        },
        headers=bearer(client, world.admin),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "区税务局 机关党委" and body["kind"] == "government"
    assert body["contact_phone"] == "13700008888" and body["member_count"] == 0
    assert await row_counts() == (counts[0] + 1, counts[1], counts[2], counts[3] + 1)
    entry = await last_audit()
    assert entry["action"] == "partner_unit.create" and entry["object_id"] == body["id"]
    assert entry["actor_id"] == world.admin and '"13700008888"' in entry["after"]
    fetched = await client.get(f"{PARTNERS}/{body['id']}", headers=bearer(client, world.admin))
    assert fetched.status_code == 200 and fetched.json() == body


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        pytest.param({"name": "测试供电公司党委"}, 409, "name", id="name-taken"),
        pytest.param({"name": " "}, 400, "name", id="blank-name"),
        pytest.param({"kind": "guild"}, 400, "kind", id="unknown-kind"),
        pytest.param({"contact_phone": "12345"}, 400, "contact_phone", id="bad-contact-phone"),
        pytest.param({"org_unit_id": NOWHERE}, 400, "org_unit_id", id="unknown-org-unit"),
        pytest.param({"since": "2026"}, 400, "since", id="unknown-field"),
    ],
)
async def test_bad_partner_units_name_the_field_and_write_nothing(
    client, world, fields, status, field
):
    counts = await row_counts()
    body = {"name": "新单位", "kind": "enterprise", "org_unit_id": world.units["C"], **fields}
    response = await client.post(PARTNERS, json=body, headers=bearer(client, world.admin))
    refused(response, status, field)
    assert await row_counts() == counts


async def test_a_grid_leader_may_not_register_partner_units(client, world):
    counts = await row_counts()
    headers = bearer(client, world.leader_a)
    body = {"name": "新单位", "kind": "enterprise"}
    # In view but without the power: 403; out of view: a bad field, as if it did not exist.
    refused(
        await client.post(
            PARTNERS, json={**body, "org_unit_id": world.units["A"]}, headers=headers
        ),
        403,
    )
    for unit in (world.units["B"], world.units["C"], NOWHERE):
        response = await client.post(PARTNERS, json={**body, "org_unit_id": unit}, headers=headers)
        refused(response, 400, "org_unit_id")
    assert await row_counts() == counts


async def test_partner_units_are_listed_to_those_whose_view_meets_their_committee(client, world):
    admin = (await client.get(PARTNERS, headers=bearer(client, world.admin))).json()
    assert {p["id"] for p in admin["items"]} == {world.partner, world.partner_b}
    partner = next(p for p in admin["items"] if p["id"] == world.partner)
    assert partner["member_count"] == 1  # member_a works there
    # Grid A's leader sees the community's partner units (to pick an employer) but not B's.
    leader = (await client.get(PARTNERS, headers=bearer(client, world.leader_a))).json()
    assert [p["id"] for p in leader["items"]] == [world.partner] and leader["total"] == 1
    named = await client.get(PARTNERS, params={"q": "供电"}, headers=bearer(client, world.admin))
    assert [p["id"] for p in named.json()["items"]] == [world.partner]
    refused(
        await client.get(PARTNERS, params={"limit": 0}, headers=bearer(client, world.admin)),
        400,
        "limit",
    )
    assert (
        await client.get(f"{PARTNERS}/{world.partner}", headers=bearer(client, world.leader_a))
    ).status_code == 200
    sibling = await client.get(
        f"{PARTNERS}/{world.partner_b}", headers=bearer(client, world.leader_a)
    )
    missing = await client.get(f"{PARTNERS}/{NOWHERE}", headers=bearer(client, world.leader_a))
    refused(sibling, 404)
    refused(missing, 404)


async def test_a_contact_phone_is_masked_for_those_who_do_not_manage_partner_units(client, world):
    created = await client.post(
        PARTNERS,
        json={
            "name": "联系人单位",
            "kind": "institution",
            "org_unit_id": world.units["C"],
            "contact_phone": "13700008888",
        },
        headers=bearer(client, world.admin),
    )
    assert created.status_code == 201, created.text
    path = f"{PARTNERS}/{created.json()['id']}"
    leader = (await client.get(path, headers=bearer(client, world.leader_a))).json()
    assert leader["contact_phone"] == "137****8888"
    assert (await client.get(path, headers=bearer(client, world.admin))).json()[
        "contact_phone"
    ] == "13700008888"


# --- pairings --------------------------------------------------------------------------------


def _pairing(world, **fields) -> dict:
    return {
        "community_id": world.units["C"],
        "agreement": "共建协议",
        "signed_on": "2026-03-01",
        **fields,
    }


async def test_a_partner_unit_pairs_with_a_community_once_while_the_pairing_is_active(
    client, world
):
    admin = bearer(client, world.admin)
    path = f"{PARTNERS}/{world.partner_b}/pairings"
    counts = await row_counts()
    first = await client.post(path, json=_pairing(world, ends_on="2027-02-28"), headers=admin)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["community_name"] == "测试社区" and body["state"] == "active"
    assert body["signed_on"] == "2026-03-01" and body["ends_on"] == "2027-02-28"
    assert await row_counts() == (counts[0], counts[1] + 1, counts[2], counts[3] + 1)
    entry = await last_audit()
    assert entry["action"] == "pairing.create" and entry["object_id"] == body["id"]
    second = await client.post(path, json=_pairing(world, agreement="另一份"), headers=admin)
    assert refused(second, 409)["code"] == "pairing_exists"
    assert await row_counts() == (counts[0], counts[1] + 1, counts[2], counts[3] + 1)
    listed = await client.get(path, headers=admin)
    assert [(p["id"], p["state"]) for p in listed.json()] == [(body["id"], "active")]


async def test_concurrent_pairings_of_one_unit_with_one_community_give_one(client, world):
    path = f"{PARTNERS}/{world.partner_b}/pairings"
    admin = bearer(client, world.admin)
    responses = await asyncio.gather(
        *[client.post(path, json=_pairing(world), headers=admin) for _ in range(4)]
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409], [
        r.text for r in responses
    ]
    assert await UnitPairing.count().where(UnitPairing.partner_unit == world.partner_b) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"community_id": "grid A"}, "community_id", id="community-not-an-id"),
        pytest.param({"signed_on": "2026-02-30"}, "signed_on", id="impossible-date"),
        pytest.param({"ends_on": "2026-02-01"}, "ends_on", id="ends-before-signed"),
        pytest.param({"agreement": ""}, "agreement", id="empty-agreement"),
        pytest.param({"community_id": NOWHERE}, "community_id", id="unknown-community"),
    ],
)
async def test_bad_pairings_name_the_field_and_write_nothing(client, world, fields, field):
    counts = await row_counts()
    response = await client.post(
        f"{PARTNERS}/{world.partner_b}/pairings",
        json=_pairing(world, **fields),
        headers=bearer(client, world.admin),
    )
    refused(response, 400, field)
    assert await row_counts() == counts


async def test_a_pairing_is_made_with_a_community_only(client, world):
    response = await client.post(
        f"{PARTNERS}/{world.partner_b}/pairings",
        json=_pairing(world, community_id=world.units["A"]),
        headers=bearer(client, world.admin),
    )
    refused(response, 400, "community_id")


async def test_a_grid_leader_neither_pairs_nor_ends_pairings(client, world):
    counts = await row_counts()
    headers = bearer(client, world.leader_a)
    # The community lies above grid A: out of the leader's view.
    create = await client.post(
        f"{PARTNERS}/{world.partner}/pairings", json=_pairing(world), headers=headers
    )
    refused(create, 400, "community_id")
    # The pairing is visible to the leader (it covers their grid) but not theirs to end.
    listed = await client.get(f"{PARTNERS}/{world.partner}/pairings", headers=headers)
    assert [p["id"] for p in listed.json()] == [world.pairing]
    end = await client.post(
        f"{PARTNERS}/{world.partner}/pairings/{world.pairing}/end",
        json={"ended_on": "2026-06-30"},
        headers=headers,
    )
    refused(end, 403)
    refused(await client.get(f"{PARTNERS}/{world.partner_b}/pairings", headers=headers), 404)
    assert await row_counts() == counts


async def test_an_ended_pairing_stays_listed_and_a_new_one_may_follow(client, world):
    admin = bearer(client, world.admin)
    base = f"{PARTNERS}/{world.partner}/pairings"
    ended = await client.post(
        f"{base}/{world.pairing}/end", json={"ended_on": "2026-06-30"}, headers=admin
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["state"] == "ended" and ended.json()["ends_on"] == "2026-06-30"
    entry = await last_audit()
    assert entry["action"] == "pairing.end" and '"active"' in entry["before"]
    assert '"ended"' in entry["after"]
    counts = await row_counts()
    again = await client.post(
        f"{base}/{world.pairing}/end", json={"ended_on": "2026-07-31"}, headers=admin
    )
    assert refused(again, 409)["code"] == "already_ended"
    wrong_partner = await client.post(
        f"{PARTNERS}/{world.partner_b}/pairings/{world.pairing}/end",
        json={"ended_on": "2026-07-31"},
        headers=admin,
    )
    refused(wrong_partner, 404)
    assert await row_counts() == counts
    renewed = await client.post(base, json=_pairing(world, signed_on="2026-07-01"), headers=admin)
    assert renewed.status_code == 201, renewed.text
    listed = (await client.get(base, headers=admin)).json()
    assert [p["state"] for p in listed] == ["ended", "active"]


async def test_a_pairing_cannot_end_before_it_was_signed(client, world):
    counts = await row_counts()
    response = await client.post(
        f"{PARTNERS}/{world.partner}/pairings/{world.pairing}/end",
        json={"ended_on": "2025-12-31"},
        headers=bearer(client, world.admin),
    )
    refused(response, 400, "ended_on")
    assert await row_counts() == counts
    assert await UnitPairing.select(UnitPairing.state).where(
        UnitPairing.id == world.pairing
    ).first() == {"state": "active"}
