"""Reading a member spreadsheet (CSV or XLSX with Chinese headers) into raw rows: the first
step of the member import, a pure function of the file's bytes.

Every upload is read in bounded memory, whatever it holds. An XLSX is a zip of XML parts: its
directory is inspected before anything is parsed (`inspect_xlsx`: the uncompressed size and
each part's compression ratio), then the first sheet is read as a stream with expat (`_Parts`,
`_sheet_rows`); no style sheet, no other sheet, no tree of a row is ever built, each cell keeps
at most `MAX_CELL_CHARS` characters and shared strings are packed into one byte buffer. A CSV
is decoded line by line, each line and each record bounded. Reading stops after a run of empty
rows and refuses a file beyond the row limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import struct
import unicodedata
import zipfile
from array import array
from collections.abc import Callable, Iterator
from typing import Any
from xml.parsers import expat

import msgspec

# column key -> headers accepted for it (the first is the one messages use). A header cell
# matches whatever its spaces (full-width too), case, width, a `*` marking it required, a
# trailing colon or a bracketed note such as `（必填）` (see `_header_key`).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "党员姓名", "成员姓名", "name"),
    "phone": ("手机号", "手机", "手机号码", "联系电话", "电话", "电话号码", "联系方式", "phone"),
    "category": ("类别", "党员类别", "人员类别", "成员类别", "category"),
    "grid": ("所在网格", "网格", "所属网格", "网格名称", "grid"),
    "employer": ("工作单位", "所在单位", "单位", "employer"),
}
REQUIRED = ("name", "phone", "category", "grid")
# The header row is looked for among this many first non-empty rows (a title, a date line,
# a note may stand above it).
HEADER_SEARCH_ROWS = 20
# A row naming at least this many known columns is taken for a header missing the others.
_LIKELY_HEADER = 2

# Bounds of the readers (far above any real member list, far below what hurts the server).
MAX_CELL_CHARS = 1_000  # a cell's text beyond this is dropped (it is refused anyway)
MAX_COLUMNS = 200  # cells further right are ignored
MAX_CSV_LINE_CHARS = 64 * 1024
MAX_CSV_RECORD_CHARS = 256 * 1024
MAX_ZIP_DIRECTORY_BYTES = 1024 * 1024  # the zip's central directory (its list of parts)
MAX_ZIP_PARTS = 5_000
RATIO_GRACE_BYTES = 100 * 1024  # smaller parts cannot be bombs (Apache POI's grace, too)
MAX_XML_DEPTH = 64
MAX_XML_TOKEN_BYTES = 1024 * 1024  # a tag, comment or other token longer than this is refused
MAX_SHARED_STRINGS = 1_000_000
MAX_SHARED_STRING_BYTES = 32 * 1024 * 1024  # kept (each cut to MAX_CELL_CHARS)
_CHUNK = 64 * 1024


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a spreadsheet, a missing column, too big, ...)."""


class ImportLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The limits in force (from the settings, `GRIDPOINTS_IMPORT_*`)."""

    max_uncompressed_bytes: int = 50 * 1024 * 1024
    max_compression_ratio: int = 100
    max_rows: int = 50_000
    max_empty_rows: int = 1_000

    @classmethod
    def of(cls, settings: Any) -> ImportLimits:
        return cls(
            max_uncompressed_bytes=settings.import_max_uncompressed_bytes,
            max_compression_ratio=settings.import_max_compression_ratio,
            max_rows=settings.import_max_rows,
            max_empty_rows=settings.import_max_empty_rows,
        )


def is_xlsx(filename: str, data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx")


def read_table(
    filename: str, data: bytes, limits: ImportLimits | None = None
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (spreadsheet row number, {column key: text}) for every non-empty data row.

    The header is the first of the first `HEADER_SEARCH_ROWS` non-empty rows that names every
    required column (`header_columns`): title, date and blank rows above it and blank columns
    before it are skipped. Reading stops after `max_empty_rows` empty rows in a row; more
    than `max_rows` data rows refuse the file (before anything is imported)."""
    limits = limits or ImportLimits()
    rows = _xlsx_rows(data, limits) if is_xlsx(filename, data) else _csv_rows(data)
    columns: dict[str, int] | None = None
    header: list[str] = []
    # The rows read while looking for the header: their numbers and the columns they name.
    above: list[tuple[int, dict[str, int]]] = []
    count = previous = empty_run = 0
    for row_number, cells in rows:
        empty_run += max(row_number - previous - 1, 0)  # rows absent from the sheet
        previous = row_number
        texts = [_text(cell) for cell in cells]
        empty = not any(texts)
        empty_run += empty
        if empty_run >= limits.max_empty_rows:
            break  # a long run of empty rows: the table has ended
        if empty:
            continue
        empty_run = 0
        if columns is None:
            known = _known_columns(texts)
            above.append((row_number, known))
            if all(key in known for key in REQUIRED):
                columns, header = known, texts
            elif len(above) >= HEADER_SEARCH_ROWS:
                raise ImportFileError(_no_header(above))
            continue
        values = {key: texts[i] if i < len(texts) else "" for key, i in columns.items()}
        if not any(values.values()) or _repeats_header(values, header, columns):
            continue
        count += 1
        if count > limits.max_rows:
            raise ImportFileError(
                f"数据超过 {limits.max_rows} 行（第 {row_number} 行起超出），请分批导入"
            )
        yield row_number, values
    if columns is None:
        raise ImportFileError(_no_header(above) if above else "文件是空的")


