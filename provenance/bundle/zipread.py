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
import re
import stat
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provenance.bundle.entries import BLOCK, Budget, BundleRejectedError, EntryNames, Limits, reject
from provenance.bundle.members import READ_ALGORITHMS, Collector
from provenance.model.problems import ProblemCode as P

_EOCD = struct.Struct("<4sHHHHLLH")  # 22 bytes (4.3.16)
_LOCATOR = struct.Struct("<4sLQL")  # 20 bytes (4.3.15)
_EOCD64 = struct.Struct("<4sQHHLLQQQQ")  # 56 bytes (4.3.14)
_CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")  # 46 bytes (4.3.12)
_LOCAL = struct.Struct("<4sHHHHHLLLHH")  # 30 bytes (4.3.7)
SIG_EOCD, SIG_LOCATOR, SIG_EOCD64 = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
SIG_CENTRAL, SIG_LOCAL, SIG_DESCRIPTOR = b"PK\x01\x02", b"PK\x03\x04", b"PK\x07\x08"
U16, U32 = 0xFFFF, 0xFFFFFFFF

STORED, DEFLATED = 0, 8
FLAG_ENCRYPTED, FLAG_DESCRIPTOR, FLAG_STRONG, FLAG_UTF8, FLAG_MASKED = 0x1, 0x8, 0x40, 0x800, 0x2000
ALLOWED_FLAGS = 0x2 | 0x4 | FLAG_DESCRIPTOR | FLAG_UTF8  # deflate options, descriptor, UTF-8 names
MAX_DIRECTORY_BYTES = 128 << 20  # 100,000 entries of 1 KiB of names and extras
MAX_VERSION_NEEDED = 45  # 4.5: zip64 (4.4.3.2)
HOSTS = {0: "MS-DOS", 3: "Unix", 10: "Windows NTFS", 14: "VFAT", 19: "OS X"}  # 4.4.2.2

# Extra fields (4.5.2, 4.6) that carry nothing an extractor uses for a name, a type or the bytes.
HARMLESS_EXTRAS = {
    0x000A: "NTFS times",
    0x5455: "extended timestamp",
    0x5855: "Info-ZIP Unix (original)",
    0x7855: "Info-ZIP Unix",
    0x7875: "Info-ZIP Unix uid/gid",
    0xCAFE: "Java JAR marker",
    0xD935: "Android alignment",
    0xA11E: "data stream alignment",
}
NAMING_EXTRAS = {0x7075: "Info-ZIP Unicode Path", 0x6375: "Info-ZIP Unicode Comment", 0x554E: "Xceed Unicode"}
LINKING_EXTRAS = {0x000D: "PKWARE Unix (may hold a link target)", 0x756E: "ASi Unix (mode and link target)"}
ZIP64 = 0x0001
_MANIFEST_NAME = re.compile(r"(?:[^/]+/)?(?:tag)?manifest-([A-Za-z0-9]+)\.txt")


@dataclass
class _Entry:
    """One central-directory entry, as checked."""

    index: int
    raw_name: bytes
    name: str
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int
    kind: str = "file"
    rel: str | None = None
    data_start: int = 0
    end: int = 0
    problems: list[tuple[P, str]] = field(default_factory=list)


