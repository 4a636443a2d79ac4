"""An archive read once: every member's bytes streamed through the digests (and, for ``unpack``, into a
staging folder) as the reader produces them, never extracted for verification.

The readers (:mod:`zipread`, :mod:`tarread`) call :class:`Collector`; what it gathers is a
:class:`MemberTree`: for each regular file its size, its digests and, when small enough to be read again
by a check (tag files, state snapshots, small payload files that a mismatch explanation reads), its
bytes. Memory is bounded by what was decompressed and by :data:`KEEP_TOTAL`; disk is used only by
``unpack``, for exactly the bytes hashed.

:class:`MemberView` lets the record checks of :mod:`provenance.verify.record` read those members by the
labels the bag check gave them (paths below the archive's own path, which exist nowhere on disk).
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READ_ALGORITHMS = ("sha256", "sha512")  # the digests a bag may list (tagfiles.HEX_LENGTHS)
KEEP_TAG = 64 << 20  # a tag file is kept up to this size (tagfiles.MAX_TAG_FILE_BYTES)
KEEP_OBJECT = 64 << 20  # a stored object that may be a state snapshot (JSON), up to the manifest bound
KEEP_SMALL = 1 << 20  # payload files up to this size are kept for mismatch explanations …
KEEP_SMALL_TOTAL = 16 << 20  # … up to this much in all
KEEP_TOTAL = 256 << 20  # everything kept, in all
_HASHERS = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}  # faster to build than hashlib.new


@dataclass
class Member:
    """One regular file of an archive as read: its size, its digests, and its bytes when kept."""

    size: int
    digests: dict[str, str]
    data: bytes | None = None


@dataclass
class MemberTree:
    """What an archive holds, by safe path (its top folder included)."""

    files: dict[str, Member] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)


def _inside(rel: str) -> str:
    """The path below the archive's top folder (a bag's own path, in the layout export writes)."""
    return rel.split("/", 1)[1] if "/" in rel else rel


def _keep_kind(rel: str) -> str:
    inside = _inside(rel)
    if inside.startswith("data/objects/"):
        return "object"
    if inside.startswith("data/"):
        return "payload"
    return "tag"


class _Sink:
    """One member being read: every chunk goes to each digest, to the kept bytes, and to the staged file."""

    __slots__ = ("_chunks", "_collector", "_fd", "_hashers", "_json_only", "_kind", "_rel", "_size")

    def __init__(self, collector: Collector, rel: str, size: int, fd: int | None) -> None:
        self._collector = collector
        self._rel = rel
        self._size = 0
        self._fd = fd
        self._hashers = [_HASHERS[name]() if name in _HASHERS else hashlib.new(name) for name in collector.algorithms(rel)]
        self._kind = _keep_kind(rel)
        self._chunks: list[bytes] | None = [] if collector.may_keep(self._kind, size) else None
        # a stored object over 1 MiB is kept only if it may be a state snapshot (a JSON object)
        self._json_only = self._kind == "object" and size > KEEP_SMALL

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._chunks is not None:
            if not self._size and self._json_only and chunk[:1] != b"{":
                self._chunks = None  # a large earlier version of a file, not a snapshot: not kept
            else:
                self._chunks.append(bytes(chunk))
        self._size += len(chunk)
        for hasher in self._hashers:
            hasher.update(chunk)
        if self._fd is not None:
            view = memoryview(chunk)
            while view:
                view = view[os.write(self._fd, view) :]

    def close(self) -> Member:
        data = None
        if self._chunks is not None:
            data = b"".join(self._chunks)
            self._collector.kept(self._kind, len(data))
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            finally:
                os.close(self._fd)
            self._fd = None
        member = Member(self._size, {h.name: h.hexdigest() for h in self._hashers}, data)
        self._collector.tree.files[self._rel] = member
        return member

    def abandon(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Collector:
    """Gathers the members a reader streams; stages them below ``staging`` when given (``unpack``).

    ``algorithms(rel)`` names the digests to take of each member (SHA-256 always: the record checks use
    it). Raises ``OSError`` when a staged file cannot be written.
    """

    def __init__(self, staging: Path | None = None, algorithms: Callable[[str], tuple[str, ...]] | None = None):
        self.tree = MemberTree()
        self.staging = staging
        self.algorithms = algorithms or (lambda rel: READ_ALGORITHMS)
        self._kept_total = 0
        self._kept_small = 0

    # -- what is kept in memory

    def may_keep(self, kind: str, size: int) -> bool:
        if self._kept_total + size > KEEP_TOTAL:
            return False
        if kind == "tag":
            return size <= KEEP_TAG
        if kind == "object":
            return size <= KEEP_OBJECT
        return size <= KEEP_SMALL and self._kept_small + size <= KEEP_SMALL_TOTAL

    def kept(self, kind: str, size: int) -> None:
        self._kept_total += size
        if kind == "payload":
            self._kept_small += size

    # -- what the readers call

    def folder(self, rel: str) -> None:
        self.tree.folders.add(rel)
        if self.staging is not None:
            self.staging.joinpath(*rel.split("/")).mkdir(mode=0o755, parents=True, exist_ok=True)

    def file(self, rel: str, size: int) -> _Sink:
        """A sink for the member ``rel`` (``size`` as declared: it only decides whether it is kept)."""
        fd = None
        if self.staging is not None:
            parts = rel.split("/")
            if len(parts) > 1:
                self.staging.joinpath(*parts[:-1]).mkdir(mode=0o755, parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(self.staging.joinpath(*parts), flags, 0o644)
        return _Sink(self, rel, size, fd)


class MemberView:
    """The members of an archive by label (``os.fspath`` of the bag check's paths), for the record checks."""

    def __init__(self, members: dict[str, Member]) -> None:
        self.members = members

    def get(self, path: Any) -> Member | None:
        return self.members.get(os.fspath(path))

    def read(self, path: Any, limit: int) -> bytes:
        """The bytes of one member; raises ``OSError`` as reading a file would (``ENOENT``, ``EFBIG``)."""
        member = self.get(path)
        if member is None:
            raise OSError(errno.ENOENT, "no such file in the archive", os.fspath(path))
        if member.size > limit or member.data is None:
            raise OSError(errno.EFBIG, f"larger than {min(limit, member.size)} bytes", os.fspath(path))
        return member.data

    def walk(self, root: Any) -> dict[str, str]:
        """Every member below ``root``: relative path → label."""
        prefix = os.fspath(root) + os.sep
        return {label[len(prefix) :]: label for label in self.members if label.startswith(prefix)}
