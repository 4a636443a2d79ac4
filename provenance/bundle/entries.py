"""What every bundle reader shares: its bounds, the one safe-path predicate, the ledger of entry names,
the tree a bag check reads (a folder on disk, or an archive read once into :mod:`members`), and the scan
of a bag folder.

Every name that comes from a bundle (an archive entry, a file in a bag folder, a line of a bag manifest)
goes through :func:`safe_entry_path` and nothing else.
"""

from __future__ import annotations

import errno
import functools
import operator
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.model.problems import ProblemCode as P

if TYPE_CHECKING:
    from provenance.bundle.members import Member

BLOCK = 1 << 20
MAX_PATH_BYTES = 4096
MAX_SEGMENT_BYTES = 255
DEFAULT_MAX_SIZE = 8 << 30
MAX_SIZE_OPTION = "--max-size"
KEEP_READ = 1 << 20  # a folder's file read through Tree.read is kept up to this size …
KEEP_READ_TOTAL = 64 << 20  # … and up to this much in all


@dataclass(frozen=True)
class Limits:
    """Bounds on what a bundle may ask of the reader.

    ``max_size`` bounds the bytes an archive is decompressed to (a zip's entries; a tar's whole stream,
    headers included): the work and the memory of a verification follow the bytes actually decompressed,
    never what the archive claims. ``verify --max-size`` and ``unpack --max-size`` set it.
    """

    max_entries: int = 100_000
    max_size: int = DEFAULT_MAX_SIZE
    max_header_bytes: int = 1 << 20  # one tar header with its pax / long-name record; a zip's name + extras


DEFAULT_LIMITS = Limits()

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_size(text: str) -> int:
    """Bytes from ``4G``, ``512M``, ``1.5GiB``, ``100k`` or ``123456`` (units are powers of 1024).

    Raises ``ValueError`` naming the forms accepted.
    """
    match = _SIZE.fullmatch(text)
    if match is None or (match.group(3) and match.group(3).lower() == "ib" and not match.group(2)):
        raise ValueError(f"{text!r} is not a size: write bytes, or a number with K, M, G or T (e.g. 4G)")
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if value < 1 or value > 1 << 60:
        raise ValueError(f"{text!r} is out of range (1 byte to 1 EiB)")
    return int(value)


