"""Reading bundles defensively: one safe-path predicate, and bounded extraction of zip and tar(.gz).

Every name that comes from a bundle (an archive entry, a file in a bag folder, a line of a bag manifest)
goes through :func:`safe_entry_path` and nothing else. An archive is extracted into a fresh temporary
folder that :func:`extracted` removes afterwards; nothing is ever written outside it. Extraction refuses,
before or while reading, anything that could escape that folder or exhaust the machine:

* names that are absolute, contain ``..``, ``.``, empty segments, backslashes or control characters, that
  repeat, or that collide with another once case and Unicode normalisation are folded;
* links (symbolic and hard), devices, fifos, sparse or contiguous tar members: only regular files and
  folders are ever created, with ``O_EXCL | O_NOFOLLOW``;
* more than :attr:`Limits.max_entries` entries, an entry above :attr:`Limits.max_entry_bytes`, a total
  above :attr:`Limits.max_total_bytes`, or a compression ratio above :attr:`Limits.max_ratio` (a
  compression bomb is stopped after at most :attr:`Limits.ratio_floor` bytes of output, with memory
  bounded by one read block).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import stat
import struct
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from provenance.model.problems import ProblemCode as P

BLOCK = 1 << 20
_TAR_RECORD = tarfile.RECORDSIZE
MAX_PATH_BYTES = 4096
MAX_SEGMENT_BYTES = 255


@dataclass(frozen=True)
class Limits:
    """Bounds on what a bundle may ask of the reader (sizes are uncompressed bytes)."""

    max_entries: int = 100_000
    max_entry_bytes: int = 4 << 30
    max_total_bytes: int = 8 << 30
    max_ratio: int = 200
    ratio_floor: int = 8 << 20  # below this much output, any ratio is accepted (small, repetitive files)
    max_header_bytes: int = 1 << 20  # one tar header with its pax / long-name records


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Finding:
    """A problem found while reading a bundle, before any of its content can be checked."""

    code: P
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


class BundleRejectedError(Exception):
    """The bundle cannot be read safely; ``findings`` says why (every unsafe entry, or the first bound hit)."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


class UnsafePathError(ValueError):
    """A name that must never be used as a path below the bundle's folder."""


def _reject(code: P, message: str, **fields: Any) -> BundleRejectedError:
    return BundleRejectedError([Finding(code, message, fields)])


# --------------------------------------------------------------------------------------------------------
# The one safe-path predicate


def safe_entry_path(name: str) -> str:
    """The normalised relative POSIX path of a bundle entry, or ``UnsafePathError`` saying why it is refused.

    A single leading ``./`` and a trailing ``/`` (a folder entry) are dropped; everything else must already
    be normal: no absolute path or drive letter, no ``..``, ``.`` or empty segment, no backslash, no
    control character, valid UTF-8, at most 4096 bytes and 255 bytes per segment.
    """
    if not isinstance(name, str) or not name:
        raise UnsafePathError("empty name")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafePathError("name is not valid UTF-8") from None
    if len(encoded) > MAX_PATH_BYTES:
        raise UnsafePathError(f"name longer than {MAX_PATH_BYTES} bytes")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise UnsafePathError("control character in name")
    if "\\" in name:
        raise UnsafePathError("backslash in name")
    if name.startswith("/") or (len(name) >= 2 and name[1] == ":" and name[0].isalpha()):
        raise UnsafePathError("absolute path")
    rel = name[2:] if name.startswith("./") else name
    rel = rel[:-1] if rel.endswith("/") else rel
    segments = rel.split("/")
    for segment in segments:
        if segment == "..":
            raise UnsafePathError("'..' segment escapes the bundle")
        if segment in ("", "."):
            raise UnsafePathError("empty or '.' segment")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise UnsafePathError(f"segment longer than {MAX_SEGMENT_BYTES} bytes")
    return rel


def collision_key(rel: str) -> str:
    """What a case-insensitive, normalising file system would make of a name (NFC, case folded)."""
    return unicodedata.normalize("NFC", rel).casefold()


