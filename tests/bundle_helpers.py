"""Helpers for the bundle tests: re-bagging an edited bag, editing its manifest, packing hostile archives.

``rebag`` is written here independently of ``provenance.bundle`` (plain hashlib, RFC 8493 by hand), so that
an attacker who "fixes" the bag manifests is simulated by code that does not share our bugs.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ZIP_TIME = (2026, 1, 5, 9, 0, 0)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _digest(path: Path, alg: str) -> str:
    return hashlib.new(alg, path.read_bytes()).hexdigest()


def rebag(bag: Path, *, oxum: bool = True) -> None:
    """Recompute every payload manifest, Payload-Oxum (unless ``oxum`` is False) and every tag manifest."""
    files = _files(bag)
    payload = [f for f in files if f.startswith("data/")]
    payload_algs = [m.group(1) for f in files if (m := re.fullmatch(r"manifest-(\w+)\.txt", f))]
    for alg in payload_algs:
        lines = "".join(f"{_digest(bag / f, alg)}  {f}\n" for f in payload)
        (bag / f"manifest-{alg}.txt").write_text(lines, encoding="utf-8")
    info = bag / "bag-info.txt"
    if oxum and info.exists():
        total = sum((bag / f).stat().st_size for f in payload)
        text = re.sub(r"(?m)^Payload-Oxum: .*$", f"Payload-Oxum: {total}.{len(payload)}", info.read_text("utf-8"))
        info.write_text(text, encoding="utf-8")
    tag_algs = [m.group(1) for f in files if (m := re.fullmatch(r"tagmanifest-(\w+)\.txt", f))]
    tags = [f for f in _files(bag) if not f.startswith("data/") and not f.startswith("tagmanifest-")]
    for alg in tag_algs:
        lines = "".join(f"{_digest(bag / f, alg)}  {f}\n" for f in tags)
        (bag / f"tagmanifest-{alg}.txt").write_text(lines, encoding="utf-8")


def read_manifest(bag: Path) -> dict[str, Any]:
    return json.loads((bag / "provenance" / "manifest.json").read_text("utf-8"))  # type: ignore[no-any-return]


def write_manifest(bag: Path, doc: dict[str, Any]) -> None:
    (bag / "provenance" / "manifest.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")


def edit_manifest(bag: Path, change: Callable[[dict[str, Any]], object], *, again: bool = True) -> None:
    """Apply ``change`` to the parsed manifest, write it back, and re-bag unless ``again`` is False."""
    doc = read_manifest(bag)
    change(doc)
    write_manifest(bag, doc)
    if again:
        rebag(bag)


def edit_text(path: Path, change: Callable[[str], str]) -> None:
    path.write_text(change(path.read_text("utf-8")), encoding="utf-8", newline="")


# --------------------------------------------------------------------------------------------------------
# Packing


@dataclass
class ZipExtra:
    """One more zip entry: a name, its bytes, and optionally unix mode bits (e.g. a symlink)."""

    name: str
    data: bytes = b""
    mode: int | None = None


def zip_folder(folder: Path, out: Path, base: str, extra: Iterable[ZipExtra] = ()) -> Path:
    """Zip ``folder`` under the top-level folder ``base``, then add ``extra`` entries as given."""
    import warnings

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel in _files(folder):
            archive.write(folder / rel, f"{base}/{rel}")
        for item in extra:
            info = zipfile.ZipInfo(item.name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if item.mode is not None:
                info.create_system = 3
                info.external_attr = item.mode << 16
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # zipfile warns about duplicate names: that is the point
                archive.writestr(info, item.data)
    return out


def tar_folder(
    folder: Path, out: Path, base: str, extra: Iterable[tarfile.TarInfo] = (), *, gz: bool = True
) -> Path:
    """Tar (and gzip) ``folder`` under ``base``, then add ``extra`` members (links, devices …) without data."""
    with tarfile.open(out, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as archive:
        for rel in _files(folder):
            archive.add(folder / rel, f"{base}/{rel}")
        for member in extra:
            archive.addfile(member, io.BytesIO(b"x" * member.size) if member.isreg() else None)
    return out


def tar_member(name: str, kind: bytes, *, linkname: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = size
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    return info


def copy_bag(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


# --------------------------------------------------------------------------------------------------------
# Compression bombs, built without compressing a gigabyte


def zero_deflate(size_mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size_mib`` MiB of zeros and its CRC-32, built in milliseconds.

    One MiB of zeros is compressed once and ended with a full flush (a byte-aligned block boundary with no
    back-references across it), so the same bytes can be repeated; a final empty block ends the stream.
    """
    mib = b"\0" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size_mib):
        crc = zlib.crc32(mib, crc)
    return chunk * size_mib + b"\x03\x00", crc


def _dos_time(moment: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = moment
    return hour << 11 | minute << 5 | second // 2, (year - 1980) << 9 | month << 5 | day


def zip_bomb(out: Path, size_mib: int, name: str = "bomb/data/zeros.bin") -> Path:
    """A well-formed zip holding one entry of ``size_mib`` MiB (< 4 GiB) of zeros, about 1 KiB per MiB."""
    assert size_mib < 4096
    deflated, crc = zero_deflate(size_mib)
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.CRC = crc
    info.compress_size = len(deflated)
    info.file_size = size_mib << 20
    dos_time, dos_date = _dos_time(ZIP_TIME)
    name_bytes = name.encode()
    central = struct.pack(
        "<4s4B4HL2L5H2L",
        b"PK\x01\x02", 20, 3, 20, 0, 0, zipfile.ZIP_DEFLATED, dos_time, dos_date, crc,
        len(deflated), info.file_size, len(name_bytes), 0, 0, 0, 0, 0o100644 << 16, 0,
    )  # fmt: skip
    local = info.FileHeader(zip64=False)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name_bytes),
                      len(local) + len(deflated), 0)  # fmt: skip
    out.write_bytes(local + deflated + central + name_bytes + end)
    return out


def targz_bomb(out: Path, size_mib: int, name: str = "bomb/data/zeros.bin") -> Path:
    """A well-formed .tar.gz (RFC 1952) whose one member is ``size_mib`` MiB of zeros, a few KiB in all."""
    member = tarfile.TarInfo(name)
    member.size = size_mib << 20
    header = member.tobuf(format=tarfile.PAX_FORMAT)
    end = b"\0" * 1024  # the member fills whole blocks; then the two zero blocks that end a tar
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = first.compress(header) + first.flush(zlib.Z_FULL_FLUSH)
    zeros, _ = zero_deflate(size_mib)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    tail = last.compress(end) + last.flush()
    crc = zlib.crc32(header)
    mib = b"\0" * (1 << 20)
    for _ in range(size_mib):
        crc = zlib.crc32(mib, crc)
    crc = zlib.crc32(end, crc)
    total = len(header) + member.size + len(end)
    body = head + zeros[:-2] + tail  # the zeros without their final empty block
    out.write_bytes(b"\x1f\x8b\x08\x00\0\0\0\0\x02\xff" + body + struct.pack("<LL", crc, total & 0xFFFFFFFF))
    return out
