"""Peak memory of the member import on hostile uploads, against a small valid file.

    python bench/import_memory.py [--keep]

Each input is written to a temporary folder, then imported by `gridpoints import-members`
(the import job, run in its own process on a fresh SQLite database) and the peak resident
memory of that process is printed (`os.wait4`: the child's own `ru_maxrss`), beside:

- `bare`: a process that only imports the import job's modules;
- `valid`: the import of a small valid XLSX (three members).

Every input is at most `GRIDPOINTS_UPLOAD_MAX_BYTES` (10 MB) on disk. Target: every import
stays under 200 MB, refused or not. The reported input is `shared-string-100mb`: a 100 KB XLSX
whose `xl/sharedStrings.xml` holds one string of 100 MB of "A" (past 700 MB on the old code).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

HEADER = ["姓名", "手机号", "类别", "所在网格", "工作单位"]
LIMIT_MB = 200
UPLOAD_MAX = 10 * 1024 * 1024
MB = 1024 * 1024

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RNS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# ---------------------------------------------------------------------------------------------
# Inputs. Each writes one file and returns nothing; parts are streamed into the zip, so making
# a 100 MB part does not need 100 MB here.


def valid_xlsx(grid: str = "A1") -> bytes:
    """A small workbook as Excel users send it (written by openpyxl)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for n in range(3):
        sheet.append([f"队员{n}", f"1390000{n:04d}", "居民党员", grid, ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


Chunks = Callable[[], Iterator[bytes]]


def _package(
    path: Path,
    *,
    sheets: int = 1,
    sheet: Chunks | None = None,
    shared: Chunks | None = None,
    styles: Chunks | None = None,
) -> None:
    """A minimal SpreadsheetML package: the first sheet (and the shared strings and styles,
    when given) come from the chunk generators; further sheets are small copies."""
    first_sheet = sheet or (
        lambda: iter(
            [
                f'<worksheet {_NS}><sheetData><row r="1">'.encode(),
                *(
                    f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'.encode()
                    for c, h in zip("ABCDE", HEADER, strict=True)
                ),
                b"</row></sheetData></worksheet>",
            ]
        )
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    extra_types = "".join(
        f'<Override PartName="/xl/{part}.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.{kind}+xml"/>'
        for part, kind, given in (
            ("sharedStrings", "sharedStrings", shared),
            ("styles", "styles", styles),
        )
        if given
    )
    types = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}{extra_types}</Types>"
    )
    rels = (
        f'<Relationships xmlns="{_PKG_RELS}"><Relationship Id="rId1" '
        f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    book_sheets = "".join(
        f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, sheets + 1)
    )
    book = f"<workbook {_NS} {_RNS}><sheets>{book_sheets}</sheets></workbook>"
    book_rels = [
        f'<Relationship Id="rId{n}" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    ]
    if shared:
        book_rels.append(
            f'<Relationship Id="rIdS" Type="{_DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        )
    if styles:
        book_rels.append(f'<Relationship Id="rIdT" Type="{_DOC_RELS}/styles" Target="styles.xml"/>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", types)
        package.writestr("_rels/.rels", rels)
        package.writestr("xl/workbook.xml", book)
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG_RELS}">{"".join(book_rels)}</Relationships>',
        )
        for name, chunks in (
            ("xl/worksheets/sheet1.xml", first_sheet),
            ("xl/sharedStrings.xml", shared),
            ("xl/styles.xml", styles),
        ):
            if chunks is None:
                continue
            with package.open(name, "w", force_zip64=True) as part:
                for chunk in chunks():
                    part.write(chunk)
        small = f'<worksheet {_NS}><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        for n in range(2, sheets + 1):
            package.writestr(f"xl/worksheets/sheet{n}.xml", small + "</sheetData></worksheet>")


def _rows_referencing_string(index: int) -> Chunks:
    def chunks() -> Iterator[bytes]:
        yield f'<worksheet {_NS}><sheetData><row r="1">'.encode()
        for c, h in zip("ABCDE", HEADER, strict=True):
            yield f'<c r="{c}1" t="inlineStr"><is><t>{h}</t></is></c>'.encode()
        yield f'</row><row r="2"><c r="A2" t="s"><v>{index}</v></c></row>'.encode()
        yield b"</sheetData></worksheet>"

    return chunks


def shared_string_100mb(path: Path) -> None:
    """The reported input: one shared string of 100 MB of "A" (about 100 KB zipped)."""

    def shared() -> Iterator[bytes]:
        yield f'<sst {_NS} count="1" uniqueCount="1"><si><t>'.encode()
        block = b"A" * MB
        for _ in range(100):
            yield block
        yield b"</t></si></sst>"

    _package(path, sheet=_rows_referencing_string(0), shared=shared)


def _noisy_text(rng: random.Random, size: int, astral: bool) -> bytes:
    """ASCII text that compresses about 5:1 (under any ratio limit), with one character
    outside the BMP so Python stores it at 4 bytes a character."""
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=6)) for _ in range(16)]
    out = bytearray("😀".encode() if astral else b"")
    while len(out) < size:
        out += rng.choice(words)
        if rng.random() < 0.1:
            out += bytes([rng.randrange(97, 123)])
    return bytes(out[:size])


