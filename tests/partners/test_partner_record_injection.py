"""The partner unit's record workbook holds no formula from user data (the unit's name in the
title, members' names and grids), and a stored control character never makes it a 500."""

from __future__ import annotations

from gridpoints.clock import utcnow
from gridpoints.members.tables import Member
from gridpoints.org.tables import OrgUnit
from gridpoints.partners.tables import PartnerUnit
from gridpoints.periods import Quarter
from tests.conftest import bearer
from tests.workbooks import HYPERLINK, formulas, text_of

PERIOD = Quarter.of(utcnow(), "UTC").label


async def _record(client, world):
    response = await client.get(
        f"/api/v1/partner-units/{world.partner}/record.xlsx",
        params={"period": PERIOD},
        headers=bearer(client, world.admin),
    )
    assert response.status_code == 200, response.text
    return response.content


async def test_the_partner_record_writes_formula_like_names_as_text(client, world):
    await PartnerUnit.update({PartnerUnit.name: "=1+2"}).where(PartnerUnit.id == world.partner)
    await Member.update({Member.name: HYPERLINK}).where(Member.id == world.member_a)
    await OrgUnit.update({OrgUnit.name: "@单元"}).where(OrgUnit.id == world.units["A1-B1-U1"])
    content = await _record(client, world)
    assert formulas(content) == []
    stored = text_of(content)
    assert stored[HYPERLINK].data_type == "s" and stored["@单元"].data_type == "s"
    assert any(value.startswith("=1+2 ") for value in stored), "the title keeps the name as text"


async def test_a_stored_control_character_does_not_break_the_partner_record(client, world):
    await PartnerUnit.update({PartnerUnit.name: "供电\x1b公司"}).where(
        PartnerUnit.id == world.partner
    )
    await Member.update({Member.name: "在职\x07甲"}).where(Member.id == world.member_a)
    stored = text_of(await _record(client, world))
    assert "在职甲" in stored
    assert any(value.startswith("供电公司 ") for value in stored)
