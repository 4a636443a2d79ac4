"""The public functions of :mod:`provenance`, one per thing a caller does (``docs/api.md`` has examples).

Each composes library modules in the order the checks must run: everything that needs no key is checked
before a passphrase is asked for, and a failed call leaves the archive as it was. Times default to now
(UTC); pass ``now`` for reproducible results. Errors are :class:`~provenance.errors.ProvenanceError`
subclasses carrying a stable :class:`~provenance.errors.ErrorCode`; messages name no command-line option.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from provenance.errors import ConflictError, ErrorCode, UsageError

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.history import Signer
    from provenance.model.events import EventType, Role
    from provenance.model.manifest import Event, Manifest, State
    from provenance.model.problems import VerificationReport
    from provenance.search import Filters, Found
    from provenance.signers import Passphrase

PROFILES = ("auto", "telegram", "generic")
NOTE_KINDS = ("translation", "editorial", "comment", "correction")
FILE_ROLES = ("original", "scan", "translation", "attachment")
REVIEW_OUTCOMES = ("approved", "changes-requested")

# export(format=…): the module and function of each archive exporter; each is called as
# fn(archive, record, out, **options) and returns an object with ``to_json()``.
EXPORTERS: dict[str, tuple[str, str]] = {
    "bag": ("provenance.bundle.export", "export_record"),
    "premis": ("provenance.exports.premis", "export_premis"),
    "mets": ("provenance.exports.mets", "export_mets"),
    "archivematica": ("provenance.exports.archivematica", "export_archivematica"),
    "ocfl": ("provenance.exports.ocfl", "export_ocfl"),
}
# edition(format=…): readers' formats, made from a record or bundle verified at that moment
EDITIONS: dict[str, tuple[str, str]] = {
    "page": ("provenance.exports.page", "page_bytes"),
    "tei": ("provenance.exports.tei", "tei_bytes"),
    "annotations": ("provenance.exports.annotations", "collection_bytes"),
}
ExportFormat = Literal["bag", "premis", "mets", "archivematica", "ocfl"]
EditionFormat = Literal["page", "tei", "annotations"]


def _now(now: datetime | None) -> datetime:
    from provenance.model.timefmt import utc_now

    return now or utc_now()


def _one_of(value: str, allowed: tuple[str, ...], param: str) -> None:
    if value not in allowed:
        raise UsageError(ErrorCode.USAGE, f"{param} {value!r}: use {', '.join(allowed)}", param=param)


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
    profile: str = "auto",
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

    _one_of(profile, PROFILES, "profile")
    archive.refuse_links()  # before anything of the archive is read: no link is followed (issue 9)
    text = read_transcription(file, encoding)
    sidecar = load_sidecar(metadata) if metadata else None
    overrides = dict(catalogue or {})
    rid, _, _ = prepare_record(text, profile=profile, sidecar=sidecar, overrides=overrides, record_id=record_id)  # type: ignore[arg-type]
    if archive.has_record(rid) or archive.record_dir(rid).exists():
        raise ConflictError(ErrorCode.RECORD_EXISTS, f"record {rid!r} already exists in {archive.root}", record=rid)
    moment = _now(now)
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
        profile=profile,  # type: ignore[arg-type]
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
    kind: str = "translation",
    occurrence: int | None = None,
    file: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Anchor a note (``kind``: translation, editorial, comment, correction) to the exact ``quote`` (its
    ``occurrence``-th place when it occurs more than once) in ``file`` (default: the transcription).
    Raises ``InputError`` (note.quote-not-found, note.quote-ambiguous), ``UsageError``."""
    from provenance.actions import add_note

    _one_of(kind, NOTE_KINDS, "kind")
    return add_note(
        archive, record, signer, quote=quote, text=text, kind=kind,  # type: ignore[arg-type]
        occurrence=occurrence, file=file, now=_now(now),
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

    return transfer_custody(archive, record, signer, from_=from_, to=to, note=note, now=_now(now))


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
        archive, record, signer, source=source, reason=reason, file=file, encoding=encoding, now=_now(now)
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

    _one_of(outcome, REVIEW_OUTCOMES, "outcome")
    return do_review(archive, record, signer, note=note, outcome=outcome, now=_now(now))


def release(
    archive: Archive, record: str, signer: Signer, *, note: str | None = None, now: datetime | None = None
) -> Manifest:
    """Record the release of the current version (PREMIS dissemination)."""
    from provenance.actions import release as do_release

    return do_release(archive, record, signer, note=note, now=_now(now))


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
    return change_metadata(archive, record, signer, changes=dict(changes), reason=reason, now=_now(now))


def attach(
    archive: Archive,
    record: str,
    signer: Signer,
    *,
    source: Path,
    role: str = "attachment",
    name: str | None = None,
    language: str | None = None,
    media_type: str | None = None,
    now: datetime | None = None,
) -> Manifest:
    """Add the file (or every file below the folder) ``source`` to the record, byte for byte, as ``role``
    (original, scan, translation, attachment) under ``name`` (default: its own name)."""
    from provenance.actions import attach as do_attach

    _one_of(role, FILE_ROLES, "role")
    return do_attach(
        archive, record, signer, source=source, role=role, name=name, language=language, media=media_type,
        now=_now(now),
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
        now=_now(now), translation_of=of,
    )


def read_annotations(collection: Path) -> list[Any]:
    """The notes of a W3C Web Annotation collection (or page, or one annotation) in the file ``collection``,
    read strictly (bounded). Raises ``InputError(annotations.invalid)`` naming the annotation and what is
    wrong with it, ``NotFoundError(input.not-found)``, ``InputError(input.unreadable)``."""
    from provenance.errors import InputError, NotFoundError
    from provenance.exports.annotations import MAX_COLLECTION_BYTES, read_collection
    from provenance.fsio import read_limited

    try:
        data = read_limited(collection, MAX_COLLECTION_BYTES, regular_only=False)
    except FileNotFoundError as exc:
        raise NotFoundError(
            ErrorCode.INPUT_NOT_FOUND, f"{collection}: no such file", path=str(collection)
        ) from exc
    except OSError as exc:
        raise InputError(
            ErrorCode.INPUT_UNREADABLE, f"cannot read {collection}: {exc.strerror}", path=str(collection)
        ) from exc
    return list(read_collection(data))


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
    return import_annotations(archive, record, signer, incoming, now=_now(now))


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


# --- exporting ---------------------------------------------------------------------------------------------


def export(
    archive: Archive,
    record: str,
    out: Path,
    *,
    format: ExportFormat = "bag",
    history: bool = False,
    algorithms: tuple[str, ...] = ("sha256",),
    log_tiles: bool = False,
    into: bool = False,
    now: datetime | None = None,
) -> Any:
    """Write ``record`` to ``out``, never overwriting: a BagIt 1.0 bag (``bag``: a folder, or a ``.zip`` /
    ``.tar.gz`` by extension; ``history`` adds every earlier version, ``algorithms`` the manifests,
    ``log_tiles`` the transparency log's tiles), or a preservation system's form (``premis``, ``mets``,
    ``archivematica``, ``ocfl``; with ``into`` an existing OCFL storage root is updated). Returns the
    exporter's result (``to_json()``). Raises ``ConflictError(output.exists)``, ``UsageError`` for options
    the format does not take, and the exporter's errors."""
    if format not in EXPORTERS:
        raise UsageError(ErrorCode.USAGE, f"unknown export format {format!r} (known: {', '.join(EXPORTERS)})",
                         param="format")
    if format != "bag" and (history or log_tiles or tuple(algorithms) != ("sha256",)):
        raise UsageError(ErrorCode.USAGE, "history, other digest algorithms and log tiles go with a bag only")
    if into and format != "ocfl":
        raise UsageError(ErrorCode.USAGE, "an existing storage root is updated by the ocfl format only")
    module, name = EXPORTERS[format]
    exporter = getattr(importlib.import_module(module), name)
    if format == "bag":
        return exporter(archive, record, out, history=history, algorithms=tuple(algorithms), log_tiles=log_tiles)
    options: dict[str, object] = {"now": _now(now)}
    if format == "ocfl":
        options["into"] = into
    return exporter(archive, record, out, **options)


@dataclass(frozen=True)
class Edition:
    """A reader's edition (page, TEI, annotations) made from what verified: its bytes, where they were
    written (``None``: not written), and the verification it rests on."""

    data: bytes
    out: Path | None
    record: str
    format: str
    state: str
    head: str | None
    label: str
    kind: str

    @property
    def trusted(self) -> bool:
        return self.state == "trusted"

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "format": self.format,
            "out": str(self.out) if self.out is not None else None,
            "bytes": len(self.data),
            "state": self.state,
            "head": self.head,
            "kind": self.kind,
        }