def human_size(size: int) -> str:
    """``8 GiB``, ``200 MiB``, ``1500 bytes``: exact when a whole number of the unit."""
    for unit, name in ((1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


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


def too_large(limits: Limits, where: str) -> BundleRejectedError:
    """``bundle.too-large`` for an archive that decompresses to more than ``limits.max_size``."""
    limit = human_size(limits.max_size)
    return reject(
        P.BUNDLE_TOO_LARGE,
        f"the archive decompresses to more than {limit} ({where}); the limit is {MAX_SIZE_OPTION} "
        f"(default {human_size(DEFAULT_MAX_SIZE)}): raise it if you expect a bundle this large",
        expected=limits.max_size,
        found="more",
        limit=MAX_SIZE_OPTION,
    )


class Budget:
    """The bytes decompressed so far, against ``limits.max_size``."""

    __slots__ = ("limits", "total")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.total = 0

    def add(self, count: int, where: str) -> None:
        self.total += count
        if self.total > self.limits.max_size:
            raise too_large(self.limits, where)

    def expect(self, count: int, where: str) -> None:
        """Refuse before reading what would certainly exceed the limit (a declared size)."""
        if self.total + count > self.limits.max_size:
            raise too_large(self.limits, where)


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


@functools.lru_cache(maxsize=8192)  # parents repeat: a dossier's thousand files share one folder
def collision_key(rel: str) -> str:
    """What a case-insensitive, normalising file system would make of a name (NFC, case folded)."""
    return unicodedata.normalize("NFC", rel).casefold()


class EntryNames:
    """Entry names seen so far: refuses unsafe, duplicate and colliding names, and too many entries.

    ``findings`` collects every refusal of the reading (names, and the container constructs the readers
    report through :meth:`refuse`), at most 100 of them.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.seen: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        self.implied: set[str] = set()  # folders implied by the names seen (their collision keys)
        self.findings: list[Finding] = []
        self.count = 0

    def counted(self) -> None:
        self.count += 1
        if self.count > self.limits.max_entries:
            raise reject(
                P.BUNDLE_TOO_LARGE,
                f"more than {self.limits.max_entries} entries",
                expected=self.limits.max_entries,
                found=self.count,
            )

    def admit(self, name: str, kind: str) -> str | None:
        """The safe relative path for ``name`` (``""`` for a folder entry ``./``: the archive's own folder,
        as every extractor reads it), or None after recording why it is refused."""
        self.counted()
        if kind == "folder" and name in ("./", "."):
            return ""
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
        parents = []
        for depth in range(1, rel.count("/") + 1):  # a parent that is already a file
            parent = collision_key(rel.rsplit("/", depth)[0])
            if self.kinds.get(parent) == "file":
                self.unsafe(name, f"lies below {self.seen[parent]!r}, which is a file")
                return None
            parents.append(parent)
        if kind == "file" and key in self.implied:  # a folder already, by an earlier entry below it
            self.unsafe(name, "is a file, but an earlier entry lies below it")
            return None
        self.implied.update(parents)
        self.seen[key] = rel
        self.kinds[key] = kind
        return rel

    def refuse(self, name: str, why: str, found: str, code: P = P.BUNDLE_UNSAFE_ENTRY) -> None:
        """Count an entry that is refused for what it is (a link, a device, a sparse file …), whatever its
        name."""
        self.counted()
        self.add(code, name, why, found)

    def unsafe(self, name: str, why: str, found: str | None = None) -> None:
        self.add(P.BUNDLE_UNSAFE_ENTRY, name, why, found)

    def add(self, code: P, name: str, why: str, found: str | None = None) -> None:
        if len(self.findings) < 100:
            self.findings.append(Finding(code, f"entry {name!r}: {why}", {"path": name, "found": found or why}))


# --------------------------------------------------------------------------------------------------------
# The tree a bag check reads


@dataclass
class Tree:
    """The regular files and folders below a bag's root, by safe relative path.

    A bag folder's files are on disk (``files`` maps each to its path, as text). An archive is never
    extracted for verification: it is read once (:mod:`provenance.bundle.members`) and ``members`` holds,
    for each file, the size and digests of the bytes read and, when small, the bytes themselves; ``files``
    then maps each to a path that exists nowhere on disk (the archive's own path joined with the name),
    used as a label.

    A folder's file is read once by :meth:`read` (a tag file: the declaration, the manifests, bag-info, the
    key cards): the bytes hashed against the tag manifest are the bytes then parsed. Small files are kept
    (:data:`KEEP_READ`, up to :data:`KEEP_READ_TOTAL` in all); a larger one is read again when asked again.
    """

    files: dict[str, str] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    members: dict[str, Member] | None = None
    kept: dict[str, bytes] = field(default_factory=dict)
    kept_total: int = 0

    def read(self, rel: str, limit: int) -> bytes:
        """The bytes of the file ``rel``; raises ``OSError`` (``EFBIG`` above ``limit``, or when an archive
        member was too large to be kept; ``ELOOP`` for a link, ``EINVAL`` for anything but a regular file)."""
        if self.members is None:
            data = self.kept.get(rel)
            if data is None:
                from provenance.fsio import read_limited

                data = read_limited(self.files[rel], limit, follow=False)  # the scan followed no link either
                if len(data) <= KEEP_READ and self.kept_total + len(data) <= KEEP_READ_TOTAL:
                    self.kept[rel] = data
                    self.kept_total += len(data)
            elif len(data) > limit:
                raise OSError(errno.EFBIG, f"larger than {limit} bytes", self.files[rel])
            return data
        member = self.members.get(rel)
        if member is None:
            raise OSError(errno.ENOENT, "no such entry", rel)
        if member.size > limit or member.data is None:
            raise OSError(errno.EFBIG, f"larger than {min(limit, member.size)} bytes", rel)
        return member.data


# A file name that passes safe_entry_path unchanged on its own and is its own collision key once lower-cased:
# ASCII letters, digits, ".", "_" and "-" (NFC leaves ASCII as it is, and casefold() of ASCII is lower()).
# A folder whose every entry is named so is admitted a folder at a time (:func:`_admit_plain`); any other
# name goes through EntryNames.admit, one entry at a time.
_PLAIN_NAMES = re.compile(r"[A-Za-z0-9._-]{1,255}(?:/[A-Za-z0-9._-]{1,255})*")
_BY_NAME = operator.attrgetter("name")


def _admit_plain(names: EntryNames, tree: Tree, prefix: str, parents: list[str], entries: list[os.DirEntry[str]],
                 stack: list[tuple[str, str, list[str]]]) -> bool:
    """Admit the entries of the folder ``prefix`` (scanned safe already) as :meth:`EntryNames.admit` would,
    one dictionary step an entry; False (nothing done) when a name or the folder is not plain enough.

    What admit checks of each name is checked here for the folder at once: the names are plain (the pattern
    above: no control character, backslash, drive letter, ``..`` or empty segment, valid UTF-8, at most 255
    bytes a segment), the longest path is within MAX_PATH_BYTES, the folder's ancestors are folders, and
    the entries stay within the entry limit. A name that repeats a collision key, or a file whose key is
    already a folder's, is handed to admit, which refuses it with its own words. ``parents`` are the
    collision keys of the folder and its ancestors (what admit computes for each entry below it)."""
    if not entries or names.count + len(entries) > names.limits.max_entries:
        return False
    listed = [entry.name for entry in entries]
    if _PLAIN_NAMES.fullmatch("/".join(listed)) is None or "." in listed or ".." in listed:
        return False
    if len(prefix.encode("utf-8")) + max(map(len, listed)) + 1 > MAX_PATH_BYTES:  # + 1: a folder's "/"
        return False
    kinds = names.kinds
    for parent in parents:
        if kinds.get(parent) == "file":
            return False
    base = parents[-1] + "/" if parents else ""
    seen, implied = names.seen, names.implied
    admitted = False
    for entry in entries:
        rel = prefix + entry.name
        if entry.is_symlink():
            names.refuse(rel, "is a symbolic link", "symbolic link")
            continue
        folder = entry.is_dir(follow_symlinks=False)
        if not folder and not entry.is_file(follow_symlinks=False):
            names.refuse(rel, "is a device, fifo or socket", "special file")
            continue
        key = base + entry.name.lower()  # collision_key(rel): NFC and casefold leave a plain name as lower()
        if key in seen or (not folder and key in implied):
            if names.admit(rel + "/" if folder else rel, "folder" if folder else "file") is None:
                continue
            key = collision_key(rel)
        else:
            if not admitted:  # what admit adds for each entry it admits: the same parents for all of them
                implied.update(parents)
                admitted = True
            names.count += 1
            seen[key] = rel
            kinds[key] = "folder" if folder else "file"
        if folder:
            tree.folders.add(rel)
            stack.append((entry.path, rel + "/", [*parents, key]))
        else:
            tree.files[rel] = entry.path
    return True


def scan_tree(root: Path, limits: Limits = DEFAULT_LIMITS) -> Tree:
    """Every entry below ``root`` without following links, each name through :func:`safe_entry_path` (or,
    for a folder of plain names, the checks it would make, a folder at a time: :func:`_admit_plain`).

    Raises ``BundleRejectedError`` listing every link, device or unsafe name (and for too many entries).
    """
    tree = Tree()
    names = EntryNames(limits)
    stack: list[tuple[str, str, list[str]]] = [(os.fspath(root), "", [])]
    while stack:
        folder, prefix, parents = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=_BY_NAME)
        except OSError as exc:
            raise reject(
                P.BUNDLE_MALFORMED, f"cannot read {prefix or '.'}: {exc.strerror}", path=prefix
            ) from exc
        if _admit_plain(names, tree, prefix, parents, entries, stack):
            continue
        for entry in entries:
            name = prefix + entry.name
            if entry.is_symlink():
                names.refuse(name, "is a symbolic link", "symbolic link")
            elif entry.is_dir(follow_symlinks=False):
                rel = names.admit(name + "/", "folder")
                if rel is not None:
                    tree.folders.add(rel)
                    stack.append((entry.path, rel + "/", [*parents, collision_key(rel)]))
            elif entry.is_file(follow_symlinks=False):
                rel = names.admit(name, "file")
                if rel is not None:
                    tree.files[rel] = entry.path
            else:
                names.refuse(name, "is a device, fifo or socket", "special file")
    if names.findings:
        raise BundleRejectedError(names.findings)
    return tree