def shared_strings_many(path: Path) -> None:
    """Millions of distinct short shared strings, under the uncompressed and ratio limits
    (a Python string object costs far more than its XML)."""

    def shared() -> Iterator[bytes]:
        yield f"<sst {_NS}>".encode()
        for start in range(0, 2_400_000, 10_000):
            yield b"".join(b"<si><t>%x</t></si>" % n for n in range(start, start + 10_000))
        yield b"</sst>"

    _package(path, sheet=_rows_referencing_string(1), shared=shared)


def shared_strings_wide(path: Path) -> None:
    """A few thousand long shared strings (1 char outside the BMP each: 4 bytes a character
    in Python), about 45 MB of XML compressing about 5:1."""
    rng = random.Random(7)
    pool = _noisy_text(rng, 2 * MB, astral=False)

    def shared() -> Iterator[bytes]:
        yield f"<sst {_NS}>".encode()
        for n in range(1_500):
            start = rng.randrange(len(pool) - 32_000)
            text = pool[start : start + 29_000 + n % 997]
            yield "<si><t>😀".encode() + text + b"%d</t></si>" % n
        yield b"</sst>"

    _package(path, sheet=_rows_referencing_string(2), shared=shared)


def long_cells(path: Path) -> None:
    """Many rows whose cells are long inline strings (about 45 MB of sheet XML)."""
    rng = random.Random(11)
    pool = _noisy_text(rng, 2 * MB, astral=False)

    def text(size: int) -> bytes:
        start = rng.randrange(len(pool) - size)
        return "😀".encode() + pool[start : start + size]

    def sheet() -> Iterator[bytes]:
        parts = list(_rows_referencing_string(0)())
        yield b"".join(parts[:6]) + b"</row>"
        for r in range(2, 300):
            cells = b"".join(
                b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>'
                % (c, r, text(25_000 + (r * 7 + i) % 5000))
                for i, c in enumerate((b"A", b"B", b"C", b"D", b"E", b"F"))
            )
            yield b'<row r="%d">%s</row>' % (r, cells)
        yield b"</sheetData></worksheet>"

    _package(path, sheet=sheet)


def one_huge_row(path: Path, batches: int = 250) -> None:
    """One row holding millions of small cells (about 45 MB of sheet XML; 10,000 cells a
    batch)."""
    rng = random.Random(3)

    def sheet() -> Iterator[bytes]:
        parts = list(_rows_referencing_string(0)())
        yield b"".join(parts[:6]) + b'</row><row r="2">'
        for _ in range(batches):
            yield b"".join(b"<c><v>%d</v></c>" % rng.randrange(10**6) for _ in range(10_000))
        yield b"</row></sheetData></worksheet>"

    _package(path, sheet=sheet)


def many_rows(path: Path) -> None:
    """Rows past the row limit: 300,000 short members."""

    def sheet() -> Iterator[bytes]:
        parts = list(_rows_referencing_string(0)())
        yield b"".join(parts[:6]) + b"</row>"
        for start in range(2, 300_002, 1000):
            yield b"".join(
                b'<row r="%d"><c t="inlineStr"><is><t>m%d</t></is></c>'
                b"<c><v>139%08d</v></c></row>" % (r, r, r)
                for r in range(start, start + 1000)
            )
        yield b"</sheetData></worksheet>"

    _package(path, sheet=sheet)


def empty_rows_far(path: Path) -> None:
    """A header, then a cell at the last row and column Excel allows (1048576, XFD)."""

    def sheet() -> Iterator[bytes]:
        parts = list(_rows_referencing_string(0)())
        yield b'<worksheet %s><dimension ref="A1:XFD1048576"/><sheetData><row r="1">' % _NS.encode()
        yield b"".join(parts[1:6]) + b"</row>"
        yield b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        yield b"</sheetData></worksheet>"

    _package(path, sheet=sheet)


def many_styles(path: Path) -> None:
    """A style sheet of 750,000 cell formats (about 47 MB of XML)."""
    rng = random.Random(5)

    def styles() -> Iterator[bytes]:
        yield b'<styleSheet %s><cellXfs count="750000">' % _NS.encode()
        for _ in range(75):
            yield b"".join(
                b'<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" xfId="0"/>'
                % rng.randrange(10**5)
                for _ in range(10_000)
            )
        yield b"</cellXfs></styleSheet>"

    _package(path, styles=styles)


def many_sheets(path: Path) -> None:
    """Thirty thousand sheets."""
    _package(path, sheets=30_000)


def csv_long_field(path: Path) -> None:
    """A CSV whose one field is 9 MB long."""
    path.write_bytes(",".join(HEADER).encode() + b"\r\n" + b"x" * (9 * MB) + b",13900000001,\r\n")


