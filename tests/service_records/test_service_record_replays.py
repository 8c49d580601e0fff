"""A service record sent from a phone is stored once per `client_id`: the same form sent again
(its answer lost on a weak signal) answers 200 with the record first stored, nothing new stored
or scored; another body under the same id is refused. A likely copy of a deed already logged
(same member, category, day, hours and text, another id) is stored, flagged for the leader."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from gridpoints.audit.tables import AuditEntry
from gridpoints.clock import utcnow
from gridpoints.events.tables import VerifiedEvent
from gridpoints.service_records.tables import ServiceRecord
from tests.conftest import bearer

RECORDS = "/api/v1/service-records"
DUPLICATE_LABEL = "可能重复登记：同一天已有类别、时长和内容都相同的服务记录"


def _deed(**fields) -> dict:
    return {
        "category": "resident_service",
        "hours": 1.5,
        "description": "帮独居老人买菜",
        "served_on": (utcnow() - timedelta(days=1)).isoformat(),
        **fields,
    }


async def test_the_same_form_sent_twice_after_a_lost_answer_is_stored_and_scored_once(
    client, world
):
    member = bearer(client, world.member_a)
    form = _deed(client_id=str(uuid.uuid4()))
    first = await client.post(RECORDS, json=form, headers=member)
    assert first.status_code == 201, first.text
    # The answer never reached the phone; it sends the very same form again.
    again = await client.post(RECORDS, json=form, headers=member)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert again.json()["client_id"] == form["client_id"]
    assert await ServiceRecord.count() == 1
    submits = await AuditEntry.count().where(AuditEntry.action == "service.submit")
    assert submits == 1

    leader = bearer(client, world.leader_a)
    approved = await client.post(f"{RECORDS}/{first.json()['id']}/approve", headers=leader)
    assert approved.status_code == 200, approved.text
    assert await VerifiedEvent.count().where(VerifiedEvent.kind == "service") == 1
    # A copy arriving after the ruling still makes nothing new.
    late = await client.post(RECORDS, json=form, headers=member)
    assert late.status_code == 200 and late.json()["state"] == "approved"
    assert await ServiceRecord.count() == 1


async def test_another_body_under_a_used_client_id_is_refused(client, world):
    member = bearer(client, world.member_a)
    client_id = str(uuid.uuid4())
    stored = await client.post(RECORDS, json=_deed(client_id=client_id), headers=member)
    assert stored.status_code == 201
    other = await client.post(RECORDS, json=_deed(client_id=client_id, hours=3), headers=member)
    assert other.status_code == 409, other.text
    assert other.json()["code"] == "client_id_reused"
    assert "client_id" not in other.json()["detail"]
    # The same id from someone else is another request too.
    leader = await client.post(
        RECORDS, json=_deed(client_id=client_id), headers=bearer(client, world.leader_a)
    )
    assert leader.status_code == 409 and leader.json()["code"] == "client_id_reused"
    assert await ServiceRecord.count() == 1


async def test_two_copies_of_one_form_sent_at_once_store_one_record(client, world):
    member = bearer(client, world.member_a)
    form = _deed(client_id=str(uuid.uuid4()))
    answers = await asyncio.gather(
        *(client.post(RECORDS, json=form, headers=member) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await ServiceRecord.count() == 1
    assert await AuditEntry.count().where(AuditEntry.action == "service.submit") == 1
    stored = await client.get(f"{RECORDS}/{answers[0].json()['id']}", headers=member)
    assert stored.json()["flags"] == [], "a copy of one form is not a likely duplicate"


async def test_a_likely_duplicate_under_another_id_is_stored_flagged_for_the_leader(client, world):
    member = bearer(client, world.member_a)
    served = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    first = await client.post(
        RECORDS,
        json=_deed(client_id=str(uuid.uuid4()), served_on=served.isoformat()),
        headers=member,
    )
    assert first.status_code == 201 and first.json()["flags"] == []
    # The same deed typed in again later that day (a second tab, a new form): other id,
    # another hour of the same Shanghai day, the text spaced differently.
    copy = await client.post(
        RECORDS,
        json=_deed(
            client_id=str(uuid.uuid4()),
            served_on=(served + timedelta(hours=9)).isoformat(),
            description="  帮独居老人买菜 ",
        ),
        headers=member,
    )
    assert copy.status_code == 201, copy.text
    assert copy.json()["flags"] == ["likely_duplicate"]
    assert copy.json()["flag_labels"] == [DUPLICATE_LABEL]
    assert await ServiceRecord.count() == 2
    listed = await client.get(
        RECORDS, params={"status": "submitted"}, headers=bearer(client, world.leader_a)
    )
    flagged = {r["id"]: r["flags"] for r in listed.json()["items"]}
    assert flagged == {first.json()["id"]: [], copy.json()["id"]: ["likely_duplicate"]}


async def test_what_differs_in_member_category_day_hours_or_text_is_not_a_duplicate(client, world):
    served = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    member = bearer(client, world.member_a)
    base = _deed(served_on=served.isoformat())
    assert (await client.post(RECORDS, json=base, headers=member)).status_code == 201
    variants = [
        {**base, "category": "dispute_mediation"},
        {**base, "hours": 2},
        {**base, "description": "帮独居老人取药"},
        # 16:30 UTC is already the next day in Shanghai.
        {**base, "served_on": (served + timedelta(hours=14, minutes=30)).isoformat()},
    ]
    for variant in variants:
        answer = await client.post(RECORDS, json=variant, headers=member)
        assert answer.status_code == 201 and answer.json()["flags"] == [], variant
    other_member = await client.post(
        RECORDS, json={**base, "member_id": world.viewer_a}, headers=bearer(client, world.leader_a)
    )
    assert other_member.json()["flags"] == []
    # Without client_id (other clients) a copy is still seen.
    copy = await client.post(RECORDS, json=base, headers=member)
    assert copy.json()["flags"] == ["likely_duplicate"]


async def test_a_deed_logged_again_after_a_rejection_is_not_flagged(client, world):
    member = bearer(client, world.member_a)
    first = await client.post(RECORDS, json=_deed(), headers=member)
    rejected = await client.post(
        f"{RECORDS}/{first.json()['id']}/reject",
        json={"reason": "请补充说明"},
        headers=bearer(client, world.leader_a),
    )
    assert rejected.status_code == 200
    again = await client.post(RECORDS, json=_deed(), headers=member)
    assert again.status_code == 201 and again.json()["flags"] == []