# --- XLSX ---------------------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def inspect_xlsx(data: bytes, limits: ImportLimits) -> zipfile.ZipFile:
    """Open the upload's zip directory and refuse it, before any part is parsed, when it is
    not an XLSX or unpacks beyond the limits. The declared sizes bind: `zipfile` never yields
    more than a part declares (and a part that lies fails its CRC check)."""
    directory_size = _zip_directory_size(data)
    if directory_size is None:
        raise ImportFileError("不是有效的 XLSX 文件（无法读取压缩包）")
    if directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise ImportFileError("XLSX 文件包含的部件过多，无法导入")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError("不是有效的 XLSX 文件（无法读取压缩包）") from exc
    try:
        parts = package.infolist()
        if len(parts) > MAX_ZIP_PARTS:
            raise ImportFileError("XLSX 文件包含的部件过多，无法导入")
        total = sum(part.file_size for part in parts)
        if total > limits.max_uncompressed_bytes:
            raise ImportFileError(
                f"XLSX 文件解压后超过 {_mb(limits.max_uncompressed_bytes)}，无法导入；"
                "请删去多余的工作表和内容，或分批导入"
            )
        for part in parts:
            if part.file_size <= RATIO_GRACE_BYTES:
                continue
            if part.compress_size <= 0 or (
                part.file_size / part.compress_size > limits.max_compression_ratio
            ):
                raise ImportFileError(
                    f"XLSX 文件的压缩比异常（超过 {limits.max_compression_ratio} 倍），无法导入"
                )
        if not {"[content_types].xml"} <= {p.filename.casefold() for p in parts}:
            raise ImportFileError("不是有效的 XLSX 文件（缺少内容类型）")
        _Parts(package).workbook()  # refuses a package without a workbook
    except BaseException:
        package.close()
        raise
    return package


