"""The audit chain is keyed, and its head is checkpointed outside the table.

Without the key (GRIDPOINTS_AUDIT_KEY, never in the database) nobody can rewrite rows and
recompute the chain so that `verify` passes; rows cut off the end below a signed checkpoint are
named as a missing range; a checkpoint line not signed with the key is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridpoints.audit.chain import canonical_content
from gridpoints.audit.checkpoints import write_checkpoint
from gridpoints.audit.services import verify
from gridpoints.audit.tables import AuditEntry
from gridpoints.members import services as members
from gridpoints.members.schemas import MemberCreate
from gridpoints.members.vocab import Category
from tests.checkins.scans import current_code, scan_body
from tests.checkins.test_checkin_api import _activity
from tests.conftest import bearer
from tests.world import SYSTEM


def _unkeyed(prev_hash: str, content: bytes) -> str:
    """The chain's hash before it was keyed: anyone with the project's code could compute it."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + content).hexdigest()


def _wrong_key(prev_hash: str, content: bytes) -> str:
    return hmac.new(b"not the key", prev_hash.encode() + b"\n" + content, "sha256").hexdigest()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


async def _rows() -> list[dict]:
    return await AuditEntry.select().order_by(AuditEntry.id)


async def _rechain_from(row_id: int, digest) -> None:
    """What an intruder with write access to the database does: recompute every hash from
    `row_id` on, so that each row again names the one before it."""
    rows = await _rows()
    prev = None
    for row in rows:
        if row["id"] < row_id:
            prev = row["hash"]
            continue
        new = digest(row["prev_hash"] if prev is None else prev, canonical_content(row))
        await AuditEntry.raw(
            "UPDATE audit_log SET prev_hash = {}, hash = {} WHERE id = {}",
            row["prev_hash"] if prev is None else prev,
            new,
            row["id"],
        )
        prev = new


