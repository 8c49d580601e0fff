"""The demo community: shaped like seed 002, the same on every run, its accounts usable."""

from __future__ import annotations

import hashlib

from piccolo.query.functions.aggregate import Count

from gridpoints.activities.tables import Activity
from gridpoints.checkins.tables import CheckIn
from gridpoints.db import engine as db_engine
from gridpoints.db.migrate import migrate
from gridpoints.demo.builder import build_demo
from gridpoints.events.tables import VerifiedEvent
from gridpoints.members.tables import Member, MemberRegistration, RoleAssignment
from gridpoints.members.vocab import Category
from gridpoints.org.tables import OrgUnit
from gridpoints.partners.tables import PartnerUnit, UnitPairing
from gridpoints.points.tables import PointsEntry, ScoredEvent
from gridpoints.service_records.tables import ServiceRecord
from gridpoints.wishes.tables import Wish
from tests.conftest import make_settings

PASSWORD = "demo-test-pass-1"


async def _fingerprint() -> str:
    """A digest of the tree, the people and their roles, independent of row ids."""
    units = await OrgUnit.select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.path)
    code_of = {u["id"]: u["code"] for u in units}
    members = await Member.select(Member.name, Member.phone, Member.category, Member.org_unit)
    roles = await RoleAssignment.select(
        RoleAssignment.member._.phone.as_alias("phone"),
        RoleAssignment.role,
        RoleAssignment.org_unit,
    )
    lines = sorted(f"u {u['code']} {u['name']}" for u in units)
    lines += sorted(
        f"m {m['phone']} {m['name']} {m['category']} {code_of[m['org_unit']]}" for m in members
    )
    lines += sorted(f"r {r['phone']} {r['role']} {code_of[r['org_unit']]}" for r in roles)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


async def test_the_demo_is_shaped_like_the_seed_community(db, settings, client):
    report = await build_demo(settings, PASSWORD)
    assert report.created
    per_level = {
        row["level"]: row["count"]
        for row in await OrgUnit.select(OrgUnit.level, Count(alias="count")).group_by(OrgUnit.level)
    }
    assert per_level == {0: 1, 1: 1, 2: 6, 3: 29, 4: 175, 5: 497}
    members = await Member.count()
    assert 550 <= members <= 650
    categories = {r["category"] for r in await Member.select(Member.category).distinct()}
    assert categories == {c.value for c in Category}
    registered = await MemberRegistration.count().where(MemberRegistration.state == "active")
    assert registered >= 200
    assert 3 <= await PartnerUnit.count() <= 12
    assert await UnitPairing.count() >= 3
    role_levels = {
        r["level"]
        for r in await RoleAssignment.select(RoleAssignment.org_unit._.level.as_alias("level"))
    }
    assert {1, 2, 3, 4, 5} <= role_levels
    roles = {a.role for a in report.accounts}
    assert {"admin", "committee_member", "grid_leader", "volunteer"} <= roles
    for account in report.accounts:
        signed_in = await client.post(
            "/api/v1/auth/login", json={"phone": account.phone, "password": PASSWORD}
        )
        assert signed_in.status_code == 200, (account, signed_in.text)


async def test_the_demo_is_the_same_on_every_build_and_a_rerun_changes_only_the_password(
    db, settings, tmp_path
):
    first = await build_demo(settings, PASSWORD)
    fingerprint = await _fingerprint()
    rerun = await build_demo(settings, "another-pass-2")
    assert not rerun.created
    assert await _fingerprint() == fingerprint
    assert [(a.role, a.phone) for a in rerun.accounts] == [
        (a.role, a.phone) for a in first.accounts
    ]

    if settings.uses_sqlite:
        # A second, separate database built from nothing gives the same community.
        other_path = tmp_path / "other.sqlite3"
        other = make_settings(tmp_path, f"sqlite:///{other_path}")
        engine = db_engine.make_engine(other)
        await migrate(engine)
        await build_demo(other, PASSWORD)
        assert await _fingerprint() == fingerprint
        db_engine.use_engine(db)


async def test_the_demo_has_a_scored_year_so_every_page_shows_figures(db, settings):
    await build_demo(settings, PASSWORD)
    assert await Activity.count() >= 100
    assert await CheckIn.count().where(CheckIn.review == "rejected") > 0
    assert await CheckIn.count().where(CheckIn.flags != "") > 0
    assert await ServiceRecord.count().where(ServiceRecord.state == "rejected") > 0
    assert await Wish.count().where(Wish.state == "confirmed") >= 80
    periods = {
        row["period"]
        for row in await PointsEntry.select(PointsEntry.period)
        .where(PointsEntry.kind == "period_end")
        .distinct()
    }
    assert len(periods) >= 3  # the ended quarters of the year are closed
    scored_members = await PointsEntry.count(distinct=[PointsEntry.member]).where(
        PointsEntry.kind == "score"
    )
    assert scored_members >= 300
    # Every verified event was scored once.
    assert await ScoredEvent.count() == await VerifiedEvent.count()
