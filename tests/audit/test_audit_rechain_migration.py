"""The migration that keys the audit chain re-chains the rows written before it under the key,
but only as far as the old, unkeyed chain holds: a row altered before the upgrade stays broken."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from gridpoints.audit.services import verify
from gridpoints.audit.tables import AuditEntry
from tests.audit.test_audit_key_and_checkpoints import (
    _middle_row_id,
    _rechain_from,
    _rows,
    _unkeyed,
)

MIGRATION = (
    Path(__file__).resolve().parents[2] / "migrations" / "gridpoints_2026_12_01t01_20_00_000000.py"
)


def _migration():
    spec = importlib.util.spec_from_file_location("keyed_audit_migration", MIGRATION)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _as_before_the_upgrade() -> None:
    """The rows as the old code wrote them: plain SHA-256 from the genesis hash."""
    first = (await _rows())[0]
    await AuditEntry.raw("UPDATE audit_log SET prev_hash = {} WHERE id = {}", "0" * 64, first["id"])
    await _rechain_from(first["id"], _unkeyed)


async def test_rows_written_before_the_key_are_rechained_under_it(world, settings):
    await _as_before_the_upgrade()
    assert not (await verify()).intact
    rechained = await _migration().rechain_under_key(settings.audit_key.encode())
    assert rechained == await AuditEntry.count()
    report = await verify()
    assert report.intact, report
    again = await _migration().rechain_under_key(settings.audit_key.encode())
    assert again == 0, "a second run finds the chain keyed and changes nothing"


async def test_a_row_altered_before_the_upgrade_is_not_laundered(world, settings):
    await _as_before_the_upgrade()
    target = await _middle_row_id()
    await AuditEntry.raw("UPDATE audit_log SET actor_label = {} WHERE id = {}", "别人", target)
    rechained = await _migration().rechain_under_key(settings.audit_key.encode())
    assert rechained == await AuditEntry.count().where(AuditEntry.id < target)
    report = await verify()
    assert not report.intact
    assert report.first_broken_id == target
