"""Streaming digests (provenance.verify.hashing) equal hashlib's over the whole bytes, whatever the size."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from provenance.verify import hashing
from provenance.verify.hashing import BLOCK, SMALL, hash_file, hash_files, sha256_file

SIZES = {
    "empty": 0,
    "one byte": 1,
    "small": 4096,
    "first read minus one": SMALL - 1,
    "first read": SMALL,
    "first read plus one": SMALL + 1,
    "block": BLOCK,
    "block plus first read plus one": BLOCK + SMALL + 1,
    "several blocks and a tail": 3 * BLOCK + 12345,
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, bytes]]:
    root = tmp_path_factory.mktemp("hashing")
    out = {}
    for name, size in SIZES.items():
        data = os.urandom(size)
        path = root / name.replace(" ", "-")
        path.write_bytes(data)
        out[name] = (path, data)
    return out


@pytest.mark.parametrize("name", list(SIZES))
def test_sha256_equals_hashlib(files: dict[str, tuple[Path, bytes]], name: str) -> None:
    path, data = files[name]
    assert sha256_file(path) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("name", list(SIZES))
def test_every_digest_in_one_pass(files: dict[str, tuple[Path, bytes]], name: str) -> None:
    path, data = files[name]
    size, digests = hash_file(path, ("sha256", "sha512"))
    assert size == len(data)
    assert digests == {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


def test_sha512_on_request(files: dict[str, tuple[Path, bytes]]) -> None:
    path, data = files["small"]
    assert hash_file(path, ("sha512",)) == (len(data), {"sha512": hashlib.sha512(data).hexdigest()})


@pytest.mark.parametrize("algorithms", [(), ("sha257",), ("sha256", "crc32")])
def test_unknown_algorithm_is_refused_not_dropped(files: dict[str, tuple[Path, bytes]], algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        hash_file(files["small"][0], algorithms)


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        hash_file(tmp_path / "absent")


def test_many_files_in_order_with_errors_in_place(files: dict[str, tuple[Path, bytes]], tmp_path: Path) -> None:
    names = list(SIZES)
    paths: list[Path] = [files[n][0] for n in names]
    paths.insert(2, tmp_path / "absent")
    results = hash_files(paths)
    assert isinstance(results[2], OSError)
    rest = results[:2] + results[3:]
    for name, result in zip(names, rest, strict=True):
        assert not isinstance(result, OSError)
        data = files[name][1]
        assert result == (len(data), {"sha256": hashlib.sha256(data).hexdigest()})


def test_parallel_equals_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "PARALLEL_MIN_FILES", 4)
    paths = []
    for index in range(40):
        path = tmp_path / f"page-{index:03d}.bin"
        path.write_bytes(os.urandom(index * 97))
        paths.append(path)
    paths.append(tmp_path / "absent")
    assert hashing.worth_parallel(len(paths), 0, 2)
    parallel = hash_files(paths, ("sha256", "sha512"), jobs=2)
    serial = hash_files(paths, ("sha256", "sha512"), jobs=1)
    assert parallel[:-1] == serial[:-1]
    assert isinstance(parallel[-1], OSError) and isinstance(serial[-1], OSError)


def test_small_work_stays_in_process() -> None:
    assert not hashing.worth_parallel(10, 1000, 8)
    assert not hashing.worth_parallel(1, 10 << 30, 8)
    assert not hashing.worth_parallel(10_000, 0, 1)
    assert hashing.worth_parallel(10_000, 0, 2)
    assert hashing.worth_parallel(2, 1 << 30, 2)


def test_known_bytes_decide_alone() -> None:
    """With the bytes known (a bag's declared Payload-Oxum), many small files stay in one process."""
    assert not hashing.worth_parallel(10_000, 40 << 20, 2, known_total=True)
    assert hashing.worth_parallel(10_000, 1 << 30, 2, known_total=True)
    assert hashing.worth_parallel(10_000, 0, 2)  # count alone still decides when the bytes are unknown
