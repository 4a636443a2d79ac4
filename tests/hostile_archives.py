"""Hostile zip and tar.gz variants of a real exported bundle: every construct of "one reading" (see
docs/security.md), plus seeded random header mutations.

The zip and tar writers here are written from the specifications (PKWARE APPNOTE 6.3.10; POSIX.1-2001
pax/ustar; GNU tar's format notes; RFC 1952), independently of ``provenance.bundle``, and let a test set
every field by hand. ``constructs(base)`` gives named variants with the exact problem codes ``verify``
must report (an empty set: the construct is accepted, and the bundle must verify trusted);
``mutations(base, seed, count)`` gives random ones (codes unknown: the differential property is the
oracle, see ``tests/extractors.py``).
"""

from __future__ import annotations

import gzip
import random
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

ZIP, TARGZ = "zip", "tar.gz"
TRUSTED: frozenset[str] = frozenset()
AMBIGUOUS, MISMATCH, STRAY = "bundle.ambiguous-name", "bundle.header-mismatch", "bundle.stray-data"
UNSUPPORTED, UNSAFE, MALFORMED = "bundle.unsupported-feature", "bundle.unsafe-entry", "bundle.malformed"
TEXT = "data/files/telegram-23256.txt"


@dataclass(frozen=True)
class Variant:
    name: str
    form: str
    data: bytes
    codes: frozenset[str] | None  # the exact codes verify reports; None: unknown (a random mutation)


@dataclass
class Base:
    """A real exported bundle's entries: (name, bytes or None for a folder), in the archive's order."""

    entries: list[tuple[str, bytes | None]]
    top: str

    @classmethod
    def from_zip(cls, path: Path) -> Base:
        with zipfile.ZipFile(path) as archive:
            entries = [(i.filename.rstrip("/"), None if i.is_dir() else archive.read(i)) for i in archive.infolist()]
        return cls(entries, entries[0][0].split("/")[0])

    def files(self) -> list[tuple[str, bytes]]:
        return [(n, d) for n, d in self.entries if d is not None]


# --------------------------------------------------------------------------------------------------------
# A zip writer with every field in reach (APPNOTE 4.3)


@dataclass
class ZEntry:
    name: bytes
    data: bytes | None  # None: a folder
    method: int = 8
    flags: int = 0
    host: int = 3
    mode: int | None = None  # the upper half of the external attributes (default by kind)
    dos: int = 0
    needed: int = 20
    local_extra: bytes = b""
    central_extra: bytes = b""
    comment: bytes = b""
    local_name: bytes | None = None
    descriptor: str | None = None  # "sig", "nosig"
    zip64: bool = False  # sizes in zip64 extra fields, header fields saturated
    local_zip64: tuple[int, int] | None = None  # (usize, csize) in the local zip64 field, when forced
    payload: bytes | None = None  # the compressed bytes, when forced
    local: dict[str, int] = field(default_factory=dict)  # overrides of local header fields
    central: dict[str, int] = field(default_factory=dict)  # overrides of central header fields
    descriptor_values: tuple[int, int, int] | None = None
    gap_after: bytes = b""


def _compress(data: bytes, method: int) -> bytes:
    if method == 8:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush()
    return data


def extra(ident: int, body: bytes) -> bytes:
    return struct.pack("<HH", ident, len(body)) + body


