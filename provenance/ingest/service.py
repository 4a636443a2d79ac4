"""Registering a transcription as a new record: read, decode, profile, catalogue, notes, sign."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from provenance import catalogue_index
from provenance.archive import MANIFEST_NAME, Archive, StagedRecord, check_record_id
from provenance.archive_log import event_leaves, logged_commit
from provenance.canonical import StrictJSONError, loads_strict
from provenance.errors import (
    ConflictError,
    ErrorCode,
    InputError,
    NotFoundError,
    validation_detail,
)
from provenance.fsio import read_limited
from provenance.history import Signer, recheck_signer, sign_event
from provenance.ingest.decoding import UndecodableError, decode
from provenance.manifest_io import digest_bytes, state_canonical, writable_manifest_bytes
from provenance.model.catalogue import Catalogue
from provenance.model.choices import Profile, choose
from provenance.model.events import EventType
from provenance.model.identity import ascii_digits
from provenance.model.manifest import FileEntry, Manifest, Note, State, check_relative_path
from provenance.notes import make_target

MAX_TRANSCRIPTION_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class Transcription:
    """A transcription as read: its exact bytes, its decoded text and the encoding used."""

    name: str
    data: bytes
    text: str
    encoding: str


def read_transcription(path: Path, encoding: str | None = None) -> Transcription:
    """Read a transcription byte for byte and decode it (UTF-8 unless ``encoding`` is given).

    Raises ``NotFoundError`` (input.not-found) and ``InputError`` (input.empty, input.not-utf8,
    input.unreadable). Bytes are never rewritten: CR LF stays CR LF.
    """
    try:
        if path.is_dir():  # issue 14: say what it is, not that it is missing (the code stays input.not-found)
            raise NotFoundError(
                ErrorCode.INPUT_NOT_FOUND,
                f"{path} is a folder; ingest takes one transcription file (add a folder to a record with attach)",
                path=str(path),
            )
        if not path.is_file():
            raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{path}: no such file", path=str(path))
        if path.stat().st_size > MAX_TRANSCRIPTION_BYTES:
            raise InputError(ErrorCode.INPUT_UNREADABLE, f"{path}: larger than 256 MiB; attach it as a file")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(ErrorCode.INPUT_UNREADABLE, f"{path}: {exc.strerror}", path=str(path)) from exc
    if not data or data.isspace():  # (no copy of a large text)
        raise InputError(ErrorCode.INPUT_EMPTY, f"{path}: the transcription is empty", path=str(path))
    codec = encoding or "utf-8"
    try:
        text = decode(data, codec)
    except UndecodableError as exc:
        raise InputError(
            ErrorCode.INPUT_ENCODING,
            f"{path}: {exc}",
            path=str(path),
            offset=exc.offset,
        ) from None
    if "\x00" in text:
        raise InputError(ErrorCode.INPUT_ENCODING, f"{path}: contains NUL characters; not a text file")
    # The stored name is NFC (UAX #15): one spelling per name, whatever file system it came from.
    return Transcription(name=unicodedata.normalize("NFC", path.name), data=data, text=text, encoding=codec)


def load_sidecar(path: Path) -> dict[str, Any]:
    """A catalogue sidecar (JSON, strict) validated against ``schemas/catalogue.schema.json``.

    Raises ``InputError(metadata.invalid)`` naming the file and the field at fault.
    """
    from provenance.contract import validation_errors

    try:
        raw = loads_strict(read_limited(path, 1 << 20, regular_only=False), max_bytes=1 << 20)
    except OSError as exc:
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{path}: {exc.strerror}", path=str(path)) from exc
    except StrictJSONError as exc:
        raise InputError(ErrorCode.METADATA_INVALID, f"{path}: {exc}", path=str(path)) from exc
    errors = validation_errors("catalogue", raw)
    if errors:
        where, message = errors[0]
        from provenance.model.field_words import in_words  # issue 14: in words, not a regex

        message = in_words(where, raw.get(where) if isinstance(raw, dict) else None, message)
        raise InputError(
            ErrorCode.METADATA_INVALID, f"{path}: field {where}: {message}", path=str(path), field=where
        )
    assert isinstance(raw, dict)
    return raw


def build_catalogue(*layers: dict[str, Any]) -> Catalogue:
    """Merge catalogue layers (later ones win) and validate; raises ``InputError(metadata.invalid)``."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({k: v for k, v in layer.items() if v is not None})
    try:
        return Catalogue.model_validate(merged)
    except ValidationError as exc:
        where, msg = validation_detail(exc)
        from provenance.model.field_words import in_words  # issue 14: in words, not a regex

        msg = in_words(where, merged.get(where), msg)
        raise InputError(ErrorCode.METADATA_INVALID, f"catalogue field {where}: {msg}", field=where) from exc


