"""One library function per history command: each appends exactly one signed event.

Each function checks its input before anything is signed and raises a ``ProvenanceError`` naming what is
wrong; on failure the record is left as it was (see :func:`provenance.history.append_event`).
"""

from __future__ import annotations

import errno
import hashlib
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from provenance.archive import Archive, StagedRecord
from provenance.errors import ConflictError, ErrorCode, InputError, NotFoundError, UsageError
from provenance.history import Signer, append_event
from provenance.ingest.decoding import charset_of
from provenance.ingest.service import build_catalogue, media_type, read_transcription
from provenance.model.catalogue import LANGUAGE_PATTERN
from provenance.model.choices import AttachRole, WrittenNoteKind, choose
from provenance.model.events import EventType
from provenance.model.manifest import (
    FileEntry,
    Manifest,
    Note,
    NoteKind,
    State,
    check_relative_path,
    path_fold,
)

if TYPE_CHECKING:
    from provenance.model.manifest import FileRole
from provenance.notes import locate_quote, main_text, make_target, next_note_id, reanchor, record_text

# errors of the writing side of a copy: append_event reports them as io.write-failed, not as bad input
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


def _main_text(state: State, path: str | None) -> FileEntry:
    if path is not None:
        entry = state.file(path)
        if entry is None:
            known = ", ".join(f.path for f in state.files)
            raise NotFoundError(
                ErrorCode.FILE_NOT_IN_RECORD, f"the record has no file {path!r} (files: {known})"
            )
        return entry
    return main_text(state)


def add_note(
    archive: Archive,
    record_id: str,
    signer: Signer,
    *,
    quote: str,
    text: str,
    kind: WrittenNoteKind | str = WrittenNoteKind.TRANSLATION,
    occurrence: int | None = None,
    file: str | None = None,
    now: datetime,
) -> Manifest:
    """Anchor a note to ``quote`` (its ``occurrence``-th place when it occurs more than once).

    Raises ``UsageError(usage.invalid)`` for a ``kind`` that is not a :class:`WrittenNoteKind` or an empty text.
    """
    kind = choose(WrittenNoteKind, kind, "note kind").value
    if not text.strip():
        raise UsageError(ErrorCode.USAGE, "the note text is empty")

    def mutate(stage: StagedRecord, manifest: Manifest) -> tuple[State, str, dict[str, Any]]:
        state = manifest.state
        entry = _main_text(state, file)
        body = record_text(stage.path, entry)
        start, end = locate_quote(body, quote, occurrence, source=entry.path)
        note = Note(
            id=next_note_id(state.notes),
            kind=cast("NoteKind", kind),
            text=text,
            target=make_target(body, entry.path, start, end),
            event=len(manifest.events) + 1,
        )
        new = state.model_copy(update={"notes": [*state.notes, note]})
        summary = f"{kind.capitalize()} note on {quote[:60]!r}"
        return new, summary, {"note": note.id, "kind": kind, "file": entry.path, "start": start, "end": end}

    return append_event(archive, record_id, EventType.ANNOTATION, signer, mutate, now=now)


def transfer_custody(
    archive: Archive,
    record_id: str,
    signer: Signer,
    *,
    from_: str,
    to: str,
    note: str | None = None,
    now: datetime,
) -> Manifest:
    """Record that custody passed from ``from_`` to ``to``."""
    if not from_.strip() or not to.strip():
        raise UsageError(ErrorCode.USAGE, "a custody transfer needs who hands over and who receives", param=["from", "to"])
    if from_.strip() == to.strip():
        raise UsageError(ErrorCode.USAGE, "who hands over and who receives are the same custodian", param=["from", "to"])

    def mutate(stage: StagedRecord, manifest: Manifest) -> tuple[State, str, dict[str, Any]]:
        new = manifest.state.model_copy(update={"custodian": to.strip()})
        details: dict[str, Any] = {"from": from_.strip(), "to": to.strip()}
        if manifest.state.custodian and manifest.state.custodian != from_.strip():
            details["previous_custodian"] = manifest.state.custodian
        return new, f"Custody transferred from {from_.strip()} to {to.strip()}", _with_text(details, "note", note)

    return append_event(archive, record_id, EventType.CUSTODY_TRANSFER, signer, mutate, now=now)


