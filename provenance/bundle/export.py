"""Writing one record as a BagIt 1.0 bag (RFC 8493): a folder, or a deterministic ``.zip`` / ``.tar.gz``.

Layout of the bag::

    bagit.txt                         the declaration (section 2.1.1)
    bag-info.txt                      catalogue essentials, Bagging-Date, Payload-Oxum (section 2.2.2)
    manifest-sha256.txt               every payload file (manifest-sha512.txt too on request)
    tagmanifest-sha256.txt            every tag file: the two above, the manifests, provenance/…
    provenance/manifest.json          the record's signed manifest, byte for byte
    provenance/keys/<name>-<id>.json  the key card of every signer (shown by a verifier, never trusted)
    data/files/<path>                 the current files of the record
    data/objects/sha256/<hex>         with history: every state snapshot and every earlier file version

A serialised bag holds one top-level folder named like the archive without its extension (section 4.2).
The same record gives the same bytes on every export: entries are sorted, every time stamp is the time
of the record's last event (Bagging-Date, zip and tar times), owners are 0/0 with no names, modes are
0644/0755, the gzip header carries mtime 0 and no file name.

Every payload byte is hashed once, from the record, and checked against the signed manifest before it is
written: a damaged record is refused (``record.corrupt``), never exported with fresh digests.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import secrets
import shutil
import stat
import tarfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from provenance import fsio
from provenance.archive import MANIFEST_NAME, OBJECTS_DIR, Archive
from provenance.bundle import tagfiles
from provenance.bundle.readers import archive_form
from provenance.errors import ConflictError, ErrorCode, NotFoundError, StorageError, UsageError
from provenance.exports.source import corrupt_record_error as _corrupt
from provenance.manifest_io import parse_manifest
from provenance.model.manifest import Manifest
from provenance.model.timefmt import parse_utc
from provenance.snapshots import SnapshotError, read_snapshot, snapshot_hex
from provenance.verify.hashing import hash_file

COPY_BLOCK = 1 << 20
ALGORITHMS = ("sha256", "sha512")


@dataclass
class _Entry:
    """One file of the bag: bytes in memory (tag files) or a file of the record (payload)."""

    data: bytes | None = None
    source: Path | None = None
    size: int = 0


@dataclass
class ExportResult:
    """What was written."""

    record: str
    out: Path
    form: str
    history: bool
    algorithms: tuple[str, ...]
    files: int = 0
    objects: int = 0
    payload_bytes: int = 0
    events: int = 0
    key_cards: list[str] = field(default_factory=list)
    missing_cards: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "record": self.record,
            "out": str(self.out),
            "form": self.form,
            "history": self.history,
            "algorithms": list(self.algorithms),
            "files": self.files,
            "objects": self.objects,
            "payload_bytes": self.payload_bytes,
            "payload_oxum": f"{self.payload_bytes}.{self.files + self.objects}",
            "events": self.events,
            "key_cards": self.key_cards,
            "missing_key_cards": self.missing_cards,
        }


class _Plan:
    """The bag being assembled: its entries by bag path, and the payload digests."""

    def __init__(self, record_id: str, algorithms: tuple[str, ...]) -> None:
        self.record_id = record_id
        self.algorithms = algorithms
        self.entries: dict[str, _Entry] = {}
        self.payload: dict[str, dict[str, str]] = {alg: {} for alg in algorithms}
        self.payload_bytes = 0
        self.payload_count = 0

    def add_payload(self, rel: str, source: Path, sha256: str, size: int | None) -> None:
        """Hash ``source`` once with every algorithm; refuse it unless it is what the record signed."""
        try:
            regular = stat.S_ISREG(source.lstat().st_mode)
            if regular:
                found_size, digests = hash_file(source, tuple(sorted(set(self.algorithms) | {"sha256"})))
        except FileNotFoundError:
            raise _corrupt(self.record_id, f"{source} is missing") from None
        except OSError as exc:
            raise _corrupt(self.record_id, f"{source} cannot be read ({exc.strerror})") from exc
        if not regular:
            raise _corrupt(self.record_id, f"{source} is not a regular file")
        if digests["sha256"] != sha256 or (size is not None and found_size != size):
            raise _corrupt(self.record_id, f"{source} does not match its signed digest")
        self.entries[rel] = _Entry(source=source, size=found_size)
        for alg in self.algorithms:
            self.payload[alg][rel] = digests[alg]
        self.payload_bytes += found_size
        self.payload_count += 1

    def add_tag(self, rel: str, data: bytes) -> None:
        self.entries[rel] = _Entry(data=data, size=len(data))


def _history_objects(record_dir: Path, manifest: Manifest, record_id: str) -> list[str]:
    """Every object the history refers to: each state snapshot and each file version in them.

    Versions still current are taken when the record stores them too (a revision back to an earlier
    text); every other referenced object must be there.
    """
    objects = record_dir / OBJECTS_DIR
    current = {f.sha256 for f in manifest.state.files}
    wanted: set[str] = set()
    for event in manifest.events:
        try:
            snapshot = read_snapshot(objects, event).state
        except SnapshotError as exc:
            raise _corrupt(record_id, str(exc)) from exc
        wanted.add(snapshot_hex(event))
        for entry in snapshot.files:
            if entry.sha256 in current and not (objects / entry.sha256).exists():
                continue
            wanted.add(entry.sha256)
    return sorted(wanted)


def _plan_bag(
    archive: Archive,
    record_id: str,
    *,
    history: bool,
    algorithms: tuple[str, ...],
    result: ExportResult,
    log_tiles: bool = False,
) -> tuple[_Plan, Manifest]:
    record_dir = archive.require_record(record_id)
    manifest_path = record_dir / MANIFEST_NAME
    try:
        manifest_data = manifest_path.read_bytes()
    except OSError as exc:
        raise _corrupt(record_id, f"its manifest cannot be read ({exc.strerror})") from exc
    manifest = parse_manifest(manifest_data, source=str(manifest_path))
    if manifest.record != record_id:
        raise _corrupt(record_id, f"its manifest describes record {manifest.record!r}")
    plan = _Plan(record_id, algorithms)
    for entry in sorted(manifest.state.files, key=lambda f: f.path):
        plan.add_payload(
            f"{tagfiles.FILES_DIR}/{entry.path}", record_dir / "files" / entry.path, entry.sha256, entry.size
        )
    result.files = len(manifest.state.files)
    if history:
        hexes = _history_objects(record_dir, manifest, record_id)
        for hex_digest in hexes:
            plan.add_payload(
                f"{tagfiles.OBJECTS_DIR}/{hex_digest}",
                record_dir / OBJECTS_DIR / hex_digest,
                hex_digest,
                None,
            )
        result.objects = len(hexes)
    result.payload_bytes = plan.payload_bytes
    result.events = len(manifest.events)

    from provenance.keys import TrustStore, card_bytes, card_filename

    store = TrustStore.load(archive.keys_dir)
    for key in dict.fromkeys(event.key for event in manifest.events):
        card = store.get(key)
        if card is None:
            result.missing_cards.append(key)
            continue
        rel = f"{tagfiles.KEYS_TAG}/{card_filename(card)}"
        plan.add_tag(rel, card_bytes(card))
        result.key_cards.append(rel)

    from provenance.archive_log import bundle_files, log_card

    for rel, data in bundle_files(archive, manifest, tiles=log_tiles).items():  # transparency log (issue 10)
        plan.add_tag(rel, data)
    card = log_card(archive)
    if card is not None and card.id not in {e.key for e in manifest.events}:
        plan.add_tag(f"{tagfiles.KEYS_TAG}/{card_filename(card)}", card_bytes(card))

    last_time = manifest.events[-1].time if manifest.events else "1980-01-01T00:00:00Z"
    info = [
        *tagfiles.bag_info_essentials(manifest, history=history),
        ("Bagging-Date", last_time[:10]),
        ("Bag-Software-Agent", f"provenance {_version()}"),
        ("Payload-Oxum", f"{plan.payload_bytes}.{plan.payload_count}"),
    ]
    plan.add_tag("bagit.txt", tagfiles.BAGIT_TXT)
    plan.add_tag("bag-info.txt", tagfiles.bag_info_text(info))
    plan.add_tag(tagfiles.MANIFEST_TAG, manifest_data)
    for alg in algorithms:
        plan.add_tag(f"manifest-{alg}.txt", tagfiles.manifest_text(plan.payload[alg]))
    tags = {rel: e.data for rel, e in plan.entries.items() if e.data is not None}
    for alg in algorithms:
        digests = {rel: hashlib.new(alg, data).hexdigest() for rel, data in tags.items()}
        plan.add_tag(f"tagmanifest-{alg}.txt", tagfiles.manifest_text(digests))
    return plan, manifest


def _version() -> str:
    from provenance import __version__

    return __version__


# --------------------------------------------------------------------------------------------------------
# Writing: a folder, a zip, a tar(.gz)


def _folders(rels: list[str]) -> list[str]:
    """Every folder that holds an entry, each once."""
    out: set[str] = set()
    for rel in rels:
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            out.add("/".join(parts[:depth]))
    return sorted(out)


def _write_folder(plan: _Plan, target: Path) -> None:
    for folder in _folders(list(plan.entries)):
        (target / folder).mkdir(parents=True, exist_ok=True)
    for rel in sorted(plan.entries):
        entry = plan.entries[rel]
        path = target / rel
        if entry.data is not None:
            path.write_bytes(entry.data)
        else:
            assert entry.source is not None
            shutil.copyfile(entry.source, path)
    for dirpath, _dirs, files in os.walk(target):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as handle:
                os.fsync(handle.fileno())
        fsio.fsync_dir(Path(dirpath))


def _open_entry(entry: _Entry) -> contextlib.AbstractContextManager[IO[bytes]]:
    if entry.data is not None:
        import io

        return contextlib.nullcontext(io.BytesIO(entry.data))
    assert entry.source is not None
    return entry.source.open("rb")


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    year = min(max(moment.year, 1980), 2107)
    return (year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def _write_zip(plan: _Plan, target: Path, base: str, moment: datetime) -> None:
    stamp = _zip_time(moment)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for rel in sorted([*_folders(list(plan.entries)), *plan.entries, ""]):
            name = f"{base}/{rel}" if rel else base
            entry = plan.entries.get(rel)
            if entry is None:  # a folder
                info = zipfile.ZipInfo(name + "/", date_time=stamp)
                info.create_system = 3
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"", compress_type=zipfile.ZIP_STORED)
                continue
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.file_size = entry.size
            with (
                _open_entry(entry) as source,
                archive.open(info, "w", force_zip64=entry.size >= 1 << 31) as sink,
            ):
                shutil.copyfileobj(source, sink, COPY_BLOCK)


def _write_tar(plan: _Plan, target: Path, base: str, moment: datetime, compressed: bool) -> None:
    mtime = int(moment.timestamp())
    with target.open("wb") as raw:
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compressed else None
        stream: Any = gz if gz is not None else raw
        with tarfile.open(fileobj=stream, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
            for rel in sorted([*_folders(list(plan.entries)), *plan.entries, ""]):
                info = tarfile.TarInfo(f"{base}/{rel}" if rel else base)
                info.mtime = mtime
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                entry = plan.entries.get(rel)
                if entry is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                    continue
                info.type = tarfile.REGTYPE
                info.mode = 0o644
                info.size = entry.size
                with _open_entry(entry) as source:
                    tar.addfile(info, source)
        if gz is not None:
            gz.close()
        raw.flush()
        os.fsync(raw.fileno())


def base_name(out: Path, record_id: str) -> str:
    """The bag's folder inside an archive: the archive's name without its extension (RFC 8493 4.2)."""
    name = out.name
    for suffix in (".tar.gz", ".tgz", ".zip", ".tar"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name if name and name not in (".", "..") else record_id


def export_record(
    archive: Archive,
    record_id: str,
    out: Path,
    *,
    history: bool = False,
    algorithms: tuple[str, ...] = ("sha256",),
    log_tiles: bool = False,
) -> ExportResult:
    """Write ``record_id`` as a bag at ``out``: a folder, or a ``.zip`` / ``.tar.gz`` / ``.tar`` by extension.

    The bag is built beside ``out`` under a temporary name and renamed into place; on any failure nothing
    is left behind. Raises ``ConflictError(output.exists)``, ``NotFoundError`` (record, output folder),
    ``UsageError`` (unknown algorithm, an output inside the archive's records/), ``InputError(record.corrupt,
    archive.path-unsafe)``,
    ``StorageError``.
    """
    for alg in algorithms:
        if alg not in ALGORITHMS:
            raise UsageError(
                ErrorCode.USAGE, f"digest algorithm {alg!r} is not offered (only {', '.join(ALGORITHMS)})"
            )
    algorithms = tuple(a for a in ALGORITHMS if a in algorithms) or ("sha256",)
    archive.refuse_links(record_id)  # nothing read through a link (archive.path-unsafe)
    archive.require_record(record_id)
    if os.path.lexists(out):
        raise ConflictError(
            ErrorCode.OUTPUT_EXISTS, f"{out} already exists", path=str(out)
        )
    parent = out.parent
    if not parent.is_dir():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"folder {parent} does not exist", path=str(parent))
    if parent.resolve().is_relative_to(archive.records_dir.resolve()):
        raise UsageError(
            ErrorCode.USAGE, f"{out} lies inside the archive's records/; write the bundle somewhere else"
        )
    form = archive_form(out) or "folder"
    result = ExportResult(record=record_id, out=out, form=form, history=history, algorithms=algorithms)
    temporary = parent / f".{out.name}.tmp-{secrets.token_hex(6)}"
    with contextlib.ExitStack() as stack:
        # writers of the record wait while it is read; a read-only archive is read unlocked (and every
        # digest is still checked against the signed manifest)
        with contextlib.suppress(StorageError):
            stack.enter_context(archive.locked(record_id))
        plan, manifest = _plan_bag(
            archive, record_id, history=history, algorithms=algorithms, result=result, log_tiles=log_tiles
        )
        moment = parse_utc(manifest.events[-1].time) if manifest.events else datetime(1980, 1, 1)
        try:
            if form == "folder":
                temporary.mkdir()
                _write_folder(plan, temporary)
            elif form == "zip":
                _write_zip(plan, temporary, base_name(out, record_id), moment)
            else:
                _write_tar(plan, temporary, base_name(out, record_id), moment, compressed=form == "tar.gz")
            fsio.rename_noreplace(temporary, out)
        except FileExistsError:
            _remove(temporary)
            raise ConflictError(
                ErrorCode.OUTPUT_EXISTS, f"{out} already exists"
            ) from None
        except OSError as exc:
            _remove(temporary)
            raise fsio.storage_error("write the bundle", out, exc) from exc
        except BaseException:
            _remove(temporary)
            raise
    return result


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()
