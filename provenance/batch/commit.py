"""ingest-batch's group commit: many new records staged, made durable with one flush, then each renamed
into place on its own.

A group of :data:`GROUP_SIZE` rows is registered in these steps:

1. the records' locks are taken (in sorted order) and the archive is searched for links once;
2. each record is staged as ``ingest`` stages it (its file, state snapshot and signed manifest), with no
   flush of its own;
3. the signer's key is checked once more (its status as of this commit), the search index marks the
   records pending;
4. inside the transparency log's group commit (logged archives: a journal holding one checkpoint per
   record, flushed), ONE ``syncfs(2)`` makes every stage of the group durable (and the previous group's
   entries in ``records/``), then each record is renamed into place (``renameat2`` ``RENAME_NOREPLACE``:
   one atomic step per record, never over an existing one), in order, and the log is applied;
5. the index takes the group in one transaction.

A batch killed at any instant thus leaves each record of the group absent or whole (a stage that was not
renamed is a leftover in ``.provenance/tmp``, removed by the next writer of that record), and the log
showing exactly the records renamed by then; running the batch again registers only what is missing. The
flush costs what one ``syncfs`` costs whatever the size of the group: per record it is shared by the group.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from provenance import catalogue_index, fsio
from provenance.batch.columns import FILENAME
from provenance.batch.problems import SheetProblem, SheetProblemCode, sheet_problem
from provenance.errors import ConflictError, ErrorCode, ProvenanceError

if TYPE_CHECKING:
    from provenance.archive import Archive, StagedRecord
    from provenance.batch.plan import BatchResult, PlannedRecord
    from provenance.model.manifest import Manifest

GROUP_SIZE = 128  # records flushed together: one syncfs per group; at most this many locks held at once


@dataclass
class _Staged:
    planned: PlannedRecord
    stage: StagedRecord
    manifest: Manifest


class _IdTakenError(Exception):
    """Raised inside the log's group commit when a rename finds its id taken: the log keeps the records
    renamed before it (the journal's steps), the rest of the group is tried again."""


def register_group(
    archive: Archive,
    group: list[PlannedRecord],
    signer: Any,
    clock: Callable[[], datetime],
    result: BatchResult,
) -> list[PlannedRecord]:
    """Register the new records of ``group`` (rows of a valid plan) in one group commit, adding each to
    ``result`` (registered, present or refused). Returns the rows to try again in the next group (those
    after a rename that found its id taken meanwhile by a writer that ignores the locks).

    Raises ``StorageError`` / ``ConflictError(archive.locked)``: the batch stops, what was renamed stays.
    """
    from provenance.archive_log import event_leaves, logged_group_commit
    from provenance.history import recheck_signer
    from provenance.model.events import EventType

    staged: list[_Staged] = []
    placed = 0
    retry: list[PlannedRecord] = []
    with archive.locked_records([planned.record_id for planned in group]):
        try:
            now: datetime | None = None
            for planned in group:
                now = clock()
                item = _stage(archive, planned, signer, now, result)
                if item is not None:
                    staged.append(item)
            if not staged or now is None:
                return []
            try:
                recheck_signer(archive, signer, EventType.REGISTRATION, now=now)  # status as of this commit
            except ProvenanceError as exc:
                result.refused.extend(_refused(item.planned, exc.message) for item in staged)
                return []
            ids = [item.planned.record_id for item in staged]
            catalogue_index.before_commit(archive, *ids)  # the search index (derived, best effort)
            try:
                with logged_group_commit(archive, signer.log_key, [event_leaves(i.manifest) for i in staged]):
                    fsio.sync_filesystem(archive.records_dir)  # every stage of the group, in one flush
                    for item in staged:
                        try:
                            item.stage.place()
                        except ConflictError:
                            raise _IdTakenError from None
                        placed += 1
            except _IdTakenError:
                _taken_meanwhile(archive, staged[placed].planned, result)
                retry = [item.planned for item in staged[placed + 1 :]]
            except OSError as exc:
                raise fsio.storage_error("write records in", archive.records_dir, exc) from exc
            result.registered.extend(item.planned for item in staged[:placed])
            catalogue_index.after_commit(archive, *ids)  # (a record not renamed is dropped from the index)
        finally:
            for item in staged[placed:]:
                item.stage.discard()
    return retry


def _stage(
    archive: Archive,
    planned: PlannedRecord,
    signer: Any,
    now: datetime,
    result: BatchResult,
) -> _Staged | None:
    """Stage one new record under its lock, or add it to ``result`` as present or refused (None)."""
    from provenance.ingest.service import prepare_record, read_transcription, stage_registration

    try:
        source = read_transcription(planned.path, planned.encoding)
        if hashlib.sha256(source.data).hexdigest() != planned.sha256:
            message = f"{planned.filename} changed since it was checked; run again"
            result.refused.append(_refused(planned, message, SheetProblemCode.ROW_CONFLICT))
            return None
        if archive.record_dir(planned.record_id).exists():  # registered meanwhile (its lock is ours now)
            _taken_meanwhile(archive, planned, result)
            return None
        snapshot: bytes | None = None
        if planned.prepared is not None:  # worked out by the validation, from these very bytes
            state, normalised, snapshot = planned.prepared
            used = planned.profile
            planned.prepared = None  # (memory: the manifest holds it from here)
        else:
            normalised = []
            _, state, used = prepare_record(
                source,
                profile=planned.profile,
                sidecar=None,
                overrides=planned.overrides,
                record_id=planned.record_id,
                notes=normalised,
            )
        stage, manifest = stage_registration(
            archive,
            source,
            signer,
            rid=planned.record_id,
            state=state,
            used=used,
            normalised=normalised,
            now=now,
            flush_once=True,
            state_bytes=snapshot,
        )
    except ProvenanceError as exc:
        if exc.code in (ErrorCode.WRITE_FAILED, ErrorCode.ARCHIVE_LOCKED):
            raise
        result.refused.append(_refused(planned, exc.message))
        return None
    return _Staged(planned, stage, manifest)


def _refused(planned: PlannedRecord, why: str, code: SheetProblemCode = SheetProblemCode.ROW_SCHEMA) -> SheetProblem:
    return sheet_problem(code, f"row {planned.row}: {why}", planned.row, FILENAME, planned.filename)


def _taken_meanwhile(archive: Archive, planned: PlannedRecord, result: BatchResult) -> None:
    """The row's id was registered by another command since the validation: present when with this very
    content (its registration signed the same state), refused otherwise (never overwritten)."""
    from provenance.batch.plan import existing_status

    if existing_status(archive, planned.record_id, planned.state_digest) == "present":
        planned.status = "present"
        result.present.append(planned)
        return
    why = f"record {planned.record_id!r} was registered meanwhile with other content; never overwritten"
    result.refused.append(
        sheet_problem(SheetProblemCode.ROW_CONFLICT, f"row {planned.row}: {why}", planned.row, "id", planned.record_id)
    )
