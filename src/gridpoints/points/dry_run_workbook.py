"""The dry-run's workbook: a summary, every member before and after, and the totals per rule.

Written row by row as the comparison streams in (openpyxl's write-only mode keeps rows on
disk, not in memory); the summary sheet comes first but is filled last.
"""

from __future__ import annotations

import io

from openpyxl import Workbook

from gridpoints.points.rules import RuleSet
from gridpoints.points.schemas import DryRunResult, MemberChange
from gridpoints.spreadsheets import append_row

_MEMBER_HEADER = ("成员编号", "姓名", "所在网格", "现行积分", "试算积分", "变化")
_RULE_HEADER = ("规则集", "规则", "名称", "现行积分", "试算积分", "变化")


class DryRunWorkbook:
    def __init__(
        self, period: str, unit_name: str, changed: RuleSet, version_before: str | None
    ) -> None:
        self._book = Workbook(write_only=True)
        self._summary = self._book.create_sheet("汇总")
        self._members = self._book.create_sheet("成员")
        self._rules = self._book.create_sheet("规则")
        self._title = f"{unit_name} {period} 积分规则试算（不写入积分）"
        self._changed = changed
        self._version_before = version_before
        append_row(self._members, _MEMBER_HEADER)

    def add_members(self, members: list[MemberChange]) -> None:
        for m in members:
            append_row(
                self._members, (m.member_id, m.name, m.unit, m.before, m.after, m.after - m.before)
            )

    def finish(self, result: DryRunResult) -> bytes:
        spec = self._changed.spec
        for line in (
            (self._title,),
            (),
            ("试算规则集", f"{spec.label}（{spec.id}，文件 {self._changed.source}）"),
            ("现行版本", self._version_before or "（新规则集）"),
            ("试算版本", self._changed.version),
            ("成员数", result.members),
            ("积分有变化的成员", result.members_changed),
            ("现行总分", result.before_total),
            ("试算总分", result.after_total),
            ("变化", result.after_total - result.before_total),
        ):
            append_row(self._summary, line)
        append_row(self._rules, _RULE_HEADER)
        for rule in result.by_rule:
            append_row(
                self._rules,
                (
                    rule.rule_set or "",
                    rule.rule or "",
                    rule.label,
                    rule.before,
                    rule.after,
                    rule.after - rule.before,
                ),
            )
        out = io.BytesIO()
        self._book.save(out)
        return out.getvalue()