def _pread(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    while len(data) < size:
        more = os.pread(fd, size - len(data), offset + len(data))
        if not more:
            break
        data += more
    return data


def _malformed(message: str) -> BundleRejectedError:
    return reject(P.BUNDLE_MALFORMED, message)


# --------------------------------------------------------------------------------------------------------
# 1. The end records


@dataclass(frozen=True)
class _End:
    count: int
    cd_size: int
    cd_offset: int
    cd_end: int  # where the central directory must end: the zip64 record, or the end record


def _end_records(fd: int, size: int) -> _End:
    if size < _EOCD.size:
        raise _malformed("not a zip: too short for its end record")
    tail = _pread(fd, min(size, _EOCD.size + 0xFFFF), max(0, size - _EOCD.size - 0xFFFF))
    last = tail[-_EOCD.size :]
    if last[:4] != SIG_EOCD or _EOCD.unpack(last)[7] != 0:
        at = tail.rfind(SIG_EOCD)
        if at < 0 or len(tail) - at < _EOCD.size:
            raise _malformed("not a zip, or truncated: no end of central directory record")
        comment = _EOCD.unpack_from(tail, at)[7]
        extra = len(tail) - at - _EOCD.size
        raise reject(
            P.BUNDLE_STRAY_DATA,
            "the zip has an archive comment" if comment == extra else
            f"{extra} bytes follow the zip's end record (readers look for the end record differently)",
            found=f"{extra} bytes",
        )
    _, disk, cd_disk, on_disk, count, cd_size, cd_offset, _ = _EOCD.unpack(last)
    eocd_at = size - _EOCD.size
    locator = _pread(fd, _LOCATOR.size, eocd_at - _LOCATOR.size) if eocd_at >= _LOCATOR.size else b""
    saturated = U16 in (disk, cd_disk, on_disk, count) or U32 in (cd_size, cd_offset)
    if locator[:4] != SIG_LOCATOR:
        if saturated:
            raise _malformed("the end record says zip64 but there is no zip64 locator")
        if disk or cd_disk:
            raise reject(P.BUNDLE_UNSUPPORTED_FEATURE, "a zip spanning several disks", found="multi-disk")
        if on_disk != count:
            raise reject(P.BUNDLE_HEADER_MISMATCH, f"the end record counts {on_disk} entries on this disk "
                         f"and {count} in all", expected=count, found=on_disk)
        return _End(count, cd_size, cd_offset, eocd_at)
    # A zip64 locator: zipfile follows it whether or not a field is saturated, so it is always followed
    _, z_disk, z_offset, disks = _LOCATOR.unpack(locator)
    record_at = eocd_at - _LOCATOR.size - _EOCD64.size
    if z_disk != 0 or disks != 1:
        raise reject(P.BUNDLE_UNSUPPORTED_FEATURE, "a zip64 zip spanning several disks", found="multi-disk")
    if z_offset != record_at:
        raise reject(P.BUNDLE_STRAY_DATA, "the zip64 end record is not right before its locator",
                     expected=record_at, found=z_offset)
    record = _pread(fd, _EOCD64.size, record_at) if record_at >= 0 else b""
    if len(record) != _EOCD64.size or record[:4] != SIG_EOCD64:
        raise _malformed("the zip64 locator points to no zip64 end record")
    _, rest, _, _, disk64, cd_disk64, on_disk64, count64, cd_size64, cd_offset64 = _EOCD64.unpack(record)
    if rest != _EOCD64.size - 12:
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


# --------------------------------------------------------------------------------------------------------
# 2-3. The central directory


def _extras(data: bytes, where: str, problems: list[tuple[P, str]]) -> dict[int, bytes] | None:
    """The extra fields by id; None (after noting why) when they are refused."""
    fields: dict[int, bytes] = {}
    at = 0
    while at < len(data):
        if at + 4 > len(data):
            problems.append((P.BUNDLE_MALFORMED, f"the {where} extra fields end in the middle of a field"))
            return None
        ident, length = struct.unpack_from("<HH", data, at)
        body = data[at + 4 : at + 4 + length]
        if len(body) != length:
            problems.append((P.BUNDLE_MALFORMED, f"the {where} extra field 0x{ident:04x} runs past its area"))
            return None
        if ident in fields:
            problems.append((P.BUNDLE_HEADER_MISMATCH, f"the {where} extra field 0x{ident:04x} appears twice "
                             "(readers take the first or the last)"))
            return None
        if ident in NAMING_EXTRAS:
            problems.append((P.BUNDLE_AMBIGUOUS_NAME, f"the {where} carries a second name "
                             f"({NAMING_EXTRAS[ident]} extra field 0x{ident:04x}): readers that know it use "
                             "it, others use the header's"))
            return None
        if ident in LINKING_EXTRAS:
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"the {where} carries a {LINKING_EXTRAS[ident]} "
                             f"extra field 0x{ident:04x}"))
            return None
        if ident != ZIP64 and ident not in HARMLESS_EXTRAS:
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"the {where} carries the extra field 0x{ident:04x}, "
                             "which provenance does not read (encryption, certificates, or a meaning some "
                             "reader may give it)"))
            return None
        fields[ident] = body
        at += 4 + length
    return fields


def _zip64_values(body: bytes | None, wanted: list[str]) -> dict[str, int] | None:
    """The zip64 field's values for the saturated header fields ``wanted`` (in 4.5.3's order); None when
    the field is absent where needed, or longer or shorter than they need."""
    if body is None:
        return {} if not wanted else None
    expected = sum(4 if name == "disk" else 8 for name in wanted)
    if len(body) != expected:
        return None
    values: dict[str, int] = {}
    at = 0
    for name in wanted:
        width = 4 if name == "disk" else 8
        values[name] = int.from_bytes(body[at : at + width], "little")
        at += width
    return values


