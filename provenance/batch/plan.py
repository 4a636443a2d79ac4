"""Validating a collection before anything is written, then registering it one atomic record at a time.

Validation (:func:`make_plan`) reads the sheet and every file it names, works out each record's id and
initial state exactly as ``ingest`` does, and collects every problem (row, column, value, why). A record
already in the archive is *present* when its registration signed the same initial state (same file bytes,
catalogue and notes: the state digest of event 1), and a *conflict* otherwise: it is never overwritten.

Registration (:func:`run_plan`) stages the records as ``ingest`` does and commits them in groups (one flush
for the group, then each record renamed into place on its own: :mod:`provenance.batch.commit`), so an
interrupted batch leaves whole records only, and running it again registers what is missing.
"""

from __future__ import annotations

import json
import os
import stat
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from provenance.archive import MANIFEST_NAME, Archive
from provenance.batch.columns import FILENAME, ColumnMap, RowValues, map_header, read_row
from provenance.batch.problems import SheetProblem, SheetProblemCode, SheetRefusedError, sheet_problem
from provenance.batch.sheet import Sheet, read_sheet
from provenance.errors import ErrorCode, ProvenanceError
from provenance.model.choices import Profile
from provenance.model.manifest import check_relative_path

if TYPE_CHECKING:
    from provenance.model.manifest import State

Status = Literal["new", "present"]
PROFILES = tuple(Profile)
# rows whose prepared state is kept from the validation for the registration (about 30 KiB each for a
# telegram: a collection of a few thousand files is prepared once; rows past this are prepared again)
KEEP_PREPARED = 2_500


@dataclass
class PlannedRecord:
    """One row that will become (or already is) a record."""

    row: int
    filename: str
    path: Path
    record_id: str
    profile: str
    encoding: str | None
    overrides: dict[str, Any]
    sha256: str
    state_digest: str
    status: Status = "new"
    # the initial state, the digits notes and the state's canonical bytes the validation worked out (signed
    # by the registration without working them out again: the file's SHA-256 is checked first); kept for
    # the first KEEP_PREPARED rows
    prepared: tuple[State, list[str], bytes] | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, object]:
        return {
            "row": self.row,
            "filename": self.filename,
            "record": self.record_id,
            "profile": self.profile,
            "status": self.status,
        }


