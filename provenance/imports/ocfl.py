"""``import --ocfl OBJECT``: an OCFL object written by ``export --format ocfl`` read back into an archive.

The object is checked as OCFL before anything is read from it: its declaration, the root inventory against
its sidecar, the inventory's structure (ids, versions v1..vN, content paths inside the object), and every
content file against its SHA-512 (and the SHA-256 fixity) — a content file that is missing, altered or not
listed is reported by name. The record is then rebuilt from it: the head version's signed manifest and
files, every earlier file version and every state snapshot (each version's manifest carries its state),
and verified like any record folder, with the archive's own trust store (key cards inside the object are
never trusted). Only an intact record is moved into ``records/``, in one rename; otherwise nothing is
written and the report names every problem.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import secrets
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from provenance import fsio
from provenance.archive import MANIFEST_NAME, OBJECTS_DIR, Archive
from provenance.canonical import StrictJSONError, loads_strict
from provenance.errors import ConflictError, ErrorCode
from provenance.exports.ocfl import FILES_PATH, KEY_ADDRESS_PREFIX, MANIFEST_PATH
from provenance.manifest_io import MAX_MANIFEST_BYTES, state_canonical
from provenance.model.problems import ProblemCode as P
from provenance.model.problems import VerificationReport

MAX_INVENTORY_BYTES = 64 * 1024 * 1024
FIXITY_ALGORITHMS = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "blake2b-512": "blake2b",
}
_VERSION = re.compile(r"^v([1-9][0-9]*)$")
_HEX = {"sha512": re.compile(r"^[0-9a-f]{128}$"), "sha256": re.compile(r"^[0-9a-f]{64}$")}


class _RefusedError(Exception):
    """The object cannot be read further (the report says why)."""


def _refused(report: VerificationReport, code: P, message: str, **fields: Any) -> _RefusedError:
    """Report the problem that stops the import here; the exception to raise."""
    report.add(code, message, **fields)
    return _RefusedError()


def _safe_relative(path: object) -> bool:
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path or "\x00" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _regular_inside(root: Path, rel: str) -> bool:
    """Whether ``root/rel`` is a regular file reached without following a link at any step."""
    import stat

    path = root
    for part in rel.split("/"):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return False
        if stat.S_ISLNK(mode):
            return False
    return stat.S_ISREG(mode)


def _read_inventory(report: VerificationReport, folder: Path, where: str) -> dict[str, Any]:
    try:
        data = fsio.read_limited(folder / "inventory.json", MAX_INVENTORY_BYTES)
    except OSError as exc:
        raise _refused(
            report,
            P.OCFL_NOT_AN_OBJECT,
            f"{where}inventory.json cannot be read ({exc.strerror or exc})",
            path=f"{where}inventory.json",
        ) from exc
    try:
        sidecar = fsio.read_limited(folder / "inventory.json.sha512", 4096).decode("ascii").split()
    except (OSError, UnicodeDecodeError):
        sidecar = []
    expected = sidecar[0].lower() if len(sidecar) == 2 and sidecar[1] == "inventory.json" else None
    found = hashlib.sha512(data).hexdigest()
    if expected is None:
        raise _refused(
            report,
            P.OCFL_INVENTORY_INVALID,
            f"{where}inventory.json.sha512 is missing or not a sidecar",
            path=f"{where}inventory.json.sha512",
        )
    if expected != found:
        raise _refused(
            report,
            P.OCFL_INVENTORY_DIGEST_MISMATCH,
            f"{where}inventory.json does not match its sidecar: it was altered",
            path=f"{where}inventory.json",
            expected=expected,
            found=found,
        )
    try:
        inventory = loads_strict(data, max_bytes=MAX_INVENTORY_BYTES)
    except StrictJSONError as exc:
        raise _refused(
            report,
            P.OCFL_INVENTORY_INVALID,
            f"{where}inventory.json is not valid JSON: {exc}",
            path=f"{where}inventory.json",
        ) from exc
    if not isinstance(inventory, dict):
        raise _refused(report, P.OCFL_INVENTORY_INVALID, f"{where}inventory.json is not a JSON object")
    return inventory


def _check_inventory(report: VerificationReport, inv: dict[str, Any]) -> tuple[dict[str, list[str]], int]:
    """The manifest (digest → content paths) and the number of versions; raises after reporting a fault."""

    def bad(message: str) -> _RefusedError:
        return _refused(report, P.OCFL_INVENTORY_INVALID, f"inventory.json: {message}", path="inventory.json")

    if not isinstance(inv.get("id"), str) or not inv["id"]:
        raise bad("no id")
    if not isinstance(inv.get("type"), str) or not re.match(
        r"^https://ocfl\.io/1\.[01]/spec/#inventory$", inv["type"]
    ):
        raise bad(f"type {inv.get('type')!r} is not an OCFL 1.0/1.1 inventory")
    if inv.get("digestAlgorithm") != "sha512":
        raise bad(f"digestAlgorithm {inv.get('digestAlgorithm')!r}: only sha512 objects are read")
    if inv.get("contentDirectory", "content") != "content":
        raise bad("contentDirectory other than 'content' is not read")
    versions = inv.get("versions")
    if not isinstance(versions, dict) or not versions:
        raise bad("no versions")
    count = len(versions)
    if set(versions) != {f"v{n}" for n in range(1, count + 1)} or inv.get("head") != f"v{count}":
        raise bad(f"versions are not v1..v{count} with head v{count}")
    manifest = inv.get("manifest")
    if not isinstance(manifest, dict):
        raise bad("no manifest")
    seen: set[str] = set()
    for digest, paths in manifest.items():
        if not isinstance(digest, str) or not _HEX["sha512"].match(digest) or not isinstance(paths, list):
            raise bad(f"manifest entry {digest!r} is not a lowercase SHA-512 with a list of paths")
        for path in paths:
            if (
                not _safe_relative(path)
                or not _VERSION.match(path.split("/", 1)[0])
                or path.split("/")[1:2] != ["content"]
            ):
                raise bad(f"content path {path!r} is not vN/content/... inside the object")
            if path in seen:
                raise bad(f"content path {path!r} listed twice")
            seen.add(path)
    for name, version in versions.items():
        state = version.get("state") if isinstance(version, dict) else None
        if not isinstance(state, dict):
            raise bad(f"version {name} has no state")
        for digest, paths in state.items():
            if (
                digest not in manifest
                or not isinstance(paths, list)
                or not all(_safe_relative(p) for p in paths)
            ):
                raise bad(
                    f"version {name} names content {str(digest)[:16]}… the manifest lacks, or an unsafe path"
                )
    fixity = inv.get("fixity", {})
    if not isinstance(fixity, dict) or not all(isinstance(v, dict) for v in fixity.values()):
        raise bad("fixity is not a block of digests")
    return manifest, count


def _check_content(
    report: VerificationReport, root: Path, manifest: dict[str, list[str]], fixity: dict[str, Any]
) -> dict[str, str]:
    """Hash every content file; returns content path → sha512 of the ones that are intact."""
    # content path -> {algorithm: expected digest} from the fixity block (algorithms hashlib knows)
    expected_fixity: dict[str, dict[str, str]] = {}
    for algorithm, block in sorted(fixity.items()):
        if algorithm not in FIXITY_ALGORITHMS or not isinstance(block, dict):
            continue
        for digest, paths in block.items():
            for path in paths if isinstance(paths, list) else []:
                if isinstance(path, str):
                    expected_fixity.setdefault(path, {})[algorithm] = str(digest).lower()
    intact: dict[str, str] = {}
    listed: set[str] = set()
    for digest, paths in manifest.items():
        for rel in paths:
            listed.add(rel)
            path = root / rel
            wanted = expected_fixity.get(rel, {})
            hashers = {"sha512": hashlib.sha512()} | {
                a: hashlib.new(FIXITY_ALGORITHMS[a]) for a in wanted if a != "sha512"
            }
            try:
                if not _regular_inside(root, rel):
                    raise OSError("not a regular file")
                with open(path, "rb", buffering=0) as handle:
                    while chunk := handle.read(1 << 20):
                        for hasher in hashers.values():
                            hasher.update(chunk)
            except OSError:
                report.add(
                    P.OCFL_CONTENT_MISSING, f"content file {rel} is missing", path=rel, expected=digest
                )
                continue
            found = {a: h.hexdigest() for a, h in hashers.items()}
            wrong = [a for a in wanted if found[a] != wanted[a]]
            if found["sha512"] != digest:
                report.add(
                    P.OCFL_CONTENT_DIGEST_MISMATCH,
                    f"content file {rel} was altered (SHA-512)",
                    path=rel,
                    expected=digest,
                    found=found["sha512"],
                )
            elif wrong:
                report.add(
                    P.OCFL_CONTENT_DIGEST_MISMATCH,
                    f"content file {rel} does not match its {wrong[0]} fixity",
                    path=rel,
                    expected=wanted[wrong[0]],
                    found=found[wrong[0]],
                )
            else:
                intact[rel] = digest
    for entry in sorted(os.listdir(root)):
        if _VERSION.match(entry) and (root / entry / "content").is_dir():
            for dirpath, _dirs, files in os.walk(root / entry / "content"):
                for name in files:
                    rel = Path(dirpath, name).relative_to(root).as_posix()
                    if rel not in listed:
                        report.add(
                            P.OCFL_CONTENT_UNEXPECTED, f"content file {rel} is not in the inventory", path=rel
                        )
    return intact


def _logical(version: dict[str, Any], manifest: dict[str, list[str]]) -> dict[str, str]:
    """A version's logical path → the content path holding its bytes."""
    out: dict[str, str] = {}
    for digest, paths in version["state"].items():
        for logical in paths:
            out[logical] = manifest[digest][0]
    return out


