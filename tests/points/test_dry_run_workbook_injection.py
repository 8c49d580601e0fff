"""The dry-run workbook holds no formula from user data (members' and grids' names, rule labels
from the uploaded rule file), and a stored control character never fails the dry-run job."""

from __future__ import annotations

from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit
from tests.conftest import bearer
from tests.points.test_rule_changes import RICHER, _changed, _finished, _quarter, _scored_history
from tests.workbooks import HYPERLINK, formulas, text_of


async def _dry_run(client, world, settings, content: str) -> bytes:
    started = await client.post(
        "/api/v1/rulesets/dry-run",
        json={
            "period": _quarter(settings).label,
            "org_unit_id": world.units["C"],
            "filename": "default.toml",
            "content": content,
        },
        headers=bearer(client, world.admin),
    )
    assert started.status_code == 202, started.text
    job = await _finished(client, started.json()["job_id"], world.admin)
    assert job["status"] == "succeeded", job
    download = await client.get(job["result"]["download"], headers=bearer(client, world.admin))
    assert download.status_code == 200, download.text
    return download.content


async def test_the_dry_run_workbook_writes_formula_like_names_as_text(client, world, settings):
    await _scored_history(world, settings)
    await Member.update({Member.name: HYPERLINK}).where(Member.id == world.member_a)
    await OrgUnit.update({OrgUnit.name: "-1单元"}).where(OrgUnit.id == world.units["A1-B1-U1"])
    await OrgUnit.update({OrgUnit.name: "=社区"}).where(OrgUnit.id == world.units["C"])
    rules = _changed(
        **RICHER, **{'label = "参加志愿活动，每小时 2 分"': 'label = "=1+1 参加志愿活动"'}
    )
    content = await _dry_run(client, world, settings, rules)
    assert formulas(content) == []
    stored = text_of(content)
    for value in (HYPERLINK, "-1单元", "=1+1 参加志愿活动"):
        assert stored[value].data_type == "s", value
    assert any(value.startswith("=社区 ") for value in stored), "the title keeps the name as text"


async def test_a_stored_control_character_does_not_fail_the_dry_run(client, world, settings):
    await _scored_history(world, settings)
    await Member.update({Member.name: "在职\x07甲"}).where(Member.id == world.member_a)
    await OrgUnit.update({OrgUnit.name: "1\x1b单元"}).where(OrgUnit.id == world.units["A1-B1-U1"])
    stored = text_of(await _dry_run(client, world, settings, _changed(**RICHER)))
    assert {"在职甲", "1单元"} <= set(stored)
