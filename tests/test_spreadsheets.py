"""The one writer of user data into workbooks: a value that a spreadsheet program would run as
a formula is stored as text (and kept text when the cell is edited), control characters that
XML cannot hold are removed, and the write never fails on them."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from gridpoints.spreadsheets import MAX_CELL_CHARS, append_row, clean_text
from tests.workbooks import HYPERLINK, formulas, text_of

# Values a spreadsheet program reads as a formula when they start a cell.
FORMULA_LIKE = [
    HYPERLINK,
    "=1+1",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\n=1+1",
]


def _written(write_only: bool, *rows: tuple) -> bytes:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("表") if write_only else book.active
    for row in rows:
        append_row(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("write_only", [True, False], ids=["write-only", "normal"])
def test_formula_like_values_are_stored_as_quoted_text(write_only):
    content = _written(write_only, *[(value,) for value in FORMULA_LIKE])
    assert formulas(content) == []
    stored = text_of(content)
    for value in FORMULA_LIKE:
        assert value in stored, value  # kept whole, the leading `=` as text
        assert stored[value].data_type == "s"
        assert stored[value].quotePrefix, "editing the cell must keep it text"


@pytest.mark.parametrize("write_only", [True, False], ids=["write-only", "normal"])
def test_control_characters_are_removed_and_never_fail_the_write(write_only):
    names = [
        "响铃\x07甲",
        "\x1b[31m乙",
        "空\x00字",
        "换页\x0c",
        "删除\x7f丙",
        "C1\x85丁",
        "\ufffe戊",
    ]
    content = _written(write_only, *[(name, 3) for name in names])
    assert set(text_of(content)) == {"响铃甲", "[31m乙", "空字", "换页", "删除丙", "C1丁", "戊"}


def test_ordinary_values_stay_as_they_are():
    content = _written(True, ("在职甲", "139****0002", 12, 1.5, None, "", "两行\n文字", "甲\t乙"))
    (row,) = load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True)
    assert row == ("在职甲", "139****0002", 12, 1.5, None, None, "两行\n文字", "甲\t乙")
    plain = text_of(content)["在职甲"]
    assert plain.data_type == "s" and not plain.quotePrefix


def test_a_leading_carriage_return_is_written_as_a_line_end_and_still_quoted():
    stored = text_of(_written(True, ("\r=1+1",)))
    assert list(stored) == ["\n=1+1"] and stored["\n=1+1"].quotePrefix


def test_clean_text_cuts_a_value_to_what_a_cell_holds():
    assert len(clean_text("长" * (MAX_CELL_CHARS + 10))) == MAX_CELL_CHARS
    assert clean_text("a\x00\x01\x08b\tc\nd\re\x0b\x1f\x9f") == "ab\tc\nd\ne"
    assert clean_text("\r=1+1\r\n") == "\n=1+1\n"
