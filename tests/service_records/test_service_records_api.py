"""Service records: logged by a member or for them, decided by a leader of the member's grid
(never the member), approval a verified event, evidence photos checked by their bytes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.clock import utcnow
from gridpoints.events.tables import VerifiedEvent
from gridpoints.service_records.tables import ServiceRecord
from tests.conftest import bearer

RECORDS = "/api/v1/service-records"
# A real 1×1 PNG: photos are decoded, and this one is kept byte for byte (nothing to strip).
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00"
    b"\x00:~\x9bU\x00\x00\x00\nIDATx\x9cc\xf8\x0f\x00\x01\x01\x01\x00\xb18\xf6\x14\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def _deed(**fields) -> dict:
    return {
        "category": "resident_service",
        "hours": 1.5,
        "description": "帮独居老人买菜",
        "served_on": (utcnow() - timedelta(days=1)).isoformat(),
        **fields,
    }


async def test_a_member_logs_a_service_and_their_leader_approves_it(client, world):
    submitted = await client.post(RECORDS, json=_deed(), headers=bearer(client, world.member_a))
    assert submitted.status_code == 201, submitted.text
    body = submitted.json()
    assert body["state"] == "submitted" and body["hours"] == 1.5
    own = await client.post(
        f"{RECORDS}/{body['id']}/approve", headers=bearer(client, world.member_a)
    )
    assert own.status_code in (403, 404), "a member never approves their own service"
    approved = await client.post(
        f"{RECORDS}/{body['id']}/approve", headers=bearer(client, world.leader_a)
    )
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    again = await client.post(
        f"{RECORDS}/{body['id']}/approve", headers=bearer(client, world.leader_a)
    )
    assert again.status_code == 409 and "已通过" in again.json()["detail"]
    event = await VerifiedEvent.select().where(VerifiedEvent.kind == "service").first()
    assert (event["member"], event["minutes"], event["category"]) == (
        world.member_a,
        90,
        "resident_service",
    )
    assert await VerifiedEvent.count() == 1


async def test_a_leader_logs_for_a_member_and_cannot_approve_their_own(client, world):
    leader = bearer(client, world.leader_a)
    for_member = await client.post(RECORDS, json=_deed(member_id=world.viewer_a), headers=leader)
    assert for_member.status_code == 201 and for_member.json()["member_id"] == world.viewer_a
    own = await client.post(RECORDS, json=_deed(), headers=leader)
    refused = await client.post(f"{RECORDS}/{own.json()['id']}/approve", headers=leader)
    assert refused.status_code == 403
    elsewhere = await client.post(RECORDS, json=_deed(member_id=world.member_b), headers=leader)
    assert elsewhere.status_code == 404


async def test_a_rejection_needs_a_reason_and_counts_nothing(client, world):
    record = (
        await client.post(RECORDS, json=_deed(), headers=bearer(client, world.member_a))
    ).json()
    leader = bearer(client, world.leader_a)
    bare = await client.post(f"{RECORDS}/{record['id']}/reject", json={}, headers=leader)
    assert bare.status_code == 400
    assert "reason" in [e["field"] for e in bare.json()["errors"]]
    rejected = await client.post(
        f"{RECORDS}/{record['id']}/reject", json={"reason": "时间与活动重复"}, headers=leader
    )
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["reason"] == "时间与活动重复"
    assert await VerifiedEvent.count() == 0
    actions = [
        r["action"]
        for r in await AuditEntry.select(AuditEntry.action).where(
            AuditEntry.object_type == "service_record"
        )
    ]
    assert actions == ["service.submit", "service.rejected"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"category": "juggling"}, "category", id="unknown-category"),
        pytest.param({"hours": 0}, "hours", id="no-hours"),
        pytest.param({"hours": 30}, "hours", id="too-many-hours"),
        pytest.param(
            {"served_on": (utcnow() + timedelta(days=3)).isoformat()}, "served_on", id="future"
        ),
    ],
)
async def test_bad_records_name_the_field_and_write_nothing(client, world, fields, field):
    response = await client.post(
        RECORDS, json=_deed(**fields), headers=bearer(client, world.member_a)
    )
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await ServiceRecord.count() == 0


async def test_photos_are_checked_by_their_bytes_and_served_to_those_who_may_see(
    client, world, settings
):
    record = (
        await client.post(RECORDS, json=_deed(), headers=bearer(client, world.member_a))
    ).json()
    member = bearer(client, world.member_a)
    fake = await client.post(
        f"{RECORDS}/{record['id']}/photo",
        files={"file": ("photo.jpg", b"<html>not an image</html>")},
        headers=member,
    )
    assert fake.status_code == 400 and fake.json()["errors"][0]["field"] == "file"
    large = await client.post(
        f"{RECORDS}/{record['id']}/photo",
        files={"file": ("big.png", PNG + b"\x00" * settings.photo_max_bytes)},
        headers=member,
    )
    assert large.status_code in (400, 413)
    stored = await client.post(
        f"{RECORDS}/{record['id']}/photo", files={"file": ("x.png", PNG)}, headers=member
    )
    assert stored.status_code == 200 and stored.json()["has_photo"] is True
    photo = await client.get(
        f"{RECORDS}/{record['id']}/photo", headers=bearer(client, world.leader_a)
    )
    assert photo.status_code == 200 and photo.content == PNG
    assert photo.headers["content-type"].startswith("image/png")
    hidden = await client.get(
        f"{RECORDS}/{record['id']}/photo", headers=bearer(client, world.leader_b)
    )
    assert hidden.status_code == 404
    files = list((settings.uploads_dir / "service").iterdir())
    assert len(files) == 1 and not files[0].name.endswith(".part")


async def test_the_photo_is_served_only_to_those_who_may_see_the_record(client, world):
    member = bearer(client, world.member_a)
    record = (await client.post(RECORDS, json=_deed(), headers=member)).json()
    stored = await client.post(
        f"{RECORDS}/{record['id']}/photo", files={"file": ("x.png", PNG)}, headers=member
    )
    assert stored.status_code == 200
    for who in (world.member_a, world.leader_a, world.admin):
        seen = await client.get(f"{RECORDS}/{record['id']}/photo", headers=bearer(client, who))
        assert seen.status_code == 200 and seen.content == PNG, who
    # A member of another grid and a leader of another grid: neither gets it.
    for who in (world.member_b, world.leader_b):
        hidden = await client.get(f"{RECORDS}/{record['id']}/photo", headers=bearer(client, who))
        assert hidden.status_code in (403, 404), who
        assert hidden.content != PNG
    # The photo goes exactly where the record does.
    for who in (world.viewer_a, world.member_b, world.leader_b, world.admin):
        headers = bearer(client, who)
        seen = await client.get(f"{RECORDS}/{record['id']}", headers=headers)
        photo = await client.get(f"{RECORDS}/{record['id']}/photo", headers=headers)
        assert (seen.status_code == 200) == (photo.status_code == 200), who
    anonymous = await client.get(f"{RECORDS}/{record['id']}/photo")
    assert anonymous.status_code == 401
