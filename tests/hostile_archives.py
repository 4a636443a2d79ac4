"""Hostile zip and tar.gz variants of a real exported bundle: every construct of "one reading" (see
docs/security.md), plus seeded random header mutations.

The archives are written by ``tests/hostile_writers.py`` (from the specifications, independently of
``provenance.bundle``). ``constructs(base)`` gives named variants with the exact problem codes ``verify``
must report (an empty set: the construct is accepted, and the bundle must verify trusted);
``mutations(base, seed, count)`` gives random ones (codes unknown: the differential property is the
oracle, see ``tests/extractors.py``).
"""

from __future__ import annotations

import random
import struct
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace

from tests.hostile_writers import (
    GNU,
    POSIX,
    Base,
    ZEntry,
    add,
    at,
    build_tar,
    build_zip,
    compress,
    edit,
    extra,
    gz,
    member,
    members,
    pad,
    pax_member,
    tar_header,
    zentries,
)

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
    yield zv("unicode-path-extra", {AMBIGUOUS}, edit(z, TEXT, central_extra=extra(
        0x7075, b"\x01" + struct.pack("<L", zlib.crc32(f"{t}/{TEXT}".encode())) + f"{t}/data/files/x.txt".encode())))
    yield zv("unicode-path-extra-local", {AMBIGUOUS}, edit(z, TEXT, local_extra=extra(
        0x7075, b"\x01" + struct.pack("<L", zlib.crc32(f"{t}/{TEXT}".encode())) + f"{t}/{TEXT}".encode())))
    yield zv("unicode-comment-extra", {AMBIGUOUS}, edit(z, TEXT, central_extra=extra(0x6375, b"\x01\0\0\0\0x")))
    yield zv("xceed-unicode-extra", {AMBIGUOUS}, edit(z, TEXT, central_extra=extra(0x554E, b"\x5c\x4e\x00\x00")))
    yield zv("local-name-differs", {AMBIGUOUS}, edit(z, TEXT, local_name=f"{t}/data/files/telegram-23256.tx_".encode()))
    yield zv("non-ascii-name-without-utf8-flag", {AMBIGUOUS}, add(z, ZEntry(f"{t}/data/files/caf\u00e9".encode(), b"x")))
    yield zv("utf8-flag-on-invalid-utf8", {AMBIGUOUS}, add(z, ZEntry(f"{t}/data/x\xff".encode("latin-1"), b"x",
                                                                             flags=0x800)))
    yield zv("nul-in-name", {AMBIGUOUS, UNSAFE}, add(z, ZEntry(f"{t}/{TEXT}\0.evil".encode(), b"x")))
    # zip: two values for one field
    yield zv("local-size-differs", {MISMATCH}, edit(z, TEXT, local={"usize": len(text) + 1}))
    yield zv("local-crc-differs", {MISMATCH}, edit(z, TEXT, local={"crc": 1}))
    yield zv("local-method-differs", {MISMATCH}, edit(z, TEXT, local={"method": 0}))
    yield zv("local-flags-differ", {MISMATCH}, edit(z, TEXT, local={"flags": 2}))
    yield zv("zip64-field-without-saturation", {MISMATCH}, edit(z, TEXT, central_extra=extra(1, struct.pack("<Q", 5))))
    yield zv("zip64-field-disagrees", {MISMATCH}, edit(z, TEXT, zip64=True, needed=45,
                                                        local_zip64=(len(text) + 7, 9)))
    yield zv("zip64-end-record-disagrees", {MISMATCH}, z, zip64_end=True, end={"small_count": len(z) - 1})
    yield zv("zip64-locator-without-saturation", TRUSTED, z, zip64_end=True)
    yield zv("data-descriptor-disagrees", {MISMATCH}, edit(z, TEXT, flags=8, descriptor="sig",
                                                            descriptor_values=(zlib.crc32(forged), 9, len(forged))))
    yield zv("data-descriptor-without-signature", {MISMATCH}, edit(z, TEXT, flags=8, descriptor="nosig"))
    yield zv("stored-with-data-descriptor", {MISMATCH}, edit(z, TEXT, method=0, flags=8, descriptor="sig"))
    yield zv("deflate-longer-than-its-size", {MISMATCH}, edit(z, TEXT, central={"usize": len(text) - 1},
                                                               local={"usize": len(text) - 1}))
    yield zv("bytes-after-deflate-stream", {STRAY}, edit(z, TEXT, payload=compress(text, 8) + b"hidden"))
    yield zv("folder-with-data", {MISMATCH}, add(z, ZEntry(f"{t}/data/files/dir/".encode(), b"x", mode=0o40755)))
    yield zv("msdos-folder-bit-on-file", {MISMATCH}, edit(z, TEXT, host=0, mode=0, dos=0x10))
    yield zv("unix-folder-mode-on-file", {MISMATCH}, edit(z, TEXT, mode=0o40755))
    # zip: bytes outside the entries
    yield zv("prepended-stub", {STRAY}, z, prefix=b"#!/bin/sh\nexit 0\n" * 4)
    yield zv("prepended-stub-relative-offsets", {STRAY}, z, prefix=b"MZ" + bytes(62), absolute_offsets=False)
    yield zv("gap-between-entries", {STRAY}, edit(z, "bagit.txt", gap_after=b"PK\x03\x04 hidden"))
    yield zv("archive-comment", {STRAY}, z, comment=b"nothing to see")
    yield zv("archive-comment-with-end-record", {STRAY}, z, comment=b"PK\x05\x06" + bytes(18))
    yield zv("trailing-data", {STRAY}, z, trailing=b"\0" * 100)
    yield zv("entry-comment", {STRAY}, edit(z, TEXT, comment=b"a comment"))
    yield zv("directory-bytes-after-entries", {STRAY}, z, after_directory=b"PK\x05\x05" + bytes(10))
    one = build_zip(z)
    yield Variant("zip-concatenated", ZIP, one + build_zip(zentries(Base([(f"{t}/{TEXT}", forged)], t))),
                  frozenset({STRAY}))
    overlap = build_zip(z)
    yield Variant("zip-overlapping-entries", ZIP, _overlap(overlap, f"{t}/{TEXT}".encode()), frozenset({UNSAFE}))
    # zip: what provenance does not read
    yield zv("encrypted", {UNSUPPORTED}, edit(z, TEXT, flags=1))
    yield zv("strong-encryption-flag", {UNSUPPORTED}, edit(z, TEXT, flags=0x41))
    yield zv("bzip2-method", {UNSUPPORTED}, edit(z, TEXT, method=12, payload=b"BZh9"))
    yield zv("lzma-method", {UNSUPPORTED}, edit(z, TEXT, method=14, payload=b"\x09\x14\x05\x00"))
    yield zv("version-needed-6.3", {UNSUPPORTED}, edit(z, TEXT, needed=63))
    yield zv("amiga-host", {UNSUPPORTED}, edit(z, TEXT, host=1))
    yield zv("unknown-extra-field", {UNSUPPORTED}, edit(z, TEXT, central_extra=extra(0x4242, b"xy")))
    yield zv("pkware-unix-extra", {UNSUPPORTED}, edit(z, TEXT, local_extra=extra(0x000D, bytes(12) + b"/etc/passwd")))
    yield zv("strong-encryption-extra", {UNSUPPORTED}, edit(z, TEXT, central_extra=extra(0x0017, bytes(8))))
    yield zv("extra-field-twice", {MISMATCH}, edit(z, TEXT, central_extra=extra(0x5455, b"\x01\0\0\0\0") * 2))
    yield zv("second-disk", {UNSUPPORTED}, z, end={"disk": 1, "cd_disk": 1})
    yield zv("entry-count-short", {STRAY}, z, end={"on_disk": len(z) - 1, "count": len(z) - 1})
    # zip: unsafe entries
    yield zv("symlink", {UNSAFE}, add(z, ZEntry(f"{t}/data/files/link".encode(), b"/etc/passwd", mode=0o120777)))
    yield zv("device", {UNSAFE}, add(z, ZEntry(f"{t}/data/files/null".encode(), b"", mode=0o20644)))
    yield zv("fifo", {UNSAFE}, add(z, ZEntry(f"{t}/data/files/pipe".encode(), b"", mode=0o10644)))
    yield zv("traversal", {UNSAFE}, add(z, ZEntry(b"../evil.txt", b"x")))
    yield zv("duplicate-name", {UNSAFE}, add(z, ZEntry(f"{t}/{TEXT}".encode(), forged)))
    yield zv("case-collision", {UNSAFE}, add(z, ZEntry(f"{t}/{TEXT.upper()}".encode(), forged)))
    nfd = unicodedata.normalize("NFD", "caf\u00e9")
    yield zv("nfc-nfd-collision", {UNSAFE}, add(z, ZEntry(f"{t}/data/files/caf\u00e9".encode(), b"1", flags=0x800),
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
    yield tv("gnu-long-name", TRUSTED, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=len(n) + 1, kind=b"L", magic=GNU) + pad(n.encode() + b"\0"),
        tar_header(n.encode()[:100], size=len(d or b""), magic=GNU) + pad(d or b"")]))))
    yield tv("ustar-prefix", TRUSTED, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(n.rsplit("/", 1)[1].encode(), prefix=n.rsplit("/", 1)[0].encode(), size=len(d or b""))
        + pad(d or b"")]))))
    yield tv("pax-path-and-times", TRUSTED, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"path", n.encode()), (b"mtime", b"1767603600.5"), (b"uname", b"archivist")]),
        tar_header(b"placeholder", size=len(d or b"")) + pad(d or b"")]))))
    yield tv("pax-size-equal", TRUSTED, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"size", str(len(d or b"")).encode())]), member(n, d)]))))
    # tar: two names for one member
    yield tv("gnu-long-name-and-pax-path", {AMBIGUOUS}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=len(n) + 1, kind=b"L") + pad(n.encode() + b"\0"),
        pax_member([(b"path", n.encode()[:-4] + b".evil")]), member(n, d)]))))
    yield tv("two-pax-headers", {AMBIGUOUS}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"path", n.encode())]), pax_member([(b"path", n.encode() + b".x")]), member(n, d)]))))
    yield tv("two-gnu-long-names", {AMBIGUOUS}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=len(n) + 3, kind=b"L") + pad(n.encode() + b".x\0"),
        tar_header(b"././@LongLink", size=len(n) + 1, kind=b"L") + pad(n.encode() + b"\0"), member(n, d)]))))
    yield tv("gnu-long-link-on-file", {AMBIGUOUS}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(b"././@LongLink", size=5, kind=b"K") + pad(b"/etc\0"), member(n, d)]))))
    yield tv("pax-empty-path", {AMBIGUOUS, UNSAFE}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"path", b"")]), member(n, d)]))))
    yield tv("pax-hdrcharset-binary", {AMBIGUOUS}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"hdrcharset", b"BINARY")]), member(n, d)]))))
    yield tv("name-bytes-after-nul", {AMBIGUOUS}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(n.encode() + b"\0.evil", size=len(d or b"")) + pad(d or b"")]))))
    latin1 = f"{t}/data/files/caf\xe9".encode("latin-1")
    yield tv("name-not-utf8", {AMBIGUOUS}, build_tar([*plain, tar_header(latin1, size=1) + pad(b"x")]))
    # tar: two values for one field
    yield tv("pax-size-disagrees", {MISMATCH}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"size", b"0")]), member(n, d)]))))
    yield tv("pax-key-twice", {MISMATCH}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"path", n.encode()), (b"path", n.encode() + b".x")]), member(n, d)]))))
    yield tv("pax-linkpath-on-file", {MISMATCH}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"linkpath", b"/etc/passwd")]), member(n, d)]))))
    yield tv("linkname-on-file", {MISMATCH}, build_tar(members(base, at(TEXT, lambda n, d: [
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
    yield tv("pax-unknown-key", {UNSUPPORTED}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"SCHILY.xattr.user.x", b"1")]), member(n, d)]))))
    yield tv("pax-sparse-1.0", {UNSUPPORTED}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"GNU.sparse.major", b"1"), (b"GNU.sparse.minor", b"0"), (b"GNU.sparse.name", n.encode()),
                    (b"GNU.sparse.realsize", b"999999")]), member(n, d)]))))
    yield tv("pax-sparse-0.1", {UNSUPPORTED}, build_tar(members(base, at(TEXT, lambda n, d: [
        pax_member([(b"GNU.sparse.numblocks", b"1"), (b"GNU.sparse.map", b"0,1")]), member(n, d)]))))
    for kind, what in ((b"S", "gnu-sparse"), (b"7", "contiguous"), (b"V", "volume-label"), (b"M", "multi-volume"),
                       (b"D", "dump-directory"), (b"X", "solaris-extended"), (b"Z", "unknown-type")):
        blocks = [tar_header(f"{t}/data/files/{what}".encode(), kind=kind, magic=GNU if kind in b"SVMD" else POSIX)]
        yield tv(what, {UNSUPPORTED}, build_tar([*plain, *blocks]))
    yield tv("gnu-atime-fields", {UNSUPPORTED}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(n.encode(), size=len(d or b""), magic=GNU, patch={345: b"15303221267\0"}) + pad(d or b"")]))))
    yield tv("star-fields", {UNSUPPORTED}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(n.encode(), size=len(d or b""), patch={508: b"tar\0"}) + pad(d or b"")]))))
    # tar: framing that cannot be trusted
    yield tv("v7-header", {MALFORMED}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(n.encode(), size=len(d or b""), magic=bytes(8)) + pad(d or b"")]))))
    yield tv("signed-checksum", {MALFORMED}, build_tar([*plain, tar_header(f"{t}/data/files/\xe9".encode(),
                                                                           checksum="signed")]))
    yield tv("base-256-size", {MALFORMED}, build_tar(members(base, at(TEXT, lambda n, d: [
        tar_header(n.encode(), patch={124: b"\x80" + bytes(7) + struct.pack(">L", len(d or b""))}) + pad(d or b"")]))))
    yield tv("mtime-not-octal", {MALFORMED}, build_tar(members(base, at(TEXT, lambda n, d: [
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

