"""A sheet's header mapped to catalogue fields: our names (``telegram_number`` or ``telegram-number``) or
their Dublin Core equivalents (``dc.title``), as Archivematica's ``metadata.csv`` names them.

Several values: ``copies`` (the one list field) takes repeated columns or ``|``-separated values, each
written as on ``ingest --copies``: ``Stalin (2)``. A single-valued field named by several columns must
get one value.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from provenance.batch.problems import SheetProblem, SheetProblemCode
from provenance.model.catalogue import CATALOGUE_FIELDS
from provenance.model.copies import parse_copies

FILENAME = "filename"
# Columns that are not catalogue fields: the file (relative to the folder), the record id, the profile and
# the text encoding of the file.
CONTROL_COLUMNS = (FILENAME, "id", "profile", "encoding")
LIST_FIELDS = frozenset({"copies"})

# Dublin Core elements (DCMI Metadata Terms, the 15 of the element set) that have a catalogue field.
DUBLIN_CORE = {
    "dc.title": "title",
    "dc.creator": "author",
    "dc.date": "sent",
    "dc.source": "source",
    "dc.rights": "rights",
    "dc.language": "language",
    "dc.identifier": "id",
    "dc.type": "document_type",
    "dc.publisher": "issuing_body",
    "dc.coverage": "origin",
}
ALIASES = {"file": FILENAME, "path": FILENAME, "record": "id"}


def known_names() -> list[str]:
    return [*CONTROL_COLUMNS, *CATALOGUE_FIELDS, *DUBLIN_CORE]


def field_for(header: str) -> str | None:
    """The field a header names, or None: case, spaces and dashes do not matter (``Telegram-Number``)."""
    name = header.strip().lower()
    if name in DUBLIN_CORE:
        return DUBLIN_CORE[name]
    if name.startswith("dcterms."):
        return DUBLIN_CORE.get("dc." + name[len("dcterms.") :])
    name = re.sub(r"[\s-]+", "_", name)
    name = ALIASES.get(name, name)
    if name in CONTROL_COLUMNS or name in CATALOGUE_FIELDS:
        return name
    return None


@dataclass(frozen=True)
class ColumnMap:
    """Which field each column of the sheet gives (None: an empty header with no value under it)."""

    fields: list[str | None]
    names: list[str]  # the header as written, for messages

    def column_name(self, index: int, letters: bool) -> str:
        name = self.names[index] if index < len(self.names) else ""
        if not letters:
            return name or f"column {index + 1}"
        from provenance.batch.sheet import column_letter

        return f"{name} ({column_letter(index + 1)})" if name else column_letter(index + 1)


def map_header(header: list[str], *, letters: bool = False) -> tuple[ColumnMap, list[SheetProblem]]:
    """Map every column; unknown names are problems naming the closest known names."""
    problems: list[SheetProblem] = []
    fields: list[str | None] = []
    for raw in header:
        name = raw.strip()
        if not name:
            fields.append(None)
            continue
        target = field_for(name)
        if target is None:
            close = difflib.get_close_matches(name.lower(), known_names(), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(known_names())}"
            problems.append(
                SheetProblem(
                    SheetProblemCode.COLUMN_UNKNOWN,
                    f"column {name!r} names no catalogue field{hint}",
                    row=1,
                    column=name,
                    value=name,
                )
            )
        fields.append(target)
    if FILENAME not in fields and not problems:
        problems.append(
            SheetProblem(
                SheetProblemCode.COLUMN_MISSING,
                "no 'filename' column: each row names its file relative to the folder (as in Archivematica's "
                "metadata.csv)",
                row=1,
            )
        )
    elif FILENAME not in fields:
        problems.append(SheetProblem(SheetProblemCode.COLUMN_MISSING, "no 'filename' column", row=1))
    return ColumnMap(fields=fields, names=[h.strip() for h in header]), problems


@dataclass
class RowValues:
    """One row read through the column map: control values and catalogue overrides."""

    number: int
    filename: str
    record_id: str | None
    profile: str | None
    encoding: str | None
    overrides: dict[str, Any]


def _cell_problem(code: SheetProblemCode, why: str, row: int, column: str, value: str) -> SheetProblem:
    """A problem of one cell: its row, its column's name and (the first 200 characters of) its value."""
    return SheetProblem(code, why, row=row, column=column, value=value[:200])


def read_row(
    number: int, cells: list[str], columns: ColumnMap, *, letters: bool
) -> tuple[RowValues | None, list[SheetProblem]]:
    """The row's values, or its problems (a value under no header, one field given two values)."""
    problems: list[SheetProblem] = []
    single: dict[str, tuple[str, int]] = {}
    copies: list[dict[str, Any]] = []
    for index, cell in enumerate(cells):
        value = cell.strip()
        if not value:
            continue
        target = columns.fields[index] if index < len(columns.fields) else None
        if target is None:
            if index >= len(columns.fields) or not columns.names[index]:
                where = columns.column_name(index, letters)
                why = f"row {number}: a value in {where}, which has no header"
                problems.append(_cell_problem(SheetProblemCode.COLUMN_UNKNOWN, why, number, where, value))
            continue
        if target in LIST_FIELDS:
            copies.extend(parse_copies(value))
            continue
        if target in single and single[target][0] != value:
            first = single[target][1]
            where = columns.column_name(index, letters)
            why = (
                f"row {number}: {target} is given twice ({columns.column_name(first, letters)}: "
                f"{single[target][0][:80]!r}, {where}: {value[:80]!r}); it takes one value"
            )
            problems.append(_cell_problem(SheetProblemCode.COLUMN_DUPLICATE, why, number, where, value))
            continue
        single[target] = (value, index)
    if problems:
        return None, problems
    filename = single.pop(FILENAME, ("", 0))[0]
    record_id = single.pop("id", (None, 0))[0]
    profile = single.pop("profile", (None, 0))[0]
    encoding = single.pop("encoding", (None, 0))[0]
    overrides: dict[str, Any] = {name: value for name, (value, _) in single.items()}
    if copies:
        overrides["copies"] = copies
    return RowValues(number, filename, record_id, profile, encoding, overrides), []