def _rebuild(
    report: VerificationReport,
    root: Path,
    inv: dict[str, Any],
    manifest: dict[str, list[str]],
    count: int,
    folder: Path,
) -> str:
    """Lay the record out in ``folder``; returns its id."""
    versions = [inv["versions"][f"v{n}"] for n in range(1, count + 1)]
    head = _logical(versions[-1], manifest)
    if MANIFEST_PATH not in head:
        raise _refused(
            report,
            P.OCFL_NOT_A_RECORD,
            f"the object is intact OCFL but its head version holds no {MANIFEST_PATH}: not a record exported by "
            "this tool",
        )
    manifest_bytes = fsio.read_limited(root / head[MANIFEST_PATH], MAX_MANIFEST_BYTES)
    try:
        raw: Any = loads_strict(manifest_bytes, max_bytes=MAX_MANIFEST_BYTES)
        record_id = raw["record"]
        events = raw["events"]
        if not isinstance(record_id, str) or not isinstance(events, list):
            raise TypeError("record or events")
    except (StrictJSONError, KeyError, TypeError) as exc:
        raise _refused(report, P.MANIFEST_MALFORMED, f"{MANIFEST_PATH} of the head version cannot be read: {exc}") from exc
    from provenance.archive import check_record_id

    check_record_id(record_id)
    if len(events) != count:
        raise _refused(
            report,
            P.OCFL_VERSION_MISMATCH,
            f"the object has {count} versions but the record {len(events)} events: one version per event expected",
            expected=len(events),
            found=count,
        )
    _check_version_metadata(report, versions, events)
    record = folder / record_id
    (record / "files").mkdir(parents=True)
    objects = record / OBJECTS_DIR
    objects.mkdir(parents=True)
    fsio.write_atomic(record / MANIFEST_NAME, manifest_bytes)
    current = {p: c for p, c in head.items() if p.startswith(FILES_PATH + "/")}
    for logical, content in current.items():
        target = record / logical
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / content, target)
    states: list[list[tuple[str, str]]] = []
    sources: dict[str, Path] = {}  # sha256 of a file version -> a content file holding its bytes
    for n, version in enumerate(versions, start=1):
        paths = _logical(version, manifest)
        if MANIFEST_PATH not in paths:
            raise _refused(report, P.OCFL_VERSION_MISMATCH, f"version v{n} holds no {MANIFEST_PATH}", version=n)
        try:
            raw_n: Any = loads_strict(
                fsio.read_limited(root / paths[MANIFEST_PATH], MAX_MANIFEST_BYTES),
                max_bytes=MAX_MANIFEST_BYTES,
            )
            snapshot = state_canonical(raw_n["state"], parsed=True)
            files = [(str(e["path"]), str(e["sha256"])) for e in raw_n["state"]["files"]]
        except (StrictJSONError, KeyError, TypeError, ValueError) as exc:
            raise _refused(
                report,
                P.OCFL_VERSION_MISMATCH, f"the manifest of version v{n} cannot be read: {exc}", version=n
            ) from exc
        _put(objects, hashlib.sha256(snapshot).hexdigest(), snapshot)
        for path, digest in files:
            held = paths.get(f"{FILES_PATH}/{path}")
            if held is not None:
                sources.setdefault(digest, root / held)
        states.append(files)
    # The record keeps a file version as an object once a later version replaced it, and keeps every file
    # version that is not current: the same set is rebuilt here (the verifier then checks each one).
    keep: set[str] = set()
    for before, after in itertools.pairwise(states):
        later = dict(after)
        keep.update(digest for path, digest in before if later.get(path) != digest)
    current_pairs = set(states[-1])
    keep.update(
        digest for files in states for pair in files if pair not in current_pairs for digest in [pair[1]]
    )
    for digest in sorted(keep):
        source = sources.get(digest)
        if source is not None:
            data = source.read_bytes()
            if hashlib.sha256(data).hexdigest() == digest:
                _put(objects, digest, data)
    return record_id