class _Names:
    """Entry names seen so far: refuses unsafe, duplicate and colliding names, and too many entries."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.seen: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.findings: list[Finding] = []
        self.count = 0

    def admit(self, name: str, kind: str) -> str | None:
        """The safe relative path for ``name``, or None after recording why it is refused."""
        self.count += 1
        if self.count > self.limits.max_entries:
            raise _reject(
                P.BUNDLE_TOO_LARGE,
                f"more than {self.limits.max_entries} entries",
                expected=self.limits.max_entries,
                found=self.count,
            )
        try:
            rel = safe_entry_path(name)
        except UnsafePathError as exc:
            self.unsafe(name, str(exc))
            return None
        key = collision_key(rel)
        other = self.seen.get(key)
        if other is not None:
            if other == rel and kind == "folder" and self.kinds[key] == "folder":
                return rel  # a folder named twice is harmless
            why = "appears twice" if other == rel else f"collides with {other!r} when case is folded"
            self.unsafe(name, why)
            return None
        for depth in range(1, rel.count("/") + 1):  # a parent that is already a file
            parent = collision_key(rel.rsplit("/", depth)[0])
            if self.kinds.get(parent) == "file":
                self.unsafe(name, f"lies below {self.seen[parent]!r}, which is a file")
                return None
        self.seen[key] = rel
        self.kinds[key] = kind
        return rel

    def refuse(self, name: str, why: str, found: str) -> None:
        """Count an entry that is refused for what it is (a link, a device), whatever its name."""
        self.count += 1
        self.unsafe(name, why, found)

    def unsafe(self, name: str, why: str, found: str | None = None) -> None:
        if len(self.findings) < 100:
            self.findings.append(
                Finding(
                    P.BUNDLE_UNSAFE_ENTRY, f"entry {name!r}: {why}", {"path": name, "found": found or why}
                )
            )


# --------------------------------------------------------------------------------------------------------
# Writing what was read, inside the temporary folder only


class _Budget:
    """Running totals that every entry counts against."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def add(self, count: int, name: str) -> None:
        self.total += count
        if self.total > self.limits.max_total_bytes:
            raise _reject(
                P.BUNDLE_TOO_LARGE,
                f"more than {self.limits.max_total_bytes} bytes uncompressed (at {name!r})",
                path=name,
                expected=self.limits.max_total_bytes,
                found="more",
            )


def _make_folder(root: Path, rel: str) -> None:
    try:
        root.joinpath(*rel.split("/")).mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _reject(
            P.BUNDLE_MALFORMED, f"entry {rel!r} cannot be a folder: {exc.strerror}", path=rel
        ) from exc


def _open_new_file(root: Path, rel: str) -> int:
    parts = rel.split("/")
    if len(parts) > 1:
        _make_folder(root, "/".join(parts[:-1]))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(root.joinpath(*parts), flags, 0o600)
    except OSError as exc:
        raise _reject(
            P.BUNDLE_MALFORMED, f"entry {rel!r} cannot be written: {exc.strerror}", path=rel
        ) from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --------------------------------------------------------------------------------------------------------
# zip


