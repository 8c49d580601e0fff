"""Reading workbooks back in tests as a spreadsheet program reads them: every filled cell, the
formulas among them, the text cells by value."""

from __future__ import annotations

import io
from collections.abc import Iterator

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell

# The reported input: a member named so that the export shows a live link.
HYPERLINK = '=HYPERLINK("http://example.invalid","点我")'


def cells(content: bytes) -> Iterator[Cell]:
    """Every filled cell of every sheet."""
    book = load_workbook(io.BytesIO(content))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from (cell for cell in row if cell.value is not None)


def formulas(content: bytes) -> list[str]:
    """Where the workbook holds a formula, as `sheet!A1='=…'`."""
    return [
        f"{c.parent.title}!{c.coordinate}={c.value!r}" for c in cells(content) if c.data_type == "f"
    ]


def text_of(content: bytes) -> dict[str, Cell]:
    """The string cells by their value."""
    return {c.value: c for c in cells(content) if isinstance(c.value, str)}