def _decode_name(raw: bytes, flags: int, problems: list[tuple[P, str]]) -> str:
    if b"\0" in raw:
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, "the name holds a NUL byte (zipfile cuts it there, others "
                         "do not)"))
    if flags & FLAG_UTF8:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            problems.append((P.BUNDLE_AMBIGUOUS_NAME, "the name is flagged UTF-8 but is not"))
            return raw.decode("utf-8", "replace")
    if not raw.isascii():
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, "a non-ASCII name without the UTF-8 flag: readers decode it "
                         "as CP437, as their code page, or as UTF-8"))
        return raw.decode("cp437")
    return raw.decode("ascii")


def _kind(entry: _Entry, host: int, external: int) -> str:
    """``file``, ``folder``, or what the entry is refused as (noted in ``entry.problems``)."""
    named_folder = entry.name.endswith("/")
    mode = external >> 16
    kind = stat.S_IFMT(mode)
    if mode and kind:  # Unix mode bits (4.4.15): honoured by unzip, bsdtar and 7-Zip whatever the host
        if stat.S_ISLNK(mode):
            return "symbolic link"
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            return "device, fifo or socket"
        if stat.S_ISDIR(mode) != named_folder:
            entry.problems.append((P.BUNDLE_HEADER_MISMATCH, "its mode bits say "
                                   f"{'folder' if stat.S_ISDIR(mode) else 'file'}, its name says "
                                   f"{'folder' if named_folder else 'file'}"))
    if external & 0x10 and not named_folder:  # the MS-DOS folder attribute (bsdtar believes it)
        entry.problems.append((P.BUNDLE_HEADER_MISMATCH, "its MS-DOS attributes say folder, its name says file"))
    return "folder" if named_folder else "file"


def _central(data: bytes, at: int, index: int) -> tuple[_Entry, int]:
    """The entry at ``at`` of the central directory and where the next one starts."""
    if len(data) - at < _CENTRAL.size or data[at : at + 4] != SIG_CENTRAL:
        raise _malformed(f"the central directory's entry {index + 1} is not where it should be")
    (_, made_by, needed, flags, method, _, _, crc, csize, usize, name_len, extra_len, comment_len, disk,
     _, external, offset) = _CENTRAL.unpack_from(data, at)
    end = at + _CENTRAL.size + name_len + extra_len + comment_len
    if end > len(data):
        raise _malformed(f"the central directory's entry {index + 1} runs past the directory")
    raw = data[at + _CENTRAL.size : at + _CENTRAL.size + name_len]
    problems: list[tuple[P, str]] = []
    name = _decode_name(raw, flags, problems)
    entry = _Entry(index, raw, name, flags, method, crc, csize, usize, offset, problems=problems)
    host = made_by >> 8
    if flags & (FLAG_ENCRYPTED | FLAG_STRONG | FLAG_MASKED):
        problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, "it is encrypted"))
    elif flags & ~ALLOWED_FLAGS:
        problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"general purpose flags 0x{flags:04x} ask for features "
                         "provenance does not read (patched data, enhanced compression, reserved bits)"))
    if method not in (STORED, DEFLATED):
        problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"compression method {method} (only stored and deflate)"))
    if needed > MAX_VERSION_NEEDED:
        problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"it needs zip version {needed // 10}.{needed % 10} "
                         "(at most 4.5 is read)"))
    if host not in HOSTS:
        problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"it was made on host system {host}, whose attributes "
                         "readers interpret differently"))
    if comment_len:
        problems.append((P.BUNDLE_STRAY_DATA, "it has a comment"))
    extras = _extras(data[at + _CENTRAL.size + name_len : at + _CENTRAL.size + name_len + extra_len],
                     "central header", problems)
    wanted = [n for n, v, full in (("usize", usize, U32), ("csize", csize, U32), ("offset", offset, U32),
                                   ("disk", disk, U16)) if v == full]
    values = _zip64_values(None if extras is None else extras.get(ZIP64), wanted) if extras is not None else {}
    if values is None:
        problems.append((P.BUNDLE_HEADER_MISMATCH, "its zip64 field does not match the header fields it "
                         "extends (readers fall back to the header differently)"))
    else:
        entry.usize = values.get("usize", usize)
        entry.csize = values.get("csize", csize)
        entry.offset = values.get("offset", offset)
        if values.get("disk", disk):
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, "it starts on another disk"))
    entry.kind = _kind(entry, host, external)
    if entry.kind == "folder" and entry.usize:
        problems.append((P.BUNDLE_HEADER_MISMATCH, f"a folder (its name ends with '/') that holds {entry.usize} "
                         "bytes"))
    if method == STORED and entry.csize != entry.usize:
        problems.append((P.BUNDLE_HEADER_MISMATCH, f"stored, yet {entry.csize} bytes stored for "
                         f"{entry.usize} bytes"))
    if method == STORED and flags & FLAG_DESCRIPTOR:
        problems.append((P.BUNDLE_HEADER_MISMATCH, "stored with a data descriptor: a streaming reader must "
                         "guess where its data ends"))
    return entry, end


