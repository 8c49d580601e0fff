"""The audit log is hash-chained: an altered or removed row is found and named."""

from __future__ import annotations

import asyncio

from gridpoints.audit.services import Change, record, verify
from gridpoints.audit.tables import AuditEntry
from gridpoints.db.transactions import writing
from gridpoints.members import services
from gridpoints.members.schemas import MemberCreate, MemberPatch
from gridpoints.members.vocab import Category
from tests.conftest import bearer
from tests.world import SYSTEM


async def _middle_row_id() -> int:
    ids = [row["id"] for row in await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id)]
    assert len(ids) >= 5
    return ids[len(ids) // 2]


async def test_an_untouched_chain_verifies(world):
    report = await verify()
    assert report.intact
    assert report.checked == await AuditEntry.count()


async def test_an_altered_row_is_named_as_the_first_broken_one(world):
    target = await _middle_row_id()
    await AuditEntry.raw(
        "UPDATE audit_log SET after = {} WHERE id = {}", '{"name":"改过的名字"}', target
    )
    report = await verify()
    assert not report.intact
    assert report.first_broken_id == target
    assert "altered" in report.reason
    assert report.checked == await AuditEntry.count().where(AuditEntry.id < target)


async def test_a_changed_actor_is_caught_too(world):
    target = await _middle_row_id()
    await AuditEntry.raw("UPDATE audit_log SET actor_label = {} WHERE id = {}", "别人", target)
    assert (await verify()).first_broken_id == target


async def test_a_removed_row_breaks_the_chain_at_the_row_after_it(world):
    target = await _middle_row_id()
    following = (
        await AuditEntry.select(AuditEntry.id)
        .where(AuditEntry.id > target)
        .order_by(AuditEntry.id)
        .first()
    )["id"]
    await AuditEntry.raw("DELETE FROM audit_log WHERE id = {}", target)
    report = await verify()
    assert not report.intact
    assert report.first_broken_id == following
    assert "removed" in report.reason


async def test_state_changes_record_who_what_and_before_after(world, settings):
    await services.update_member(SYSTEM, world.member_b, MemberPatch(name="居民乙改"), settings)
    entry = (
        await AuditEntry.select()
        .where((AuditEntry.object_type == "member") & (AuditEntry.object_id == world.member_b))
        .order_by(AuditEntry.id, ascending=False)
        .first()
    )
    assert entry["actor_label"] == "test"
    assert entry["org_unit_id"] == world.units["B1-B1-U1"]
    assert "居民乙" in entry["before"] and "居民乙改" in entry["after"]
    assert entry["at"] is not None


async def test_concurrent_writers_keep_one_unbroken_chain(world, settings):
    async def add_member(n: int) -> None:
        await services.create_member(
            SYSTEM,
            MemberCreate(
                name=f"并发{n}",
                phone=f"1380013{n:04d}",
                category=Category.RESIDENT,
                org_unit_id=world.units["A1"],
            ),
            settings,
        )

    await asyncio.gather(*(add_member(n) for n in range(20)))
    report = await verify()
    assert report.intact, report
    created = await AuditEntry.count().where(
        (AuditEntry.action == "member.create") & AuditEntry.after.like("%并发%")
    )
    assert created == 20


async def test_audit_rows_are_written_only_with_their_change(db):
    try:
        await record(SYSTEM, Change("x", "y", 1, None))
    except RuntimeError:
        pass
    else:
        raise AssertionError("an audit row outside a write transaction must be refused")
    async with writing():
        await record(SYSTEM, Change("probe", "thing", 1, None, after={"a": 1}))
    assert (await verify()).intact


async def test_the_audit_log_api_shows_a_grid_leader_only_their_grid(client, world):
    leader_a = await client.get(
        "/api/v1/audit-log?limit=500", headers=bearer(client, world.leader_a)
    )
    admin = await client.get("/api/v1/audit-log?limit=500", headers=bearer(client, world.admin))
    assert admin.status_code == 200
    admin_units = {e["org_unit_id"] for e in admin.json()}
    assert world.units["B1-B1-U1"] in admin_units
    if leader_a.status_code == 200:
        seen = {e["org_unit_id"] for e in leader_a.json()}
        b_units = {world.units[k] for k in ("B", "B1", "B1-B1", "B1-B1-U1")}
        assert not seen & b_units
    else:
        assert leader_a.status_code == 403