def _check_version_metadata(report: VerificationReport, versions: list[Any], events: list[Any]) -> None:
    """Each version's ``created``, ``message`` and user address must be its event's time, summary and key: the
    OCFL layer is unsigned, and metadata that says otherwise than the signed events is reported."""
    for n, (version, event) in enumerate(zip(versions, events, strict=True), start=1):
        if not isinstance(event, dict):
            continue  # the record's verification reports it
        user = version.get("user") if isinstance(version.get("user"), dict) else {}
        claimed = (version.get("created"), version.get("message"), user.get("address"))
        signed = (event.get("time"), event.get("summary"), KEY_ADDRESS_PREFIX + str(event.get("key")))
        for what, found, expected in zip(
            ("created", "message", "user address"), claimed, signed, strict=True
        ):
            if found != expected:
                report.add(
                    P.OCFL_VERSION_MISMATCH,
                    f"version v{n}: {what} is not the signed event's",
                    version=n,
                    expected=expected,
                    found=found,
                )


def _put(objects: Path, hex_digest: str, data: bytes) -> None:
    path = objects / hex_digest
    if not path.exists():
        fsio.write_atomic(path, data, mode=0o444)


def import_ocfl(archive: Archive, source: Path, *, now: datetime) -> VerificationReport:
    """Read the OCFL object at ``source`` into ``archive`` when it holds an intact record.

    Returns the report (kind ``ocfl-object``): state ``invalid`` means nothing was written. Raises
    ``ConflictError(record.exists)`` when the archive already holds the record.
    """
    from provenance.verify.record import verify_record_folder
    from provenance.verify.target import make_context

    archive.refuse_links()  # before .provenance/tmp is written: no link in the archive is followed (issue 9)
    report = VerificationReport(path=str(source), kind="ocfl-object")
    if not source.is_dir():
        report.add(P.PATH_NOT_FOUND, f"{source}: no such folder", path=str(source))
        return report
    work = archive.work_dir / "tmp" / f"import-{secrets.token_hex(6)}"
    try:
        try:
            if not any((source / f"0=ocfl_object_{v}").is_file() for v in ("1.0", "1.1")):
                raise _refused(
                    report,
                    P.OCFL_NOT_AN_OBJECT, f"{source} holds no 0=ocfl_object_1.1 declaration", path=str(source)
                )
            inventory = _read_inventory(report, source, "")
            manifest, count = _check_inventory(report, inventory)
            intact = _check_content(report, source, manifest, inventory.get("fixity", {}))
            report.check(
                "the OCFL inventory and every content file are intact",
                not report.problems,
                f"{count} version(s), {len(intact)} content file(s)",
            )
            if report.problems:
                raise _RefusedError
            work.mkdir(parents=True)
            try:
                record_id = _rebuild(report, source, inventory, manifest, count, work)
            except OSError as exc:  # a logical path that cannot be laid out (a file where a folder must be)
                raise _refused(
                    report,
                    P.OCFL_INVENTORY_INVALID,
                    f"the record cannot be laid out from the object: {exc.strerror or exc}",
                ) from exc
            if report.problems:
                raise _RefusedError
        except _RefusedError:
            return report
        if archive.has_record(record_id) or os.path.lexists(archive.records_dir / record_id):
            raise ConflictError(
                ErrorCode.RECORD_EXISTS,
                f"the archive already holds record {record_id}; nothing was imported",
                record=record_id,
            )
        ctx = make_context(archive.keys_dir, now, archive.config().policy)
        checked = verify_record_folder(work / record_id, ctx)
        checked.path = str(source)
        checked.kind = "ocfl-object"
        checked.checks.insert(0, report.checks[0])
        if str(checked.state) == "invalid":
            return checked
        with archive.locked(record_id):
            try:
                fsio.rename_noreplace(work / record_id, archive.records_dir / record_id)
            except FileExistsError:
                raise ConflictError(
                    ErrorCode.RECORD_EXISTS, f"the archive already holds record {record_id}", record=record_id
                ) from None
            except OSError as exc:
                raise fsio.storage_error("import the record into", archive.records_dir, exc) from exc
        checked.warnings.append(f"imported as {archive.records_dir / record_id}")
        return checked
    finally:
        shutil.rmtree(work, ignore_errors=True)