def build_zip(
    entries: list[ZEntry],
    *,
    prefix: bytes = b"",
    comment: bytes = b"",
    trailing: bytes = b"",
    zip64_end: bool = False,
    end: dict[str, int] | None = None,
    absolute_offsets: bool = True,
    after_directory: bytes = b"",
) -> bytes:
    out = bytearray(prefix)
    central = bytearray()
    for e in entries:
        data = e.data or b""
        crc = zlib.crc32(data)
        method = e.method if e.data is not None else 0
        packed = e.payload if e.payload is not None else _compress(data, method)
        csize, usize = len(packed), len(data)
        offset = len(out) if absolute_offsets else len(out) - len(prefix)
        mode = e.mode if e.mode is not None else (0o40755 if e.data is None else 0o100644)
        lvals = {"needed": e.needed, "flags": e.flags, "method": method, "time": 0x4800, "date": 0x5C25,
                 "crc": crc, "csize": csize, "usize": usize}
        lextra = e.local_extra
        if e.descriptor:
            lvals.update(crc=0, csize=0, usize=0)
        if e.zip64:
            sizes = e.local_zip64 or (lvals["usize"], lvals["csize"])
            lextra = extra(1, struct.pack("<QQ", *sizes)) + lextra
            lvals.update(csize=0xFFFFFFFF, usize=0xFFFFFFFF)
        lvals.update(e.local)
        lname = e.local_name if e.local_name is not None else e.name
        out += struct.pack("<4sHHHHHLLLHH", b"PK\x03\x04", lvals["needed"], lvals["flags"], lvals["method"],
                           lvals["time"], lvals["date"], lvals["crc"], lvals["csize"], lvals["usize"],
                           len(lname), len(lextra))  # fmt: skip
        out += lname + lextra + packed
        if e.descriptor:
            values = e.descriptor_values or (crc, csize, usize)
            body = struct.pack("<LQQ" if e.zip64 else "<LLL", *values)
            out += (b"PK\x07\x08" if e.descriptor == "sig" else b"") + body
        out += e.gap_after
        cvals = {"made": (e.host << 8) | 20, "needed": e.needed, "flags": e.flags, "method": method,
                 "time": 0x4800, "date": 0x5C25, "crc": crc, "csize": csize, "usize": usize, "disk": 0,
                 "internal": 0, "external": (mode << 16) | e.dos | (0x10 if e.data is None else 0),
                 "offset": offset}  # fmt: skip
        cextra = e.central_extra
        if e.zip64:
            cextra = extra(1, struct.pack("<QQ", usize, csize)) + cextra
            cvals.update(csize=0xFFFFFFFF, usize=0xFFFFFFFF)
        cvals.update(e.central)
        central += struct.pack("<4sHHHHHHLLLHHHHHLL", b"PK\x01\x02", cvals["made"], cvals["needed"],
                               cvals["flags"], cvals["method"], cvals["time"], cvals["date"], cvals["crc"],
                               cvals["csize"], cvals["usize"], len(e.name), len(cextra), len(e.comment),
                               cvals["disk"], cvals["internal"], cvals["external"], cvals["offset"])  # fmt: skip
        central += e.name + cextra + e.comment
    cd_offset = len(out) if absolute_offsets else len(out) - len(prefix)
    out += central + after_directory
    values = {"disk": 0, "cd_disk": 0, "on_disk": len(entries), "count": len(entries),
              "cd_size": len(central) + len(after_directory), "cd_offset": cd_offset}  # fmt: skip
    values.update(end or {})
    if zip64_end:
        record_at = len(out)
        out += struct.pack("<4sQHHLLQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, values["on_disk"], values["count"],
                           values["cd_size"], values["cd_offset"])  # fmt: skip
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, record_at, 1)
        values.update({k: v for k, v in (end or {}).items() if k.startswith("small_")})
    out += struct.pack("<4sHHHHLLH", b"PK\x05\x06", values["disk"], values["cd_disk"],
                       values.get("small_on_disk", values["on_disk"]), values.get("small_count", values["count"]),
                       values.get("small_cd_size", values["cd_size"]),
                       values.get("small_cd_offset", values["cd_offset"]), len(comment))  # fmt: skip
    return bytes(out + comment + trailing)


def zentries(base: Base) -> list[ZEntry]:
    return [ZEntry((n + ("/" if d is None else "")).encode(), d) for n, d in base.entries]


def _edit(entries: list[ZEntry], rel: str, **changes: object) -> list[ZEntry]:
    return [replace(e, **changes) if e.name.decode("utf-8", "replace").endswith(rel) else e for e in entries]  # type: ignore[arg-type]


def _add(entries: list[ZEntry], *more: ZEntry) -> list[ZEntry]:
    return [*entries, *more]


# --------------------------------------------------------------------------------------------------------
# A tar writer (ustar / pax / GNU headers by hand)

POSIX, GNU = b"ustar\x0000", b"ustar  \x00"


def _octal(value: int, width: int) -> bytes:
    return b"%0*o\x00" % (width - 1, value)


