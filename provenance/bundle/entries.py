"""What every bundle reader shares: its bounds, the one safe-path predicate, the ledger of entry names,
the writes into the temporary folder, and the scan of a bag folder.

Every name that comes from a bundle (an archive entry, a file in a bag folder, a line of a bag manifest)
goes through :func:`safe_entry_path` and nothing else.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provenance.model.problems import ProblemCode as P

BLOCK = 1 << 20
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


def reject(code: P, message: str, **fields: Any) -> BundleRejectedError:
    return BundleRejectedError([Finding(code, message, fields)])


# --------------------------------------------------------------------------------------------------------
# The one safe-path predicate


_CONTROL = re.compile("[\x00-\x1f\x7f]")  # one C-speed scan (a dossier bag has thousands of names)


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
    if _CONTROL.search(name) is not None:
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


class EntryNames:
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
            raise reject(
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


class Budget:
    """Running totals that every entry counts against."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def add(self, count: int, name: str) -> None:
        self.total += count
        if self.total > self.limits.max_total_bytes:
            raise reject(
                P.BUNDLE_TOO_LARGE,
                f"more than {self.limits.max_total_bytes} bytes uncompressed (at {name!r})",
                path=name,
                expected=self.limits.max_total_bytes,
                found="more",
            )


def make_folder(root: Path, rel: str) -> None:
    try:
        root.joinpath(*rel.split("/")).mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise reject(
            P.BUNDLE_MALFORMED, f"entry {rel!r} cannot be a folder: {exc.strerror}", path=rel
        ) from exc


def open_new_file(root: Path, rel: str) -> int:
    parts = rel.split("/")
    if len(parts) > 1:
        make_folder(root, "/".join(parts[:-1]))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(root.joinpath(*parts), flags, 0o600)
    except OSError as exc:
        raise reject(
            P.BUNDLE_MALFORMED, f"entry {rel!r} cannot be written: {exc.strerror}", path=rel
        ) from exc


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def check_declared(rel: str, size: int, compressed: int, limits: Limits) -> None:
    if size > limits.max_entry_bytes:
        raise reject(
            P.BUNDLE_TOO_LARGE,
            f"entry {rel!r} is {size} bytes (limit {limits.max_entry_bytes})",
            path=rel,
            expected=limits.max_entry_bytes,
            found=size,
        )
    if size > limits.ratio_floor and size > limits.max_ratio * max(compressed, 1):
        raise reject(
            P.BUNDLE_TOO_LARGE,
            f"entry {rel!r} expands {size // max(compressed, 1)}:1 ({compressed} bytes to {size}): "
            "a compression bomb",
            path=rel,
            expected=f"at most {limits.max_ratio}:1",
            found=f"{size // max(compressed, 1)}:1",
        )


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
    names = EntryNames(limits)
    stack: list[tuple[Path, str]] = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise reject(
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