@dataclass
class BatchPlan:
    """The validated sheet: records to register or already present, and every problem found."""

    folder: Path
    catalogue: Path
    records: list[PlannedRecord] = field(default_factory=list)
    problems: list[SheetProblem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems




def _resolve_file(
    folder_real: str, folder: Path, values: RowValues, column: str
) -> tuple[Path | None, SheetProblem | None]:
    """The row's file inside ``folder``: a relative, safe path to a regular file that does not leave it."""
    name = unicodedata.normalize("NFC", values.filename)
    row = values.number
    if not name:
        return None, sheet_problem(SheetProblemCode.ROW_NO_FILE, f"row {row}: no filename", row, column, "")
    try:
        check_relative_path(name)
    except ValueError as exc:
        return None, sheet_problem(
            SheetProblemCode.ROW_PATH_UNSAFE,
            f"row {row}: {exc}; filename is relative to {folder} and stays inside it",
            row,
            column,
            name,
        )
    joined = os.path.join(folder_real, name)
    try:
        info = os.lstat(joined)
    except OSError:
        return None, sheet_problem(
            SheetProblemCode.ROW_NO_FILE, f"row {row}: no file {name!r} in {folder}", row, column, name
        )
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        return None, sheet_problem(
            SheetProblemCode.ROW_PATH_UNSAFE,
            f"row {row}: {name!r} is a link or special file, not a regular file",
            row,
            column,
            name,
        )
    if "/" in name and os.path.realpath(joined) != joined:
        return None, sheet_problem(
            SheetProblemCode.ROW_PATH_UNSAFE,
            f"row {row}: {name!r} goes through a symbolic link; filename stays inside {folder}",
            row,
            column,
            name,
        )
    path = Path(joined)
    return path, None


def _column_of(columns: ColumnMap, target: str, letters: bool) -> str:
    if target in columns.fields:
        return columns.column_name(columns.fields.index(target), letters)
    return target


def existing_status(archive: Archive, record_id: str, digest: str) -> Status | None:
    """``present`` when the record's registration signed this very state, None when it is a conflict."""
    try:
        data = json.loads((archive.record_dir(record_id) / MANIFEST_NAME).read_bytes())
        first = data["events"][0]["state_digest"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return "present" if first == digest else None


def _files_in(folder: Path, skip: set[str]) -> list[str]:
    """Every regular file below ``folder`` (relative, NFC), hidden files and folders left out."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            if os.path.realpath(full) in skip:
                continue
            found.append(unicodedata.normalize("NFC", os.path.relpath(full, folder).replace(os.sep, "/")))
    return found


def make_plan(archive: Archive, folder: Path, catalogue: Path, *, encoding: str | None = None) -> BatchPlan:
    """Validate the sheet ``catalogue`` against the files of ``folder`` and the archive; write nothing.

    Raises ``NotFoundError`` when the folder or sheet is missing and ``ProvenanceError(dependency.missing)``
    for an XLSX sheet without openpyxl; every other problem is collected in the plan.
    """
    from provenance.errors import NotFoundError

    if not folder.is_dir():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{folder}: no such folder", path=str(folder))
    plan = BatchPlan(folder=folder, catalogue=catalogue)
    try:
        sheet = read_sheet(catalogue, encoding)
    except SheetRefusedError as exc:
        plan.problems.extend(exc.problems)
        return plan
    plan.notices.extend(sheet.notices)
    plan.rows = len(sheet.rows)
    columns, header_problems = map_header(sheet.header, letters=sheet.letters)
    plan.problems.extend(header_problems)
    if FILENAME not in columns.fields:
        return plan
    if not sheet.rows:
        plan.problems.append(sheet_problem(SheetProblemCode.SHEET_EMPTY, f"{catalogue.name}: a header and no row"))
        return plan
    _check_rows(archive, plan, sheet, columns)
    return plan


def _check_rows(archive: Archive, plan: BatchPlan, sheet: Sheet, columns: ColumnMap) -> None:
    from provenance.ingest.service import prepare_record, read_transcription
    from provenance.manifest_io import digest_bytes, state_canonical

    folder_real = os.path.realpath(plan.folder)
    file_column = _column_of(columns, FILENAME, sheet.letters)
    seen_files: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for number, cells in sheet.rows:
        values, problems = read_row(number, cells, columns, letters=sheet.letters)
        if values is None:
            plan.problems.extend(problems)
            continue
        path, problem = _resolve_file(folder_real, plan.folder, values, file_column)
        if problem is not None:
            plan.problems.append(problem)
            continue
        assert path is not None
        key = str(path)
        if key in seen_files:
            plan.problems.append(
                sheet_problem(
                    SheetProblemCode.ROW_DUPLICATE_FILE,
                    f"row {number}: {values.filename!r} is named by row {seen_files[key]} too",
                    number,
                    file_column,
                    values.filename,
                )
            )
            continue
        seen_files[key] = number
        profile = (values.profile or "auto").lower()
        if profile not in PROFILES:
            plan.problems.append(
                sheet_problem(
                    SheetProblemCode.ROW_PROFILE,
                    f"row {number}: profile {values.profile!r}: use telegram, generic or auto",
                    number,
                    _column_of(columns, "profile", sheet.letters),
                    values.profile,
                )
            )
            continue
        normalised: list[str] = []
        try:
            source = read_transcription(path, values.encoding)
            rid, state, used = prepare_record(
                source,
                profile=cast("Profile", profile),
                sidecar=None,
                overrides=values.overrides,
                record_id=values.record_id,
                notes=normalised,
            )
        except ProvenanceError as exc:
            plan.problems.append(_row_problem(exc, values, columns, sheet.letters, file_column))
            continue
        if rid in seen_ids:
            plan.problems.append(
                sheet_problem(
                    SheetProblemCode.ROW_DUPLICATE_ID,
                    f"row {number}: record id {rid!r} is "
                    f"also the id of row {seen_ids[rid]}; give each an id column value",
                    number,
                    _column_of(columns, "id", sheet.letters),
                    rid,
                )
            )
            continue
        seen_ids[rid] = number
        import hashlib

        snapshot = state_canonical(state)
        planned = PlannedRecord(
            row=number,
            filename=values.filename,
            path=path,
            record_id=rid,
            profile=used,
            encoding=values.encoding,
            overrides=values.overrides,
            sha256=hashlib.sha256(source.data).hexdigest(),
            state_digest=digest_bytes(snapshot),
            prepared=(state, normalised, snapshot) if len(plan.records) < KEEP_PREPARED else None,
        )
        if archive.record_dir(rid).exists():
            status = existing_status(archive, rid, planned.state_digest)
            if status is None:
                plan.problems.append(
                    sheet_problem(
                        SheetProblemCode.ROW_CONFLICT,
                        f"row {number}: record {rid!r} already exists with other content (file, catalogue or notes "
                        "differ from this row); it is never overwritten: give the row another id, or change the "
                        "record with 'provenance revise' / 'catalogue'",
                        number,
                        _column_of(columns, "id", sheet.letters),
                        rid,
                    )
                )
                continue
            planned.status = status
        plan.records.append(planned)
    skip = {os.path.realpath(plan.catalogue)}
    named = {os.path.relpath(p, folder_real).replace(os.sep, "/") for p in seen_files}
    named.update(
        unicodedata.normalize("NFC", v) for v in (_row_filename(c, columns) for _, c in sheet.rows) if v
    )
    for rel in _files_in(plan.folder, skip):
        if rel not in named:
            plan.problems.append(
                sheet_problem(
                    SheetProblemCode.FILE_NO_ROW,
                    f"{rel}: a file in {plan.folder} that no row of the sheet names",
                    None,
                    file_column,
                    rel,
                )
            )


def _row_filename(cells: list[str], columns: ColumnMap) -> str:
    index = columns.fields.index(FILENAME)
    return cells[index].strip() if index < len(cells) else ""


_ROW_CODES = {
    ErrorCode.INPUT_ENCODING: SheetProblemCode.ROW_NOT_UTF8,
    ErrorCode.INPUT_EMPTY: SheetProblemCode.ROW_EMPTY_FILE,
    ErrorCode.METADATA_INVALID: SheetProblemCode.ROW_SCHEMA,
    ErrorCode.RECORD_ID_INVALID: SheetProblemCode.ROW_ID_INVALID,
    ErrorCode.PROFILE_NO_MATCH: SheetProblemCode.ROW_PROFILE,
    ErrorCode.INPUT_PATH_UNSAFE: SheetProblemCode.ROW_PATH_UNSAFE,
}


def _row_problem(
    exc: ProvenanceError, values: RowValues, columns: ColumnMap, letters: bool, file_column: str
) -> SheetProblem:
    code = _ROW_CODES.get(exc.code, SheetProblemCode.ROW_SCHEMA)
    row = values.number
    column, value = file_column, values.filename
    if code is SheetProblemCode.ROW_SCHEMA:
        where = str(exc.details.get("field") or "")
        name = where.split(".", 1)[0]
        column = _column_of(columns, name, letters) if name else file_column
        raw = values.overrides.get(name)
        value = json.dumps(raw, ensure_ascii=False) if isinstance(raw, list) else (raw or "")
    elif code is SheetProblemCode.ROW_ID_INVALID:
        column, value = _column_of(columns, "id", letters), values.record_id or ""
    elif code is SheetProblemCode.ROW_NOT_UTF8:
        hint = " (add an encoding column, e.g. cp1251)" if values.encoding is None else ""
        return sheet_problem(
            code,
            f"row {row}: {exc.message}{hint}".replace(
                " give its encoding with --encoding (for example --encoding cp1251)", ""
            ),
            row,
            column,
            value,
        )
    elif exc.code is ErrorCode.USAGE and values.encoding:
        column, value = _column_of(columns, "encoding", letters), values.encoding
    return sheet_problem(code, f"row {row}: {exc.message}", row, column, value)


@dataclass
class BatchResult:
    registered: list[PlannedRecord] = field(default_factory=list)
    present: list[PlannedRecord] = field(default_factory=list)
    refused: list[SheetProblem] = field(default_factory=list)


def run_plan(
    archive: Archive,
    plan: BatchPlan,
    signer: Any,
    clock: Callable[[], datetime],
    progress: Callable[[PlannedRecord], None] | None = None,
) -> BatchResult:
    """Register every new record of a valid plan, in group commits of atomic records; never overwrite.

    A record whose file changed since validation, or whose id was taken meanwhile by other content, is
    refused (listed in the result) and the others go on.
    """
    from collections import deque

    from provenance.batch.commit import GROUP_SIZE, register_group
    from provenance.fsio import sync_filesystem

    assert plan.ok, "run_plan needs a plan without problems"
    result = BatchResult()
    queue: deque[PlannedRecord] = deque()
    for planned in plan.records:
        if planned.status == "present":
            result.present.append(planned)
            if progress is not None:
                progress(planned)
        else:
            queue.append(planned)
    while queue:
        group = [queue.popleft() for _ in range(min(GROUP_SIZE, len(queue)))]
        retry = register_group(archive, group, signer, clock, result)
        queue.extendleft(reversed(retry))
        if progress is not None:
            again = {id(planned) for planned in retry}
            for planned in group:
                if id(planned) not in again:
                    progress(planned)
    if result.registered:
        sync_filesystem(archive.records_dir)  # the last group's renames (each group flushes the one before)
    return result
