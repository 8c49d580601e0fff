"""The wish list narrowed to those one member claimed (`claimed_by`), as 我的记录 asks for it."""

from __future__ import annotations

from tests.conftest import bearer

WISHES = "/api/v1/wishes"


async def test_claimed_by_narrows_the_list_to_that_members_wishes(client, world):
    leader = bearer(client, world.leader_a)
    ids = []
    for title in ("想要一副老花镜", "帮忙修理轮椅", "陪老人去医院"):
        posted = await client.post(
            WISHES, json={"org_unit_id": world.units["A"], "title": title}, headers=leader
        )
        assert posted.status_code == 201, posted.text
        ids.append(posted.json()["id"])
    member = bearer(client, world.member_a)
    claimed = await client.post(f"{WISHES}/{ids[1]}/claim", headers=member)
    assert claimed.status_code == 200, claimed.text

    mine = await client.get(f"{WISHES}?claimed_by={world.member_a}", headers=member)
    assert [w["id"] for w in mine.json()["items"]] == [ids[1]]
    still_open = await client.get(f"{WISHES}?status=open", headers=member)
    assert {w["id"] for w in still_open.json()["items"]} == {ids[0], ids[2]}
