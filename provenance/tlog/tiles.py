"""The C2SP tlog-tiles layout (v0.1.0 paths) and a log stored in it.

* Hash tiles ``tile/<L>/<N>[.p/<W>]``: level-L tile N holds up to 256 hashes; entry i is the tree hash of
  leaves ``[(256N+i)·256^L, (256N+i+1)·256^L)``. N is written in 3-digit groups, ``x`` before all but the
  last (1234067 → ``x001/x234/067``). A partial tile (W < 256 entries) is never hashed upward.
* Data tiles ``tile/entries/<N>[.p/<W>]`` hold the leaves, each behind a big-endian u16 length.

:class:`TileLog` reads and appends; it computes every new tile in memory and returns the files to write,
so the caller decides when they become visible (the archive writes them before the checkpoint, which is
the log's commit point).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from provenance.tlog import merkle

TILE_WIDTH = 256
TILE_HEIGHT = 8
MAX_LEAF_BYTES = 0xFFFF


def encode_index(n: int) -> str:
    """``1234067`` → ``x001/x234/067``; ``5`` → ``005``."""
    if n < 0:
        raise ValueError("a tile index is not negative")
    groups = []
    while True:
        groups.append(f"{n % 1000:03d}")
        n //= 1000
        if n == 0:
            break
    groups.reverse()
    return "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>`` for a full tile, ``tile/<L>/<N>.p/<W>`` for a partial one (``L`` = ``entries`` for
    data tiles)."""
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError("a tile holds 1 to 256 entries")
    path = f"tile/{level}/{encode_index(index)}"
    return path if width == TILE_WIDTH else f"{path}.p/{width}"


def encode_entries(leaves: list[bytes]) -> bytes:
    out = bytearray()
    for leaf in leaves:
        if len(leaf) > MAX_LEAF_BYTES:
            raise ValueError("a leaf is at most 65535 bytes")
        out += struct.pack(">H", len(leaf)) + leaf
    return bytes(out)


def decode_entries(data: bytes, count: int) -> list[bytes]:
    """The leaves of a data tile; raises ``ValueError`` when it does not hold exactly ``count``."""
    leaves: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ValueError("truncated data tile")
        (length,) = struct.unpack_from(">H", data, pos)
        pos += 2
        if pos + length > len(data):
            raise ValueError("truncated data tile")
        leaves.append(data[pos : pos + length])
        pos += length
    if len(leaves) != count:
        raise ValueError(f"the data tile holds {len(leaves)} entries, not {count}")
    return leaves


def tile_root(hashes: list[bytes]) -> bytes:
    """The hash of a full tile's 256 entries, its entry in the tile above."""
    level = hashes
    while len(level) > 1:
        level = [merkle.node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


Reader = Callable[[str], bytes]  # path relative to the log folder → bytes; raises OSError when missing


@dataclass
class TileLog:
    """A tree of ``size`` leaves stored as tiles, read through ``read`` (a :class:`merkle.HashSource`)."""

    size: int
    read: Reader

    def __post_init__(self) -> None:
        self._cache: dict[tuple[int, int], list[bytes]] = {}

    def _width(self, level: int, index: int) -> int:
        count = self.size >> (TILE_HEIGHT * level)
        return min(TILE_WIDTH, count - index * TILE_WIDTH)

    def tile(self, level: int, index: int) -> list[bytes]:
        """The hashes of level-``level`` tile ``index`` as of ``size``; ``ValueError`` if damaged."""
        key = (level, index)
        if key not in self._cache:
            width = self._width(level, index)
            if width <= 0:
                raise ValueError(f"tile {level}/{index} is beyond the tree")
            data = self.read(tile_path(level, index, width))
            if len(data) != width * merkle.HASH_SIZE:
                raise ValueError(f"tile {tile_path(level, index, width)} holds {len(data)} bytes")
            self._cache[key] = [data[i : i + 32] for i in range(0, len(data), 32)]
        return self._cache[key]

    def subtree_hash(self, level: int, index: int) -> bytes:
        tile_level, rest = divmod(level, TILE_HEIGHT)
        first = index << rest
        hashes = self.tile(tile_level, first // TILE_WIDTH)
        start = first % TILE_WIDTH
        part = hashes[start : start + (1 << rest)]
        if len(part) != 1 << rest:
            raise ValueError("subtree beyond the tree")
        while len(part) > 1:
            part = [merkle.node_hash(part[i], part[i + 1]) for i in range(0, len(part), 2)]
        return part[0]

    def root(self) -> bytes:
        return merkle.root_hash(self, self.size)

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Leaf data of leaves ``[start, end)`` from the data tiles; ``ValueError`` if damaged."""
        out: list[bytes] = []
        for n in range(start // TILE_WIDTH, (end + TILE_WIDTH - 1) // TILE_WIDTH):
            width = self._width(0, n)
            data = decode_entries(self.read(tile_path("entries", n, width)), width)
            lo = max(start - n * TILE_WIDTH, 0)
            out.extend(data[lo : min(end - n * TILE_WIDTH, width)])
        return out

    def append(self, leaves: list[bytes]) -> dict[str, bytes]:
        """The tile files (path → bytes) of the tree with ``leaves`` appended; ``size`` is not changed.

        Every tile touched is written whole at its new width; partial tiles of smaller widths stay (a
        reader of an older checkpoint may still want them).
        """
        files: dict[str, bytes] = {}
        old = self.size
        if not leaves:
            return files
        # data tiles
        first = old // TILE_WIDTH
        have = old % TILE_WIDTH
        existing = self.leaves(first * TILE_WIDTH, old) if have else []
        pending = existing + list(leaves)
        for offset in range(0, len(pending), TILE_WIDTH):
            chunk = pending[offset : offset + TILE_WIDTH]
            files[tile_path("entries", first + offset // TILE_WIDTH, len(chunk))] = encode_entries(chunk)
        # hash tiles, level by level
        new_entries = [merkle.leaf_hash(leaf) for leaf in leaves]
        level = 0
        while new_entries:
            count = old >> (TILE_HEIGHT * level)
            first, have = divmod(count, TILE_WIDTH)
            hashes = (self.tile(level, first) if have else []) + new_entries
            up: list[bytes] = []
            for offset in range(0, len(hashes), TILE_WIDTH):
                chunk = hashes[offset : offset + TILE_WIDTH]
                files[tile_path(level, first + offset // TILE_WIDTH, len(chunk))] = b"".join(chunk)
                if len(chunk) == TILE_WIDTH:
                    up.append(tile_root(chunk))
            new_entries = up
            level += 1
        return files


def memory_reader(files: dict[str, bytes], fallback: Reader | None = None) -> Reader:
    """A reader over ``files`` (then ``fallback``): to read a tree before its new tiles are written."""

    def read(path: str) -> bytes:
        if path in files:
            return files[path]
        if fallback is None:
            raise FileNotFoundError(path)
        return fallback(path)

    return read