def tar_header(
    name: bytes,
    *,
    size: int = 0,
    kind: bytes = b"0",
    magic: bytes = POSIX,
    linkname: bytes = b"",
    prefix: bytes = b"",
    patch: dict[int, bytes] | None = None,
    checksum: str = "unsigned",
) -> bytes:
    block = bytearray(512)
    block[0 : len(name)] = name
    block[100:108] = _octal(0o755 if kind == b"5" else 0o644, 8)
    block[108:116] = _octal(0, 8)
    block[116:124] = _octal(0, 8)
    block[124:136] = _octal(size, 12)
    block[136:148] = _octal(1767603600, 12)
    block[156:157] = kind
    block[157 : 157 + len(linkname)] = linkname
    block[257:265] = magic
    if magic == POSIX:
        block[329:337] = _octal(0, 8)
        block[337:345] = _octal(0, 8)
        block[345 : 345 + len(prefix)] = prefix
    for at, value in (patch or {}).items():
        block[at : at + len(value)] = value
    block[148:156] = b" " * 8
    total = sum(block) if checksum == "unsigned" else sum(b - 256 if b > 127 else b for b in block) & 262143
    block[148:156] = b"%06o\x00 " % total
    return bytes(block)


def pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def pax(records: list[tuple[bytes, bytes]]) -> bytes:
    out = b""
    for key, value in records:
        body = b" " + key + b"=" + value + b"\n"
        length = len(body) + 1
        while len(str(length).encode() + body) != length:
            length += 1
        out += str(length).encode() + body
    return out


def pax_member(records: list[tuple[bytes, bytes]], kind: bytes = b"x") -> bytes:
    data = pax(records)
    return tar_header(b"PaxHeader/x", size=len(data), kind=kind) + pad(data)


def member(name: str, data: bytes | None, **options: object) -> bytes:
    raw = name.encode() + (b"/" if data is None else b"")
    header = tar_header(raw, size=len(data or b""), kind=b"5" if data is None else b"0", **options)  # type: ignore[arg-type]
    return header + pad(data or b"")


END = bytes(1024)


def build_tar(blocks: list[bytes], *, end: bytes = END, tail: bytes = bytes(8192)) -> bytes:
    return b"".join(blocks) + end + tail


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def members(base: Base, change: Callable[[str, bytes | None], list[bytes] | None] | None = None) -> list[bytes]:
    """The base's members as tar blocks; ``change`` may replace a member's blocks (None: unchanged)."""
    out: list[bytes] = []
    for name, data in base.entries:
        replaced = change(name, data) if change is not None else None
        out.extend(replaced if replaced is not None else [member(name, data)])
    return out


def _at(rel: str, blocks: Callable[[str, bytes | None], list[bytes]]) -> Callable[[str, bytes | None], list[bytes] | None]:
    return lambda name, data: blocks(name, data) if name.endswith(rel) else None


# --------------------------------------------------------------------------------------------------------
# The constructs