def _zip_directory_size(data: bytes) -> int | None:
    """The size of the zip's central directory from its end record (None: no zip)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65_535))
    if at < 0 or at + _EOCD.size > len(data):
        return None
    size = _EOCD.unpack_from(data, at)[5]
    if size == 0xFFFFFFFF or data[at - 20 : at - 16] == b"PK\x06\x07":
        record = at - 20 - _ZIP64_EOCD.size
        if record < 0 or data[record : record + 4] != b"PK\x06\x06":
            return None
        size = _ZIP64_EOCD.unpack_from(data, record)[8]
    return size


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _xlsx_rows(data: bytes, limits: ImportLimits) -> Iterator[tuple[int, list[str]]]:
    package = inspect_xlsx(data, limits)
    try:
        parts = _Parts(package)
        sheet, strings = parts.first_sheet()
        shared = _shared_strings(parts, strings) if strings else _SharedStrings()
        yield from _sheet_rows(parts, sheet, shared)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise ImportFileError("XLSX 文件已损坏，无法读取") from exc
    finally:
        package.close()


def _local(name: str) -> str:
    """An element or attribute name without its namespace (expat gives `uri name`)."""
    return name.rpartition(" ")[2]


Handler = Callable[..., Any]


class _Parts:
    """The parts of an open XLSX package, each parsed as a stream in bounded memory."""

    def __init__(self, package: zipfile.ZipFile) -> None:
        self.package = package
        self._names = {info.filename.casefold(): info.filename for info in package.infolist()}

    def name(self, path: str) -> str | None:
        return self._names.get(path.lstrip("/").casefold())

    def parse(self, path: str, **handlers: Callable[..., None]) -> None:
        """Parse a whole part (see `feed`)."""
        for _ in self.feed(path, **handlers):
            pass

    def feed(
        self,
        path: str,
        start: Callable[[str, dict[str, str]], None] | None = None,
        end: Callable[[str], None] | None = None,
        text: Callable[[str], None] | None = None,
    ) -> Iterator[None]:
        """Feed a part to expat a chunk at a time, yielding after each; handlers get local
        names. No DTD (so no entity expansion), no nesting deeper than `MAX_XML_DEPTH`, no
        token (a tag, a comment) longer than `MAX_XML_TOKEN_BYTES`."""
        name = self.name(path)
        if name is None:
            raise ImportFileError("XLSX 文件已损坏（缺少部件）")
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        depth = events = 0

        def on_start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal depth, events
            depth += 1
            events += 1
            if depth > MAX_XML_DEPTH:
                raise ImportFileError("XLSX 文件的结构异常（嵌套过深），无法导入")
            if start:
                start(_local(tag), attrs)

        def on_end(tag: str) -> None:
            nonlocal depth, events
            depth -= 1
            events += 1
            if end:
                end(_local(tag))

        def on_text(data: str) -> None:
            nonlocal events
            events += 1
            if text:
                text(data)

        def refuse_dtd(*_: Any) -> None:
            raise ImportFileError("XLSX 文件含有不支持的 DTD 声明，无法导入")

        parser.StartElementHandler = on_start
        parser.EndElementHandler = on_end
        parser.CharacterDataHandler = on_text
        parser.StartDoctypeDeclHandler = refuse_dtd
        parser.EntityDeclHandler = refuse_dtd
        quiet = 0  # bytes fed since the last event: what expat holds of one token
        try:
            with self.package.open(name) as stream:
                while chunk := stream.read(_CHUNK):
                    before = events
                    parser.Parse(chunk, False)
                    quiet = len(chunk) if events != before else quiet + len(chunk)
                    if quiet > MAX_XML_TOKEN_BYTES:
                        raise ImportFileError("XLSX 文件中有过长的内容，无法导入")
                    yield
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise ImportFileError(f"XLSX 文件已损坏（{path} 不是有效的 XML）") from exc

    def relationships(
        self, source: str, wanted: Callable[[str, str], bool]
    ) -> list[tuple[str, str, str]]:
        """The first few relationships of part `source` that `wanted(id, type)` keeps, as
        (id, type, target part)."""
        folder, base = posixpath.split(source.lstrip("/"))
        rels = posixpath.join(folder, "_rels", base + ".rels")
        found: list[tuple[str, str, str]] = []
        if self.name(rels) is None:
            return found

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag != "Relationship" or attrs.get("TargetMode") == "External":
                return
            rel_id, kind, target = attrs.get("Id", ""), attrs.get("Type", ""), attrs.get("Target")
            if target and len(found) < 16 and wanted(rel_id, kind):
                path = target if target.startswith("/") else posixpath.join(folder, target)
                found.append((rel_id, kind, posixpath.normpath(path).lstrip("/")))

        self.parse(rels, start=start)
        return found

    def workbook(self) -> str:
        found = self.relationships("/", lambda _id, kind: kind.endswith("/officeDocument"))
        path = found[0][2] if found else None
        if path is None or self.name(path) is None:
            raise ImportFileError("XLSX 文件中没有工作簿")
        return path

    def first_sheet(self) -> tuple[str, str | None]:
        """The first worksheet's part and the shared strings' part, if any."""
        book = self.workbook()
        sheet_ids: list[str] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "sheet" and len(sheet_ids) < 16:
                rel = next((v for k, v in attrs.items() if _local(k) == "id"), None)
                if rel:
                    sheet_ids.append(rel)

        self.parse(book, start=start)
        strings = next(
            iter(self.relationships(book, lambda _id, kind: kind.endswith("/sharedStrings"))),
            None,
        )
        strings_path = strings[2] if strings and self.name(strings[2]) else None
        for rel_id in sheet_ids:
            found = self.relationships(
                book, lambda i, kind, _id=rel_id: i == _id and kind.endswith("/worksheet")
            )
            if found and self.name(found[0][2]):
                return found[0][2], strings_path
        raise ImportFileError("XLSX 文件中没有工作表")


class _SharedStrings:
    """The shared strings, packed into one buffer (no object per string)."""

    def __init__(self) -> None:
        self._text = bytearray()
        self._ends = array("L")

    def add(self, text: str) -> None:
        if len(self._ends) >= MAX_SHARED_STRINGS:
            raise ImportFileError("XLSX 文件中的文字条目过多，无法导入")
        self._text += text[:MAX_CELL_CHARS].encode()
        if len(self._text) > MAX_SHARED_STRING_BYTES:
            raise ImportFileError("XLSX 文件中的文字过多，无法导入")
        self._ends.append(len(self._text))

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self._ends):
            raise ImportFileError("XLSX 文件已损坏（引用了不存在的文字条目）")
        start = self._ends[index - 1] if index else 0
        return self._text[start : self._ends[index]].decode()


class _Text:
    """Text gathered from the `t` elements of a string item or cell (not its phonetic runs),
    cut at `MAX_CELL_CHARS`."""

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.size = 0
        self.phonetic = 0
        self.in_t = False

    def start(self, tag: str) -> None:
        if tag == "rPh":
            self.phonetic += 1
        elif tag == "t" and not self.phonetic:
            self.in_t = True

    def end(self, tag: str) -> None:
        if tag == "rPh":
            self.phonetic -= 1
        elif tag == "t":
            self.in_t = False

    def add(self, data: str) -> None:
        if self.size < MAX_CELL_CHARS:
            piece = data[: MAX_CELL_CHARS - self.size]
            self.pieces.append(piece)
            self.size += len(piece)

    def take(self) -> str:
        text = "".join(self.pieces)
        self.pieces.clear()
        self.size = 0
        return text


def _shared_strings(parts: _Parts, path: str) -> _SharedStrings:
    strings = _SharedStrings()
    item: _Text | None = None

    def start(tag: str, _attrs: dict[str, str]) -> None:
        nonlocal item
        if tag == "si":
            item = _Text()
        elif item is not None:
            item.start(tag)

    def end(tag: str) -> None:
        nonlocal item
        if tag == "si" and item is not None:
            strings.add(item.take())
            item = None
        elif item is not None:
            item.end(tag)

    def text(data: str) -> None:
        if item is not None and item.in_t:
            item.add(data)

    parts.parse(path, start=start, end=end, text=text)
    return strings


_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d*)$")


def _column_index(ref: str | None, previous: int) -> int:
    """0-based column of a cell reference like `C5` (or the next column without one)."""
    match = _CELL_REF.match(ref or "")
    if not match:
        return previous + 1
    index = 0
    for letter in match.group(1).upper():
        index = index * 26 + ord(letter) - 64
    return index - 1


def _sheet_rows(
    parts: _Parts, path: str, shared: _SharedStrings
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) for each row element of the sheet, as the sheet is read."""
    ready: list[tuple[int, list[str]]] = []
    state: dict[str, Any] = {"row": 0, "cells": [], "col": -1, "type": "", "in_v": False}
    value = _Text()
    inline = _Text()

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            state["col"] = _column_index(attrs.get("r"), state["col"])
            state["type"] = attrs.get("t", "n")
        elif tag == "v":
            state["in_v"] = True
        elif tag == "row":
            number = attrs.get("r", "")
            state["row"] = int(number) if number.isdigit() and len(number) < 8 else state["row"] + 1
            state["cells"] = []
            state["col"] = -1
        else:
            inline.start(tag)

    def end(tag: str) -> None:
        if tag == "c":
            text = _cell_value(state["type"], value.take(), inline.take(), shared)
            col = state["col"]
            if text and 0 <= col < MAX_COLUMNS:
                cells: list[str] = state["cells"]
                cells.extend([""] * (col + 1 - len(cells)))
                cells[col] = text
        elif tag == "v":
            state["in_v"] = False
        elif tag == "row":
            ready.append((state["row"], state["cells"]))
        else:
            inline.end(tag)

    def text(data: str) -> None:
        if state["in_v"]:
            value.add(data)
        elif inline.in_t:
            inline.add(data)

    # expat pushes: the rows of each chunk are handed on before the next chunk is read.
    for _ in parts.feed(path, start=start, end=end, text=text):
        yield from ready
        ready.clear()
    yield from ready


