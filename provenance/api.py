"""The public functions of :mod:`provenance` for archives and records, one per thing a caller does: open or
create an archive, verify, register and record history, read a record (``docs/api.md`` has examples).
They are served as ``provenance.<name>`` (the core) and a few of them from :mod:`provenance.records` and
:mod:`provenance.publishing`; exports and editions are in :mod:`provenance.publish`, search and the agent in
:mod:`provenance.services`.

Each composes library modules in the order the checks must run: everything that needs no key is checked
before a passphrase is asked for, and a failed call leaves the archive as it was. Times default to now
(UTC); pass ``now`` for reproducible results. Errors are :class:`~provenance.errors.ProvenanceError`
subclasses carrying a stable :class:`~provenance.errors.ErrorCode`; messages name no command-line option.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.errors import ConflictError, ErrorCode, UsageError
from provenance.model.timefmt import utc_now_or

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.history import Signer
    from provenance.model.choices import AttachRole, Profile, WrittenNoteKind
    from provenance.model.events import EventType, Role
    from provenance.model.manifest import Event, Manifest, State
    from provenance.model.problems import VerificationReport
    from provenance.signers import Passphrase




# --- archives ---------------------------------------------------------------------------------------------


def init_archive(path: Path) -> Archive:
    """Create an archive at ``path`` (``records/``, ``keys/``, a commented ``provenance.toml``); an existing
    archive is returned as it is. Raises ``StorageError``, ``InputError(archive.path-unsafe)``."""
    from provenance.archive import Archive

    return Archive.init(path)[0]


def open_archive(path: Path | None = None) -> Archive:
    """The archive at ``path``, else ``$PROVENANCE_ARCHIVE``, else the current folder.
    Raises ``NotFoundError(archive.not-found)``."""
    from provenance.archive import Archive

    return Archive.locate(path)


# --- verifying ---------------------------------------------------------------------------------------------


def verify_path(
    path: Path,
    *,
    trust: Path | None = None,
    policy: dict[EventType, frozenset[Role]] | None = None,
    archive: Path | None = None,
    now: datetime | None = None,
    max_size: int | None = None,
) -> VerificationReport:
    """Verify a record folder, a bag folder or a bundle archive (``.zip``, ``.tar.gz``) and return the
    report of every problem found; what it finds is never raised.

    ``trust`` is the verifier's own trust store (a folder of key cards); without it, the archive's
    ``keys/`` (see :mod:`provenance.trust`). ``policy`` replaces the roles policy; ``max_size`` bounds
    the bytes a bundle archive is decompressed to. Raises ``NotFoundError(input.not-found)`` for a path or
    trust store that does not exist.
    """
    from dataclasses import replace

    from provenance.errors import NotFoundError
    from provenance.trust import verifier_context
    from provenance.verify.target import verify_path as verify_target

    if not path.exists():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{path}: no such file or folder", path=str(path))
    ctx = verifier_context([path], trust=trust, archive=archive, policy=policy, now=now)
    if max_size is not None:
        ctx = replace(ctx, max_size=max_size)
    return verify_target(path, ctx)


# --- registering and history ------------------------------------------------------------------------------


def ingest_file(
    archive: Archive,
    file: Path,
    *,
    signer: Signer | None = None,
    key: str | None = None,
    role: Role | str | None = None,
    passphrase: Passphrase | None = None,
    profile: Profile | str = "auto",
    metadata: Path | None = None,
    catalogue: Mapping[str, Any] | None = None,
    encoding: str | None = None,
    record_id: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Register the transcription ``file`` as a new signed record; returns its manifest.

    ``profile`` ``telegram`` reads a ciphered telegram's header, ``generic`` takes the catalogue from
    ``metadata`` (a JSON sidecar) and ``catalogue`` (field → value) alone, ``auto`` chooses. Every bracketed
    editorial insertion becomes a note. The file, the catalogue and the record id are checked before the
    signer (``signer``, else chosen from ``key``/``role`` as :func:`~provenance.signers.choose_signer`
    does) is unlocked. Raises ``ConflictError(record.exists)``, ``InputError`` (input.not-utf8,
    metadata.invalid, profile.no-match, …), ``NotFoundError``, key and policy errors, ``StorageError``.
    """
    from provenance.ingest.service import ingest as register
    from provenance.ingest.service import load_sidecar, prepare_record, read_transcription
    from provenance.model.events import EventType
    from provenance.signers import choose_signer, unlock_now

    archive.refuse_links()  # before anything of the archive is read: no link is followed (issue 9)
    text = read_transcription(file, encoding)
    sidecar = load_sidecar(metadata) if metadata else None
    overrides = dict(catalogue or {})
    rid, _, _ = prepare_record(text, profile=profile, sidecar=sidecar, overrides=overrides, record_id=record_id)
    if archive.has_record(rid) or archive.record_dir(rid).exists():
        raise ConflictError(ErrorCode.RECORD_EXISTS, f"record {rid!r} already exists in {archive.root}", record=rid)
    moment = utc_now_or(now)
    if signer is None:
        signer = choose_signer(
            archive, EventType.REGISTRATION, key=key, role=role, passphrase=passphrase, now=moment
        )
    unlock_now(signer)  # every check passed: unlock before a new record's lock is made
    return register(
        archive,
        text,
        signer,
        now=moment,
        profile=profile,
        sidecar=sidecar,
        overrides=overrides,
        record_id=record_id,
    )