def constructs(base: Base) -> Iterator[Variant]:
    """Every construct of "one reading", each with the exact codes verify reports."""
    t = base.top
    text = next(d for n, d in base.entries if n.endswith(TEXT))
    forged = text.replace(b"Kim Il Sung", b"Kim 1l Sung")
    z = zentries(base)

    def zv(name: str, codes: frozenset[str] | set[str], entries: list[ZEntry], **options: object) -> Variant:
        return Variant(f"zip-{name}", ZIP, build_zip(entries, **options), frozenset(codes))  # type: ignore[arg-type]

    def tv(name: str, codes: frozenset[str] | set[str], data: bytes, *, raw: bool = False) -> Variant:
        return Variant(f"tar-{name}", TARGZ, data if raw else gz(data), frozenset(codes))

    # zip: accepted constructs (a trusted verdict, and every extractor agrees)
    yield zv("rebuilt", TRUSTED, z)
    yield zv("stored", TRUSTED, [replace(e, method=0) for e in z])
    yield zv("data-descriptor", TRUSTED, [replace(e, flags=8, descriptor="sig") if e.data else e for e in z])
    yield zv("zip64-sizes", TRUSTED, [replace(e, zip64=True, needed=45) if e.data else e for e in z])
    yield zv("zip64-end-records", TRUSTED, z, zip64_end=True,
             end={"small_count": 0xFFFF, "small_on_disk": 0xFFFF, "small_cd_size": 0xFFFFFFFF,
                  "small_cd_offset": 0xFFFFFFFF})
    yield zv("timestamps-and-ids", TRUSTED, [replace(e, local_extra=extra(0x5455, b"\x01\x00\x00\x00\x00"),
                                                     central_extra=extra(0x7875, b"\x01\x04\0\0\0\0\x04\0\0\0\0"))
                                             for e in z])
    yield zv("msdos-host", TRUSTED, [replace(e, host=0, mode=0) for e in z])
    # zip: two names for one entry
    yield zv("unicode-path-extra", {AMBIGUOUS}, _edit(z, TEXT, central_extra=extra(
        0x7075, b"\x01" + struct.pack("<L", zlib.crc32(f"{t}/{TEXT}".encode())) + f"{t}/data/files/x.txt".encode())))
    yield zv("unicode-path-extra-local", {AMBIGUOUS}, _edit(z, TEXT, local_extra=extra(
        0x7075, b"\x01" + struct.pack("<L", zlib.crc32(f"{t}/{TEXT}".encode())) + f"{t}/{TEXT}".encode())))
    yield zv("unicode-comment-extra", {AMBIGUOUS}, _edit(z, TEXT, central_extra=extra(0x6375, b"\x01\0\0\0\0x")))
    yield zv("xceed-unicode-extra", {AMBIGUOUS}, _edit(z, TEXT, central_extra=extra(0x554E, b"\x5c\x4e\x00\x00")))
    yield zv("local-name-differs", {AMBIGUOUS}, _edit(z, TEXT, local_name=f"{t}/data/files/telegram-23256.tx_".encode()))
    yield zv("non-ascii-name-without-utf8-flag", {AMBIGUOUS}, _add(z, ZEntry(f"{t}/data/files/caf\u00e9".encode(), b"x")))
    yield zv("utf8-flag-on-invalid-utf8", {AMBIGUOUS}, _add(z, ZEntry(f"{t}/data/x\xff".encode("latin-1"), b"x",
                                                                             flags=0x800)))
    yield zv("nul-in-name", {AMBIGUOUS, UNSAFE}, _add(z, ZEntry(f"{t}/{TEXT}\0.evil".encode(), b"x")))
    # zip: two values for one field
    yield zv("local-size-differs", {MISMATCH}, _edit(z, TEXT, local={"usize": len(text) + 1}))
    yield zv("local-crc-differs", {MISMATCH}, _edit(z, TEXT, local={"crc": 1}))
    yield zv("local-method-differs", {MISMATCH}, _edit(z, TEXT, local={"method": 0}))
    yield zv("local-flags-differ", {MISMATCH}, _edit(z, TEXT, local={"flags": 2}))
    yield zv("zip64-field-without-saturation", {MISMATCH}, _edit(z, TEXT, central_extra=extra(1, struct.pack("<Q", 5))))
    yield zv("zip64-field-disagrees", {MISMATCH}, _edit(z, TEXT, zip64=True, needed=45,
                                                        local_zip64=(len(text) + 7, 9)))
    yield zv("zip64-end-record-disagrees", {MISMATCH}, z, zip64_end=True, end={"small_count": len(z) - 1})
    yield zv("zip64-locator-without-saturation", TRUSTED, z, zip64_end=True)
    yield zv("data-descriptor-disagrees", {MISMATCH}, _edit(z, TEXT, flags=8, descriptor="sig",
                                                            descriptor_values=(zlib.crc32(forged), 9, len(forged))))
    yield zv("data-descriptor-without-signature", {MISMATCH}, _edit(z, TEXT, flags=8, descriptor="nosig"))
    yield zv("stored-with-data-descriptor", {MISMATCH}, _edit(z, TEXT, method=0, flags=8, descriptor="sig"))
    yield zv("deflate-longer-than-its-size", {MISMATCH}, _edit(z, TEXT, central={"usize": len(text) - 1},
                                                               local={"usize": len(text) - 1}))
    yield zv("bytes-after-deflate-stream", {STRAY}, _edit(z, TEXT, payload=_compress(text, 8) + b"hidden"))
    yield zv("folder-with-data", {MISMATCH}, _add(z, ZEntry(f"{t}/data/files/dir/".encode(), b"x", mode=0o40755)))
    yield zv("msdos-folder-bit-on-file", {MISMATCH}, _edit(z, TEXT, host=0, mode=0, dos=0x10))
    yield zv("unix-folder-mode-on-file", {MISMATCH}, _edit(z, TEXT, mode=0o40755))
    # zip: bytes outside the entries
    yield zv("prepended-stub", {STRAY}, z, prefix=b"#!/bin/sh\nexit 0\n" * 4)
    yield zv("prepended-stub-relative-offsets", {STRAY}, z, prefix=b"MZ" + bytes(62), absolute_offsets=False)
    yield zv("gap-between-entries", {STRAY}, _edit(z, "bagit.txt", gap_after=b"PK\x03\x04 hidden"))
    yield zv("archive-comment", {STRAY}, z, comment=b"nothing to see")
    yield zv("archive-comment-with-end-record", {STRAY}, z, comment=b"PK\x05\x06" + bytes(18))
    yield zv("trailing-data", {STRAY}, z, trailing=b"\0" * 100)
    yield zv("entry-comment", {STRAY}, _edit(z, TEXT, comment=b"a comment"))
    yield zv("directory-bytes-after-entries", {STRAY}, z, after_directory=b"PK\x05\x05" + bytes(10))
    one = build_zip(z)
    yield Variant("zip-concatenated", ZIP, one + build_zip(zentries(Base([(f"{t}/{TEXT}", forged)], t))),
                  frozenset({STRAY}))
    overlap = build_zip(z)
    yield Variant("zip-overlapping-entries", ZIP, _overlap(overlap, f"{t}/{TEXT}".encode()), frozenset({UNSAFE}))
    # zip: what provenance does not read
    yield zv("encrypted", {UNSUPPORTED}, _edit(z, TEXT, flags=1))
    yield zv("strong-encryption-flag", {UNSUPPORTED}, _edit(z, TEXT, flags=0x41))
    yield zv("bzip2-method", {UNSUPPORTED}, _edit(z, TEXT, method=12, payload=b"BZh9"))
    yield zv("lzma-method", {UNSUPPORTED}, _edit(z, TEXT, method=14, payload=b"\x09\x14\x05\x00"))
    yield zv("version-needed-6.3", {UNSUPPORTED}, _edit(z, TEXT, needed=63))
    yield zv("amiga-host", {UNSUPPORTED}, _edit(z, TEXT, host=1))
    yield zv("unknown-extra-field", {UNSUPPORTED}, _edit(z, TEXT, central_extra=extra(0x4242, b"xy")))
    yield zv("pkware-unix-extra", {UNSUPPORTED}, _edit(z, TEXT, local_extra=extra(0x000D, bytes(12) + b"/etc/passwd")))
    yield zv("strong-encryption-extra", {UNSUPPORTED}, _edit(z, TEXT, central_extra=extra(0x0017, bytes(8))))
    yield zv("extra-field-twice", {MISMATCH}, _edit(z, TEXT, central_extra=extra(0x5455, b"\x01\0\0\0\0") * 2))
    yield zv("second-disk", {UNSUPPORTED}, z, end={"disk": 1, "cd_disk": 1})
    yield zv("entry-count-short", {STRAY}, z, end={"on_disk": len(z) - 1, "count": len(z) - 1})
    # zip: unsafe entries
    yield zv("symlink", {UNSAFE}, _add(z, ZEntry(f"{t}/data/files/link".encode(), b"/etc/passwd", mode=0o120777)))
    yield zv("device", {UNSAFE}, _add(z, ZEntry(f"{t}/data/files/null".encode(), b"", mode=0o20644)))
    yield zv("fifo", {UNSAFE}, _add(z, ZEntry(f"{t}/data/files/pipe".encode(), b"", mode=0o10644)))
    yield zv("traversal", {UNSAFE}, _add(z, ZEntry(b"../evil.txt", b"x")))
    yield zv("duplicate-name", {UNSAFE}, _add(z, ZEntry(f"{t}/{TEXT}".encode(), forged)))
    yield zv("case-collision", {UNSAFE}, _add(z, ZEntry(f"{t}/{TEXT.upper()}".encode(), forged)))
    nfd = unicodedata.normalize("NFD", "caf\u00e9")
    yield zv("nfc-nfd-collision", {UNSAFE}, _add(z, ZEntry(f"{t}/data/files/caf\u00e9".encode(), b"1", flags=0x800),
                                                 ZEntry(f"{t}/data/files/{nfd}".encode(), b"2", flags=0x800)))

    # tar: accepted constructs
    plain = members(base)
    yield tv("rebuilt", TRUSTED, build_tar(plain))
    yield tv("rebuilt-without-record-padding", TRUSTED, build_tar(plain, tail=b""))
    yield tv("dot-slash-names", TRUSTED, build_tar([tar_header(b"./", kind=b"5"), *members(
        Base([("./" + n, d) for n, d in base.entries], t))]))
    yield tv("one-zero-block-at-the-end", TRUSTED, build_tar(plain, end=bytes(512), tail=b""))
    yield tv("gnu-format", TRUSTED, build_tar(members(base, lambda n, d: [
        tar_header(n.encode() + (b"/" if d is None else b""), size=len(d or b""), kind=b"5" if d is None else b"0",
                   magic=GNU) + pad(d or b"")])))
    yield tv("gnu-long-name", TRUSTED, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=len(n) + 1, kind=b"L", magic=GNU) + pad(n.encode() + b"\0"),
        tar_header(n.encode()[:100], size=len(d or b""), magic=GNU) + pad(d or b"")]))))
    yield tv("ustar-prefix", TRUSTED, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(n.rsplit("/", 1)[1].encode(), prefix=n.rsplit("/", 1)[0].encode(), size=len(d or b""))
        + pad(d or b"")]))))
    yield tv("pax-path-and-times", TRUSTED, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"path", n.encode()), (b"mtime", b"1767603600.5"), (b"uname", b"archivist")]),
        tar_header(b"placeholder", size=len(d or b"")) + pad(d or b"")]))))
    yield tv("pax-size-equal", TRUSTED, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"size", str(len(d or b"")).encode())]), member(n, d)]))))
    # tar: two names for one member
    yield tv("gnu-long-name-and-pax-path", {AMBIGUOUS}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=len(n) + 1, kind=b"L") + pad(n.encode() + b"\0"),
        pax_member([(b"path", n.encode()[:-4] + b".evil")]), member(n, d)]))))
    yield tv("two-pax-headers", {AMBIGUOUS}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"path", n.encode())]), pax_member([(b"path", n.encode() + b".x")]), member(n, d)]))))
    yield tv("two-gnu-long-names", {AMBIGUOUS}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=len(n) + 3, kind=b"L") + pad(n.encode() + b".x\0"),
        tar_header(b"././@LongLink", size=len(n) + 1, kind=b"L") + pad(n.encode() + b"\0"), member(n, d)]))))
    yield tv("gnu-long-link-on-file", {AMBIGUOUS}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=5, kind=b"K") + pad(b"/etc\0"), member(n, d)]))))
    yield tv("pax-empty-path", {AMBIGUOUS, UNSAFE}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"path", b"")]), member(n, d)]))))
    yield tv("pax-hdrcharset-binary", {AMBIGUOUS}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"hdrcharset", b"BINARY")]), member(n, d)]))))
    yield tv("name-bytes-after-nul", {AMBIGUOUS}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(n.encode() + b"\0.evil", size=len(d or b"")) + pad(d or b"")]))))
    latin1 = f"{t}/data/files/caf\xe9".encode("latin-1")
    yield tv("name-not-utf8", {AMBIGUOUS}, build_tar([*plain, tar_header(latin1, size=1) + pad(b"x")]))
    # tar: two values for one field
    yield tv("pax-size-disagrees", {MISMATCH}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"size", b"0")]), member(n, d)]))))
    yield tv("pax-key-twice", {MISMATCH}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"path", n.encode()), (b"path", n.encode() + b".x")]), member(n, d)]))))
    yield tv("pax-linkpath-on-file", {MISMATCH}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"linkpath", b"/etc/passwd")]), member(n, d)]))))
    yield tv("linkname-on-file", {MISMATCH}, build_tar(members(base, _at(TEXT, lambda n, d: [
        member(n, d, linkname=b"/etc/passwd")]))))
    yield tv("regular-named-as-folder", {MISMATCH}, build_tar([*plain, tar_header(f"{t}/data/files/d/".encode(),
                                                                                  kind=b"\0")]))
    yield tv("folder-with-size", {MISMATCH}, build_tar([*plain, tar_header(f"{t}/data/files/d/".encode(), kind=b"5",
                                                                           size=512) + bytes(512)]))
    # tar: bytes outside the members
    yield tv("data-after-end", {STRAY}, build_tar(plain, tail=pad(member(f"{t}/{TEXT}", forged))))
    yield tv("concatenated-archives", {STRAY}, build_tar(plain, tail=build_tar([member(f"{t}/{TEXT}", forged)])))
    yield tv("lone-zero-block", {STRAY}, build_tar([*plain[:3], bytes(512), *plain[3:]]))
    yield tv("gzip-second-member", {STRAY}, gz(build_tar(plain)) + gz(build_tar([member(f"{t}/{TEXT}", forged)])),
             raw=True)
    yield tv("gzip-trailing-garbage", {STRAY}, gz(build_tar(plain)) + b"garbage", raw=True)
    yield tv("gzip-trailing-zeros", {STRAY}, gz(build_tar(plain)) + bytes(512), raw=True)
    # tar: what provenance does not read
    yield tv("pax-global-header", {UNSUPPORTED}, build_tar([pax_member([(b"comment", b"x")], kind=b"g"), *plain]))
    yield tv("pax-unknown-key", {UNSUPPORTED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"SCHILY.xattr.user.x", b"1")]), member(n, d)]))))
    yield tv("pax-sparse-1.0", {UNSUPPORTED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0"), (b"GNU.sparse.name", n.encode()),
                    (b"GNU.sparse.realsize", b"999999")]), member(n, d)]))))
    yield tv("pax-sparse-0.1", {UNSUPPORTED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        pax_member([(b"GNU.sparse.numblocks", b"1"), (b"GNU.sparse.map", b"0,1")]), member(n, d)]))))
    for kind, what in ((b"S", "gnu-sparse"), (b"7", "contiguous"), (b"V", "volume-label"), (b"M", "multi-volume"),
                       (b"D", "dump-directory"), (b"X", "solaris-extended"), (b"Z", "unknown-type")):
        blocks = [tar_header(f"{t}/data/files/{what}".encode(), kind=kind, magic=GNU if kind in b"SVMD" else POSIX)]
        yield tv(what, {UNSUPPORTED}, build_tar([*plain, *blocks]))
    yield tv("gnu-atime-fields", {UNSUPPORTED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(n.encode(), size=len(d or b""), magic=GNU, patch={345: b"15303221267\0"}) + pad(d or b"")]))))
    yield tv("star-fields", {UNSUPPORTED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(n.encode(), size=len(d or b""), patch={508: b"tar\0"}) + pad(d or b"")]))))
    # tar: framing that cannot be trusted
    yield tv("v7-header", {MALFORMED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(n.encode(), size=len(d or b""), magic=bytes(8)) + pad(d or b"")]))))
    yield tv("signed-checksum", {MALFORMED}, build_tar([*plain, tar_header(f"{t}/data/files/\xe9".encode(),
                                                                           checksum="signed")]))
    yield tv("base-256-size", {MALFORMED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(n.encode(), patch={124: b"\x80" + bytes(7) + struct.pack(">L", len(d or b""))}) + pad(d or b"")]))))
    yield tv("mtime-not-octal", {MALFORMED}, build_tar(members(base, _at(TEXT, lambda n, d: [
        tar_header(n.encode(), size=len(d or b""), patch={136: b"1530322126x\0"}) + pad(d or b"")]))))
    yield tv("no-end-marker", {MALFORMED}, build_tar(plain, end=b"", tail=b""))
    # tar: unsafe members
    for kind, what in ((b"1", "hard-link"), (b"2", "symlink"), (b"3", "char-device"), (b"4", "block-device"),
                       (b"6", "fifo")):
        yield tv(what, {UNSAFE}, build_tar([*plain, tar_header(f"{t}/data/files/{what}".encode(), kind=kind,
                                                               linkname=b"/etc/passwd" if kind in b"12" else b"")]))
    yield tv("traversal", {UNSAFE}, build_tar([*plain, member("../evil.txt", b"x")]))
    yield tv("duplicate-name", {UNSAFE}, build_tar([*plain, member(f"{t}/{TEXT}", forged)]))
    yield tv("case-collision", {UNSAFE}, build_tar([*plain, member(f"{t}/{TEXT.upper()}", forged)]))
    yield tv("nfc-nfd-collision", {UNSAFE}, build_tar([*plain, member(f"{t}/data/files/caf\u00e9", b"1"),
                                                       member(f"{t}/data/files/{nfd}", b"2")]))


