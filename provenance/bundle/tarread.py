"""Reading a tar or tar.gz bundle as one stream, under the header rules of :mod:`tarheader`.

* gzip (RFC 1952): exactly one member, nothing after it. A second member (``cat a.gz b.gz``) or trailing
  bytes are refused: gzip and Python's gzip read on into the next member, 7-Zip and some tape tools stop
  at the first, and ``gzip -d`` ignores trailing garbage with a warning. The CRC-32 and length of the
  trailer are checked (by zlib).
* tar: headers and data in 512-byte blocks; the archive ends with two zero blocks and only zeros may
  follow them (GNU tar ``-i`` and bsdtar read an archive concatenated after the end marker, others stop;
  a lone zero block followed by more headers is read on by some and taken as the end by others). An
  archive that stops without its end marker is refused as truncated.
* Each regular member's data is streamed once into the collector (digests, and the staging folder of
  ``unpack``); every byte decompressed, headers included, counts against ``--max-size``.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import IO

from provenance.bundle import tarheader as th
from provenance.bundle.entries import BLOCK, Budget, BundleRejectedError, EntryNames, Limits, reject
from provenance.bundle.members import Collector
from provenance.model.problems import ProblemCode as P

_GZIP_READ = 64 << 10
MAX_LONG_NAME = 4096 + 1  # a path of at most MAX_PATH_BYTES, and its NUL


class _Source:
    """The tar bytes: the file itself, or its one gzip member inflated here (bounded reads, counted)."""

    def __init__(self, raw: IO[bytes], compressed: bool, budget: Budget) -> None:
        self.raw = raw
        self.budget = budget
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if compressed else None
        self.pending = b""
        self.buffer = b""
        self.position = 0

    def _inflate(self) -> bytes:
        assert self.inflater is not None
        while True:
            if self.inflater.eof:
                rest = self.inflater.unused_data + self.pending + self.raw.read(_GZIP_READ)
                if rest:
                    raise reject(
                        P.BUNDLE_STRAY_DATA,
                        "a second gzip member follows the first (readers join them or stop at the first)"
                        if rest.startswith(b"\x1f\x8b") else
                        "bytes follow the gzip stream (gzip ignores them with a warning, others refuse)",
                        found="data after the gzip stream",
                    )
                return b""
            if not self.pending:
                self.pending = self.raw.read(_GZIP_READ)
                if not self.pending:
                    raise reject(P.BUNDLE_MALFORMED, "the gzip stream is truncated")
            try:
                out: bytes = self.inflater.decompress(self.pending, BLOCK)
            except zlib.error as exc:
                raise reject(P.BUNDLE_MALFORMED, f"the gzip stream is damaged: {exc}") from exc
            self.pending = b"" if self.inflater.eof else self.inflater.unconsumed_tail
            if out:
                return out

    def _more(self) -> bool:
        data = self.raw.read(BLOCK) if self.inflater is None else self._inflate()
        if not data:
            return False
        self.budget.add(len(data), "the tar stream")
        self.buffer = self.buffer[self.position :] + data
        self.position = 0
        return True

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes (fewer only at the end)."""
        while len(self.buffer) - self.position < size and self._more():
            pass
        out = self.buffer[self.position : self.position + size]
        self.position += len(out)
        return out

    def exact(self, size: int, what: str) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise reject(P.BUNDLE_MALFORMED, f"the archive is truncated (in {what})")
        return data

    def skip(self, size: int, what: str) -> None:
        while size:
            size -= len(self.exact(min(size, BLOCK), what))


def _padding(size: int) -> int:
    return -size % th.BLOCK_SIZE


