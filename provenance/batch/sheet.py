"""Reading a catalogue sheet: CSV (UTF-8, a BOM allowed, quoted newlines kept) or XLSX (``openpyxl``, the
``xlsx`` extra). Every cell becomes text; empty rows are skipped and said; nothing is guessed silently.

Rows are numbered as a spreadsheet numbers them: the header is row 1, a CSV record spanning several lines
(a quoted newline) is one row.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.batch.problems import SheetProblem, SheetProblemCode, SheetRefusedError
from provenance.ingest.decoding import UndecodableError, decode

MAX_SHEET_BYTES = 256 * 1024 * 1024
MAX_ROWS = 100_000  # rows below the header; a larger collection is split into several sheets
_BOM = b"\xef\xbb\xbf"


@dataclass
class Sheet:
    """A sheet as text: its header, its non-empty rows (sheet row number, cells) and what was noticed."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]
    notices: list[str] = field(default_factory=list)
    letters: bool = False  # XLSX: messages name columns by letter as well


def read_sheet(path: Path, encoding: str | None = None) -> Sheet:
    """Read ``path`` by its suffix (``.csv``, ``.tsv``, ``.txt`` or ``.xlsx``).

    Raises ``SheetRefusedError`` with every problem found while reading; ``ProvenanceError`` (input.not-found,
    dependency.missing).
    """
    from provenance.errors import ErrorCode, NotFoundError

    if not path.is_file():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{path}: no such catalogue sheet", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path)
    if suffix == ".xls":
        raise SheetRefusedError(
            [
                SheetProblem(
                    SheetProblemCode.SHEET_UNREADABLE,
                    f"{path.name}: the old binary .xls format is not "
                    "read; save the sheet as .xlsx or as CSV (UTF-8)",
                )
            ]
        )
    return read_csv(path, encoding)


