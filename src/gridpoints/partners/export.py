"""A partner unit's quarterly record of its members, as the spreadsheet its employer files."""

from __future__ import annotations

import io

from openpyxl import Workbook

from gridpoints.duty.services import DutyReport
from gridpoints.spreadsheets import append_row

HEADER = (
    "姓名",
    "所在网格",
    "参加活动（次）",
    "服务记录（条）",
    "微心愿（个）",
    "服务时长（小时）",
    "本季度义务",
)


def partner_workbook(partner_name: str, report: DutyReport) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(report.period)
    append_row(sheet, (f"{partner_name} {report.period} 在职党员社区服务记录",))
    append_row(sheet, HEADER)
    for member in report.members:
        append_row(
            sheet,
            (
                member.name,
                member.org_unit_name,
                member.checkins,
                member.services,
                member.wishes,
                round(member.minutes / 60, 1),
                "已完成" if member.done else "未完成",
            ),
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
