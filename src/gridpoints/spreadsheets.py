"""The one way the platform writes values into a workbook: every sheet row goes through
`append_row`, so every string, and above all user data, lands as a safe text cell.

A spreadsheet program runs a cell that starts with `=` as a formula (and one typed or pasted
with `+`, `-`, `@`, a tab or a carriage return): a member named `=HYPERLINK(…)` would become a
live link in every export. XML cannot hold most control characters, and openpyxl refuses them,
so one stored name would fail the whole export. Here strings are stored as text cells (never
formulas), with control characters removed and cut to what a cell holds; those that start like
a formula are also marked as quoted text (the leading apostrophe Excel shows), so editing the
cell keeps it text. Numbers the platform computes stay numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

# Excel's limit on the characters of one cell.
MAX_CELL_CHARS = 32_767
# What a spreadsheet program reads as the start of a formula (a carriage return is a newline
# by then: XML reads every line end as one).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\n")
# C0 controls except tab, newline and carriage return; DEL and the C1 controls; surrogates and
# the two non-characters XML refuses.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

Sheet = Worksheet | WriteOnlyWorksheet


def clean_text(value: str) -> str:
    """The text without control characters, its line ends as newlines, cut to what one cell
    holds."""
    text = _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    return text[:MAX_CELL_CHARS]


def cell_value(sheet: Sheet, value: object) -> object:
    """What to put in a row of `sheet` for `value`: a string as a text cell (never a formula),
    anything else as it is; an empty string as an empty cell."""
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    if not text:
        return None
    cell: Cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would make "=…" a formula
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def append_row(sheet: Sheet, values: Iterable[object]) -> None:
    """Append one row to a worksheet (write-only or not), every string written as text."""
    sheet.append([cell_value(sheet, value) for value in values])