def _zip_directory_size(path: Path) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end-of-central-directory record, zip64 included.

    Read before :mod:`zipfile` parses the central directory, so a forged entry count is refused without
    building millions of objects. None when the record is not found (zipfile then reports the damage).
    """
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        tail_len = min(size, 22 + 65535)
        handle.seek(size - tail_len)
        tail = handle.read(tail_len)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            return None
        entries, cd_size = struct.unpack("<HI", tail[at + 10 : at + 16])
        if (
            (entries == 0xFFFF or cd_size == 0xFFFFFFFF)
            and at >= 20
            and tail[at - 20 : at - 16] == b"PK\x06\x07"
        ):
            (offset,) = struct.unpack("<Q", tail[at - 12 : at - 4])
            if offset + 56 > size:
                return None
            handle.seek(offset)
            record = handle.read(56)
            if record[:4] != b"PK\x06\x06":
                return None
            entries, cd_size = struct.unpack("<QQ", record[32:48])
        return entries, cd_size


def _zip_kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if info.create_system == 3 and kind:  # unix attributes with a file type (APPNOTE 4.4.2, 4.4.15)
        if stat.S_ISLNK(mode):
            return "symbolic link"
        if stat.S_ISDIR(mode):
            return "folder"
        if not stat.S_ISREG(mode):
            return "device or special file"
    return "folder" if info.filename.endswith("/") else "file"  # no type bits (zipfile.writestr): by name


def _extract_zip(path: Path, dest: Path, limits: Limits) -> None:
    try:
        declared = _zip_directory_size(path)
    except OSError as exc:
        raise _reject(P.BUNDLE_MALFORMED, f"cannot read the zip: {exc.strerror}") from exc
    if declared is not None and (declared[0] > limits.max_entries or declared[1] > limits.max_entries * 1400):
        raise _reject(
            P.BUNDLE_TOO_LARGE,
            f"the zip declares {declared[0]} entries (limit {limits.max_entries})",
            expected=limits.max_entries,
            found=declared[0],
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _reject(P.BUNDLE_MALFORMED, f"not a readable zip file: {exc}") from exc
    with archive:
        infos = archive.infolist()
        names = _Names(limits)
        plan: list[tuple[zipfile.ZipInfo, str, str]] = []
        file_size = path.stat().st_size
        declared_total = 0
        for info in infos:
            kind = _zip_kind(info)
            if kind not in ("file", "folder"):
                names.refuse(info.filename, f"is a {kind}", kind)
                continue
            rel = names.admit(info.filename, kind)
            if rel is None:
                continue
            if info.flag_bits & 0x1:
                raise _reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is encrypted", path=rel)
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _reject(
                    P.BUNDLE_MALFORMED,
                    f"entry {rel!r} uses compression method {info.compress_type} (only stored and deflate)",
                    path=rel,
                )
            _check_declared(rel, info.file_size, info.compress_size, limits)
            declared_total += info.file_size
            if info.header_offset + info.compress_size > file_size:
                raise _reject(P.BUNDLE_MALFORMED, f"entry {rel!r} reaches past the end of the zip", path=rel)
            plan.append((info, rel, kind))
        if names.findings:
            raise BundleRejectedError(names.findings)
        if declared_total > limits.max_total_bytes:
            raise _reject(
                P.BUNDLE_TOO_LARGE,
                f"the zip declares {declared_total} bytes uncompressed (limit {limits.max_total_bytes})",
                expected=limits.max_total_bytes,
                found=declared_total,
            )
        _check_no_overlap([info for info, _, kind in plan if kind == "file"])
        budget = _Budget(limits)
        for info, rel, kind in plan:
            if kind == "folder":
                _make_folder(dest, rel)
                continue
            _copy_zip_entry(archive, info, rel, dest, budget)


def _check_declared(rel: str, size: int, compressed: int, limits: Limits) -> None:
    if size > limits.max_entry_bytes:
        raise _reject(
            P.BUNDLE_TOO_LARGE,
            f"entry {rel!r} is {size} bytes (limit {limits.max_entry_bytes})",
            path=rel,
            expected=limits.max_entry_bytes,
            found=size,
        )
    if size > limits.ratio_floor and size > limits.max_ratio * max(compressed, 1):
        raise _reject(
            P.BUNDLE_TOO_LARGE,
            f"entry {rel!r} expands {size // max(compressed, 1)}:1 ({compressed} bytes to {size}): "
            "a compression bomb",
            path=rel,
            expected=f"at most {limits.max_ratio}:1",
            found=f"{size // max(compressed, 1)}:1",
        )


def _check_no_overlap(infos: list[zipfile.ZipInfo]) -> None:
    """Entries whose compressed data overlap (the 'overlapping files' zip bomb) are refused."""
    spans = sorted(
        (i.header_offset, i.header_offset + 30 + len(i.orig_filename) + i.compress_size, i.filename)
        for i in infos
    )
    for (_, end, name), (start, _, other) in itertools.pairwise(spans):
        if start < end:
            raise _reject(
                P.BUNDLE_UNSAFE_ENTRY,
                f"entries {name!r} and {other!r} overlap in the zip",
                path=other,
                found="overlapping entries",
            )


def _copy_zip_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, rel: str, dest: Path, budget: _Budget
) -> None:
    fd = _open_new_file(dest, rel)
    written = 0
    try:
        with archive.open(info) as source:
            while True:
                chunk = source.read(BLOCK)  # zipfile inflates at most BLOCK bytes per read
                if not chunk:
                    break
                written += len(chunk)
                if written > info.file_size:
                    raise _reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is longer than it declares", path=rel)
                budget.add(len(chunk), rel)
                _write_all(fd, chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise _reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is damaged: {exc}", path=rel) from exc
    finally:
        os.close(fd)
    if written != info.file_size:
        raise _reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is shorter than it declares", path=rel)


# --------------------------------------------------------------------------------------------------------
# tar and tar.gz


class _Stream:
    """The bytes of a tar, read from the raw file (gunzipped here when compressed), counted on both sides.

    ``window`` is how many bytes the tar reader may still take before the extractor's next step: a tar
    header that asks for more (a forged pax record of a gigabyte) is refused instead of being read into
    memory. The compression ratio is checked on every read, so a bomb stops after ``ratio_floor`` bytes.
    """

    def __init__(self, raw: IO[bytes], compressed: bool, limits: Limits) -> None:
        self.raw = raw
        self.limits = limits
        self.inflater: Any = zlib.decompressobj(16 + zlib.MAX_WBITS) if compressed else None
        self.pending = b""
        self.consumed = 0
        self.produced = 0
        self.window = limits.max_header_bytes

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = BLOCK
        size = min(size, BLOCK)
        data = self._inflate(size) if self.inflater is not None else self._plain(size)
        self.produced += len(data)
        self.window -= len(data)
        if self.window < 0:
            raise _reject(
                P.BUNDLE_TOO_LARGE,
                f"a tar header or entry reads more than expected (header limit {self.limits.max_header_bytes} bytes)",
                expected=self.limits.max_header_bytes,
            )
        if self.produced > self.limits.max_total_bytes + self.limits.max_header_bytes:
            raise _reject(
                P.BUNDLE_TOO_LARGE,
                f"more than {self.limits.max_total_bytes} bytes uncompressed",
                expected=self.limits.max_total_bytes,
            )
        if self.produced > self.limits.ratio_floor and self.produced > self.limits.max_ratio * max(
            self.consumed, 1
        ):
            ratio = self.produced // max(self.consumed, 1)
            raise _reject(
                P.BUNDLE_TOO_LARGE,
                f"the archive expands {ratio}:1 ({self.consumed} compressed bytes gave {self.produced}): "
                "a compression bomb",
                expected=f"at most {self.limits.max_ratio}:1",
                found=f"{ratio}:1",
            )
        return data

    def _plain(self, size: int) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data

    def _inflate(self, size: int) -> bytes:
        while True:
            if self.inflater.eof:  # a gzip file may hold several members (RFC 1952 section 2.2)
                rest = self.pending or self.raw.read(64 * 1024)
                if not rest.strip(b"\x00"):
                    return b""  # the end (zero padding tolerated)
                if not rest.startswith(b"\x1f\x8b"):
                    raise _reject(P.BUNDLE_MALFORMED, "trailing data after the gzip stream")
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.pending = rest
            if not self.pending:
                self.pending = self.raw.read(64 * 1024)
                if not self.pending:
                    raise _reject(P.BUNDLE_MALFORMED, "the gzip stream is truncated")
            try:
                out: bytes = self.inflater.decompress(self.pending, size)
            except zlib.error as exc:
                raise _reject(P.BUNDLE_MALFORMED, f"the gzip stream is damaged: {exc}") from exc
            left: bytes = self.inflater.unused_data if self.inflater.eof else self.inflater.unconsumed_tail
            self.consumed += len(self.pending) - len(left)
            self.pending = left
            if out:
                return out

    def checkpoint(self, allowance: int) -> None:
        """Start a new step of the extractor that may read ``allowance`` bytes (plus tar buffering)."""
        self.window = allowance + 4 * _TAR_RECORD


_TAR_KINDS = {
    tarfile.SYMTYPE: "symbolic link",
    tarfile.LNKTYPE: "hard link",
    tarfile.CHRTYPE: "character device",
    tarfile.BLKTYPE: "block device",
    tarfile.FIFOTYPE: "fifo",
    tarfile.CONTTYPE: "contiguous file",
    tarfile.GNUTYPE_SPARSE: "sparse file",
}


def _extract_tar(path: Path, dest: Path, limits: Limits, compressed: bool) -> None:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise _reject(P.BUNDLE_MALFORMED, f"cannot read the archive: {exc.strerror}") from exc
    with raw:
        if compressed and raw.read(2) != b"\x1f\x8b":
            raise _reject(P.BUNDLE_MALFORMED, "not a gzip file")
        raw.seek(0)
        stream = _Stream(raw, compressed, limits)
        names = _Names(limits)
        budget = _Budget(limits)
        try:
            with tarfile.open(fileobj=stream, mode="r|", encoding="utf-8", errors="surrogateescape") as tar:  # type: ignore[call-overload]
                skip = 0
                while True:
                    stream.checkpoint(limits.max_header_bytes + skip)
                    member = tar.next()
                    if member is None:
                        break
                    skip = _tar_member(tar, member, stream, names, budget, dest, limits)
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise _reject(P.BUNDLE_MALFORMED, f"not a readable tar archive: {exc}") from exc
        if names.count == 0:
            raise _reject(P.BUNDLE_MALFORMED, "the archive is empty")
        if names.findings:
            raise BundleRejectedError(names.findings)


def _tar_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    stream: _Stream,
    names: _Names,
    budget: _Budget,
    dest: Path,
    limits: Limits,
) -> int:
    """Extract one member; returns how many of its bytes the next header read must skip."""
    if member.type == tarfile.DIRTYPE:
        kind = "folder"
    elif member.type in (tarfile.REGTYPE, tarfile.AREGTYPE):
        kind = "file"
    else:
        kind = _TAR_KINDS.get(member.type, f"member of type {member.type!r}")
    if kind not in ("file", "folder"):
        names.refuse(member.name, f"is a {kind}", kind)
        return member.size
    rel = names.admit(member.name, kind)
    if rel is None:
        return member.size
    if names.findings:  # once unsafe, only names are read on: nothing more is written
        return member.size
    if kind == "folder":
        _make_folder(dest, rel)
        return 0
    _check_declared(rel, member.size, member.size, limits)
    source = tar.extractfile(member)
    if source is None:  # pragma: no cover - regular members always have a file object
        raise _reject(P.BUNDLE_MALFORMED, f"entry {rel!r} has no data", path=rel)
    fd = _open_new_file(dest, rel)
    written = 0
    try:
        while True:
            stream.checkpoint(BLOCK)
            chunk = source.read(BLOCK)
            if not chunk:
                break
            written += len(chunk)
            budget.add(len(chunk), rel)
            _write_all(fd, chunk)
    finally:
        os.close(fd)
    if written != member.size:
        raise _reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is truncated", path=rel)
    return 0


# --------------------------------------------------------------------------------------------------------
# Entry points


def archive_form(path: Path) -> str | None:
    """``zip``, ``tar.gz`` or ``tar`` by the file's extension; None for anything else."""
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if name.endswith(".tar"):
        return "tar"
    return None