def edition(
    target: str,
    *,
    format: EditionFormat,
    out: Path | None = None,
    archive: Path | None = None,
    trust: Path | None = None,
    allow_untrusted: bool = False,
    now: datetime | None = None,
) -> Edition:
    """Make a reader's edition of ``target`` (a record id of the archive, or a bundle's path) from what
    verifies now against ``trust`` (default: the archive's ``keys/``): ``page`` (one self-contained HTML
    page), ``tei`` (a TEI P5 edition), ``annotations`` (the notes as a W3C Web Annotation collection).
    Written to the new file ``out`` when given. A source that is not trusted is refused
    (``UnverifiedError``: source.invalid, source.not-trusted) unless ``allow_untrusted``; the edition then
    says its state."""
    from provenance.exports.verified import open_verified
    from provenance.exports.writing import write_output

    if format not in EDITIONS:
        raise UsageError(ErrorCode.USAGE, f"unknown edition {format!r} (known: {', '.join(EDITIONS)})",
                         param="format")
    module, name = EDITIONS[format]
    make = getattr(importlib.import_module(module), name)
    with open_verified(
        target, archive_path=archive, trust=trust, now=_now(now), allow_untrusted=allow_untrusted
    ) as source:
        data = cast("bytes", make(source))
        if out is not None:
            write_output(out, data)
        return Edition(
            data=data,
            out=out,
            record=source.manifest.record,
            format=format,
            state=str(source.state),
            head=source.report.head,
            label=source.label,
            kind=source.kind,
        )