def note(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    quote: str,
    text: str,
    kind: WrittenNoteKind | str = "translation",
    occurrence: int | None = None,
    file: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Anchor a note (``kind``: translation, editorial, comment, correction) to the exact ``quote`` (its
    ``occurrence``-th place when it occurs more than once) in ``file`` (default: the transcription).
    Raises ``InputError`` (note.quote-not-found, note.quote-ambiguous), ``UsageError``."""
    from provenance.actions import add_note

    return add_note(
        archive, record, signer, quote=quote, text=text, kind=kind,
        occurrence=occurrence, file=file, now=utc_now_or(now),
    )


def custody(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    from_: str,
    to: str,
    note: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Record a custody transfer from ``from_`` to ``to`` (PREMIS transfer)."""
    from provenance.actions import transfer_custody

    return transfer_custody(archive, record, signer, from_=from_, to=to, note=note, now=utc_now_or(now))


def revise(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    source: Path,
    reason: str,
    file: str | None = None,
    encoding: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Replace the text of ``file`` (default: the transcription) with the contents of ``source``; the old
    version stays stored and notes are re-anchored (a note whose quote is gone is kept, orphaned).
    Raises ``InputError(revision.unchanged)`` and the input errors of reading ``source``."""
    from provenance.actions import revise as do_revise

    return do_revise(
        archive, record, signer, source=source, reason=reason, file=file, encoding=encoding, now=utc_now_or(now)
    )


def review(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    note: str | None = None,
    outcome: str = "approved",
    now: datetime | None = None,
) -> Manifest:
    """Record a review of the current version (``outcome``: approved or changes-requested)."""
    from provenance.actions import review as do_review

    return do_review(archive, record, signer, note=note, outcome=outcome, now=utc_now_or(now))


def release(
    archive: Archive, record: str, signer: Signer, *, note: str | None = None, now: datetime | None = None
) -> Manifest:
    """Record the release of the current version (PREMIS dissemination)."""
    from provenance.actions import release as do_release

    return do_release(archive, record, signer, note=note, now=utc_now_or(now))


def change_catalogue(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    changes: Mapping[str, Any],
    reason: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Change catalogue fields (field → new value; ``None`` removes the field): a metadata-change event."""
    from provenance.actions import change_metadata
    from provenance.model.catalogue import CATALOGUE_FIELDS

    unknown = [name for name in changes if name not in CATALOGUE_FIELDS]
    if unknown:
        raise UsageError(
            ErrorCode.USAGE,
            f"not catalogue fields: {', '.join(unknown)} (fields: {', '.join(CATALOGUE_FIELDS)})",
            param="changes",
        )
    return change_metadata(archive, record, signer, changes=dict(changes), reason=reason, now=utc_now_or(now))


def attach(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    source: Path,
    role: AttachRole | str = "attachment",
    name: str | None = None,
    language: str | None = None,
    media_type: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Add the file (or every file below the folder) ``source`` to the record, byte for byte, as ``role``
    (original, scan, translation, attachment) under ``name`` (default: its own name)."""
    from provenance.actions import attach as do_attach

    return do_attach(
        archive, record, signer, source=source, role=role, name=name, language=language, media=media_type,
        now=utc_now_or(now),
    )


def translate(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    source: Path,
    language: str,
    of: str = "",
    name: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Record a translation into ``language`` (BCP 47) of the record's file ``of`` (default: the
    transcription): the file ``source`` is added, naming its source and target languages."""
    from provenance.actions import attach as do_attach

    return do_attach(
        archive, record, signer, source=source, role="translation", name=name, language=language,
        now=utc_now_or(now), translation_of=of,
    )


def read_annotations(collection: Path) -> list[Any]:
    """The notes of a W3C Web Annotation collection (or page, or one annotation) in the file ``collection``,
    read strictly (bounded). Raises ``InputError(annotations.invalid)`` naming the annotation and what is
    wrong with it, ``NotFoundError(input.not-found)``, ``InputError(input.unreadable)``."""
    from provenance.exports.annotations import MAX_COLLECTION_BYTES, read_collection
    from provenance.fsio import read_input

    return list(read_collection(read_input(collection, MAX_COLLECTION_BYTES, "annotation collection")))


def import_notes(
    archive: Archive, record: str, signer: Signer, collection: Path | list[Any], *, now: datetime | None = None
) -> Any:
    """Sign every note of a W3C Web Annotation collection (a file, or what :func:`read_annotations` read)
    into the record, one annotation event per note; notes the record holds already are skipped. The whole
    collection is read and checked before anything is signed. Returns the import result (``added``,
    ``skipped``, ``orphaned``, ``events``, ``to_json()``). Raises as :func:`read_annotations`."""
    from provenance.note_import import import_annotations

    archive.require_record(record)
    archive.refuse_links(record)  # as every writer: no link in the archive is followed (archive.path-unsafe)
    incoming = read_annotations(collection) if isinstance(collection, Path) else collection
    return import_annotations(archive, record, signer, incoming, now=utc_now_or(now))


# --- reading a record ------------------------------------------------------------------------------------


def read_record(archive: Archive, record: str) -> Manifest:
    """The record's manifest (current state and signed events), parsed strictly.
    Raises ``NotFoundError(record.not-found)``, ``InputError(record.corrupt)``."""
    from provenance.manifest_io import read_manifest

    return read_manifest(archive.require_record(record))


def record_at(archive: Archive, record: str, version: int) -> tuple[Manifest, State, Event]:
    """The record as it was after event ``version``: (manifest, state then, that event), the state read from
    its stored snapshot and checked. Raises ``NotFoundError(version.not-found)``."""
    from provenance.history import state_at

    return state_at(archive, record, version)


def prov_document(archive: Archive, record: str) -> dict[str, Any]:
    """The record's history as a W3C PROV-JSON document, agents labelled from the archive's trust store."""
    from provenance.keys import TrustStore
    from provenance.prov import to_prov_json

    return to_prov_json(read_record(archive, record), TrustStore.load(archive.keys_dir))