def default_record_id(catalogue: Catalogue, file_name: str) -> str:
    """``telegram-<number>`` for a telegram, else a slug of the file name's stem."""
    if catalogue.telegram_number and re.fullmatch(r"[0-9A-Za-z-]{1,40}", catalogue.telegram_number):
        return f"telegram-{catalogue.telegram_number.lower()}"
    stem = Path(file_name).stem.lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", stem).strip("-._")
    return (slug or "record")[:64]


def media_type(encoding: str) -> str:
    return f"text/plain; charset={'utf-8' if encoding.replace('_', '-').lower() in ('utf-8', 'utf8') else encoding}"


def insertion_notes(text: str, source: str, event: int) -> list[Note]:
    """One note per square-bracketed editorial insertion, anchored by quote and position.

    Raises ``InputError(input.too-many-notes)`` past :data:`provenance.limits.NOTES` (counted as the
    brackets are read: refusing costs no more than the limit)."""
    from provenance import limits
    from provenance.ingest.insertions import TooManyBracketsError, find_editorial_insertions

    try:
        found = find_editorial_insertions(text, limit=limits.NOTES.value())
    except TooManyBracketsError:
        raise limits.NOTES.error(source) from None
    notes = []
    for number, insertion in enumerate(found, start=1):
        notes.append(
            Note(
                id=f"note-{number}",
                kind="editorial-insertion",
                text=f"Editorial insertion {insertion.exact} in the transcription.",
                target=make_target(text, source, insertion.start, insertion.end),
                event=event,
            )
        )
    return notes


# Catalogue fields that hold numbers (or dates written in digits): look-alike digits never reach them.
NUMERIC_FIELDS = ("telegram_number", "copies", "sent")


def _shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(text if len(text) <= 80 else text[:77] + "…")


def parse_header(text: str, ascii_text: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The telegram header's catalogue fields, with digits other than ASCII (Arabic-Indic, full-width,
    superscript, …) made ASCII in the numeric fields, and one note per field so changed. ``ascii_text``:
    ``ascii_digits(text)`` when the caller has it already."""
    from provenance.ingest import telegram

    parsed = telegram.parse_telegram(text)
    if ascii_text is None:
        ascii_text = ascii_digits(text)
    if ascii_text == text:
        return parsed, []
    normalised = telegram.parse_telegram(ascii_text)
    result = {k: (parsed[k] if k in parsed and k not in NUMERIC_FIELDS else v) for k, v in normalised.items()}
    notes = [
        f"{field} (header): digits other than ASCII made ASCII (NFKC): "
        f"{_shown(parsed[field]) if field in parsed else 'unreadable as written'} → {_shown(result[field])}"
        for field in NUMERIC_FIELDS
        if field in result and result[field] != parsed.get(field)
    ]
    return result, notes


def ascii_numbers(layer: dict[str, Any], origin: str) -> tuple[dict[str, Any], list[str]]:
    """``layer`` with the telegram number's digits made ASCII, and a note when that changed it."""
    value = layer.get("telegram_number")
    if not isinstance(value, str) or value.isascii():
        return layer, []
    fixed = ascii_digits(value)
    if fixed == value:
        return layer, []
    note = f"telegram_number ({origin}): digits other than ASCII made ASCII (NFKC): {_shown(value)} → {_shown(fixed)}"
    return {**layer, "telegram_number": fixed}, [note]