def _directory(fd: int, size: int, end: _End, names: EntryNames, limits: Limits) -> list[_Entry]:
    if end.count > limits.max_entries:
        raise reject(P.BUNDLE_TOO_LARGE, f"the zip declares {end.count} entries (limit {limits.max_entries})",
                     expected=limits.max_entries, found=end.count)
    if end.cd_offset + end.cd_size != end.cd_end:
        if end.cd_offset + end.cd_size > end.cd_end:
            raise _malformed("the central directory reaches past the end records")
        raise reject(P.BUNDLE_STRAY_DATA, f"{end.cd_end - end.cd_offset - end.cd_size} bytes lie between the "
                     "central directory and the end record", found="bytes after the central directory")
    if end.cd_size > end.count * (_CENTRAL.size + 3 * 0xFFFF) or end.cd_size > end.cd_end:
        raise _malformed(f"a central directory of {end.cd_size} bytes for {end.count} entries")
    if end.cd_size > MAX_DIRECTORY_BYTES:  # read whole into memory: bounded apart from --max-size
        raise reject(P.BUNDLE_TOO_LARGE, f"a central directory of {end.cd_size} bytes (limit "
                     f"{MAX_DIRECTORY_BYTES})", expected=MAX_DIRECTORY_BYTES, found=end.cd_size)
    data = _pread(fd, end.cd_size, end.cd_offset)
    if len(data) != end.cd_size:
        raise _malformed("the central directory is truncated")
    entries: list[_Entry] = []
    at = 0
    for index in range(end.count):
        entry, at = _central(data, at, index)
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


def _local(fd: int, entry: _Entry) -> None:
    """Check the local header (and data descriptor) of ``entry``; set where its data starts and it ends."""
    header = _pread(fd, _LOCAL.size, entry.offset)
    if len(header) != _LOCAL.size or header[:4] != SIG_LOCAL:
        raise _malformed(f"entry {entry.name!r}: no local header where the central directory points")
    (_, _, flags, method, _, _, crc, csize, usize, name_len, extra_len) = _LOCAL.unpack(header)
    rest = _pread(fd, name_len + extra_len, entry.offset + _LOCAL.size)
    if len(rest) != name_len + extra_len:
        raise _malformed(f"entry {entry.name!r}: its local header is truncated")
    problems = entry.problems
    if rest[:name_len] != entry.raw_name:
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, f"its local header names it {rest[:name_len]!r} (unzip and "
                         "7-Zip use the central name, streaming readers the local one)"))
    if flags != entry.flags or method != entry.method:
        problems.append((P.BUNDLE_HEADER_MISMATCH, f"its local header gives flags 0x{flags:04x} and method "
                         f"{method}, the central directory 0x{entry.flags:04x} and {entry.method}"))
    extras = _extras(rest[name_len:], "local header", problems)
    if extras is None:
        return
    z64 = extras.get(ZIP64)
    if usize == U32 or csize == U32:
        values = _zip64_values(z64, ["usize", "csize"])
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
    entry.data_start = entry.offset + _LOCAL.size + name_len + extra_len
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


def _layout(fd: int, entries: list[_Entry], end: _End, names: EntryNames, limits: Limits) -> None:
    """The entries, by offset, fill the file from byte 0 to the central directory without gap or overlap."""
    cursor = 0
    previous: _Entry | None = None
    for entry in sorted(entries, key=lambda e: (e.offset, e.index)):
        if entry.offset >= end.cd_offset:
            raise _malformed(f"entry {entry.name!r} starts inside or after the central directory")
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
            raise _malformed(f"entry {entry.name!r} runs into the central directory")
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
            raise _malformed("the zip is truncated")
        at += len(chunk)
        left -= len(chunk)
        yield chunk


def _inflated(fd: int, entry: _Entry, rel: str) -> Iterator[bytes]:
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


def _stream(fd: int, entry: _Entry, collector: Collector | None, budget: Budget) -> None:
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


def _algorithms(entries: list[_Entry]) -> tuple[str, ...]:
    """SHA-256, and every other digest a (tag) manifest of the bag names: all known before reading."""
    wanted = {"sha256"}
    for entry in entries:
        match = _MANIFEST_NAME.fullmatch(entry.rel or "")
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
