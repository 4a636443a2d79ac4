"""A record as the preservation exporters read it: verified first, then every version laid out.

Every exporter (PREMIS, METS, Archivematica, OCFL) starts here. The record is verified with the archive's
own trust store before a byte is written: an ``invalid`` record is refused (``record.corrupt``), never
exported with fresh digests under a preservation system's seal. A ``valid`` record (intact and signed,
a signer unknown to the trust store) is exported with a warning, since the signatures travel with it.

A *version* here is the record after one event (``provenance show RECORD --version N``): its state
snapshot, the files it held, and the signed manifest as it stood then (the events up to N, laid out
byte for byte as the tool writes a manifest).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from provenance.archive import MANIFEST_NAME, OBJECTS_DIR, Archive
from provenance.canonical import loads_strict
from provenance.errors import ErrorCode, InputError, StorageError
from provenance.manifest_io import MAX_MANIFEST_BYTES, event_digest
from provenance.model.keycard import KeyCard
from provenance.model.manifest import Event, Manifest, State
from provenance.snapshots import SnapshotError, read_snapshot

# Our namespace: local PREMIS event types, identifier types and the key id scheme live under it.
NAMESPACE = "https://provenance.invalid/ns/"


def corrupt_record_error(record_id: str, what: str) -> InputError:
    """The refusal of an export (a bag too) from a damaged record: ``InputError(record.corrupt)``."""
    return InputError(
        ErrorCode.RECORD_CORRUPT,
        f"record {record_id} cannot be exported: {what}",
        record=record_id,
    )


@dataclass
class Version:
    """The record after event ``event.seq``."""

    event: Event
    raw_event: dict[str, Any]
    state: State
    raw_state: dict[str, Any]
    snapshot: bytes  # the canonical bytes of the state (the stored snapshot object)
    changed: bool  # whether this event changed the state

    @property
    def seq(self) -> int:
        return self.event.seq


@dataclass
class LoadedRecord:
    """A verified record: its manifest (bytes and model), its versions, its signers' key cards."""

    record_id: str
    record_dir: Path
    manifest: Manifest
    manifest_bytes: bytes
    raw: dict[str, Any]
    versions: list[Version]
    cards: dict[str, KeyCard]
    head: str
    state: str
    warnings: list[str] = field(default_factory=list)

    @property
    def last_time(self) -> str:
        return self.manifest.events[-1].time

    def manifest_at(self, seq: int) -> bytes:
        """The signed manifest as it stood after event ``seq`` (the head's are the record's own bytes)."""
        if seq == len(self.versions):
            return self.manifest_bytes
        return self.rebuilt_manifest(seq)

    def rebuilt_manifest(self, seq: int) -> bytes:
        """The manifest after event ``seq`` laid out as the tool writes one (from the models, as a writer does)."""
        from provenance.manifest_io import manifest_bytes

        version = self.versions[seq - 1]
        document = {
            "format": self.raw["format"],
            "record": self.raw["record"],
            "state": version.raw_state,
            "events": self.raw["events"][:seq],
        }
        return manifest_bytes(Manifest.model_validate(document))

    def file_path(self, sha256_hex: str, path: str) -> Path:
        """Where the bytes of one file version lie: the current file when it is that version, else its object."""
        current = self.manifest.state.file(path)
        if current is not None and current.sha256 == sha256_hex:
            return self.record_dir / "files" / path
        return self.record_dir / OBJECTS_DIR / sha256_hex

    def file_sha512(self, sha256_hex: str, path: str) -> str:
        """The SHA-512 of one file version, read in blocks and checked against its signed SHA-256."""
        from provenance.verify.hashing import hash_file

        source = self.file_path(sha256_hex, path)
        try:
            _size, digests = hash_file(source, ("sha256", "sha512"))
        except OSError as exc:
            raise corrupt_record_error(self.record_id, f"{source} cannot be read ({exc.strerror})") from exc
        if digests["sha256"] != sha256_hex:
            raise corrupt_record_error(self.record_id, f"{source} does not match its signed digest")
        return digests["sha512"]



@contextlib.contextmanager
def held(archive: Archive, record_id: str) -> Iterator[None]:
    """The record's lock, held while an exporter reads and writes: writers of the record wait, so what is
    written is what was verified. A read-only archive is read unlocked (every byte is still checked)."""
    archive.require_record(record_id)
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(StorageError):
            stack.enter_context(archive.locked(record_id))
        yield


def load_record(archive: Archive, record_id: str, *, now: datetime | None = None) -> LoadedRecord:
    """Verify ``record_id`` with the archive's trust store and read every version of it (call it under
    :func:`held` when what is read is then written out).

    Raises ``NotFoundError(record.not-found)`` and ``InputError(record.corrupt)`` (the record is not intact).
    """
    from provenance.model.timefmt import utc_now
    from provenance.verify.record import verify_record_folder
    from provenance.verify.target import make_context

    record_dir = archive.require_record(record_id)
    ctx = make_context(archive.keys_dir, now or utc_now(), archive.config().policy)
    report = verify_record_folder(record_dir, ctx)
    if str(report.state) == "invalid":
        first = report.problems[0] if report.problems else None
        what = f"{first.code}: {first.message}" if first else "it is not intact"
        raise corrupt_record_error(record_id, what)
    try:
        manifest_bytes = (record_dir / MANIFEST_NAME).read_bytes()
    except OSError as exc:  # pragma: no cover - verified a moment ago
        raise corrupt_record_error(record_id, f"its manifest cannot be read ({exc.strerror})") from exc
    raw: dict[str, Any] = loads_strict(manifest_bytes, max_bytes=MAX_MANIFEST_BYTES)  # type: ignore[assignment]
    manifest = Manifest.model_validate(raw)
    versions = _versions(record_dir, record_id, manifest, raw)
    from provenance.keys import TrustStore

    store = TrustStore.load(archive.keys_dir)
    cards: dict[str, KeyCard] = {}
    warnings: list[str] = []
    for key in dict.fromkeys(e.key for e in manifest.events):
        card = store.get(key)
        if card is None:
            warnings.append(f"no key card for signer {key[:24]}… in {archive.keys_dir}; none is exported")
        else:
            cards[key] = card
    if str(report.state) != "trusted":
        codes = ", ".join(sorted({str(p.code) for p in report.problems}))
        warnings.append(f"record {record_id} is {report.state}, not trusted ({codes})")
    return LoadedRecord(
        record_id=record_id,
        record_dir=record_dir,
        manifest=manifest,
        manifest_bytes=manifest_bytes,
        raw=raw,
        versions=versions,
        cards=cards,
        head=event_digest(raw["events"][-1], parsed=True),
        state=str(report.state),
        warnings=warnings,
    )


def _versions(record_dir: Path, record_id: str, manifest: Manifest, raw: dict[str, Any]) -> list[Version]:
    versions: list[Version] = []
    previous = None
    for event, raw_event in zip(manifest.events, raw["events"], strict=True):
        try:
            snapshot = read_snapshot(record_dir / OBJECTS_DIR, event)
        except SnapshotError as exc:  # pragma: no cover - verified above
            raise corrupt_record_error(record_id, str(exc)) from exc
        versions.append(
            Version(
                event=event,
                raw_event=raw_event,
                state=snapshot.state,
                raw_state=snapshot.raw,
                snapshot=snapshot.data,
                changed=event.state_digest != previous,
            )
        )
        previous = event.state_digest
    return versions
