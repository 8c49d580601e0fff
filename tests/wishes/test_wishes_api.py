"""Micro-wishes: posted by the community, claimed once, fulfilled by the claimant with
evidence, confirmed by someone else; every wrong step is a 409 naming the current state."""

from __future__ import annotations

import asyncio

from gridpoints.audit.tables import AuditEntry
from gridpoints.events.tables import VerifiedEvent
from gridpoints.wishes.tables import Wish
from tests.conftest import bearer

WISHES = "/api/v1/wishes"


async def _post(client, world) -> dict:
    posted = await client.post(
        WISHES,
        json={
            "org_unit_id": world.units["A"],
            "title": "想要一副老花镜",
            "description": "独居老人",
        },
        headers=bearer(client, world.leader_a),
    )
    assert posted.status_code == 201, posted.text
    return posted.json()


async def test_a_wish_goes_from_posted_to_confirmed_and_counts_once(client, world):
    wish = await _post(client, world)
    member = bearer(client, world.member_a)
    claimed = await client.post(f"{WISHES}/{wish['id']}/claim", headers=member)
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == world.member_a
    fulfilled = await client.post(
        f"{WISHES}/{wish['id']}/fulfil", json={"evidence": "已送到老人家中"}, headers=member
    )
    assert fulfilled.json()["state"] == "fulfilled"
    own = await client.post(f"{WISHES}/{wish['id']}/confirm", headers=member)
    assert own.status_code == 403
    confirmed = await client.post(
        f"{WISHES}/{wish['id']}/confirm", headers=bearer(client, world.leader_a)
    )
    assert confirmed.json()["state"] == "confirmed"
    events = await VerifiedEvent.select().where(VerifiedEvent.kind == "wish")
    assert [(e["member"], e["source_id"]) for e in events] == [(world.member_a, wish["id"])]


async def test_illegal_steps_get_409_naming_the_state(client, world):
    wish = await _post(client, world)
    member = bearer(client, world.member_a)
    early = await client.post(
        f"{WISHES}/{wish['id']}/fulfil", json={"evidence": "提前落实"}, headers=member
    )
    assert early.status_code == 409 and "待认领" in early.json()["detail"]
    assert early.json()["code"] == "state_open"
    await client.post(f"{WISHES}/{wish['id']}/claim", headers=member)
    second = await client.post(
        f"{WISHES}/{wish['id']}/claim", headers=bearer(client, world.viewer_a)
    )
    assert second.status_code == 409 and "已认领" in second.json()["detail"]
    not_yet = await client.post(
        f"{WISHES}/{wish['id']}/confirm", headers=bearer(client, world.leader_a)
    )
    assert not_yet.status_code == 409
    someone_else = await client.post(
        f"{WISHES}/{wish['id']}/fulfil",
        json={"evidence": "别人落实"},
        headers=bearer(client, world.viewer_a),
    )
    assert someone_else.status_code == 403


async def test_two_members_racing_to_claim_get_one_claim(client, world):
    wish = await _post(client, world)
    answers = await asyncio.gather(
        client.post(f"{WISHES}/{wish['id']}/claim", headers=bearer(client, world.member_a)),
        client.post(f"{WISHES}/{wish['id']}/claim", headers=bearer(client, world.viewer_a)),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    row = await Wish.select(Wish.claimed_by).where(Wish.id == wish["id"]).first()
    winner = next(a for a in answers if a.status_code == 200).json()["claimed_by"]
    assert row["claimed_by"] == winner


async def test_members_of_another_grid_neither_see_nor_claim(client, world):
    wish = await _post(client, world)
    outsider = bearer(client, world.member_b)
    assert (await client.get(f"{WISHES}/{wish['id']}", headers=outsider)).status_code == 404
    assert (await client.post(f"{WISHES}/{wish['id']}/claim", headers=outsider)).status_code == 404
    listed = await client.get(WISHES, headers=outsider)
    assert listed.json()["items"] == []
    mine = await client.get(
        WISHES, params={"status": "open"}, headers=bearer(client, world.member_a)
    )
    assert [w["id"] for w in mine.json()["items"]] == [wish["id"]]


async def test_a_claim_sent_again_by_its_holder_answers_200_and_changes_nothing(client, world):
    wish = await _post(client, world)
    member = bearer(client, world.member_a)
    first = await client.post(f"{WISHES}/{wish['id']}/claim", headers=member)
    assert first.status_code == 200, first.text
    # The answer was lost on a weak signal; the phone sends the claim again.
    again = await client.post(f"{WISHES}/{wish['id']}/claim", headers=member)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    claims = await AuditEntry.count().where(AuditEntry.action == "wish.claim")
    assert claims == 1
    other = await client.post(
        f"{WISHES}/{wish['id']}/claim", headers=bearer(client, world.viewer_a)
    )
    assert other.status_code == 409 and "已认领" in other.json()["detail"]


async def test_two_copies_of_one_members_claim_sent_together_both_answer_200(client, world):
    wish = await _post(client, world)
    member = bearer(client, world.member_a)
    answers = await asyncio.gather(
        client.post(f"{WISHES}/{wish['id']}/claim", headers=member),
        client.post(f"{WISHES}/{wish['id']}/claim", headers=member),
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert await AuditEntry.count().where(AuditEntry.action == "wish.claim") == 1


async def test_a_claim_after_fulfilment_is_still_refused(client, world):
    wish = await _post(client, world)
    member = bearer(client, world.member_a)
    await client.post(f"{WISHES}/{wish['id']}/claim", headers=member)
    await client.post(
        f"{WISHES}/{wish['id']}/fulfil", json={"evidence": "已送到老人家中"}, headers=member
    )
    late = await client.post(f"{WISHES}/{wish['id']}/claim", headers=member)
    assert late.status_code == 409 and late.json()["code"] == "state_fulfilled"