def extract(path: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Extract the bundle archive ``path`` into the empty folder ``dest``.

    Raises ``BundleRejectedError`` (bundle.malformed, bundle.unsafe-entry, bundle.too-large) and ``OSError``
    when ``path`` cannot be opened at all.
    """
    form = archive_form(path)
    if form == "zip":
        _extract_zip(path, dest, limits)
    elif form in ("tar.gz", "tar"):
        _extract_tar(path, dest, limits, compressed=form == "tar.gz")
    else:
        raise _reject(P.BUNDLE_MALFORMED, f"{path.name}: not a .zip, .tar.gz or .tar file")


@contextlib.contextmanager
def extracted(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Path]:
    """A temporary folder holding the extracted bundle; removed on exit, whatever happened.

    Raises ``BundleRejectedError`` as :func:`extract` does.
    """
    folder = Path(tempfile.mkdtemp(prefix="provenance-bundle-"))
    try:
        extract(path, folder, limits)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Tree:
    """The regular files and folders below a bag's root, by safe relative path."""

    files: dict[str, Path] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)


def scan_tree(root: Path, limits: Limits = DEFAULT_LIMITS) -> Tree:
    """Every entry below ``root`` without following links, each name through :func:`safe_entry_path`.

    Raises ``BundleRejectedError`` listing every link, device or unsafe name (and for too many entries).
    """
    tree = Tree()
    names = _Names(limits)
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise _reject(
                P.BUNDLE_MALFORMED, f"cannot read {prefix or '.'}: {exc.strerror}", path=prefix
            ) from exc
        for entry in entries:
            name = prefix + entry.name
            if entry.is_symlink():
                names.refuse(name, "is a symbolic link", "symbolic link")
            elif entry.is_dir(follow_symlinks=False):
                rel = names.admit(name + "/", "folder")
                if rel is not None:
                    tree.folders.add(rel)
                    stack.append((Path(entry.path), rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                rel = names.admit(name, "file")
                if rel is not None:
                    tree.files[rel] = Path(entry.path)
            else:
                names.refuse(name, "is a device, fifo or socket", "special file")
    if names.findings:
        raise BundleRejectedError(names.findings)
    return tree
