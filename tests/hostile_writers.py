"""Zip and tar writers with every field in reach, written from the specifications (PKWARE APPNOTE 6.3.10;
POSIX.1-2001 pax/ustar; GNU tar's format notes; RFC 1952), independently of ``provenance.bundle``: what
``tests/hostile_archives.py`` builds its variants with."""

from __future__ import annotations

import gzip
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path


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


def compress(data: bytes, method: int) -> bytes:
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
        packed = e.payload if e.payload is not None else compress(data, method)
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


def edit(entries: list[ZEntry], rel: str, **changes: object) -> list[ZEntry]:
    return [replace(e, **changes) if e.name.decode("utf-8", "replace").endswith(rel) else e for e in entries]  # type: ignore[arg-type]


def add(entries: list[ZEntry], *more: ZEntry) -> list[ZEntry]:
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


def at(rel: str, blocks: Callable[[str, bytes | None], list[bytes]]) -> Callable[[str, bytes | None], list[bytes] | None]:
    return lambda name, data: blocks(name, data) if name.endswith(rel) else None
