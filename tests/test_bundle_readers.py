"""The safe readers: one path predicate, and hostile zip / tar archives built here, refused before harm.

Every archive below is made in the test (no binary fixtures). Each must be refused with the right code
and write nothing (a refused archive is never extracted, and verification writes nothing at all); a
compression bomb is stopped at ``--max-size`` quickly, with bounded memory. The constructs that two
extractors read differently have their own table in ``test_one_reading.py``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from provenance.bundle.readers import (
    BundleRejectedError,
    Limits,
    UnsafePathError,
    extract,
    parse_size,
    read_archive,
    safe_entry_path,
    scan_tree,
)
from tests.bundle_helpers import ZIP_TIME, targz_bomb, zip_bomb

# --------------------------------------------------------------------------------------------------------
# The one predicate


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a", "a"), ("./a", "a"), ("a/b/", "a/b"), ("data/files/x y.txt", "data/files/x y.txt"),
     ("données/é.txt", "données/é.txt"), ("a..b", "a..b")],
)
def test_safe_names(name: str, expected: str) -> None:
    assert safe_entry_path(name) == expected


@pytest.mark.parametrize(
    "name",
    ["", "/etc/passwd", "//server/share", "C:/Windows", "c:evil", "../x", "a/../../b", "a/..", "..", "a//b",
     "a/./b", ".", "./", "a\\b", "..\\x", "a\x00b", "a\nb", "a\rb", "a\x7fb", "x" * 256, "a/" * 2100,
     "bad\udcffname"],
    ids=lambda n: repr(n)[:30],
)
def test_unsafe_names(name: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_entry_path(name)


# --------------------------------------------------------------------------------------------------------
# Helpers


def _zip(path: Path, entries: list[tuple[str, bytes, int | None]]) -> Path:
    import warnings

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            if mode is not None:
                info.create_system = 3
                info.external_attr = mode << 16
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                archive.writestr(info, data)
    return path


def _tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", linkname: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = linkname
    return info, data


def _codes(exc: pytest.ExceptionInfo[BundleRejectedError]) -> set[str]:
    return {str(f.code) for f in exc.value.findings}


def _rejected(path: Path, tmp_path: Path, limits: Limits | None = None) -> set[str]:
    dest = tmp_path / "dest"
    dest.mkdir(exist_ok=True)
    with pytest.raises(BundleRejectedError) as caught:
        read_archive(path, limits or Limits())
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil-provenance-test.txt").exists()
    return _codes(caught)


GOOD = [("bag/bagit.txt", b"BagIt-Version: 1.0\n", None), ("bag/data/a.txt", b"a\n", None)]


def test_good_zip_and_tar_are_read_without_writing(tmp_path: Path) -> None:
    z = _zip(tmp_path / "good.zip", GOOD)
    t = _tar(tmp_path / "good.tar.gz", [_member("bag/bagit.txt", data=b"BagIt-Version: 1.0\n"),
                                        _member("bag/data/a.txt", data=b"a\n")])
    plain = _tar(tmp_path / "good.tar", [_member("bag/data/a.txt", data=b"a\n")], mode="w")
    before = sorted(tmp_path.iterdir())
    for path in (z, t, plain):
        tree = read_archive(path)
        member = tree.files["bag/data/a.txt"]
        assert (member.size, member.data) == (2, b"a\n")
        assert member.digests["sha256"] == "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"
        dest = tmp_path / f"out-{path.name}"
        dest.mkdir()
        extract(path, dest)
        assert (dest / "bag" / "data" / "a.txt").read_bytes() == b"a\n"
    assert sorted(tmp_path.iterdir()) == sorted([*before, *(tmp_path / f"out-{p.name}" for p in (z, t, plain))])


@pytest.mark.parametrize(("text", "size"), [("4G", 4 << 30), ("512M", 512 << 20), ("1.5GiB", 3 << 29),
                                            ("100k", 102400), ("123456", 123456), (" 2 TB ", 2 << 40)])
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "4X", "-1", "0", "1.5.2G", "iB", "4 G B"])
def test_not_sizes(text: str) -> None:
    with pytest.raises(ValueError, match=r"size|range"):
        parse_size(text)


# --------------------------------------------------------------------------------------------------------
# zip


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        ([("bag/../../evil.txt", b"x", None)], "bundle.unsafe-entry"),
        ([("/tmp/evil-provenance-test.txt", b"x", None)], "bundle.unsafe-entry"),
        ([("bag\\..\\evil.txt", b"x", None)], "bundle.unsafe-entry"),
        ([("bag/link", b"/etc/passwd", 0o120777)], "bundle.unsafe-entry"),
        ([("bag/dev", b"", 0o020644)], "bundle.unsafe-entry"),
        ([("bag/fifo", b"", 0o010644)], "bundle.unsafe-entry"),
        ([("bag/a.txt", b"1", None), ("bag/a.txt", b"2", None)], "bundle.unsafe-entry"),
        ([("bag/Read.txt", b"1", None), ("bag/READ.txt", b"2", None)], "bundle.unsafe-entry"),
        ([("bag/caf\u00e9", b"1", None), ("bag/cafe\u0301", b"2", None)], "bundle.unsafe-entry"),
        ([("bag/a", b"1", None), ("bag/a/b", b"2", None)], "bundle.unsafe-entry"),
    ],
    ids=["traversal", "absolute", "backslash", "symlink", "char-device", "fifo", "duplicate", "case-collision",
         "nfc-nfd-collision", "file-as-folder"],
)
def test_hostile_zip(tmp_path: Path, entries: list[tuple[str, bytes, int | None]], code: str) -> None:
    path = _zip(tmp_path / "hostile.zip", GOOD + entries)
    assert _rejected(path, tmp_path) == {code}
    assert list((tmp_path / "dest").rglob("*")) == []  # refused before anything is written


def test_every_unsafe_entry_is_reported(tmp_path: Path) -> None:
    path = _zip(tmp_path / "many.zip", [("../a", b"", None), ("/b", b"", None), ("c/link", b"x", 0o120777)])
    with pytest.raises(BundleRejectedError) as caught:
        extract(path, tmp_path)
    assert len(caught.value.findings) == 3


def test_zip_limits(tmp_path: Path) -> None:
    many = _zip(tmp_path / "many.zip", [(f"bag/{i}.txt", b"x", None) for i in range(20)])
    assert _rejected(many, tmp_path, Limits(max_entries=10)) == {"bundle.too-large"}
    big = _zip(tmp_path / "big.zip", [("bag/big.bin", os.urandom(4096), None)])
    assert _rejected(big, tmp_path, Limits(max_size=1000)) == {"bundle.too-large"}
    two = _zip(tmp_path / "two.zip", [("bag/1.bin", os.urandom(3000), None), ("bag/2.bin", os.urandom(3000), None)])
    assert _rejected(two, tmp_path, Limits(max_size=5000)) == {"bundle.too-large"}
    with pytest.raises(BundleRejectedError) as caught:
        read_archive(two, Limits(max_size=5000))
    (finding,) = caught.value.findings
    assert "--max-size" in finding.message and finding.fields["limit"] == "--max-size"


def test_zip_damage(tmp_path: Path) -> None:
    good = _zip(tmp_path / "good.zip", GOOD).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(good[: len(good) // 2])
    assert _rejected(cut, tmp_path) == {"bundle.malformed"}
    noise = tmp_path / "noise.zip"
    noise.write_bytes(os.urandom(2000))
    assert _rejected(noise, tmp_path) == {"bundle.malformed"}
    flipped = bytearray(good)
    flipped[good.index(b"bag/data/a.txt") + len(b"bag/data/a.txt") + 1] ^= 0xFF  # inside the compressed data
    bad = tmp_path / "crc.zip"
    bad.write_bytes(bytes(flipped))
    assert _rejected(bad, tmp_path) == {"bundle.malformed"}


def test_zip_overlapping_entries(tmp_path: Path) -> None:
    """Two central-directory entries pointing at the same data (the 'overlapping files' bomb)."""
    path = _zip(tmp_path / "one.zip", [("bag/a.txt", b"hello " * 100, None)])
    data = path.read_bytes()
    start = data.index(b"PK\x01\x02")
    end = data.index(b"PK\x05\x06")
    central = data[start:end]
    twin = central.replace(b"bag/a.txt", b"bag/b.txt")
    import struct

    eocd = bytearray(data[end:])
    struct.pack_into("<HHI", eocd, 8, 2, 2, len(central) * 2)
    path.write_bytes(data[:start] + central + twin + bytes(eocd))
    assert _rejected(path, tmp_path) == {"bundle.unsafe-entry"}


def test_zip_encrypted_entry(tmp_path: Path) -> None:
    path = _zip(tmp_path / "enc.zip", GOOD)
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    data[at + 8] |= 0x01  # the central directory's flag bits: encrypted
    path.write_bytes(bytes(data))
    assert _rejected(path, tmp_path) == {"bundle.unsupported-feature"}


# --------------------------------------------------------------------------------------------------------
# tar


@pytest.mark.parametrize(
    ("member", "code"),
    [
        (_member("bag/../../evil.txt", data=b"x"), "bundle.unsafe-entry"),
        (_member("/tmp/evil-provenance-test.txt", data=b"x"), "bundle.unsafe-entry"),
        (_member("bag/link", tarfile.SYMTYPE, linkname="/etc/passwd"), "bundle.unsafe-entry"),
        (_member("bag/hard", tarfile.LNKTYPE, linkname="bag/bagit.txt"), "bundle.unsafe-entry"),
        (_member("bag/null", tarfile.CHRTYPE), "bundle.unsafe-entry"),
        (_member("bag/disk", tarfile.BLKTYPE), "bundle.unsafe-entry"),
        (_member("bag/pipe", tarfile.FIFOTYPE), "bundle.unsafe-entry"),
        (_member("bag/bagit.txt", data=b"again"), "bundle.unsafe-entry"),
        (_member("bag/BAGIT.txt", data=b"x"), "bundle.unsafe-entry"),
    ],
    ids=["traversal", "absolute", "symlink", "hardlink", "char-device", "block-device", "fifo", "duplicate",
         "case-collision"],
)
def test_hostile_tar(tmp_path: Path, member: tuple[tarfile.TarInfo, bytes], code: str) -> None:
    members = [_member("bag/bagit.txt", data=b"BagIt-Version: 1.0\n"), member]
    for mode, suffix in (("w:gz", "tar.gz"), ("w", "tar")):
        folder = tmp_path / suffix
        folder.mkdir()
        path = _tar(folder / f"hostile.{suffix}", members, mode)
        assert _rejected(path, folder) == {code}


def test_tar_damage(tmp_path: Path) -> None:
    good = _tar(tmp_path / "good.tar.gz", [_member("bag/a.txt", data=os.urandom(20000))]).read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good[: len(good) // 2])
    assert _rejected(cut, tmp_path) == {"bundle.malformed"}
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(good + b"trailing garbage")
    assert _rejected(garbage, tmp_path) == {"bundle.stray-data"}
    not_gzip = tmp_path / "plain.tar.gz"
    not_gzip.write_bytes(b"not gzip at all")
    assert _rejected(not_gzip, tmp_path) == {"bundle.malformed"}
    empty = _tar(tmp_path / "empty.tar.gz", [])
    assert _rejected(empty, tmp_path) == {"bundle.malformed"}


def test_tar_gzip_members_are_refused(tmp_path: Path) -> None:
    """Several gzip members: gzip and zlib join them, 7-Zip and some tape tools read only the first."""
    import gzip

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        info, data = _member("bag/a.txt", data=b"a" * 5000)
        archive.addfile(info, io.BytesIO(data))
    body = raw.getvalue()
    path = tmp_path / "multi.tar.gz"
    path.write_bytes(gzip.compress(body[:3000]) + gzip.compress(body[3000:]))
    assert _rejected(path, tmp_path) == {"bundle.stray-data"}


def test_tar_header_bigger_than_allowed(tmp_path: Path) -> None:
    """A pax record of 2 MiB would be read into memory whole by tarfile: refused after the header limit."""
    info = tarfile.TarInfo("bag/a.txt")
    info.pax_headers = {"comment": "x" * (2 << 20)}
    path = _tar(tmp_path / "pax.tar", [(info, b"")], mode="w")
    assert _rejected(path, tmp_path) == {"bundle.too-large"}


def test_tar_limits(tmp_path: Path) -> None:
    many = _tar(tmp_path / "many.tar.gz", [_member(f"bag/{i}", data=b"x") for i in range(20)])
    assert _rejected(many, tmp_path, Limits(max_entries=10)) == {"bundle.too-large"}
    big = _tar(tmp_path / "big.tar.gz", [_member("bag/big", data=os.urandom(5000))])
    assert _rejected(big, tmp_path, Limits(max_size=4000)) == {"bundle.too-large"}


# --------------------------------------------------------------------------------------------------------
# Compression bombs: 1 GiB of zeros in about 1 MiB, stopped at --max-size quickly and in bounded memory;
# nothing is written anywhere


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "zip": zip_bomb(folder / "bomb.zip", 1024),
        "tar.gz": targz_bomb(folder / "bomb.tar.gz", 1024),
    }


@pytest.mark.parametrize("form", ["zip", "tar.gz"])
def test_gigabyte_bomb_is_stopped_quickly(bombs: dict[str, Path], tmp_path: Path, form: str) -> None:
    assert bombs[form].stat().st_size < 2 << 20
    started = time.monotonic()
    assert _rejected(bombs[form], tmp_path, Limits(max_size=256 << 20)) == {"bundle.too-large"}
    assert time.monotonic() - started < 10.0  # generous: a loaded CI machine; ~0.2 s here
    assert list((tmp_path / "dest").rglob("*")) == []


@pytest.mark.parametrize("form", ["zip", "tar.gz"])
def test_gigabyte_bomb_memory_and_disk_are_bounded(bombs: dict[str, Path], tmp_path: Path, form: str) -> None:
    """Peak memory of a fresh process reading the whole bomb (under a --max-size that lets it through)
    stays far below the bomb's size, and nothing is written to the temporary folder."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from provenance.bundle.readers import read_archive, Limits\n"
        "tree = read_archive(Path(sys.argv[1]), Limits(max_size=2 << 30))\n"
        "print(sum(m.size for m in tree.files.values()))\n"
        # VmHWM is this process image's peak RSS; ru_maxrss would carry the forking pytest's size across exec
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    )
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script, str(bombs[form])], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    size, peak_kib = proc.stdout.split()
    assert int(size) == 1 << 30
    assert int(peak_kib) < 200 * 1024, f"peak RSS {int(peak_kib) // 1024} MiB"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------------------
# Folders


def test_scan_tree_refuses_links_devices_and_bad_names(tmp_path: Path) -> None:
    root = tmp_path / "bag"
    (root / "data").mkdir(parents=True)
    (root / "data" / "ok.txt").write_text("ok")
    assert set(scan_tree(root).files) == {"data/ok.txt"}
    os.symlink("/etc/passwd", root / "data" / "link")
    os.mkfifo(root / "data" / "pipe")
    (root / "data" / "new\nline").write_text("x")
    with pytest.raises(BundleRejectedError) as caught:
        scan_tree(root)
    assert {f.fields["path"] for f in caught.value.findings} == {"data/link", "data/pipe", "data/new\nline"}
    assert _codes(caught) == {"bundle.unsafe-entry"}