def guess_encoding(data: bytes) -> str:
    """A name for the likely encoding of bytes that are not UTF-8: CP1251 when the high bytes read as
    Cyrillic letters there, else Latin-1 (Windows-1252). A hint in a message, never used to decode."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    high = [b for b in data if b >= 0x80]
    cyrillic = sum(1 for b in high if b >= 0xC0 or b in (0xA8, 0xB8))
    return "cp1251" if high and cyrillic / len(high) > 0.7 else "latin-1"


_ENCODING_WORDS = {
    "cp1251": "CP1251 (Windows Cyrillic)",
    "latin-1": "Latin-1 (ISO 8859-1 / Windows-1252)",
    "utf-16": "UTF-16",
}


def read_csv(path: Path, encoding: str | None = None) -> Sheet:
    """A CSV sheet; refused when not UTF-8 unless ``encoding`` names its encoding."""
    try:
        if path.stat().st_size > MAX_SHEET_BYTES:
            raise SheetRefusedError(
                [
                    SheetProblem(
                        SheetProblemCode.SHEET_TOO_LARGE, f"{path.name}: larger than 256 MiB; split the sheet"
                    )
                ]
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SheetRefusedError(
            [SheetProblem(SheetProblemCode.SHEET_UNREADABLE, f"{path.name}: cannot read: {exc.strerror}")]
        ) from exc
    notices: list[str] = []
    if data.startswith(_BOM) and encoding in (None, "utf-8", "utf8", "utf-8-sig"):
        data = data[len(_BOM) :]
        notices.append(f"{path.name}: a UTF-8 byte order mark (BOM) at the start was skipped")
    codec = encoding or "utf-8"
    try:
        text = decode(data, codec)
    except UndecodableError as exc:
        guess = guess_encoding(data)
        raise SheetRefusedError(
            [
                SheetProblem(
                    SheetProblemCode.SHEET_ENCODING,
                    f"{path.name} is not {codec} ({exc.where}); it "
                    f"looks like {_ENCODING_WORDS[guess]}: give --encoding {guess}, or save the sheet as CSV UTF-8",
                    row=exc.line,
                    value=guess,
                )
            ]
        ) from None
    if encoding is not None:
        notices.append(f"{path.name}: read as {encoding}, as --encoding asked")
    if "\x00" in text:
        raise SheetRefusedError(
            [
                SheetProblem(
                    SheetProblemCode.SHEET_UNREADABLE,
                    f"{path.name} holds NUL characters: not a CSV text file",
                )
            ]
        )
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count) if path.suffix.lower() != ".tsv" else "\t"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = _Rows(path.name, blank_header=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            problem = rows.take(number, cells)
            if problem is not None:
                raise SheetRefusedError([problem])
    except csv.Error as exc:
        raise SheetRefusedError(
            [
                SheetProblem(
                    SheetProblemCode.SHEET_UNREADABLE,
                    f"{path.name}: not a well-formed CSV near row {number + 1} (line {reader.line_num}): {exc}",
                    row=number + 1,
                )
            ]
        ) from None
    header = rows.header
    if header is None or not any(h.strip() for h in header):
        raise SheetRefusedError([SheetProblem(SheetProblemCode.SHEET_EMPTY, f"{path.name}: no header row")])
    return Sheet(path=path, header=header, rows=rows.rows, notices=notices + rows.notices())


@dataclass
class _Rows:
    """A sheet's rows as read, CSV or XLSX alike: the header row, the rows below it, the empty rows skipped.

    ``blank_header``: the first row is the header even when it is blank (CSV); else the first row with a
    value is (XLSX, where a sheet may start lower down).
    """

    name: str
    blank_header: bool
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    empty: list[int] = field(default_factory=list)

    def take(self, number: int, cells: list[str]) -> SheetProblem | None:
        """Take row ``number``; the problem when it is one past :data:`MAX_ROWS` (the caller stops there)."""
        if self.header is None:
            if self.blank_header or any(c.strip() for c in cells):
                self.header = cells
            return None
        if not any(c.strip() for c in cells):
            self.empty.append(number)
            return None
        if len(self.rows) >= MAX_ROWS:
            return SheetProblem(
                SheetProblemCode.SHEET_TOO_LARGE,
                f"{self.name}: more than {MAX_ROWS:,} rows (row {number} is one too many); split the sheet",
                row=number,
            )
        self.rows.append((number, cells))
        return None

    def notices(self) -> list[str]:
        if not self.empty:
            return []
        shown = ", ".join(str(n) for n in self.empty[:10])
        more = f" and {len(self.empty) - 10} more" if len(self.empty) > 10 else ""
        return [f"{self.name}: {len(self.empty)} empty row(s) skipped (row {shown}{more})"]


def cell_text(value: Any) -> str:
    """An XLSX cell value as catalogue text: integers without ``.0``, dates as ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def read_xlsx(path: Path) -> Sheet:
    """The first worksheet of an XLSX file. Formulas give their cached values (and that is said); merged
    cells are refused (a merged value would silently hold for several rows, or for one)."""
    from provenance.errors import ErrorCode, UnavailableError

    try:
        import openpyxl
        from openpyxl.utils import get_column_letter
    except ImportError:
        raise UnavailableError(
            ErrorCode.DEPENDENCY_MISSING,
            "reading an .xlsx sheet needs the xlsx extra: pip install 'provenance[xlsx]' (openpyxl); "
            "or save the sheet as CSV (UTF-8)",
        ) from None
    import warnings
    import zipfile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it does not read
            values_book = openpyxl.load_workbook(path, data_only=True)
            formula_book = openpyxl.load_workbook(path, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise SheetRefusedError(
            [
                SheetProblem(
                    SheetProblemCode.SHEET_UNREADABLE, f"{path.name}: not a readable .xlsx workbook ({exc})"
                )
            ]
        ) from None
    values, formulas = values_book.worksheets[0], formula_book.worksheets[0]
    notices: list[str] = []
    if len(values_book.worksheets) > 1:
        notices.append(f"{path.name}: only the first worksheet ({values.title!r}) was read")
    problems = [
        SheetProblem(
            SheetProblemCode.SHEET_MERGED_CELLS,
            f"{path.name}: cells {merged.coord} are merged; a merged value would stand for several rows or "
            "columns: unmerge them and fill in each cell",
            row=merged.min_row,
            value=merged.coord,
        )
        for merged in sorted(values.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col))
    ]
    rows = _Rows(path.name, blank_header=False)
    formula_cells: list[str] = []
    for (number, value_row), formula_row in zip(
        enumerate(values.iter_rows(values_only=True), start=1),
        formulas.iter_rows(values_only=True),
        strict=False,
    ):
        cells = []
        for col, (value, written) in enumerate(zip(value_row, formula_row, strict=False), start=1):
            if isinstance(written, str) and written.startswith("="):
                where = f"{get_column_letter(col)}{number}"
                if value is None:
                    problems.append(
                        SheetProblem(
                            SheetProblemCode.SHEET_UNREADABLE,
                            f"{path.name}: cell {where} holds the formula {written} with no saved value; open and save "
                            "the sheet in a spreadsheet program, or type the value",
                            row=number,
                            value=written,
                        )
                    )
                formula_cells.append(where)
            cells.append(cell_text(value))
        problem = rows.take(number, cells)
        if problem is not None:
            problems.append(problem)
            break
    header = rows.header
    if header is None:
        problems.append(SheetProblem(SheetProblemCode.SHEET_EMPTY, f"{path.name}: no header row"))
    if problems:
        raise SheetRefusedError(problems)
    assert header is not None
    if formula_cells:
        shown = ", ".join(formula_cells[:10]) + (
            f" and {len(formula_cells) - 10} more" if len(formula_cells) > 10 else ""
        )
        notices.append(
            f"{path.name}: {len(formula_cells)} formula cell(s) read as their saved values ({shown})"
        )
    notices += rows.notices()
    width = len(header)
    while width and not header[width - 1].strip():
        width -= 1
    header = header[:width]
    return Sheet(path=path, header=header, rows=rows.rows, notices=notices, letters=True)


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 1-based column number (1 → A, 28 → AB)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