def revise(
    archive: Archive,
    record_id: str,
    signer: Signer,
    *,
    source: Path,
    reason: str,
    file: str | None = None,
    encoding: str | None = None,
    now: datetime,
) -> Manifest:
    """Replace a text file with a new version; the old one stays stored; notes are re-anchored."""
    if not reason.strip():
        raise UsageError(ErrorCode.USAGE, "a revision needs a reason", param="reason")
    if encoding is None:
        # The new version is read in the charset the record already gives that text (cp1251 stays cp1251).
        from provenance.manifest_io import read_manifest

        current = _main_text(read_manifest(archive.require_record(record_id)).state, file)
        charset = charset_of(current.media_type)
        encoding = charset if charset.lower() not in ("utf-8", "utf8") else None
    new_text = read_transcription(source, encoding)

    def mutate(stage: StagedRecord, manifest: Manifest) -> tuple[State, str, dict[str, Any]]:
        state = manifest.state
        entry = _main_text(state, file)
        digest = hashlib.sha256(new_text.data).hexdigest()
        if digest == entry.sha256:
            raise InputError(
                ErrorCode.REVISION_UNCHANGED,
                f"{source} is identical to the current {entry.path}; nothing to revise",
            )
        stage.move_to_objects(f"files/{entry.path}", entry.sha256)
        stage.write(f"files/{entry.path}", new_text.data)
        new_entry = entry.model_copy(
            update={"size": len(new_text.data), "sha256": digest, "media_type": media_type(new_text.encoding)}
        )
        files = [new_entry if f.path == entry.path else f for f in state.files]
        notes = [reanchor(n, new_text.text, entry.path) for n in state.notes]
        orphaned = [
            n.id
            for n, old in zip(notes, state.notes, strict=True)
            if n.status == "orphaned" and old.status != "orphaned"
        ]
        new = state.model_copy(update={"files": files, "notes": notes})
        details: dict[str, Any] = {
            "reason": reason,
            "file": entry.path,
            "previous_sha256": entry.sha256,
            "sha256": digest,
            "orphaned_notes": orphaned,
        }
        return new, f"Revised {entry.path}: {reason}", details

    return append_event(archive, record_id, EventType.REVISION, signer, mutate, now=now)


def review(
    archive: Archive,
    record_id: str,
    signer: Signer,
    *,
    note: str | None = None,
    outcome: str = "approved",
    now: datetime,
) -> Manifest:
    """Record a review of the current version (outcome approved or changes-requested)."""
    if outcome not in ("approved", "changes-requested"):
        raise UsageError(ErrorCode.USAGE, "a review's outcome is approved or changes-requested", param="outcome")
    return _about_current_version(
        archive, record_id, signer, EventType.REVIEW, {"outcome": outcome}, note, now,
        lambda version: f"Reviewed version {version}: {outcome}",
    )


def release(
    archive: Archive, record_id: str, signer: Signer, *, note: str | None = None, now: datetime
) -> Manifest:
    """Record the release (dissemination) of the current version."""
    return _about_current_version(
        archive, record_id, signer, EventType.RELEASE, {}, note, now, lambda version: f"Released version {version}"
    )


def _with_text(details: dict[str, Any], key: str, text: str | None) -> dict[str, Any]:
    """``details`` with an optional free text (a note, a reason) under ``key`` when one is given."""
    return {**details, key: text} if text else details