def _cell_value(kind: str, value: str, inline: str, shared: _SharedStrings) -> str:
    if kind == "s":
        index = value.strip()
        if not index.isdigit() or len(index) > 9:
            raise ImportFileError("XLSX 文件已损坏（文字条目编号无效）")
        return shared[int(index)]
    if kind == "inlineStr":
        return inline
    if kind == "b":
        return "TRUE" if value.strip() == "1" else "FALSE"
    if kind == "n":
        return _number(value.strip())
    return value  # str (a formula's text), e (an error such as #N/A), d (an ISO date)


def _number(text: str) -> str:
    """A number as its integer digits when whole (phones are often stored as numbers)."""
    try:
        number = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return text
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


# --- CSV ----------------------------------------------------------------------------------


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(record number, fields), decoding and splitting a line at a time."""
    lines = _BoundedLines(io.TextIOWrapper(io.BytesIO(data), _csv_encoding(data), newline=""))
    reader = csv.reader(lines)
    number = 0
    while True:
        lines.record_chars = 0
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(
                f"第 {lines.number} 行无法读取（CSV 格式有误或内容过长）"
            ) from exc
        number += 1
        yield number, record


def _csv_encoding(data: bytes) -> str:
    # Excel in Chinese locales saves CSV as GB18030 (GBK); everything else sends UTF-8.
    view = memoryview(data)
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), _CHUNK):
                decoder.decode(view[start : start + _CHUNK])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise ImportFileError("无法识别文件编码，请保存为 UTF-8 的 CSV 或 XLSX")


class _BoundedLines:
    """The lines of a text stream, each and each record's at most a bounded length."""

    def __init__(self, stream: io.TextIOWrapper) -> None:
        self.stream = stream
        self.number = 0
        self.record_chars = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        line = self.stream.readline(MAX_CSV_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.number += 1
        self.record_chars += len(line)
        if len(line) > MAX_CSV_LINE_CHARS or self.record_chars > MAX_CSV_RECORD_CHARS:
            raise ImportFileError(f"第 {self.number} 行过长（超过 {MAX_CSV_LINE_CHARS} 个字符）")
        if "\x00" in line:
            raise ImportFileError("不是 CSV 或 XLSX 文件")
        return line


_NOTE = re.compile(r"\([^()]*\)$")
# Dropped from header cells: spaces of every kind, line breaks, control characters and
# format characters (zero-width spaces, direction marks).
_INVISIBLE_CATEGORIES = {"Cf", "Zs", "Zl", "Zp", "Cc"}


def _header_key(text: str) -> str:
    """A header cell as compared with `HEADERS`: NFKC (full-width letters, brackets and
    colons as ASCII), no spaces of any kind nor invisible marks, no `*` marking it required,
    no trailing colon, no bracketed note at the end (`手机号（必填）`), case folded."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)
    text = _NOTE.sub("", text.strip("*:"))
    return text.strip("*:").casefold()


_KEYS = {_header_key(name): key for key, names in HEADERS.items() for name in names}


def _known_columns(cells: list[str]) -> dict[str, int]:
    """column key -> index of the first cell of the row that names it."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _KEYS.get(_header_key(cell)) if cell else None
        if key is not None and key not in columns:
            columns[key] = index
    return columns


def _repeats_header(values: dict[str, str], header: list[str], columns: dict[str, int]) -> bool:
    """A data row that is the header again (a sheet printed with a header on every page)."""
    return all(_header_key(values[key]) == _header_key(header[i]) for key, i in columns.items())


def _no_header(rows: list[tuple[int, dict[str, int]]]) -> str:
    """Why no header was found among `rows`: the likeliest row and the columns it lacks, or
    the columns sought and the rows read."""
    best_row, best = 0, {}
    for row_number, known in rows:
        if len(known) > len(best):
            best_row, best = row_number, known
    missing = "、".join(HEADERS[key][0] for key in REQUIRED if key not in best)
    if len(best) >= _LIKELY_HEADER:
        return f"缺少列：{missing}（表头在第 {best_row} 行）"
    sought = "、".join(HEADERS[key][0] for key in REQUIRED)
    first, last = rows[0][0], rows[-1][0]
    read = f"第 {first} 行" if first == last else f"第 {first}–{last} 行"
    return (
        f"没有找到表头行：在有内容的前 {len(rows)} 行（{read}）中，没有一行同时包含这些列：{sought}"
    )


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()
