"""A real deployment's first steps: top unit, community and first admin, all or nothing."""

from __future__ import annotations

import msgspec
import pytest

from gridpoints.audit.tables import AuditEntry
from gridpoints.bootstrap import BootstrapIn, bootstrap
from gridpoints.errors import Conflict, Invalid
from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit

FIRST = BootstrapIn(
    top_name="青山街道",
    community_name="青山社区",
    admin_name="王管理",
    admin_phone="138 1234 5678",
    admin_password="first-admin-pass",
)


async def test_bootstrap_creates_the_top_of_the_tree_and_an_admin_who_can_sign_in(client, settings):
    done = await bootstrap(settings, FIRST)
    signed_in = await client.post(
        "/api/v1/auth/login", json={"phone": "13812345678", "password": "first-admin-pass"}
    )
    assert signed_in.status_code == 200
    me = await client.get(
        "/api/v1/me",
        headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
    )
    assert [(r["role"], r["org_unit_id"]) for r in me.json()["roles"]] == [
        ("admin", done.community_id)
    ]
    community = await OrgUnit.select().where(OrgUnit.id == done.community_id).first()
    assert community["parent"] == done.top_id
    assert community["level_name"] == settings.community_level_name


async def test_bootstrap_refuses_a_tree_that_already_exists_and_changes_nothing(db, settings):
    await bootstrap(settings, FIRST)
    counts = (await OrgUnit.count(), await Member.count(), await AuditEntry.count())
    with pytest.raises(Conflict):
        await bootstrap(settings, FIRST)
    assert (await OrgUnit.count(), await Member.count(), await AuditEntry.count()) == counts


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("admin_phone", "12"),
        ("admin_phone", "12345"),
        ("admin_password", "short"),
        ("admin_name", ""),
    ],
)
async def test_bad_admin_details_write_nothing(db, settings, field, value):
    bad = msgspec.structs.replace(FIRST, **{field: value})
    with pytest.raises(Invalid):
        await bootstrap(settings, bad)
    assert await OrgUnit.count() == 0
    assert await Member.count() == 0
