"""A record as an OCFL 1.1 object (https://ocfl.io/1.1/spec/), in a storage root laid out by the community
extension 0004-hashed-n-tuple-storage-layout.

One OCFL version per record version: version ``vN`` is the record after event N (what ``provenance show
RECORD --version N`` shows). Every event changes the signed manifest, which is content, so every event
makes a version. Its logical state::

    files/<path>                  the record's files at that version
    provenance/manifest.json      the signed manifest as it stood then (events 1..N; the head's is the
                                  record's own manifest, byte for byte)
    provenance/keys/<card>.json   the key card of every signer so far (shown by an importer, never trusted)

``message`` is the event's summary, ``user`` the signer's name with the key id as address
(``urn:provenance:key:ed25519:<hex>``), ``created`` the event's time. Content is addressed by SHA-512 as
OCFL requires, with SHA-256 in ``fixity`` (the digest the record itself signs). Each version directory
holds the inventory as it stood at that version, with its sidecar. The same record gives the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from provenance import fsio
from provenance.archive import Archive
from provenance.canonical import dumps_pretty
from provenance.errors import ConflictError, ErrorCode, NotFoundError, UsageError
from provenance.exports.source import LoadedRecord, held, load_record
from provenance.exports.writing import Exported, check_new_output

OCFL_VERSION = "1.1"
INVENTORY_TYPE = "https://ocfl.io/1.1/spec/#inventory"
LAYOUT_NAME = "0004-hashed-n-tuple-storage-layout"
LAYOUT_CONFIG: dict[str, object] = {
    "extensionName": LAYOUT_NAME,
    "digestAlgorithm": "sha256",
    "tupleSize": 3,
    "numberOfTuples": 3,
    "shortObjectRoot": False,
}
LAYOUT_DESCRIPTION = (
    "OCFL object identifiers are hashed (SHA-256) and encoded as lowercase hex; the digest is divided into "
    "3 tuples of 3 characters, which are used as nested folders, and the object root is named by the full digest."
)
OBJECT_ID_PREFIX = "urn:provenance:record:"
KEY_ADDRESS_PREFIX = "urn:provenance:key:"
MANIFEST_PATH = "provenance/manifest.json"
KEYS_PATH = "provenance/keys"
FILES_PATH = "files"


def object_id(record_id: str) -> str:
    """The OCFL object id of a record: a URI (``urn:provenance:record:<id>``)."""
    return OBJECT_ID_PREFIX + record_id


def object_path(identifier: str) -> str:
    """Where 0004-hashed-n-tuple-storage-layout (default parameters) puts an object, under the storage root."""
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()
    return "/".join([digest[0:3], digest[3:6], digest[6:9], digest])


def inventory_bytes(inventory: dict[str, Any]) -> bytes:
    return json.dumps(inventory, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def sidecar_bytes(data: bytes) -> bytes:
    return f"{hashlib.sha512(data).hexdigest()}  inventory.json\n".encode("ascii")


@dataclass
class _Content:
    """One content file: where its bytes come from (record file, or bytes in memory)."""

    sha512: str
    sha256: str
    content_path: str
    source: Path | None = None
    data: bytes | None = None


@dataclass
class ObjectPlan:
    """The object being written: content files and the inventory of each version."""

    identifier: str
    contents: list[_Content] = field(default_factory=list)
    inventories: list[dict[str, Any]] = field(default_factory=list)  # inventory as at v1, v2, ...

    @property
    def inventory(self) -> dict[str, Any]:
        return self.inventories[-1]


def _digests(data: bytes) -> tuple[str, str]:
    return hashlib.sha512(data).hexdigest(), hashlib.sha256(data).hexdigest()


def plan_object(rec: LoadedRecord) -> ObjectPlan:
    """The OCFL object of a loaded record, every version of it."""
    from provenance.keys import card_filename

    plan = ObjectPlan(identifier=object_id(rec.record_id))
    manifest: dict[str, list[str]] = {}
    fixity: dict[str, list[str]] = {}
    versions: dict[str, Any] = {}
    sha512_of_sha256: dict[str, str] = {}  # a file version's sha512, once read
    card_bytes = {key: dumps_pretty(card.as_json()) for key, card in rec.cards.items()}
    signers: list[str] = []
    for version in rec.versions:
        vname = f"v{version.seq}"
        state: dict[str, list[str]] = {}

        def add(
            logical: str,
            sha512: str,
            sha256: str,
            *,
            source: Path | None = None,
            data: bytes | None = None,
            vname: str = vname,
            state: dict[str, list[str]] = state,
        ) -> None:
            if sha512 not in manifest:
                content_path = f"{vname}/content/{logical}"
                manifest[sha512] = [content_path]
                fixity.setdefault(sha256, []).append(content_path)
                plan.contents.append(_Content(sha512, sha256, content_path, source=source, data=data))
            state.setdefault(sha512, []).append(logical)

        for entry in sorted(version.state.files, key=lambda f: f.path):
            source = rec.file_path(entry.sha256, entry.path)
            if entry.sha256 not in sha512_of_sha256:
                sha512_of_sha256[entry.sha256] = rec.file_sha512(entry.sha256, entry.path)
            add(f"{FILES_PATH}/{entry.path}", sha512_of_sha256[entry.sha256], entry.sha256, source=source)
        manifest_data = rec.manifest_at(version.seq)
        add(MANIFEST_PATH, *_digests(manifest_data), data=manifest_data)
        if version.event.key not in signers:
            signers.append(version.event.key)
        for key in signers:
            card = rec.cards.get(key)
            if card is not None:
                data = card_bytes[key]
                add(f"{KEYS_PATH}/{card_filename(card)}", *_digests(data), data=data)
        event = version.event
        card = rec.cards.get(event.key)
        versions[vname] = {
            "created": event.time,
            "message": event.summary,
            "user": {"name": card.name if card else event.agent, "address": KEY_ADDRESS_PREFIX + event.key},
            "state": {k: sorted(v) for k, v in sorted(state.items())},
        }
        plan.inventories.append(
            {
                "id": plan.identifier,
                "type": INVENTORY_TYPE,
                "digestAlgorithm": "sha512",
                "head": vname,
                "manifest": {k: list(v) for k, v in manifest.items()},
                "versions": dict(versions),
                "fixity": {"sha256": {k: list(v) for k, v in fixity.items()}},
            }
        )
    return plan


def write_object(plan: ObjectPlan, target: Path, *, start: int = 1) -> None:
    """Write versions ``start``.. of the object into ``target`` (a new folder, or the object's own folder when
    adding versions), then its root inventory: a reader sees the old object or the new, never half of one.
    """
    target.mkdir(exist_ok=True)
    declaration = target / f"0=ocfl_object_{OCFL_VERSION}"
    if not declaration.exists():
        fsio.write_atomic(declaration, f"ocfl_object_{OCFL_VERSION}\n".encode("ascii"))
    for content in plan.contents:
        if int(content.content_path.split("/", 1)[0][1:]) < start:
            continue
        path = target / content.content_path
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.data is not None:
            path.write_bytes(content.data)
        else:
            assert content.source is not None
            shutil.copyfile(content.source, path)
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    for n, inventory in enumerate(plan.inventories, start=1):
        if n < start:
            continue
        data = inventory_bytes(inventory)
        folder = target / f"v{n}"
        folder.mkdir(exist_ok=True)
        fsio.write_atomic(folder / "inventory.json", data)
        fsio.write_atomic(folder / "inventory.json.sha512", sidecar_bytes(data))
    for dirpath, _dirs, _files in os.walk(target):
        fsio.fsync_dir(Path(dirpath))
    data = inventory_bytes(plan.inventory)
    # the sidecar first: a crash between the two leaves a mismatch a validator reports, never a silent one
    fsio.write_atomic(target / "inventory.json.sha512", sidecar_bytes(data))
    fsio.write_atomic(target / "inventory.json", data)


def init_storage_root(root: Path) -> None:
    """Lay out a new, empty storage root with the 0004 layout at ``root`` (a folder being built)."""
    root.mkdir()
    fsio.write_atomic(root / f"0=ocfl_{OCFL_VERSION}", f"ocfl_{OCFL_VERSION}\n".encode("ascii"))
    layout = {"extension": LAYOUT_NAME, "description": LAYOUT_DESCRIPTION}
    fsio.write_atomic(root / "ocfl_layout.json", json.dumps(layout, indent=2).encode("utf-8") + b"\n")
    config_dir = root / "extensions" / LAYOUT_NAME
    config_dir.mkdir(parents=True)
    fsio.write_atomic(config_dir / "config.json", json.dumps(LAYOUT_CONFIG, indent=2).encode("utf-8") + b"\n")


def check_storage_root(root: Path) -> None:
    """Refuse a folder that is not an OCFL 1.x storage root laid out by 0004 with its default parameters."""
    if not root.is_dir():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"storage root {root} does not exist", path=str(root))
    if not any((root / f"0=ocfl_{v}").is_file() for v in ("1.0", "1.1")):
        raise UsageError(
            ErrorCode.USAGE,
            f"{root} is not an OCFL storage root (no 0=ocfl_1.1)",
        )
    try:
        layout = json.loads((root / "ocfl_layout.json").read_text(encoding="utf-8"))
        extension = layout.get("extension") if isinstance(layout, dict) else None
    except (OSError, ValueError):
        extension = None
    if extension != LAYOUT_NAME:
        raise UsageError(
            ErrorCode.USAGE,
            f"{root} is not laid out by {LAYOUT_NAME} (ocfl_layout.json names {extension!r}); this tool "
            "writes only into such storage roots",
        )
    config_path = root / "extensions" / LAYOUT_NAME / "config.json"
    if config_path.exists():
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(ErrorCode.USAGE, f"{config_path} cannot be read: {exc}") from exc
        if not isinstance(config, dict) or any(config.get(k, v) != v for k, v in LAYOUT_CONFIG.items()):
            raise UsageError(
                ErrorCode.USAGE, f"{config_path} sets parameters other than the defaults; not supported"
            )


@dataclass
class OcflExportResult(Exported):
    """What an OCFL export wrote."""

    root: Path
    object_path: str
    identifier: str
    versions: int
    added_versions: int
    content_files: int

    def to_json(self) -> dict[str, object]:
        return self.json_with(
            {"format": "ocfl", "root": str(self.root), "object": self.object_path, "id": self.identifier,
             "versions": self.versions, "added_versions": self.added_versions, "content_files": self.content_files}
        )

    def line(self) -> str:
        what = "up to date" if not self.added_versions else f"{self.added_versions} version(s) written"
        return (
            f"wrote {self.root / self.object_path}: OCFL {OCFL_VERSION} object {self.identifier} with "
            f"{self.versions} version(s) ({what}, {self.content_files} content files; head {self.head[:19]}…)"
        )


def _existing_versions(folder: Path) -> list[Any] | None:
    """The versions block of an object already at ``folder`` (its root inventory), or None."""
    try:
        data = (folder / "inventory.json").read_bytes()
        inventory = json.loads(data)
    except (OSError, ValueError):
        return None
    versions = inventory.get("versions") if isinstance(inventory, dict) else None
    if not isinstance(versions, dict):
        return None
    return [versions.get(f"v{n}") for n in range(1, len(versions) + 1)]


def export_ocfl(
    archive: Archive, record_id: str, root: Path, *, into: bool = False, now: datetime | None = None
) -> OcflExportResult:
    """Write ``record_id`` as an OCFL object: into a new storage root ``root``, or (``into``) into an existing
    one, where an earlier export of the record is brought up to date by adding the versions it lacks.

    Raises ``ConflictError(output.exists)`` (a new root that exists; an object that is not an earlier state of
    this record), ``NotFoundError``, ``UsageError`` (not a 0004 storage root), ``InputError(record.corrupt)``.
    """
    if into:
        check_storage_root(root)
    else:
        check_new_output(root)
    with contextlib.ExitStack() as stack:
        if into:  # exporters into one storage root wait for each other (a lock on its folder: no file added)
            stack.enter_context(_root_lock(root))
        stack.enter_context(held(archive, record_id))  # writers wait: what is copied is what was verified
        return _export(archive, record_id, root, into=into, now=now)


def _root_lock(root: Path, timeout: float = 120.0) -> contextlib.AbstractContextManager[None]:
    return fsio.exclusive_folder_lock(
        root, timeout=timeout, busy=f"another export is writing into {root}; try again when it ends"
    )


def _export(
    archive: Archive, record_id: str, root: Path, *, into: bool, now: datetime | None
) -> OcflExportResult:
    rec = load_record(archive, record_id, now=now)
    plan = plan_object(rec)
    rel = object_path(plan.identifier)
    result = OcflExportResult(
        record=record_id,
        root=root,
        object_path=rel,
        identifier=plan.identifier,
        versions=len(plan.inventories),
        added_versions=len(plan.inventories),
        content_files=len(plan.contents),
        head=rec.head,
        state=rec.state,
        warnings=rec.warnings,
    )
    if not into:
        with fsio.new_folder(root, what="the OCFL storage root") as building:
            init_storage_root(building)
            write_object(plan, _mkdirs(building, rel))
        return result
    target = root / rel
    if target.exists():
        existing = _existing_versions(target)
        ours = list(plan.inventory["versions"].values())
        if existing is None or existing != ours[: len(existing)]:
            raise ConflictError(
                ErrorCode.OUTPUT_EXISTS,
                f"{target} holds an OCFL object {plan.identifier} that is not an earlier export of this record; "
                "nothing was written",
                path=str(target),
            )
        result.added_versions = len(ours) - len(existing)
        if result.added_versions:
            try:
                write_object(plan, target, start=len(existing) + 1)
            except OSError as exc:
                raise fsio.storage_error("add versions to the OCFL object", target, exc) from exc
        return result
    building = target.parent / f".{target.name}.tmp-{secrets.token_hex(6)}"
    try:
        building.parent.mkdir(parents=True, exist_ok=True)
        write_object(plan, building)
        fsio.rename_noreplace(building, target)
    except OSError as exc:
        shutil.rmtree(building, ignore_errors=True)
        raise fsio.storage_error("write the OCFL object", target, exc) from exc
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return result


def _mkdirs(root: Path, rel: str) -> Path:
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