def csv_wide_row(path: Path) -> None:
    """A CSV row of three million short fields."""
    path.write_bytes(",".join(HEADER).encode() + b"\r\n" + b"ab," * 3_000_000 + b"\r\n")


INPUTS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "shared-string-100mb": (".xlsx", shared_string_100mb),
    "shared-strings-many": (".xlsx", shared_strings_many),
    "shared-strings-wide": (".xlsx", shared_strings_wide),
    "long-cells": (".xlsx", long_cells),
    "one-huge-row": (".xlsx", one_huge_row),
    "many-rows": (".xlsx", many_rows),
    "empty-rows-far": (".xlsx", empty_rows_far),
    "many-styles": (".xlsx", many_styles),
    "many-sheets": (".xlsx", many_sheets),
    "csv-long-field": (".csv", csv_long_field),
    "csv-wide-row": (".csv", csv_wide_row),
}


# ---------------------------------------------------------------------------------------------
# Measuring.


# The measured command runs under a small launcher: Linux carries a process's peak memory
# across fork and exec (the parent's, for a child forked by a big process such as pytest), so
# the launcher, small itself, forks the command and reads that child's own peak (`wait4`).
_LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}")
"""


def peak_of(
    command: list[str], env: dict[str, str], timeout: float = 300
) -> tuple[int, float, str]:
    """Run `command`; its exit code, its own peak resident memory in MB, and its output."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "usage"
        with open(Path(folder) / "output", "w+b") as out:
            subprocess.run(
                [sys.executable, "-c", _LAUNCHER, str(report), *command],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
            out.seek(0)
            text = out.read().decode(errors="replace")
        code, peak_kb = report.read_text().split()
    return int(code), int(peak_kb) / 1024, text  # ru_maxrss is in KiB on Linux


def gridpoints_env(var_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDPOINTS_", "DATABASE_"))}
    env.pop("REDIS_URL", None)
    env["GRIDPOINTS_VAR_DIR"] = str(var_dir)
    env["DATABASE_URL"] = database_url or f"sqlite:///{var_dir / 'gridpoints.sqlite3'}"
    env.update(extra)
    return env


def gridpoints_command() -> list[str]:
    return [sys.executable, "-c", "from gridpoints.cli import main; main()"]


BARE = "import gridpoints.cli, gridpoints.members.roster_import.job, gridpoints.jobs.runner"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("only", nargs="*", help="names of inputs to run (default: all)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridpoints-import-bench-"))
    env = gridpoints_env(folder / "var", GRIDPOINTS_ADMIN_PASSWORD="Bench-import-pass-2026")
    command = gridpoints_command()
    for step in (
        ["migrate"],
        [
            "bootstrap",
            "--top-name=测试街道",
            "--community-name=测试社区",
            "--admin-name=管理员",
            "--admin-phone=13800000000",
        ],
    ):
        done = subprocess.run([*command, *step], env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{step[0]} failed:\n{done.stdout}\n{done.stderr}")
    unit = "2"  # the community made by bootstrap

    rows: list[tuple[str, int, float, str]] = []
    code, peak, _ = peak_of([sys.executable, "-c", BARE], env)
    rows.append(("bare (imports only)", 0, peak, "exit 0" if code == 0 else f"exit {code}"))
    valid = folder / "valid.xlsx"
    valid.write_bytes(valid_xlsx("测试社区"))
    names = args.only or list(INPUTS)
    files = [("valid", valid)]
    for name in names:
        suffix, make = INPUTS[name]
        path = folder / f"{name}{suffix}"
        make(path)
        files.append((name, path))
    for name, path in files:
        started = time.monotonic()
        code, peak, text = peak_of([*command, "import-members", str(path), "--org-unit", unit], env)
        seconds = time.monotonic() - started
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "%" not in ln[:5]]
        outcome = next((ln for ln in lines if ln.startswith(("导入", "Error"))), lines[-1:])
        raised = [ln for ln in lines if ln.split(":")[0].endswith(("Error", "Exception"))]
        if raised:  # the job's log names what went wrong
            outcome = f"{outcome} [{raised[-1][:60]}]"
        rows.append((name, path.stat().st_size, peak, f"{seconds:5.1f}s  {outcome}"[:110]))
        if path.stat().st_size > UPLOAD_MAX:
            rows[-1] = (*rows[-1][:3], rows[-1][3] + "  (OVER THE UPLOAD LIMIT)")
    print(f"{'input':<22} {'file':>10} {'peak RSS':>10}  outcome")
    for name, size, peak, outcome in rows:
        flag = "" if peak < LIMIT_MB else "  <-- over 200 MB"
        size_text = f"{size / 1024:,.0f} KB" if size else "-"
        print(f"{name:<22} {size_text:>10} {peak:>7.0f} MB  {outcome}{flag}")
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {folder}")


if __name__ == "__main__":
    main()