def _about_current_version(
    archive: Archive,
    record_id: str,
    signer: Signer,
    event_type: EventType,
    details: dict[str, Any],
    note: str | None,
    now: datetime,
    summary: Callable[[int], str],
) -> Manifest:
    """An event about the current version that leaves the state as it is (a review, a release)."""

    def mutate(stage: StagedRecord, manifest: Manifest) -> tuple[State, str, dict[str, Any]]:
        version = len(manifest.events)
        return manifest.state, summary(version), _with_text({**details, "version": version}, "note", note)

    return append_event(archive, record_id, event_type, signer, mutate, now=now)


def change_metadata(
    archive: Archive,
    record_id: str,
    signer: Signer,
    *,
    changes: dict[str, Any],
    reason: str | None,
    now: datetime,
) -> Manifest:
    """Change catalogue fields (a value of ``None`` removes the field)."""
    if not changes:
        raise UsageError(ErrorCode.USAGE, "no catalogue field to change")

    def mutate(stage: StagedRecord, manifest: Manifest) -> tuple[State, str, dict[str, Any]]:
        before = manifest.state.catalogue.as_json()
        after = dict(before)
        for name, value in changes.items():
            if value is None:
                after.pop(name, None)
            else:
                after[name] = value
        catalogue = build_catalogue(after)
        changed = sorted(
            k for k in set(before) | set(catalogue.as_json()) if before.get(k) != catalogue.as_json().get(k)
        )
        if not changed:
            raise InputError(ErrorCode.REVISION_UNCHANGED, "the catalogue already holds these values")
        new = manifest.state.model_copy(update={"catalogue": catalogue})
        return new, f"Catalogue changed: {', '.join(changed)}", _with_text({"fields": changed}, "reason", reason)

    return append_event(archive, record_id, EventType.METADATA_CHANGE, signer, mutate, now=now)


def _folder_files(folder: Path) -> list[tuple[str, Path]]:
    """Every file below ``folder`` as (relative POSIX path, path), sorted; refuses links and special files.

    Raises ``InputError(input.path-unsafe)`` naming the first link, device, FIFO or socket found: a dossier
    is copied byte for byte, and a link would copy what it points to. Raises
    ``InputError(record.too-many-files)`` past :data:`provenance.limits.FILES` entries (files and folders,
    counted as the verifier counts them).
    """
    from provenance import limits
    from provenance.tree_walk import TooManyEntriesError, walk

    found: list[tuple[str, Path]] = []
    try:
        for rel, entry in walk(folder, limits.FILES.value()):
            if entry.is_file(follow_symlinks=False):
                found.append((rel, Path(entry.path)))
            elif not entry.is_dir(follow_symlinks=False):  # a link, a device, a FIFO or a socket
                raise InputError(
                    ErrorCode.INPUT_PATH_UNSAFE,
                    f"{entry.path} is a link or special file; a dossier holds regular files only",
                    path=entry.path,
                )
    except TooManyEntriesError:
        raise limits.FILES.error(str(folder)) from None
    found.sort()
    return found


