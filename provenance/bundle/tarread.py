"""Reading a tar or tar.gz bundle as a stream: gunzipped here (so the compression ratio is watched on
every read), each header bounded before :mod:`tarfile` may read it into memory, only regular files and
folders ever created."""

from __future__ import annotations

import os
import tarfile
import zlib
from pathlib import Path
from typing import IO, Any

from provenance.bundle.entries import (
    BLOCK,
    Budget,
    BundleRejectedError,
    EntryNames,
    Limits,
    check_declared,
    make_folder,
    open_new_file,
    reject,
    write_all,
)
from provenance.model.problems import ProblemCode as P

_TAR_RECORD = tarfile.RECORDSIZE


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
            raise reject(
                P.BUNDLE_TOO_LARGE,
                f"a tar header or entry reads more than expected (header limit {self.limits.max_header_bytes} bytes)",
                expected=self.limits.max_header_bytes,
            )
        if self.produced > self.limits.max_total_bytes + self.limits.max_header_bytes:
            raise reject(
                P.BUNDLE_TOO_LARGE,
                f"more than {self.limits.max_total_bytes} bytes uncompressed",
                expected=self.limits.max_total_bytes,
            )
        if self.produced > self.limits.ratio_floor and self.produced > self.limits.max_ratio * max(
            self.consumed, 1
        ):
            ratio = self.produced // max(self.consumed, 1)
            raise reject(
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
                    raise reject(P.BUNDLE_MALFORMED, "trailing data after the gzip stream")
                self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                self.pending = rest
            if not self.pending:
                self.pending = self.raw.read(64 * 1024)
                if not self.pending:
                    raise reject(P.BUNDLE_MALFORMED, "the gzip stream is truncated")
            try:
                out: bytes = self.inflater.decompress(self.pending, size)
            except zlib.error as exc:
                raise reject(P.BUNDLE_MALFORMED, f"the gzip stream is damaged: {exc}") from exc
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


def extract_tar(path: Path, dest: Path, limits: Limits, compressed: bool) -> None:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise reject(P.BUNDLE_MALFORMED, f"cannot read the archive: {exc.strerror}") from exc
    with raw:
        if compressed and raw.read(2) != b"\x1f\x8b":
            raise reject(P.BUNDLE_MALFORMED, "not a gzip file")
        raw.seek(0)
        stream = _Stream(raw, compressed, limits)
        names = EntryNames(limits)
        budget = Budget(limits)
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
            raise reject(P.BUNDLE_MALFORMED, f"not a readable tar archive: {exc}") from exc
        if names.count == 0:
            raise reject(P.BUNDLE_MALFORMED, "the archive is empty")
        if names.findings:
            raise BundleRejectedError(names.findings)


def _tar_member(
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    stream: _Stream,
    names: EntryNames,
    budget: Budget,
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
        make_folder(dest, rel)
        return 0
    check_declared(rel, member.size, member.size, limits)
    source = tar.extractfile(member)
    if source is None:  # pragma: no cover - regular members always have a file object
        raise reject(P.BUNDLE_MALFORMED, f"entry {rel!r} has no data", path=rel)
    fd = open_new_file(dest, rel)
    written = 0
    try:
        while True:
            stream.checkpoint(BLOCK)
            chunk = source.read(BLOCK)
            if not chunk:
                break
            written += len(chunk)
            budget.add(len(chunk), rel)
            write_all(fd, chunk)
    finally:
        os.close(fd)
    if written != member.size:
        raise reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is truncated", path=rel)
    return 0
