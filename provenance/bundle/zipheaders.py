"""The fields of a zip's headers (PKWARE APPNOTE.TXT 6.3.10): what each central-directory entry must be for
every reader to read it alike (see :mod:`provenance.bundle.zipread` for the whole procedure)."""

from __future__ import annotations

import re
import stat
import struct
from dataclasses import dataclass, field

from provenance.bundle.entries import BundleRejectedError, reject
from provenance.model.problems import ProblemCode as P

EOCD = struct.Struct("<4sHHHHLLH")  # 22 bytes (4.3.16)
LOCATOR = struct.Struct("<4sLQL")  # 20 bytes (4.3.15)
EOCD64 = struct.Struct("<4sQHHLLQQQQ")  # 56 bytes (4.3.14)
CENTRAL = struct.Struct("<4sHHHHHHLLLHHHHHLL")  # 46 bytes (4.3.12)
LOCAL = struct.Struct("<4sHHHHHLLLHH")  # 30 bytes (4.3.7)
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
MANIFEST_NAME = re.compile(r"(?:[^/]+/)?(?:tag)?manifest-([A-Za-z0-9]+)\.txt")


@dataclass
class Entry:
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




def malformed(message: str) -> BundleRejectedError:
    return reject(P.BUNDLE_MALFORMED, message)


def parse_extras(data: bytes, where: str, problems: list[tuple[P, str]]) -> dict[int, bytes] | None:
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


def zip64_values(body: bytes | None, wanted: list[str]) -> dict[str, int] | None:
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


def decode_name(raw: bytes, flags: int, problems: list[tuple[P, str]]) -> str:
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


def entry_kind(entry: Entry, host: int, external: int) -> str:
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


def central_entry(data: bytes, at: int, index: int) -> tuple[Entry, int]:
    """The entry at ``at`` of the central directory and where the next one starts."""
    if len(data) - at < CENTRAL.size or data[at : at + 4] != SIG_CENTRAL:
        raise malformed(f"the central directory's entry {index + 1} is not where it should be")
    (_, made_by, needed, flags, method, _, _, crc, csize, usize, name_len, extra_len, comment_len, disk,
     _, external, offset) = CENTRAL.unpack_from(data, at)
    end = at + CENTRAL.size + name_len + extra_len + comment_len
    if end > len(data):
        raise malformed(f"the central directory's entry {index + 1} runs past the directory")
    raw = data[at + CENTRAL.size : at + CENTRAL.size + name_len]
    problems: list[tuple[P, str]] = []
    name = decode_name(raw, flags, problems)
    entry = Entry(index, raw, name, flags, method, crc, csize, usize, offset, problems=problems)
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
    extras = parse_extras(data[at + CENTRAL.size + name_len : at + CENTRAL.size + name_len + extra_len],
                     "central header", problems)
    wanted = [n for n, v, full in (("usize", usize, U32), ("csize", csize, U32), ("offset", offset, U32),
                                   ("disk", disk, U16)) if v == full]
    values = zip64_values(None if extras is None else extras.get(ZIP64), wanted) if extras is not None else {}
    if values is None:
        problems.append((P.BUNDLE_HEADER_MISMATCH, "its zip64 field does not match the header fields it "
                         "extends (readers fall back to the header differently)"))
    else:
        entry.usize = values.get("usize", usize)
        entry.csize = values.get("csize", csize)
        entry.offset = values.get("offset", offset)
        if values.get("disk", disk):
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, "it starts on another disk"))
    entry.kind = entry_kind(entry, host, external)
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
