"""What the check-in tests send: the site, an activity's current code, a scan's body."""

from __future__ import annotations

import uuid

from tests.conftest import bearer

SITE = {"lat": 30.2741, "lng": 120.1551}


async def current_code(client, world, activity_id: int) -> str:
    """The activity's current check-in token, as its organiser (grid A's leader) shows it."""
    code = await client.get(
        f"/api/v1/activities/{activity_id}/code", headers=bearer(client, world.leader_a)
    )
    assert code.status_code == 200, code.text
    return code.json()["token"]


def scan_body(activity_id: int, token: str, **fields) -> dict:
    """A scan at the site with a fresh client_id; `fields` add or replace any."""
    return {
        "client_id": str(uuid.uuid4()),
        "activity_id": activity_id,
        "token": token,
        **SITE,
        "accuracy_m": 15,
        **fields,
    }
