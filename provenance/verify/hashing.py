"""Streaming file digests: large blocks, every digest a check needs in one pass, flat memory."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

BLOCK = 1 << 20  # 1 MiB reads: large enough for SHA-NI throughput, small enough for flat memory


def hash_file(path: Path | str, algorithms: Sequence[str] = ("sha256",)) -> tuple[int, dict[str, str]]:
    """Size and hex digests of the bytes on disk, read once (bagit's one-pass habit).

    Raises ``OSError`` when the file cannot be read.
    """
    hashers = [hashlib.new(name) for name in algorithms]
    size = 0
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            count = os.readv(fd, [buffer])
            if not count:
                break
            size += count
            chunk = view[:count]
            for hasher in hashers:
                hasher.update(chunk)
    finally:
        os.close(fd)
    return size, {name: h.hexdigest() for name, h in zip(algorithms, hashers, strict=True)}


def sha256_file(path: Path | str) -> tuple[int, str]:
    """Size and SHA-256 hex of a file."""
    size, digests = hash_file(path)
    return size, digests["sha256"]
