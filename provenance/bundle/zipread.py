"""Reading a zip bundle the one way every extractor agrees on (PKWARE APPNOTE.TXT 6.3.10).

A zip says most things twice (a local header before each entry's data, a central directory at the end,
zip64 fields beside 32-bit ones, a data descriptor after the data) and extractors differ in which copy
they believe. So the whole layout is read and cross-checked before one byte is inflated, and every
construct that two readers could read differently is refused (docs/security.md, "One reading"):

1. The end record (4.3.16) ends the file exactly: no archive comment, nothing after it; one disk only.
   A zip64 locator (4.3.15) right before it is always followed, and its record (4.3.14) must end where the
   locator begins and agree with every 32-bit field that is not saturated.
2. The central directory fills exactly the bytes between its offset and the end records, with exactly the
   number of entries both records state. Each entry: no encryption (flag bits 0, 6, 13), stored or
   deflate only (4.4.5), version needed at most 4.5, no comment, a known host system, extra fields
   (4.5) well formed, each at most once, and only those that carry no name, link or content (Info-ZIP
   Unicode Path 0x7075 and Comment 0x6375, Xceed Unicode 0x554e, PKWARE Unix 0x000d and ASi Unix 0x756e,
   strong encryption, certificates and anything unknown are refused); zip64 fields exactly where a 32-bit
   field is saturated (4.5.3); a name in UTF-8 with flag bit 11, or in ASCII (without the flag, readers
   decode it as CP437, as the local code page or as UTF-8), with no NUL (zipfile cuts a name there).
3. Entry types: only regular files and folders. Unix mode bits (in the upper half of the external
   attributes, whatever the host) that say link or device are refused; a folder is a name ending in
   ``/`` with no data, and mode bits or the MS-DOS folder bit must agree with the name.
4. The local headers tile the file from byte 0 to the central directory: no data before the first entry
   (self-extractor stubs, which zipfile and unzip skip and others do not), between entries, or overlapping
   (one entry's data shared by several names: the overlapping-files bomb). Each local header repeats the
   central one: same name bytes, flags, method, CRC and sizes (zero or equal with a data descriptor), its
   zip64 field consistent. A data descriptor (4.3.9) carries its signature and the central values; a
   stored entry with one is refused (a streaming reader must guess where its data ends).
5. Then each entry's data is streamed once: deflate must end exactly at the entry's compressed size and
   give exactly its size and CRC-32; the bytes go to the digests (and, for ``unpack``, to the staging
   folder) and count against ``--max-size``.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from provenance.bundle.entries import BLOCK, Budget, BundleRejectedError, EntryNames, Limits, reject
from provenance.bundle.members import READ_ALGORITHMS, Collector
from provenance.bundle.zipheaders import (
    CENTRAL,
    EOCD,
    EOCD64,
    FLAG_DESCRIPTOR,
    LOCAL,
    LOCATOR,
    MANIFEST_NAME,
    MAX_DIRECTORY_BYTES,
    SIG_DESCRIPTOR,
    SIG_EOCD,
    SIG_EOCD64,
    SIG_LOCAL,
    SIG_LOCATOR,
    STORED,
    U16,
    U32,
    ZIP64,
    Entry,
    central_entry,
    malformed,
    parse_extras,
    zip64_values,
)
from provenance.model.problems import ProblemCode as P


def _pread(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    while len(data) < size:
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            break
        data += more
    return data


# --------------------------------------------------------------------------------------------------------
# 1. The end records


@dataclass(frozen=True)
class _End:
    count: int
    cd_size: int
    cd_offset: int
    cd_end: int  # where the central directory must end: the zip64 record, or the end record


def _end_records(fd: int, size: int) -> _End:
    if size < EOCD.size:
        raise malformed("not a zip: too short for its end record")
    tail = _pread(fd, min(size, EOCD.size + 0xFFFF), max(0, size - EOCD.size - 0xFFFF))
    last = tail[-EOCD.size :]
    if last[:4] != SIG_EOCD or EOCD.unpack(last)[7] != 0:
        at = tail.rfind(SIG_EOCD)
        if at < 0 or len(tail) - at < EOCD.size:
            raise malformed("not a zip, or truncated: no end of central directory record")
        comment = EOCD.unpack_from(tail, at)[7]
        extra = len(tail) - at - EOCD.size
        raise reject(
            P.BUNDLE_STRAY_DATA,
            "the zip has an archive comment" if comment == extra else
            f"{extra} bytes follow the zip's end record (readers look for the end record differently)",
            found=f"{extra} bytes",
        )
    _, disk, cd_disk, on_disk, count, cd_size, cd_offset, _ = EOCD.unpack(last)
    eocd_at = size - EOCD.size
    locator = _pread(fd, LOCATOR.size, eocd_at - LOCATOR.size) if eocd_at >= LOCATOR.size else b""
    saturated = U16 in (disk, cd_disk, on_disk, count) or U32 in (cd_size, cd_offset)
    if locator[:4] != SIG_LOCATOR:
        if saturated:
            raise malformed("the end record says zip64 but there is no zip64 locator")
        if disk or cd_disk:
            raise reject(P.BUNDLE_UNSUPPORTED_FEATURE, "a zip spanning several disks", found="multi-disk")
        if on_disk != count:
            raise reject(P.BUNDLE_HEADER_MISMATCH, f"the end record counts {on_disk} entries on this disk "
                         f"and {count} in all", expected=count, found=on_disk)
        return _End(count, cd_size, cd_offset, eocd_at)
    # A zip64 locator: zipfile follows it whether or not a field is saturated, so it is always followed
    _, z_disk, z_offset, disks = LOCATOR.unpack(locator)
    record_at = eocd_at - LOCATOR.size - EOCD64.size
    if z_disk != 0 or disks != 1:
        raise reject(P.BUNDLE_UNSUPPORTED_FEATURE, "a zip64 zip spanning several disks", found="multi-disk")
    if z_offset != record_at:
        raise reject(P.BUNDLE_STRAY_DATA, "the zip64 end record is not right before its locator",
                     expected=record_at, found=z_offset)
    record = _pread(fd, EOCD64.size, record_at) if record_at >= 0 else b""
    if len(record) != EOCD64.size or record[:4] != SIG_EOCD64:
        raise malformed("the zip64 locator points to no zip64 end record")
    _, rest, _, _, disk64, cd_disk64, on_disk64, count64, cd_size64, cd_offset64 = EOCD64.unpack(record)
    if rest != EOCD64.size - 12:
        raise reject(P.BUNDLE_UNSUPPORTED_FEATURE, "a zip64 end record with an extensible data sector",
                     found="zip64 extensible data")
    if disk64 or cd_disk64:
        raise reject(P.BUNDLE_UNSUPPORTED_FEATURE, "a zip spanning several disks", found="multi-disk")
    for name, small, wide, full in (
        ("disk", disk, disk64, U16), ("central directory disk", cd_disk, cd_disk64, U16),
        ("entries on this disk", on_disk, on_disk64, U16), ("entries", count, count64, U16),
        ("central directory size", cd_size, cd_size64, U32),
        ("central directory offset", cd_offset, cd_offset64, U32),
    ):
        if small not in (full, wide):
            raise reject(P.BUNDLE_HEADER_MISMATCH, f"the end record and the zip64 end record disagree on "
                         f"the {name}: {small} and {wide}", expected=wide, found=small)
    if on_disk64 != count64:
        raise reject(P.BUNDLE_HEADER_MISMATCH, f"the zip64 end record counts {on_disk64} entries on this "
                     f"disk and {count64} in all", expected=count64, found=on_disk64)
    return _End(count64, cd_size64, cd_offset64, record_at)


def _directory(fd: int, size: int, end: _End, names: EntryNames, limits: Limits) -> list[Entry]:
    if end.count > limits.max_entries:
        raise reject(P.BUNDLE_TOO_LARGE, f"the zip declares {end.count} entries (limit {limits.max_entries})",
                     expected=limits.max_entries, found=end.count)
    if end.cd_offset + end.cd_size != end.cd_end:
        if end.cd_offset + end.cd_size > end.cd_end:
            raise malformed("the central directory reaches past the end records")
        raise reject(P.BUNDLE_STRAY_DATA, f"{end.cd_end - end.cd_offset - end.cd_size} bytes lie between the "
                     "central directory and the end record", found="bytes after the central directory")
    if end.cd_size > end.count * (CENTRAL.size + 3 * 0xFFFF) or end.cd_size > end.cd_end:
        raise malformed(f"a central directory of {end.cd_size} bytes for {end.count} entries")
    if end.cd_size > MAX_DIRECTORY_BYTES:  # read whole into memory: bounded apart from --max-size
        raise reject(P.BUNDLE_TOO_LARGE, f"a central directory of {end.cd_size} bytes (limit "
                     f"{MAX_DIRECTORY_BYTES})", expected=MAX_DIRECTORY_BYTES, found=end.cd_size)
    data = _pread(fd, end.cd_size, end.cd_offset)
    if len(data) != end.cd_size:
        raise malformed("the central directory is truncated")
    entries: list[Entry] = []
    at = 0
    for index in range(end.count):
        entry, at = central_entry(data, at, index)
        entries.append(entry)
        if entry.kind not in ("file", "folder"):
            names.refuse(entry.name, f"is a {entry.kind}", entry.kind)
            continue
        entry.rel = names.admit(entry.name, entry.kind)
        for code, why in entry.problems:
            names.add(code, entry.name, why)
    if at != len(data):
        raise reject(P.BUNDLE_STRAY_DATA, f"{len(data) - at} bytes of the central directory belong to no "
                     "entry (more entries than the end record counts, or a digital signature record)",
                     found=f"{len(data) - at} bytes")
    return entries


# --------------------------------------------------------------------------------------------------------
# 4. The local headers, and the layout


def _local(fd: int, entry: Entry) -> None:
    """Check the local header (and data descriptor) of ``entry``; set where its data starts and it ends."""
    header = _pread(fd, LOCAL.size, entry.offset)
    if len(header) != LOCAL.size or header[:4] != SIG_LOCAL:
        raise malformed(f"entry {entry.name!r}: no local header where the central directory points")
    (_, _, flags, method, _, _, crc, csize, usize, name_len, extra_len) = LOCAL.unpack(header)
    rest = _pread(fd, name_len + extra_len, entry.offset + LOCAL.size)
    if len(rest) != name_len + extra_len:
        raise malformed(f"entry {entry.name!r}: its local header is truncated")
    problems = entry.problems
    if rest[:name_len] != entry.raw_name:
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, f"its local header names it {rest[:name_len]!r} (unzip and "
                         "7-Zip use the central name, streaming readers the local one)"))
    if flags != entry.flags or method != entry.method:
        problems.append((P.BUNDLE_HEADER_MISMATCH, f"its local header gives flags 0x{flags:04x} and method "
                         f"{method}, the central directory 0x{entry.flags:04x} and {entry.method}"))
    extras = parse_extras(rest[name_len:], "local header", problems)
    if extras is None:
        return
    z64 = extras.get(ZIP64)
    if usize == U32 or csize == U32:
        values = zip64_values(z64, ["usize", "csize"])
        if values is None:
            problems.append((P.BUNDLE_HEADER_MISMATCH, "its local zip64 field does not hold both sizes"))
            return
        usize, csize = values["usize"], values["csize"]
    elif z64 is not None and len(z64):
        problems.append((P.BUNDLE_HEADER_MISMATCH, "its local header has a zip64 field that no size needs"))
        return
    found = (crc, csize, usize)
    central = (entry.crc, entry.csize, entry.usize)
    if found != central and not (flags & FLAG_DESCRIPTOR and found == (0, 0, 0)):
        problems.append((P.BUNDLE_HEADER_MISMATCH, f"its local header gives CRC {crc:08x} and sizes "
                         f"{csize}/{usize}, the central directory {entry.crc:08x} and {entry.csize}/{entry.usize}"))
    entry.data_start = entry.offset + LOCAL.size + name_len + extra_len
    entry.end = entry.data_start + entry.csize
    if flags & FLAG_DESCRIPTOR:
        wide = z64 is not None
        layout = struct.Struct("<4sLQQ" if wide else "<4sLLL")
        descriptor = _pread(fd, layout.size, entry.end)
        if len(descriptor) != layout.size or descriptor[:4] != SIG_DESCRIPTOR:
            problems.append((P.BUNDLE_HEADER_MISMATCH, "its data descriptor has no signature where it should be "
                             "(readers guess whether the first four bytes are a signature or the CRC)"))
            entry.end = 0  # where it ends is a guess
            return
        _, d_crc, d_csize, d_usize = layout.unpack(descriptor)
        if (d_crc, d_csize, d_usize) != central:
            problems.append((P.BUNDLE_HEADER_MISMATCH, f"its data descriptor gives CRC {d_crc:08x} and sizes "
                             f"{d_csize}/{d_usize}, the central directory {entry.crc:08x} and "
                             f"{entry.csize}/{entry.usize}"))
        entry.end += layout.size


def _layout(fd: int, entries: list[Entry], end: _End, names: EntryNames, limits: Limits) -> None:
    """The entries, by offset, fill the file from byte 0 to the central directory without gap or overlap."""
    cursor = 0
    previous: Entry | None = None
    for entry in sorted(entries, key=lambda e: (e.offset, e.index)):
        if entry.offset >= end.cd_offset:
            raise malformed(f"entry {entry.name!r} starts inside or after the central directory")
        if entry.offset > cursor:
            where = "before the first entry" if previous is None else f"after {previous.name!r}"
            raise reject(P.BUNDLE_STRAY_DATA, f"{entry.offset - cursor} bytes {where} belong to no entry "
                         "(readers skip them, or read them as entries)", found=f"{entry.offset - cursor} bytes")
        if entry.offset < cursor and previous is not None:
            raise reject(P.BUNDLE_UNSAFE_ENTRY, f"entries {previous.name!r} and {entry.name!r} overlap in the zip",
                         path=entry.name, found="overlapping entries")
        before = len(entry.problems)
        _local(fd, entry)
        for code, why in entry.problems[before:]:
            names.add(code, entry.name, why)
        if entry.end <= entry.offset:  # refused above: its extent is unknown
            raise BundleRejectedError(names.findings)
        if entry.end > end.cd_offset:
            raise malformed(f"entry {entry.name!r} runs into the central directory")
        cursor, previous = entry.end, entry
    if cursor != end.cd_offset:
        raise reject(P.BUNDLE_STRAY_DATA, f"{end.cd_offset - cursor} bytes between the last entry and the central "
                     "directory belong to no entry", found=f"{end.cd_offset - cursor} bytes")


# --------------------------------------------------------------------------------------------------------
# 5. The data


def _chunks(fd: int, start: int, size: int) -> Iterator[bytes]:
    at, left = start, size
    while left:
        chunk = os.pread(fd, min(left, BLOCK), at)
        if not chunk:
            raise malformed("the zip is truncated")
        at += len(chunk)
        left -= len(chunk)
        yield chunk


def _inflated(fd: int, entry: Entry, rel: str) -> Iterator[bytes]:
    """The entry's bytes, at most one block at a time (a bomb never sits in memory)."""
    if entry.method == STORED:
        yield from _chunks(fd, entry.data_start, entry.csize)
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for chunk in _chunks(fd, entry.data_start, entry.csize):
            data = chunk
            while data and not inflater.eof:
                yield inflater.decompress(data, BLOCK)
                data = inflater.unconsumed_tail
            if inflater.eof and (inflater.unused_data or data):
                raise reject(P.BUNDLE_STRAY_DATA, f"entry {rel!r}: bytes follow its deflate stream inside its "
                             "compressed size", path=rel)
    except zlib.error as exc:
        raise reject(P.BUNDLE_MALFORMED, f"entry {rel!r}: its deflate data is damaged: {exc}", path=rel) from exc
    if not inflater.eof:
        raise reject(P.BUNDLE_MALFORMED, f"entry {rel!r}: its deflate data is truncated", path=rel)


