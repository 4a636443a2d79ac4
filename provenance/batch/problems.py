"""What a catalogue sheet can be refused for: one problem per row and column, every one reported at once."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SheetProblemCode(StrEnum):
    """Stable codes of a sheet's problems (README, "Registering a collection")."""

    SHEET_UNREADABLE = "sheet.unreadable"  # not a CSV/XLSX that can be opened
    SHEET_ENCODING = "sheet.encoding"  # a CSV that is not UTF-8 (the likely encoding named)
    SHEET_EMPTY = "sheet.empty"  # no header, or no row
    SHEET_TOO_LARGE = "sheet.too-large"  # more rows or bytes than a sheet may hold
    SHEET_MERGED_CELLS = (
        "sheet.merged-cells"  # an XLSX range of merged cells (whose value holds for which row?)
    )
    COLUMN_UNKNOWN = "column.unknown"  # a header that names no field (the closest names given)
    COLUMN_MISSING = "column.missing"  # no filename column
    COLUMN_DUPLICATE = "column.duplicate"  # a single-valued field named twice with different values
    ROW_NO_FILE = "row.file-missing"  # a row whose file is not in the folder
    ROW_PATH_UNSAFE = "row.path-unsafe"  # a filename that escapes the folder or cannot be stored
    ROW_DUPLICATE_ID = "row.duplicate-id"  # two rows that would make the same record
    ROW_DUPLICATE_FILE = "row.duplicate-file"  # two rows for one file
    ROW_NOT_UTF8 = "row.not-utf8"  # the file is not UTF-8 (give an encoding column)
    ROW_EMPTY_FILE = "row.empty-file"  # the file is empty
    ROW_SCHEMA = "row.schema"  # a value the catalogue schema refuses (the field named)
    ROW_ID_INVALID = "row.id-invalid"  # an id that is not a record id
    ROW_PROFILE = "row.profile"  # profile telegram on a text without a telegram header
    FILE_NO_ROW = "file.no-row"  # a file in the folder no row names
    ROW_CONFLICT = "row.conflict"  # an existing record with that id holds other content (never overwritten)


@dataclass(frozen=True)
class SheetProblem:
    """One problem: where (sheet row as a spreadsheet numbers it, the header being row 1; column), the
    value found, and why it is refused."""

    code: SheetProblemCode
    why: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": str(self.code), "message": self.why}
        if self.row is not None:
            out["row"] = self.row
        if self.column is not None:
            out["column"] = self.column
        if self.value is not None:
            out["value"] = self.value
        return out


class SheetRefusedError(Exception):
    """A sheet that cannot be read at all (its problems so far in ``problems``)."""

    def __init__(self, problems: list[SheetProblem]) -> None:
        super().__init__(problems[0].why if problems else "sheet refused")
        self.problems = problems


def sheet_problem(
    code: SheetProblemCode,
    why: str,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
) -> SheetProblem:
    """A problem of the sheet, the value found cut to its first 300 characters."""
    return SheetProblem(code, why, row=row, column=column, value=None if value is None else value[:300])
