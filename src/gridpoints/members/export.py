"""The member list as a spreadsheet, with the same scope and phone masking as the API list."""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import Workbook

from gridpoints.auth.permissions import Capability
from gridpoints.auth.principal import Principal
from gridpoints.members.lookup import MEMBER_COLUMNS, present
from gridpoints.members.schemas import MemberOut
from gridpoints.members.tables import Member
from gridpoints.members.vocab import CATEGORY_LABELS, STATUS_LABELS, Category
from gridpoints.org.queries import within
from gridpoints.org.services import find_unit
from gridpoints.spreadsheets import append_row

HEADER = ("姓名", "手机号", "类别", "所在网格", "工作单位", "状态")
_BATCH = 1000


async def exported_members(
    actor: Principal, *, org_unit_id: int | None, category: Category | None
) -> list[MemberOut]:
    """Every member the caller may see (under `org_unit_id` if given), as the list shows them."""
    scopes = actor.scopes(Capability.VIEW)
    if org_unit_id is not None:
        scopes = [(await find_unit(actor, org_unit_id))["path"]]
    condition = within(Member.org_unit._.path, scopes)
    if category is not None:
        condition &= Member.category == category.value
    members: list[MemberOut] = []
    last_id = 0
    while True:
        rows = (
            await Member.select(*MEMBER_COLUMNS)
            .where(condition & (Member.id > last_id))
            .order_by(Member.id)
            .limit(_BATCH)
        )
        members.extend(present(actor, row) for row in rows)
        if len(rows) < _BATCH:
            return members
        last_id = rows[-1]["id"]


def members_workbook(members: Iterable[MemberOut]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("成员")
    append_row(sheet, HEADER)
    for member in members:
        append_row(
            sheet,
            (
                member.name,
                member.phone,
                CATEGORY_LABELS[member.category],
                member.org_unit_name,
                member.employer or "",
                STATUS_LABELS[member.status],
            ),
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