def _stream(fd: int, entry: Entry, collector: Collector | None, budget: Budget) -> None:
    rel = entry.rel or entry.name
    sink = collector.file(rel, entry.usize) if collector is not None else None
    produced = 0
    crc = 0
    try:
        for piece in _inflated(fd, entry, rel):
            produced += len(piece)
            budget.add(len(piece), rel)
            crc = zlib.crc32(piece, crc)
            if sink is not None and produced <= entry.usize:  # beyond it: refused below
                sink.write(piece)
        if crc != entry.crc:
            raise reject(P.BUNDLE_MALFORMED, f"entry {rel!r} is damaged: its CRC-32 is {crc:08x}, its headers "
                         f"say {entry.crc:08x}", path=rel)
        if produced != entry.usize:
            raise reject(P.BUNDLE_HEADER_MISMATCH, f"entry {rel!r} inflates to {produced} bytes, its headers "
                         f"say {entry.usize} (readers stop at one or the other)", path=rel,
                         expected=entry.usize, found=produced)
    except BaseException:
        if sink is not None:
            sink.abandon()
        raise
    if sink is not None:
        sink.close()


def _algorithms(entries: list[Entry]) -> tuple[str, ...]:
    """SHA-256, and every other digest a (tag) manifest of the bag names: all known before reading."""
    wanted = {"sha256"}
    for entry in entries:
        match = MANIFEST_NAME.fullmatch(entry.rel or "")
        if match and match.group(1).lower() in READ_ALGORITHMS:
            wanted.add(match.group(1).lower())
    return tuple(sorted(wanted))


def read_zip(path: Path, collector: Collector, limits: Limits) -> None:
    """Read the zip at ``path`` into ``collector`` under the rules above.

    Raises ``BundleRejectedError`` (every refused entry, or the first structural problem) and ``OSError``
    when ``path`` cannot be read or a staged file cannot be written.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        end = _end_records(fd, size)
        names = EntryNames(limits)
        entries = _directory(fd, size, end, names, limits)
        if names.findings:
            raise BundleRejectedError(names.findings)
        if not entries:
            raise reject(P.BUNDLE_MALFORMED, "the zip is empty")
        _layout(fd, entries, end, names, limits)
        if names.findings:
            raise BundleRejectedError(names.findings)
        budget = Budget(limits)
        budget.expect(sum(e.usize for e in entries), "as its entries declare")
        algorithms = _algorithms(entries)
        collector.algorithms = lambda rel: algorithms
        for entry in sorted(entries, key=lambda e: e.offset):
            if entry.kind == "folder":
                _stream(fd, entry, None, budget)
                if entry.rel:  # "" is the archive's own folder ("./")
                    collector.folder(entry.rel)
            else:
                _stream(fd, entry, collector, budget)
    finally:
        os.close(fd)