def _overlap(data: bytes, name: bytes) -> bytes:
    """A second central entry for ``name``'s data under another name (the overlapping-files construct)."""
    start = data.index(b"PK\x01\x02")
    end = data.rindex(b"PK\x05\x06")
    central = data[start:end]
    at = central.index(name) - 46
    entry_len = 46 + sum(struct.unpack_from("<HHH", central, at + 28))
    twin = bytearray(central[at : at + entry_len])
    twin[46 : 46 + len(name)] = name[:-4] + b".bak"
    eocd = bytearray(data[end:])
    count = struct.unpack_from("<H", eocd, 10)[0] + 1
    struct.pack_into("<HHL", eocd, 8, count, count, len(central) + len(twin))
    return data[:start] + central + bytes(twin) + bytes(eocd)


# --------------------------------------------------------------------------------------------------------
# Seeded random header mutations


def _zip_header_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of every local header (with name and extras), central entry and end record."""
    spans: list[tuple[int, int]] = []
    at = 0
    while (at := data.find(b"PK", at)) >= 0:
        sig = data[at : at + 4]
        if sig == b"PK\x03\x04" and at + 30 <= len(data):
            n, m = struct.unpack_from("<HH", data, at + 26)
            spans.append((at, at + 30 + n + m))
        elif sig == b"PK\x01\x02" and at + 46 <= len(data):
            n, m, k = struct.unpack_from("<HHH", data, at + 28)
            spans.append((at, at + 46 + n + m + k))
        elif sig in (b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x07\x08"):
            spans.append((at, min(len(data), at + 22)))
        at += 2
    return spans


def mutate_zip(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    spans = _zip_header_spans(data)
    for _ in range(rng.randint(1, 3)):
        start, end = rng.choice(spans)
        where = rng.randrange(start, end)
        choice = rng.random()
        if choice < 0.5:
            out[where] = rng.randrange(256)
        elif choice < 0.7:
            out[where] ^= 1 << rng.randrange(8)
        elif choice < 0.85 and where + 4 <= len(out):
            out[where : where + 4] = rng.choice([b"\xff\xff\xff\xff", bytes(4), b"PK\x03\x04", b"PK\x07\x08"])
        else:
            out[where] = (out[where] + rng.choice([-1, 1])) % 256
    return bytes(out)


def _tar_headers(tar: bytes) -> list[int]:
    """Offsets of every header block (pax and long-name records included) of a tar we wrote."""
    out = []
    at = 0
    while at + 512 <= len(tar) and tar[at : at + 512] != bytes(512):
        out.append(at)
        size = int(tar[at + 124 : at + 136].rstrip(b"\0 ") or b"0", 8)
        at += 512 + size + (-size % 512)
    return out


def mutate_tar(tar: bytes, rng: random.Random) -> bytes:
    out = bytearray(tar)
    headers = _tar_headers(tar)
    for _ in range(rng.randint(1, 3)):
        at = rng.choice(headers)
        field_at = rng.choice([0, 100, 108, 116, 124, 136, 156, 157, 257, 263, 265, 297, 329, 337, 345, 500, 508])
        where = at + field_at + rng.randrange(8)
        choice = rng.random()
        if choice < 0.4:
            out[where] = rng.randrange(256)
        elif choice < 0.6:
            out[where] = rng.choice(b"0123456789 \0/x.LKgSx57")
        elif choice < 0.8 and tar[at + 156 : at + 157] in (b"x", b"g"):  # inside a pax record
            size = int(tar[at + 124 : at + 136].rstrip(b"\0 ") or b"0", 8)
            if size:
                out[at + 512 + rng.randrange(size)] = rng.choice(b"0123456789= \n/pathsize")
        else:
            out[where] = 0
        if rng.random() < 0.75:  # most mutations keep a valid checksum, so they reach the header's fields
            block = out[at : at + 512]
            block[148:156] = b" " * 8
            out[at + 148 : at + 156] = b"%06o\x00 " % sum(block)
    return bytes(out)


def mutations(base: Base, seed: int, count: int) -> Iterator[Variant]:
    """``count`` seeded random mutations of the headers of a clean zip and a clean tar.gz."""
    rng = random.Random(seed)
    clean_zip = build_zip(zentries(base))
    clean_tar = build_tar(members(base))
    for index in range(count):
        if index % 2 == 0:
            yield Variant(f"zip-mutation-{seed}-{index}", ZIP, mutate_zip(clean_zip, rng), None)
        else:
            yield Variant(f"tar-mutation-{seed}-{index}", TARGZ, gz(mutate_tar(clean_tar, rng)), None)


def mutate_with(data: bytes, form: str, instructions: bytes) -> bytes:
    """A mutation driven by fuzzer bytes (the seed of an rng: libFuzzer mutates it, the rng spreads it)."""
    rng = random.Random(instructions)
    if form == ZIP:
        return mutate_zip(data, rng)
    return gz(mutate_tar(data, rng))


def base_tar(base: Base) -> bytes:
    return build_tar(members(base))