async def _middle_row_id() -> int:
    ids = [row["id"] for row in await _rows()]
    assert len(ids) >= 5
    return ids[len(ids) // 2]


async def test_each_row_hash_is_an_hmac_under_the_audit_key(world, settings):
    for row in await _rows():
        expected = hmac.new(
            settings.audit_key.encode(),
            row["prev_hash"].encode() + b"\n" + canonical_content(row),
            "sha256",
        ).hexdigest()
        assert row["hash"] == expected, row["id"]
    assert (await verify()).intact


@pytest.mark.parametrize("digest", [_unkeyed, _wrong_key], ids=["unkeyed-sha256", "wrong-key"])
async def test_a_rewritten_row_with_a_recomputed_chain_fails_without_the_key(
    world, settings, digest
):
    target = await _middle_row_id()
    await AuditEntry.raw(
        "UPDATE audit_log SET after = {} WHERE id = {}", '{"name":"改过的名字"}', target
    )
    await _rechain_from(target, digest)
    # Every row names the hash of the row before it: only the key tells the chain is forged.
    rows = await _rows()
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
    report = await verify()
    assert not report.intact
    assert report.first_broken_id == target
    assert report.checked == len([r for r in rows if r["id"] < target])


async def test_a_checkpoint_line_is_appended_signed_and_logged(world, settings, caplog):
    caplog.set_level(logging.INFO, logger="gridpoints.audit")
    first = await write_checkpoint(settings)
    last = await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()
    assert (first.row_id, first.hash) == (last["id"], last["hash"])
    await write_checkpoint(settings)
    lines = _lines(settings.audit_checkpoint_file)
    assert len(lines) == 2
    assert json.loads(lines[0])["row_id"] == last["id"]
    assert not any(settings.audit_key in line for line in lines)
    assert any(
        str(last["id"]) in r.getMessage() and "checkpoint" in r.getMessage() for r in caplog.records
    )
    assert (await verify()).intact


async def test_rows_cut_off_below_the_last_checkpoint_are_named_as_a_missing_range(world, settings):
    checkpoint = await write_checkpoint(settings)
    ids = [row["id"] for row in await _rows()]
    cut_from = ids[-3]
    await AuditEntry.raw("DELETE FROM audit_log WHERE id >= {}", cut_from)
    report = await verify()
    assert not report.intact
    assert report.missing == (cut_from, checkpoint.row_id)
    assert f"{cut_from}–{checkpoint.row_id}" in report.reason


async def test_rows_replaced_after_a_checkpoint_do_not_match_it(world, settings):
    checkpoint = await write_checkpoint(settings)
    await AuditEntry.raw(
        "UPDATE audit_log SET hash = {} WHERE id = {}", "f" * 64, checkpoint.row_id
    )
    report = await verify()
    assert not report.intact
    assert report.first_broken_id == checkpoint.row_id


@pytest.mark.parametrize("forgery", ["unsigned", "higher-id", "wrong-key"])
async def test_a_forged_checkpoint_line_is_refused(world, settings, forgery):
    real = await write_checkpoint(settings)
    path = settings.audit_checkpoint_file
    line = json.loads(_lines(path)[-1])
    if forgery == "unsigned":
        line["signature"] = ""
    elif forgery == "higher-id":
        line["row_id"] = real.row_id + 1000
    else:
        message = f"gridpoints-audit-checkpoint\n{line['row_id']}\n{line['hash']}\n{line['at']}"
        line["signature"] = hmac.new(b"not the key", message.encode(), "sha256").hexdigest()
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    report = await verify()
    assert not report.intact
    assert "checkpoint" in report.reason and "line 2" in report.reason


async def test_check_ins_and_other_changes_arriving_together_keep_one_keyed_chain(
    client, world, settings
):
    crowd = []
    for n in range(8):
        member = await members.create_member(
            SYSTEM,
            MemberCreate(
                name=f"并行{n}",
                phone=f"1350000{n:04d}",
                category=Category.RESIDENT,
                org_unit_id=world.units["A1-B1-U1"],
            ),
            settings,
        )
        crowd.append(member.id)
    activity = await _activity(client, world)
    token = await current_code(client, world, activity["id"])

    async def check_in(member: int) -> int:
        answer = await client.post(
            "/api/v1/checkins",
            json=scan_body(activity["id"], token),
            headers=bearer(client, member),
        )
        return answer.status_code

    async def add_member(n: int) -> None:
        await members.create_member(
            SYSTEM,
            MemberCreate(
                name=f"同时{n}",
                phone=f"1350001{n:04d}",
                category=Category.RESIDENT,
                org_unit_id=world.units["A1"],
            ),
            settings,
        )

    results = await asyncio.gather(
        *(check_in(m) for m in crowd), *(add_member(n) for n in range(8))
    )
    assert results[: len(crowd)] == [201] * len(crowd)
    report = await verify()
    assert report.intact, report
    await test_each_row_hash_is_an_hmac_under_the_audit_key(world, settings)


async def test_the_commands_write_a_checkpoint_and_name_a_cut_off_tail(world, settings):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDPOINTS_")}
    env.update(
        DATABASE_URL=settings.database_url,
        SECRET_KEY=settings.secret_key,
        GRIDPOINTS_AUDIT_KEY=settings.audit_key,
        GRIDPOINTS_VAR_DIR=str(settings.var_dir),
    )
    command = [str(Path(sys.executable).parent / "gridpoints"), "audit"]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args], env=env, capture_output=True, text=True, timeout=60
        )

    written = await asyncio.to_thread(run, "checkpoint")
    assert written.returncode == 0, written.stderr
    head = await AuditEntry.select().order_by(AuditEntry.id, ascending=False).first()
    assert f"row {head['id']}" in written.stdout
    assert settings.audit_checkpoint_file.is_file()
    intact = await asyncio.to_thread(run, "verify")
    assert intact.returncode == 0, intact.stderr
    await AuditEntry.raw("DELETE FROM audit_log WHERE id >= {}", head["id"] - 1)
    cut = await asyncio.to_thread(run, "verify")
    assert cut.returncode == 1
    assert f"{head['id'] - 1}–{head['id']}" in cut.stderr