class _Reader:
    """The loop over members; refusals are collected in ``names`` (reading goes on to find them all)."""

    def __init__(self, source: _Source, collector: Collector, limits: Limits) -> None:
        self.source = source
        self.collector = collector
        self.limits = limits
        self.names = EntryNames(limits)
        self.pax: dict[str, bytes] | None = None
        self.long: str | None = None
        self.pending: list[tuple[P, str]] = []  # problems of the records before the member they name

    def _record(self, header: th.Header, what: str) -> bytes:
        if header.size > self.limits.max_header_bytes:
            raise reject(P.BUNDLE_TOO_LARGE, f"a {what} of {header.size} bytes (limit "
                         f"{self.limits.max_header_bytes})", expected=self.limits.max_header_bytes,
                         found=header.size)
        data = self.source.exact(header.size, what)
        self.source.skip(_padding(header.size), what)
        return data

    def _end(self) -> None:
        """After the first zero block: a second one, then only zeros to the end of the stream."""
        if self.pax is not None or self.long is not None:
            raise reject(P.BUNDLE_MALFORMED, "the archive ends right after an extended header")
        second = self.source.read(th.BLOCK_SIZE)
        if second.count(0) != len(second):
            raise reject(P.BUNDLE_STRAY_DATA, "a lone zero block, then more headers (some readers stop at the "
                         "zero block, others read on)", found="headers after a zero block")
        while chunk := self.source.read(BLOCK):
            if chunk.count(0) != len(chunk):
                raise reject(P.BUNDLE_STRAY_DATA, "data follows the end-of-archive marker (a concatenated "
                             "archive, which GNU tar -i and bsdtar read and others do not)",
                             found="data after the end of the archive")

    def run(self) -> None:
        while True:
            block = self.source.read(th.BLOCK_SIZE)
            if not block:
                raise reject(P.BUNDLE_MALFORMED, "the archive ends without its end-of-archive marker "
                             "(truncated?)")
            if len(block) != th.BLOCK_SIZE:
                raise reject(P.BUNDLE_MALFORMED, "the archive is truncated (in a header)")
            if block == th.ZERO_BLOCK:
                self._end()
                return
            try:
                header = th.parse_header(block)
            except th.HeaderError as exc:
                raise reject(P.BUNDLE_MALFORMED, f"a tar header cannot be read: {exc}") from exc
            self._one(header)

    def _one(self, header: th.Header) -> None:
        kind = header.type
        if kind == th.PAX:
            if self.pax is not None or self.long is not None:
                self.pending.append((P.BUNDLE_AMBIGUOUS_NAME, "two extended headers (pax or GNU long name) "
                                     "before one member"))
            try:
                self.pax, problems = th.parse_pax(self._record(header, "pax extended header"))
            except th.HeaderError as exc:
                raise reject(P.BUNDLE_MALFORMED, f"a pax extended header cannot be read: {exc}") from exc
            self.pending.extend(problems + header.problems)
            return
        if kind == th.LONG_NAME:
            if self.pax is not None or self.long is not None:
                self.pending.append((P.BUNDLE_AMBIGUOUS_NAME, "a GNU long name together with a pax header or "
                                     "another long name: readers choose different names"))
            if header.size > MAX_LONG_NAME:
                raise reject(P.BUNDLE_MALFORMED, f"a GNU long name of {header.size} bytes")
            self.long = th.long_name(self._record(header, "GNU long name"), self.pending)
            return
        if kind in (th.GLOBAL, th.LONG_LINK):
            what = "pax global header" if kind == th.GLOBAL else "GNU long link name"
            self._record(header, what)
            self.names.refuse(header.name or what, f"a {what} (readers apply it differently)", what,
                              P.BUNDLE_UNSUPPORTED_FEATURE if kind == th.GLOBAL else P.BUNDLE_AMBIGUOUS_NAME)
            return
        self._member(header)

    def _member(self, header: th.Header) -> None:
        problems = self.pending + header.problems
        name = header.name
        if self.long is not None:
            name = self.long
        pax = self.pax or {}
        if "path" in pax:
            name = th.pax_name(pax["path"], problems)
        if "size" in pax and th.pax_size(pax["size"]) != header.size:
            problems.append((P.BUNDLE_HEADER_MISMATCH, f"its pax size {pax['size'][:24]!r} and its header size "
                             f"{header.size} disagree (a reader that ignores pax reads the header's)"))
        self.pax, self.long, self.pending = None, None, []
        kind = header.type
        rel = None
        if kind in th.UNSAFE_TYPES:
            self.names.refuse(name, f"is a {th.UNSAFE_TYPES[kind]}", th.UNSAFE_TYPES[kind])
        elif kind in th.UNSUPPORTED_TYPES or kind not in (*th.REGULAR, th.FOLDER):
            what = th.UNSUPPORTED_TYPES.get(kind, f"member of type {kind!r}")
            self.names.refuse(name, f"is a {what}", what, P.BUNDLE_UNSUPPORTED_FEATURE)
        else:
            if kind in th.REGULAR and name.endswith("/"):
                problems.append((P.BUNDLE_HEADER_MISMATCH, "a regular file whose name ends with '/' (readers "
                                 "make it a folder or a file)"))
            if kind == th.FOLDER and header.size:
                problems.append((P.BUNDLE_HEADER_MISMATCH, f"a folder that declares {header.size} bytes of data "
                                 "(readers skip them or read them as headers)"))
            if header.linkname or "linkpath" in pax:
                problems.append((P.BUNDLE_HEADER_MISMATCH, "a file or folder that names a link target"))
            rel = self.names.admit(name, "folder" if kind == th.FOLDER else "file")
        for code, why in problems:
            self.names.add(code, name, why)
        if kind in th.UNSAFE_TYPES or kind == th.FOLDER:
            if header.size:  # data or not, readers differ: the framing of what follows is unknown
                raise BundleRejectedError(self.names.findings)
            if rel and not self.names.findings:  # "" is the archive's own folder ("./")
                self.collector.folder(rel)
            return
        if rel is None or self.names.findings:  # refused: its data is skipped, the names read on
            self.source.skip(header.size + _padding(header.size), name)
            return
        sink = self.collector.file(rel, header.size)
        try:
            left = header.size
            while left:
                chunk = self.source.read(min(left, BLOCK))
                if not chunk:
                    raise reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is truncated", path=rel)
                sink.write(chunk)
                left -= len(chunk)
        except BaseException:
            sink.abandon()
            raise
        sink.close()
        self.source.skip(_padding(header.size), rel)


def read_tar(path: Path, collector: Collector, limits: Limits, *, compressed: bool) -> None:
    """Read the tar (``compressed``: tar.gz) at ``path`` into ``collector``.

    Raises ``BundleRejectedError`` (every refused member, or the first structural problem) and ``OSError``
    when ``path`` cannot be read or a staged file cannot be written.
    """
    with path.open("rb") as raw:
        if compressed and raw.read(2) != b"\x1f\x8b":
            raise reject(P.BUNDLE_MALFORMED, "not a gzip file")
        raw.seek(0)
        reader = _Reader(_Source(raw, compressed, Budget(limits)), collector, limits)
        reader.run()
        if reader.names.findings:
            raise BundleRejectedError(reader.names.findings)
        if reader.names.count == 0:
            raise reject(P.BUNDLE_MALFORMED, "the archive is empty")