def unpack(
    bundle: Path,
    out: Path,
    *,
    trust: Path | None = None,
    archive: Path | None = None,
    max_size: int | None = None,
    now: datetime | None = None,
) -> Any:
    """Verify the bundle archive ``bundle`` and, only when it is trusted, write its bag from the bytes
    verified to the new folder ``out``. Returns the result (``report``; ``out``, ``None`` when nothing was
    written). Raises ``ConflictError(output.exists)``, ``NotFoundError(input.not-found)``, ``UsageError``."""
    from dataclasses import replace

    from provenance.bundle.unpack import unpack_bundle
    from provenance.errors import NotFoundError
    from provenance.trust import verifier_context

    if not bundle.exists():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{bundle}: no such file", path=str(bundle))
    ctx = verifier_context([bundle], trust=trust, archive=archive, now=now)
    if max_size is not None:
        ctx = replace(ctx, max_size=max_size)
    return unpack_bundle(bundle, out, ctx)


def import_ocfl(archive: Archive, source: Path, *, now: datetime | None = None) -> VerificationReport:
    """Check the OCFL object ``source``, rebuild the record it holds, verify it with the archive's trust
    store and add it when intact; returns the report (``invalid``: nothing was written)."""
    from provenance.imports.ocfl import import_ocfl as do_import

    return do_import(archive, source, now=_now(now))



# --- searching (a derived index; search is not verification) ------------------------------------------------


def search_filters(
    archive: Archive,
    *,
    fields: list[str] | None = None,
    sent_from: str | None = None,
    sent_to: str | None = None,
    signer: str | None = None,
    released: bool = False,
) -> Filters:
    """The filters of :func:`search_records` and :func:`list_records`: ``fields`` as ``FIELD=VALUE`` (the
    field contains the value, case and accents aside; Dublin Core names too), ``sent_from``/``sent_to`` ISO
    8601 dates, ``signer`` a key (resolved through the archive's trust store) or an agent's name.
    Raises ``UsageError``."""
    from provenance.errors import NotFoundError
    from provenance.keys import TrustStore
    from provenance.search import Filters, check_date, parse_field_filters

    key = None
    if signer:
        try:
            key = TrustStore.load(archive.keys_dir).resolve(signer).id
        except NotFoundError:
            key = signer
    return Filters(
        fields=parse_field_filters(fields or []),
        sent_from=check_date("sent from", sent_from),
        sent_to=check_date("sent to", sent_to),
        signer=key,
        released=released,
    )