def prepare_record(
    source: Transcription,
    *,
    profile: Profile | str,
    sidecar: dict[str, Any] | None,
    overrides: dict[str, Any],
    record_id: str | None,
    notes: list[str] | None = None,
) -> tuple[str, State, str]:
    """Work out the record id, the initial state and the profile used, without writing anything.

    Look-alike digits in numeric fields are made ASCII and each change is appended to ``notes`` (the
    ingest report); what cannot be made ASCII is refused by the catalogue model (metadata.invalid).
    Raises ``UsageError(usage.invalid)`` for a profile that is not one of :class:`Profile`.
    """
    from provenance.ingest import telegram

    used = choose(Profile, profile, "profile").value
    parsed: dict[str, Any] = {}
    changes: list[str] = []
    ascii_text = ascii_digits(source.text)  # (once: a batch prepares thousands)
    auto = used == Profile.AUTO
    if auto:
        used = "telegram" if telegram.looks_like_telegram(ascii_text) else "generic"
    if used == "telegram":
        if not auto and not telegram.looks_like_telegram(ascii_text):
            raise InputError(
                ErrorCode.PROFILE_NO_MATCH,
                f"{source.name}: no ciphered-telegram header found (no 'CIPHERED TELEGRAM No.' line)",
            )
        parsed, changes = parse_header(source.text, ascii_text)
    side, side_changes = ascii_numbers(sidecar or {}, "sidecar")
    given, given_changes = ascii_numbers(overrides, "option")
    changes += side_changes + given_changes
    if notes is not None:
        notes.extend(changes)
    catalogue = build_catalogue(parsed, side, given)
    rid = check_record_id(record_id) if record_id else default_record_id(catalogue, source.name)
    check_record_id(rid)
    try:
        check_relative_path(source.name)
    except ValueError as exc:
        raise InputError(ErrorCode.INPUT_PATH_UNSAFE, f"{source.name}: {exc}") from exc
    entry = FileEntry(
        path=source.name,
        size=len(source.data),
        sha256=hashlib.sha256(source.data).hexdigest(),
        media_type=media_type(source.encoding),
        role="transcription",
        language=catalogue.language,
    )
    state = State(catalogue=catalogue, files=[entry], notes=insertion_notes(source.text, source.name, 1))
    return rid, state, used


def ingest(
    archive: Archive,
    source: Transcription,
    signer: Signer,
    *,
    now: datetime,
    profile: Profile | str = Profile.AUTO,
    sidecar: dict[str, Any] | None = None,
    overrides: dict[str, Any] | None = None,
    record_id: str | None = None,
    flush_once: bool = False,
) -> Manifest:
    """Register ``source`` as a new record signed by ``signer``; returns the new manifest.

    ``flush_once``: one syncfs before the commit instead of an fsync per file (see ``StagedRecord``).
    Raises ``ConflictError(record.exists)``, ``InputError``, ``StorageError``; nothing is written on failure.
    """
    normalised: list[str] = []
    rid, state, used = prepare_record(
        source, profile=profile, sidecar=sidecar, overrides=overrides or {}, record_id=record_id, notes=normalised
    )
    if archive.has_record(rid) or archive.record_dir(rid).exists():
        raise ConflictError(
            ErrorCode.RECORD_EXISTS,
            f"record {rid!r} already exists in {archive.root}",
            record=rid,
        )
    with archive.locked(rid):
        catalogue_index.before_commit(archive, rid)  # i11: the search index (derived, best effort)
        stage, manifest = stage_registration(
            archive, source, signer, rid=rid, state=state, used=used, normalised=normalised, now=now, flush_once=flush_once
        )
        with stage.discarded_on_failure():
            recheck_signer(archive, signer, EventType.REGISTRATION, now=now)  # status as of this moment
            with logged_commit(archive, signer.log_key, event_leaves(manifest)):
                stage.commit()
        catalogue_index.after_commit(archive, rid)  # i11: the search index (derived, best effort)
    return manifest


def stage_registration(
    archive: Archive,
    source: Transcription,
    signer: Signer,
    *,
    rid: str,
    state: State,
    used: str,
    normalised: list[str],
    now: datetime,
    flush_once: bool = False,
    state_bytes: bytes | None = None,
) -> tuple[StagedRecord, Manifest]:
    """The new record ``rid`` staged (its file, state snapshot and signed manifest written), not committed:
    the caller holds its lock, then commits the stage (``ingest``) or places it with others after one flush
    (``ingest-batch``). ``state``, ``used`` and ``normalised`` are what :func:`prepare_record` gave;
    ``state_bytes`` the state's canonical bytes when the caller has them already.

    Raises ``StorageError`` (nothing is left staged), ``InputError``.
    """
    stage = StagedRecord(archive, rid, new=True, flush_once=flush_once)
    with stage.discarded_on_failure():
        stage.write(f"files/{source.name}", source.data)
        snapshot = state_canonical(state) if state_bytes is None else state_bytes
        digest = digest_bytes(snapshot)
        stage.put_object(digest.split(":", 1)[1], snapshot)
        event = sign_event(
            record=rid,
            seq=1,
            event_type=EventType.REGISTRATION,
            signer=signer,
            now=now,
            summary=f"Registered {source.name} ({used} profile)",
            details={
                "profile": used,
                "file": source.name,
                "encoding": source.encoding,
                "size": len(source.data),
                "notes": len(state.notes),
                # look-alike digits made ASCII, recorded in the signed event (the ingest report)
                **({"normalised": normalised} if normalised else {}),
            },
            new_state_digest=digest,
            previous_digest=None,
        )
        manifest = Manifest(record=rid, state=state, events=[event])
        stage.write(MANIFEST_NAME, writable_manifest_bytes(manifest))
    return stage, manifest
