"""Checking the rows read from a member spreadsheet (`reading`): the second step of the
member import, pure functions.

The rows and the grids and phones the database already knows go in; good rows and the bad
rows (their spreadsheet row number, column and reason) come out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from gridpoints.members.roster_import.reading import HEADERS
from gridpoints.members.vocab import CATEGORY_LABELS, Category, parse_category
from gridpoints.phones import BadPhone, normalise_phone

MAX_NAME = 50
MAX_EMPLOYER = 100
# A bad-row report lists the problems of this many bad rows at most (and counts them all);
# each value in it is cut to `REPORTED_VALUE_CHARS` characters.
MAX_LISTED_ROWS = 1_000
REPORTED_VALUE_CHARS = 100


class RowProblem(msgspec.Struct, frozen=True):
    row: int
    column: str
    value: str
    reason: str


class CheckedRow(msgspec.Struct):
    row: int
    name: str
    phone: str
    category: Category
    org_unit_id: int
    employer: str | None


class CheckOutcome(msgspec.Struct):
    """What checking found: the good rows, the problems of the first bad rows (at most
    `MAX_LISTED_ROWS` of them) and how many rows were bad in all."""

    good: list[CheckedRow]
    problems: list[RowProblem]
    bad_rows: int


class GridIndex:
    """Resolves what people write in 所在网格: a unit code, a path of names
    (`一片区/阳光小区/1号楼`, matched from the end), or a name unique in the import's subtree."""

    def __init__(self, units: list[dict[str, Any]]) -> None:
        by_id = {u["id"]: u for u in units}
        self._by_code = {u["code"].casefold(): u["id"] for u in units}
        self._by_suffix: dict[tuple[str, ...], list[int]] = {}
        for unit in units:
            names: list[str] = []
            current: dict[str, Any] | None = unit
            while current is not None:
                names.insert(0, current["name"].strip())
                current = by_id.get(current["parent"])
            for start in range(len(names)):
                self._by_suffix.setdefault(tuple(names[start:]), []).append(unit["id"])

    def resolve(self, text: str) -> tuple[int | None, str]:
        """The unit id, or None and the reason."""
        key = text.strip()
        if key.casefold() in self._by_code:
            return self._by_code[key.casefold()], ""
        parts = tuple(p.strip() for p in key.replace(">", "/").replace("／", "/").split("/"))
        matches = self._by_suffix.get(tuple(p for p in parts if p), [])
        if len(matches) == 1:
            return matches[0], ""
        if matches:
            return None, "网格名称不唯一，请填写网格编码或完整路径"
        return None, "未知网格"


def check_rows(
    table: Iterator[tuple[int, dict[str, str]]],
    grids: GridIndex,
    partner_ids: dict[str, int],
) -> CheckOutcome:
    """Check each row on its own and against the rows before it (duplicate phones)."""
    good: list[CheckedRow] = []
    problems: list[RowProblem] = []
    bad_rows = 0
    first_row_of_phone: dict[str, int] = {}
    for row_number, values in table:
        row_problems: list[RowProblem] = []

        def bad(
            column: str,
            reason: str,
            *,
            _into: list[RowProblem] = row_problems,
            _row: int = row_number,
            _values: dict[str, str] = values,
        ) -> None:
            _into.append(problem(_row, column, _values.get(column, ""), reason))

        name = " ".join(values["name"].split())
        if not name:
            bad("name", "姓名为空")
        elif len(name) > MAX_NAME:
            bad("name", f"姓名超过 {MAX_NAME} 个字")
        phone = ""
        try:
            phone = normalise_phone(values["phone"]) if values["phone"] else ""
            if not phone:
                bad("phone", "手机号为空")
        except BadPhone as exc:
            bad("phone", str(exc))
        if phone and phone in first_row_of_phone:
            bad("phone", f"与第 {first_row_of_phone[phone]} 行手机号重复")
        elif phone:
            first_row_of_phone[phone] = row_number
        category = parse_category(values["category"])
        if category is None:
            bad("category", "未知类别，应为：" + "、".join(CATEGORY_LABELS.values()))
        unit_id, reason = grids.resolve(values["grid"]) if values["grid"] else (None, "网格为空")
        if unit_id is None:
            bad("grid", reason)
        employer = " ".join(values.get("employer", "").split()) or None
        if employer and len(employer) > MAX_EMPLOYER:
            bad("employer", f"工作单位超过 {MAX_EMPLOYER} 个字")
        if row_problems:
            bad_rows += 1
            if bad_rows <= MAX_LISTED_ROWS:
                problems.extend(row_problems)
            continue
        assert category is not None and unit_id is not None
        good.append(CheckedRow(row_number, name, phone, category, unit_id, employer))
    return CheckOutcome(good, problems, bad_rows)


def problem(row: int, column: str, value: str, reason: str) -> RowProblem:
    """A row's problem for the report, its value cut short."""
    if len(value) > REPORTED_VALUE_CHARS:
        value = value[:REPORTED_VALUE_CHARS] + "…"
    return RowProblem(row, _header_of(column), value, reason)


def taken_phone_problems(rows: list[CheckedRow], taken: set[str]) -> list[RowProblem]:
    return [
        problem(row.row, "phone", row.phone, "手机号已登记") for row in rows if row.phone in taken
    ]


def first_listed(problems: list[RowProblem]) -> list[RowProblem]:
    """The problems of the first `MAX_LISTED_ROWS` bad rows, in row order."""
    ordered = sorted(problems, key=lambda p: p.row)
    rows = sorted({p.row for p in ordered})[:MAX_LISTED_ROWS]
    last = rows[-1] if rows else 0
    return [p for p in ordered if p.row <= last]


def _header_of(column: str) -> str:
    return HEADERS[column][0]
