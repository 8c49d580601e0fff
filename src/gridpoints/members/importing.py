"""Reading a member spreadsheet (CSV or XLSX with Chinese headers) into checked rows.

Pure functions: the file's bytes and the grids and phones the database already knows go in;
good rows and a list of every bad row (its spreadsheet row number, column and reason) come out.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any

import msgspec
from openpyxl import load_workbook

from gridpoints.members.phones import BadPhone, normalise_phone
from gridpoints.members.vocab import CATEGORY_LABELS, Category, parse_category

# column key -> headers accepted for it
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "phone": ("手机号", "手机", "联系电话", "phone"),
    "category": ("类别", "党员类别", "category"),
    "grid": ("所在网格", "网格", "grid"),
    "employer": ("工作单位", "employer"),
}
REQUIRED = ("name", "phone", "category", "grid")
MAX_ROWS = 50_000
MAX_NAME = 50
MAX_EMPLOYER = 100


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a spreadsheet, a missing column, ...)."""


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


def read_table(filename: str, data: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (spreadsheet row number, {column key: text}) for every non-empty data row."""
    rows = _xlsx_rows(data) if _is_xlsx(filename, data) else _csv_rows(data)
    header = next(rows, None)
    if header is None:
        raise ImportFileError("文件是空的")
    columns = _map_header([str(cell or "").strip() for cell in header])
    for offset, cells in enumerate(rows):
        row_number = offset + 2
        values = {key: _text(cells[i]) if i < len(cells) else "" for key, i in columns.items()}
        if any(values.values()):
            if row_number - 1 > MAX_ROWS:
                raise ImportFileError(f"一次最多导入 {MAX_ROWS} 行")
            yield row_number, values


def check_rows(
    table: Iterator[tuple[int, dict[str, str]]],
    grids: GridIndex,
    partner_ids: dict[str, int],
) -> tuple[list[CheckedRow], list[RowProblem]]:
    """Check each row on its own and against the rows before it (duplicate phones)."""
    good: list[CheckedRow] = []
    problems: list[RowProblem] = []
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
            _into.append(RowProblem(_row, _header_of(column), _values.get(column, ""), reason))

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
            problems.extend(row_problems)
            continue
        assert category is not None and unit_id is not None
        good.append(CheckedRow(row_number, name, phone, category, unit_id, employer))
    return good, problems


def taken_phone_problems(rows: list[CheckedRow], taken: set[str]) -> list[RowProblem]:
    return [
        RowProblem(row.row, _header_of("phone"), row.phone, "手机号已登记")
        for row in rows
        if row.phone in taken
    ]


def _header_of(column: str) -> str:
    return HEADERS[column][0]


def _is_xlsx(filename: str, data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx")


def _xlsx_rows(data: bytes) -> Iterator[tuple[Any, ...]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError("无法读取 XLSX 文件") from exc
    try:
        yield from workbook.worksheets[0].iter_rows(values_only=True)
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    # Excel in Chinese locales saves CSV as GB18030 (GBK); everything else sends UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("无法识别文件编码，请保存为 UTF-8 的 CSV 或 XLSX")
    if "\x00" in text:
        raise ImportFileError("不是 CSV 或 XLSX 文件")
    yield from csv.reader(io.StringIO(text))


def _map_header(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for key, names in HEADERS.items():
        for index, cell in enumerate(header):
            if cell.casefold() in {n.casefold() for n in names}:
                columns[key] = index
                break
    missing = [HEADERS[key][0] for key in REQUIRED if key not in columns]
    if missing:
        raise ImportFileError("缺少列：" + "、".join(missing))
    return columns


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()