def search_records(archive: Archive, query: str, filters: Filters | None = None, *, limit: int = 20) -> Found:
    """Ranked full-text search of the archive's texts, notes and catalogue (FTS5 syntax), each result
    checked against its manifest's digest. Returns ``Found`` (``hits``, ``total``, ``status``).
    Raises ``UsageError`` for an empty query, ``UnavailableError(index.unavailable)``."""
    from provenance.search import Filters, search

    return search(archive, query, filters if filters is not None else Filters(), limit=limit)


def index_status(archive: Archive, *, rebuild: bool = False, check: bool = False) -> dict[str, Any]:
    """The search index (``.provenance/index.sqlite``, derived from the manifests), made current first:
    ``rebuild`` rebuilds it whole, ``check`` compares every indexed record with its manifest and re-indexes
    what differs. Returns ``records``, ``rebuilt``, ``reindexed``, ``path``."""
    from provenance import catalogue_index

    if rebuild:
        db, _ = catalogue_index.open_index(archive)  # opened first: a damaged file is replaced, not rebuilt in place
        db.close()
        count = catalogue_index.rebuild(archive)
        document: dict[str, Any] = {"records": count, "rebuilt": True, "reindexed": count}
    elif check:
        count, differ = catalogue_index.check_all(archive)
        document = {"records": count, "rebuilt": False, "reindexed": differ}
    else:
        db, status = catalogue_index.open_index(archive)
        count = db.execute("SELECT count(*) FROM records").fetchone()[0]
        db.close()
        document = {"records": count, "rebuilt": status.rebuilt, "reindexed": status.refreshed}
    document["path"] = str(catalogue_index.index_path(archive))
    return document


# --- the signing agent --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentStarted:
    """A signing agent serving: its socket, when it stops, the keys it holds, the keys the passphrase did
    not open, and the shell lines that point signing commands at it (as ``ssh-agent`` prints)."""

    socket: Path
    pid: int
    expires: str
    keys: list[str]
    skipped: list[str]
    shell_lines: str


def start_agent(
    archive: Archive,
    *,
    keys: list[str] | None = None,
    timeout: str = "15m",
    passphrase: Passphrase | None = None,
    on_ready: Callable[[AgentStarted], None],
) -> None:
    """Unlock the archive's keys held on this machine (or those named by ``keys``) with one passphrase and
    serve signatures on a private Unix socket until ``timeout`` (``15m``, ``2h``, at most ``7d``). The
    agent runs as a daemon: ``on_ready`` is called once it listens. Raises ``NotFoundError(key.none-usable)``
    when no key can be held, ``KeyStoreError`` when the passphrase opens none."""
    import time
    from datetime import timedelta

    from provenance import agent
    from provenance import keys as key_store
    from provenance.errors import NotFoundError
    from provenance.model.timefmt import format_utc, utc_now
    from provenance.signers import Passphrase

    seconds = agent.parse_duration(timeout)
    store = key_store.TrustStore.load(archive.keys_dir)
    if keys:
        cards = [store.resolve(ref) for ref in keys]
    else:
        cards = [c for c in store.cards.values() if key_store.has_private_key(c.id)]
    cards = [c for c in cards if c.revoked is None]
    if not cards:
        raise NotFoundError(ErrorCode.KEY_NO_DEFAULT, "no private key here for any key card of this archive")
    unlocked, skipped = agent.unlock_keys(cards, (passphrase or Passphrase()).read("keys (agent)"))
    listener, path = agent.listen(agent.socket_folder())
    expires = format_utc(utc_now() + timedelta(seconds=seconds))
    server = agent.Agent(
        keys=unlocked, listener=listener, path=path, deadline=time.monotonic() + seconds, expires=expires
    )
    names = [card.name for card, _ in unlocked.values()]

    def ready(pid: int) -> None:
        on_ready(AgentStarted(path, pid, expires, names, skipped, agent.shell_lines(path, pid)))

    agent.daemonize(server, ready)


def agent_status() -> dict[str, Any] | None:
    """The running agent's answer (pid, socket, expires, seconds_left, signed, keys), or ``None``."""
    from provenance import agent

    return agent.status()


def stop_agent() -> dict[str, Any]:
    """Stop the running agent; its last answer. Raises ``UnavailableError(agent.unavailable)``."""
    from provenance import agent

    return agent.stop()
