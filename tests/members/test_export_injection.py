"""The member export holds no formula from user data, and a stored value with a control
character never turns it into a 500: names, phones, grids and employers are written as text."""

from __future__ import annotations

from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit
from tests.conftest import bearer
from tests.workbooks import HYPERLINK, formulas, text_of

EXPORT = "/api/v1/members/export.xlsx"


async def test_a_member_named_like_a_formula_is_exported_as_text(client, world):
    await Member.update({Member.name: HYPERLINK}).where(Member.id == world.member_a)
    await Member.update({Member.employer: "@SUM(1+1)*cmd|' /C calc'!A0"}).where(
        Member.id == world.member_a
    )
    await Member.update({Member.name: "-2+3"}).where(Member.id == world.viewer_a)
    await OrgUnit.update({OrgUnit.name: "+1单元"}).where(OrgUnit.id == world.units["A1-B1-U1"])
    response = await client.get(EXPORT, headers=bearer(client, world.leader_a))
    assert response.status_code == 200, response.text
    assert formulas(response.content) == []
    stored = text_of(response.content)
    for value in (HYPERLINK, "-2+3", "+1单元", "@SUM(1+1)*cmd|' /C calc'!A0"):
        assert stored[value].data_type == "s", value


async def test_a_stored_control_character_does_not_break_the_export(client, world):
    await Member.update({Member.name: "在职\x07甲"}).where(Member.id == world.member_a)
    await Member.update({Member.name: "\x1b志愿者甲"}).where(Member.id == world.viewer_a)
    await Member.update({Member.employer: "供电\x0b公司\x1f"}).where(Member.id == world.member_a)
    response = await client.get(EXPORT, headers=bearer(client, world.admin))
    assert response.status_code == 200, response.text
    names = set(text_of(response.content))
    assert {"在职甲", "志愿者甲", "供电公司"} <= names
