"""Changing the rules: a dry-run shows what a changed set would give a quarter without writing,
and a rescore adopts the sets now in the files for a quarter still open, by compensating
entries; a quarter locked by a final review is refused."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from openpyxl import load_workbook

from gridpoints.app import create_app
from gridpoints.clock import utcnow
from gridpoints.db.transactions import writing
from gridpoints.events import services as events
from gridpoints.jobs.dispatch import RunByCaller, start_job
from gridpoints.jobs.runner import run_job
from gridpoints.jobs.tables import Job
from gridpoints.org.tables import OrgUnit
from gridpoints.periods import Quarter
from gridpoints.points.locks import lock_period
from gridpoints.points.period_end import close_quarter
from gridpoints.points.rulefiles import load_rulesets
from gridpoints.points.scoring import score_pending
from gridpoints.points.tables import PointsEntry
from tests.conftest import bearer, serving
from tests.points.test_scoped_rulesets import EVERYWHERE
from tests.world import SYSTEM

DEFAULT = Path(__file__).parents[2] / "scoring_rules" / "default.toml"


def _changed(**replacements: str) -> str:
    text = DEFAULT.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    return text


# Activities earn 3 points an hour instead of 2.
RICHER = {
    'points = { per_hour = 2, rounding = "down" }': 'points = { per_hour = 3, rounding = "down" }'
}
# Missing the quarter's service costs 10 points instead of 5.
HARSHER = {"points = { fixed = -5 }": "points = { fixed = -10 }"}


def _quarter(settings) -> Quarter:
    return Quarter.current(settings.timezone)


async def _event(
    world,
    source_id,
    *,
    kind="checkin",
    minutes=120,
    category="resident_service",
    when=None,
    revoked=False,
):
    event = events.EventIn(
        kind=kind,
        source_id=source_id,
        member_id=world.member_a,
        org_unit_id=world.units["A1-B1-U1"],
        category=category,
        occurred_at=when or utcnow() - timedelta(minutes=5),
        minutes=minutes,
    )
    async with writing():
        await (events.revoked if revoked else events.verified)(event, None)


async def _scored_history(world, settings) -> None:
    await _event(world, 1, minutes=120)  # 4 points
    await _event(world, 2, kind="service", minutes=90, category="dispute_mediation")  # 3 + 2
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    await score_pending(rulesets, settings)


async def _total(member: int, period: str) -> int:
    rows = await PointsEntry.select(PointsEntry.amount).where(
        (PointsEntry.member == member) & (PointsEntry.period == period)
    )
    return sum(r["amount"] for r in rows)


async def _finished(client, job_id: int, who: int) -> dict:
    await client.app.state.job_queue.wait_idle()
    response = await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(client, who))
    assert response.status_code == 200, response.text
    return response.json()


def _rules_dir(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "default.toml").write_text(text, encoding="utf-8")
    return folder


async def test_a_dry_run_shows_before_and_after_without_writing(client, world, settings):
    await _scored_history(world, settings)
    period = _quarter(settings).label
    entries_before = await PointsEntry.count()
    started = await client.post(
        "/api/v1/rulesets/dry-run",
        json={
            "period": period,
            "org_unit_id": world.units["C"],
            "filename": "default.toml",
            "content": _changed(**RICHER),
        },
        headers=bearer(client, world.admin),
    )
    assert started.status_code == 202, started.text
    job = await _finished(client, started.json()["job_id"], world.admin)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert (result["before_total"], result["after_total"]) == (9, 11)
    assert result["members_changed"] == 1
    (largest,) = result["largest_changes"]
    assert (largest["member_id"], largest["before"], largest["after"]) == (world.member_a, 9, 11)
    by_rule = {r["rule"]: (r["before"], r["after"]) for r in result["by_rule"]}
    assert by_rule["activity-hours"] == (4, 6)
    assert by_rule["mediation-bonus"] == (2, 2)
    assert result["version_before"] != result["version_after"]
    assert await PointsEntry.count() == entries_before

    download = await client.get(result["download"], headers=bearer(client, world.admin))
    assert download.status_code == 200
    assert "dry-run" in download.headers["content-disposition"]
    book = load_workbook(io.BytesIO(download.content), read_only=True)
    assert book.sheetnames == ["汇总", "成员", "规则"]
    members = list(book["成员"].iter_rows(values_only=True))
    assert members[0][:6] == ("成员编号", "姓名", "所在网格", "现行积分", "试算积分", "变化")
    assert members[1:] == [(world.member_a, "在职甲", "1单元", 9, 11, 2)]
    summary = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if len(r) > 1}
    assert (summary["现行总分"], summary["试算总分"]) == (9, 11)


async def test_a_dry_run_of_the_rules_in_force_changes_nothing(client, world, settings):
    # A quarter's worth of capped and uncapped events: afresh they give what the ledger holds.
    for source in range(10, 22):
        await _event(world, source, minutes=300)
    await _event(world, 30, kind="wish", minutes=0)
    await _event(world, 31, minutes=200, revoked=True)
    await _scored_history(world, settings)
    started = await client.post(
        "/api/v1/rulesets/dry-run",
        json={
            "period": _quarter(settings).label,
            "org_unit_id": world.units["C"],
            "filename": "default.toml",
            "content": DEFAULT.read_text(encoding="utf-8"),
        },
        headers=bearer(client, world.admin),
    )
    job = await _finished(client, started.json()["job_id"], world.admin)
    assert job["status"] == "succeeded", job
    result = job["result"]
    assert result["members_changed"] == 0
    assert (
        result["before_total"]
        == result["after_total"]
        == await _total(world.member_a, _quarter(settings).label)
    )
    assert result["version_before"] == result["version_after"]


async def test_a_broken_file_is_refused_naming_each_problem(client, world, settings):
    jobs_before = await Job.count()
    broken = _changed(**{"cap_per_quarter = 60": "cap_per_quarter = -60"}).replace(
        'event = "wish"', 'event = "party"'
    )
    response = await client.post(
        "/api/v1/rulesets/dry-run",
        json={
            "period": _quarter(settings).label,
            "org_unit_id": world.units["C"],
            "filename": "default.toml",
            "content": broken,
        },
        headers=bearer(client, world.admin),
    )
    assert response.status_code == 400, response.text
    details = " ".join(e["detail"] for e in response.json()["errors"])
    assert "activity-hours" in details and "cap_per_quarter" in details
    assert "wish-fulfilled" in details and "event" in details
    assert {e["field"] for e in response.json()["errors"]} == {"content"}
    assert await Job.count() == jobs_before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"period": "2999Q1"}, "period"),
        ({"period": "2026Q5"}, "period"),
        ({"filename": "../default.toml"}, "filename"),
    ],
)
async def test_a_bad_request_names_its_field(client, world, settings, body, field):
    response = await client.post(
        "/api/v1/rulesets/dry-run",
        json={
            "period": _quarter(settings).label,
            "org_unit_id": world.units["C"],
            "content": DEFAULT.read_text(encoding="utf-8"),
            **body,
        },
        headers=bearer(client, world.admin),
    )
    assert response.status_code == 400, response.text
    assert field in response.text


async def test_a_grid_leader_may_not_change_the_rules(client, world, settings):
    for path, body in [
        ("dry-run", {"content": DEFAULT.read_text(encoding="utf-8")}),
        ("rescore", {}),
    ]:
        response = await client.post(
            f"/api/v1/rulesets/{path}",
            json={"period": _quarter(settings).label, "org_unit_id": world.units["A"], **body},
            headers=bearer(client, world.leader_a),
        )
        assert response.status_code == 403, response.text


async def test_a_rescore_adopts_the_new_version_by_compensating_entries(
    client, world, settings, tmp_path
):
    await _scored_history(world, settings)
    period = _quarter(settings).label
    assert await _total(world.member_a, period) == 9
    old = await PointsEntry.select().order_by(PointsEntry.id)

    edited = msgspec.structs.replace(
        settings, scoring_rules_dir_setting=str(_rules_dir(tmp_path, _changed(**RICHER)))
    )
    async with serving(create_app(edited)) as api:
        started = await api.post(
            "/api/v1/rulesets/rescore",
            json={"period": period, "org_unit_id": world.units["C"]},
            headers=bearer(api, world.admin),
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        job = await _finished(api, job_id, world.admin)
        assert job["status"] == "succeeded", job
        assert job["result"]["reversed_entries"] == 3
        assert job["result"]["new_entries"] == 3
        assert job["result"]["net_change"] == 2
        # Run again (as a second delivery would) and rescore again: nothing more.
        await run_job(job_id, edited)
        again = await api.post(
            "/api/v1/rulesets/rescore",
            json={"period": period, "org_unit_id": world.units["C"]},
            headers=bearer(api, world.admin),
        )
        second = await _finished(api, again.json()["job_id"], world.admin)
        assert second["result"]["reversed_entries"] == second["result"]["new_entries"] == 0

    assert await _total(world.member_a, period) == 11
    entries = await PointsEntry.select().order_by(PointsEntry.id)
    assert entries[: len(old)] == old  # nothing rewritten
    new_version = load_rulesets(edited.scoring_rules_dir, edited.activity_categories)[0].version
    added = entries[len(old) :]
    reversals = [e for e in added if e["kind"] == "reversal"]
    assert sorted(e["reverses"] for e in reversals) == sorted(e["id"] for e in old)
    assert all(e["author"] == world.admin and e["label"].startswith("规则重算") for e in reversals)
    scores = [e for e in added if e["kind"] == "score"]
    assert {(e["rule"], e["amount"], e["rule_set_version"]) for e in scores} == {
        ("activity-hours", 6, new_version),
        ("service-hours", 3, new_version),
        ("mediation-bonus", 2, new_version),
    }

    # A revocation after the rescore takes back what the new version gave.
    await _event(world, 1, minutes=120, revoked=True)
    await score_pending(load_rulesets(edited.scoring_rules_dir, edited.activity_categories), edited)
    assert await _total(world.member_a, period) == 5


async def test_a_rescore_of_a_closed_quarter_applies_its_period_end_rules_again(
    client, world, settings, tmp_path
):
    quarter = Quarter.current(settings.timezone).previous
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    await close_quarter(rulesets, quarter, settings)
    assert await _total(world.member_a, quarter.label) == -5

    edited = msgspec.structs.replace(
        settings, scoring_rules_dir_setting=str(_rules_dir(tmp_path, _changed(**HARSHER)))
    )
    async with serving(create_app(edited)) as api:
        started = await api.post(
            "/api/v1/rulesets/rescore",
            json={"period": quarter.label, "org_unit_id": world.units["C"]},
            headers=bearer(api, world.admin),
        )
        job = await _finished(api, started.json()["job_id"], world.admin)
    assert job["status"] == "succeeded", job
    assert job["result"]["period_end_entries"] == 1
    assert await _total(world.member_a, quarter.label) == -10
    # Closing again (the daily round) adds nothing: the member holds the rule's entry.
    new_rules = load_rulesets(edited.scoring_rules_dir, edited.activity_categories)
    assert await close_quarter(new_rules, quarter, edited) == 0
    assert await close_quarter(rulesets, quarter, settings) == 0
    assert await _total(world.member_a, quarter.label) == -10


async def test_a_dry_run_of_an_ended_quarter_counts_its_period_end_rules(client, world, settings):
    quarter = Quarter.current(settings.timezone).previous
    rulesets = load_rulesets(settings.scoring_rules_dir, settings.activity_categories)
    await close_quarter(rulesets, quarter, settings)
    started = await client.post(
        "/api/v1/rulesets/dry-run",
        json={
            "period": quarter.label,
            "org_unit_id": world.units["C"],
            "filename": "default.toml",
            "content": _changed(**HARSHER),
        },
        headers=bearer(client, world.admin),
    )
    job = await _finished(client, started.json()["job_id"], world.admin)
    assert job["status"] == "succeeded", job
    assert (job["result"]["before_total"], job["result"]["after_total"]) == (-5, -10)


async def test_a_locked_quarter_is_never_rescored(client, world, settings):
    await _scored_history(world, settings)
    quarter = _quarter(settings)
    assert await lock_period(SYSTEM, quarter, world.units["A"], "季度评议已定稿")
    assert not await lock_period(SYSTEM, quarter, world.units["A"], "季度评议已定稿")
    for unit in ("C", "A1-B1-U1"):
        response = await client.post(
            "/api/v1/rulesets/rescore",
            json={"period": quarter.label, "org_unit_id": world.units[unit]},
            headers=bearer(client, world.admin),
        )
        assert response.status_code == 409, response.text
        assert "已锁定" in response.json()["detail"]
    # A grid beside the locked one is still open.
    response = await client.post(
        "/api/v1/rulesets/rescore",
        json={"period": quarter.label, "org_unit_id": world.units["B"]},
        headers=bearer(client, world.admin),
    )
    assert response.status_code == 202, response.text


async def test_a_lock_made_while_a_rescore_waits_is_respected(world, settings):
    await _scored_history(world, settings)
    quarter = _quarter(settings)
    job_id = await start_job(
        RunByCaller(settings),
        SYSTEM,
        "points.rescore",
        {"period": quarter.label, "org_unit_id": world.units["C"]},
        org_unit_id=world.units["C"],
    )
    # Locked after the rescore was accepted, before it runs.
    await lock_period(SYSTEM, quarter, world.units["A"], "季度评议已定稿")
    entries_before = await PointsEntry.count()
    await run_job(job_id, settings)
    job = await Job.select().where(Job.id == job_id).first()
    assert job["status"] == "failed" and "已锁定" in job["error"]
    assert await PointsEntry.count() == entries_before


GRID_A = """
id = "grid-a"
label = "甲片区规则"
effective_from = {start}
scope = "{code}"
[[rules]]
id = "act"
label = "活动每次 3 分"
event = "checkin"
points = {{ fixed = 3 }}
"""


async def _rescored(world, settings) -> dict:
    job_id = await start_job(
        RunByCaller(settings),
        SYSTEM,
        "points.rescore",
        {"period": _quarter(settings).label, "org_unit_id": world.units["C"]},
        org_unit_id=world.units["C"],
    )
    await run_job(job_id, settings)
    job = await Job.select().where(Job.id == job_id).first()
    assert job["status"] == "succeeded", job
    return msgspec.json.decode(job["result"])


async def test_a_rescore_hands_events_to_the_set_now_in_charge(world, settings, tmp_path):
    folder = _rules_dir(tmp_path, DEFAULT.read_text(encoding="utf-8"))
    (folder / "default.toml").unlink()
    (folder / "city.toml").write_text(EVERYWHERE, encoding="utf-8")
    edited = msgspec.structs.replace(settings, scoring_rules_dir_setting=str(folder))
    await _event(world, 1)
    await score_pending(load_rulesets(folder, edited.activity_categories), edited)
    period = _quarter(settings).label
    assert await _total(world.member_a, period) == 1
    assert (await _rescored(world, edited))["reversed_entries"] == 0  # nothing changed

    # A set for grid A from the quarter's first day: the event is now grid A's to score.
    code = (await OrgUnit.select(OrgUnit.code).where(OrgUnit.id == world.units["A"]).first())[
        "code"
    ]
    start, _ = _quarter(settings).bounds(settings.timezone)
    (folder / "grid-a.toml").write_text(
        GRID_A.format(start=start.date().isoformat(), code=code), encoding="utf-8"
    )
    result = await _rescored(world, edited)
    assert (result["reversed_entries"], result["new_entries"], result["net_change"]) == (1, 1, 2)
    assert await _total(world.member_a, period) == 3
    standing = await PointsEntry.select().where(PointsEntry.kind == "score")
    assert {(e["rule_set"], e["amount"]) for e in standing} == {("city", 1), ("grid-a", 3)}
    again = await _rescored(world, edited)
    assert (again["reversed_entries"], again["new_entries"]) == (0, 0)
