"""What the check-in tests send: the site, an activity's current code (or the one it showed
at a moment), a scan's body; a client of an app with other settings."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec

from gridpoints.activities.codes import make_token, slot_of
from gridpoints.activities.tables import Activity
from gridpoints.app import create_app
from gridpoints.db import engine as db_engine
from tests.conftest import ApiClient, bearer, serving

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


async def token_at(settings, activity_id: int, at) -> str:
    """The activity's token of the slot holding `at` (what its screen showed then)."""
    row = await Activity.select(Activity.code_secret).where(Activity.id == activity_id).first()
    return make_token(
        settings.secret_key,
        row["code_secret"],
        activity_id,
        slot_of(at, settings.checkin_slot_seconds),
    )


@asynccontextmanager
async def client_with(settings, db, **changes) -> AsyncIterator[ApiClient]:
    """A client of an app whose settings differ from the test's by `changes`."""
    async with serving(create_app(msgspec.structs.replace(settings, **changes))) as api:
        yield api
    db_engine.use_engine(db)