def attach(
    archive: Archive,
    record_id: str,
    signer: Signer,
    *,
    source: Path,
    role: AttachRole | str = AttachRole.ATTACHMENT,
    name: str | None = None,
    language: str | None = None,
    media: str | None = None,
    now: datetime,
    translation_of: str | None = None,
) -> Manifest:
    """Add a further file (the original, a scan, a translation) to the record, byte for byte.

    ``source`` may be a folder (a dossier: hundreds of page scans): every file below it is added under
    ``<name or the folder's name>/<its relative path>``, in one event. Files are streamed into the record
    (memory stays flat whatever their size) and the size and SHA-256 recorded are those of the bytes
    copied. With ``translation_of`` the event is a translation naming its source and target languages.
    Raises ``InputError`` (input.not-found, input.path-unsafe) and ``UsageError`` (usage.invalid: a ``role``
    that is not an :class:`AttachRole`, ...); nothing is written then.
    """
    import mimetypes
    import re

    role = choose(AttachRole, role, "file role").value

    folder = source.is_dir()
    if not folder and not source.is_file():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{source}: no such file or folder", path=str(source))
    if folder and translation_of is not None:
        raise UsageError(ErrorCode.USAGE, f"{source} is a folder; a translation is one file")
    # One spelling per name: a macOS (NFD) file name is stored in NFC (UAX #15), as check_relative_path asks.
    target = unicodedata.normalize("NFC", name or source.name)
    if folder:
        listed = _folder_files(source)
        if not listed:
            raise InputError(ErrorCode.INPUT_EMPTY, f"{source}: the folder holds no files", path=str(source))
        sources = [(unicodedata.normalize("NFC", f"{target}/{rel}"), path) for rel, path in listed]
    else:
        sources = [(target, source.resolve())]  # a link named on the command line is followed, as cp does
    for rel, _ in sources:
        try:
            check_relative_path(rel)
        except ValueError as exc:
            raise InputError(ErrorCode.INPUT_PATH_UNSAFE, f"{rel}: {exc}") from exc
    folded_new = [path_fold(rel) for rel, _ in sources]
    if len(set(folded_new)) != len(folded_new):
        raise InputError(
            ErrorCode.INPUT_PATH_UNSAFE, f"{source}: two of its files differ only by case or Unicode form"
        )
    if language is not None and not re.fullmatch(LANGUAGE_PATTERN.strip("^$"), language):
        raise UsageError(ErrorCode.USAGE, f"language {language!r} is not a BCP 47 tag (en, ru, zh-Hans)", param="language")

    def media_of(path: str) -> str:
        guessed = media or mimetypes.guess_type(path)[0] or "application/octet-stream"
        if guessed.startswith("text/") and "charset" not in guessed:
            guessed += "; charset=utf-8"
        return guessed

    event_type = EventType.TRANSLATION if translation_of is not None else EventType.ATTACHMENT

    def mutate(stage: StagedRecord, manifest: Manifest) -> tuple[State, str, dict[str, Any]]:
        state = manifest.state
        existing = {f.path for f in state.files}
        folded = {path_fold(f.path) for f in state.files}
        for (rel, _), fold in zip(sources, folded_new, strict=True):
            if rel in existing:
                raise ConflictError(
                    ErrorCode.RECORD_EXISTS, f"the record already has a file {rel!r}; a new version of it is a revision"
                )
            if fold in folded:
                raise InputError(
                    ErrorCode.INPUT_PATH_UNSAFE,
                    f"{rel!r} differs from an existing file only by case or Unicode form",
                )
        entries = []
        for rel, path in sources:
            try:
                size, digest = stage.add_file(f"files/{rel}", path)
            except OSError as exc:
                if exc.errno in _WRITE_ERRNOS:  # the archive's side failed (disk full, read-only): io.write-failed
                    raise
                raise InputError(
                    ErrorCode.INPUT_UNREADABLE, f"{path}: cannot copy: {exc.strerror}", path=str(path)
                ) from exc
            entries.append(
                FileEntry(
                    path=rel,
                    size=size,
                    sha256=digest,
                    media_type=media_of(rel),
                    role=cast("FileRole", role),
                    language=language,
                )
            )
        new = state.model_copy(update={"files": [*state.files, *entries]})
        if folder:
            total = sum(e.size for e in entries)
            details: dict[str, Any] = {"folder": target, "files": len(entries), "role": role, "size": total}
            return new, f"Attached {len(entries)} files under {target}/ ({role})", details
        entry = entries[0]
        details = {"file": target, "role": role, "size": entry.size, "sha256": entry.sha256}
        if translation_of is not None:
            src = _main_text(state, translation_of or None)
            details["source_file"] = src.path
            details["source_language"] = src.language or state.catalogue.language or "und"
            details["target_language"] = language or "und"
            summary = f"Translation {target} ({details['source_language']} → {details['target_language']})"
        else:
            summary = f"Attached {target} ({role})"
        return new, summary, details

    return append_event(archive, record_id, event_type, signer, mutate, now=now)
