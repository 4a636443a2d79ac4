"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs: pure functions over bytes.

* ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)`` (§2.1.1);
  the empty tree's hash is ``SHA-256("")``.
* Proofs are generated from a :class:`HashSource`, anything that gives the hash of a complete (perfect,
  aligned) subtree; :func:`range_hash` builds every other hash a proof needs from those (§2.1.1 splits a
  range at the largest power of two below its size, so every piece is complete or ends at the tree's end).
* Verification follows §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) step by step. Every hash must be
  32 bytes: a proof or root of another length is refused, never padded or truncated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_PROOF_HASHES = 64  # a tree of at most 2^64 leaves has paths of at most 64 hashes


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of one leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class HashSource(Protocol):
    """Gives the hash of the complete subtree of height ``level`` at position ``index``: the tree hash of
    leaves ``[index·2^level, (index+1)·2^level)``."""

    def subtree_hash(self, level: int, index: int) -> bytes: ...


class ListSource:
    """A :class:`HashSource` over leaf hashes held in memory (tests, small trees, backfills)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._levels: list[list[bytes]] = [list(leaf_hashes)]

    def subtree_hash(self, level: int, index: int) -> bytes:
        while len(self._levels) <= level:
            below = self._levels[-1]
            self._levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        return self._levels[level][index]


def range_hash(source: HashSource, lo: int, hi: int) -> bytes:
    """The tree hash (MTH, §2.1.1) of leaves ``[lo, hi)``, where ``lo`` is a multiple of a power of two at
    least ``hi - lo`` (true of every range a proof or a root asks for)."""
    n = hi - lo
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and lo % n == 0:
        level = n.bit_length() - 1
        return source.subtree_hash(level, lo >> level)
    k = _split(n)
    return node_hash(range_hash(source, lo, lo + k), range_hash(source, lo + k, hi))


def root_hash(source: HashSource, size: int) -> bytes:
    """The root of the tree of the first ``size`` leaves."""
    return range_hash(source, 0, size)


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[size]); raises ``ValueError`` unless 0 ≤ index < size."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    proof: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            proof.append(range_hash(source, lo + k, hi))
            hi = lo + k
        else:
            proof.append(range_hash(source, lo, lo + k))
            lo, m = lo + k, m - k
    proof.reverse()  # §2.1.3.1 lists the path from the leaf up
    return proof


def consistency_proof(source: HashSource, size1: int, size2: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(size1, D[size2]); empty for equal sizes or ``size1`` = 0.

    Raises ``ValueError`` when ``size1`` > ``size2`` or a size is negative.
    """
    if not 0 <= size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == 0 or size1 == size2:
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, size2, size1, True
    while m != hi - lo:
        n = hi - lo
        k = _split(n)
        if m <= k:
            proof.append(range_hash(source, lo + k, hi))
            hi = lo + k
        else:
            proof.append(range_hash(source, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(range_hash(source, lo, hi))
    proof.reverse()
    return proof


def _all_hashes(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: whether ``proof`` shows leaf hash ``leaf`` at ``index`` of the tree ``root``
    of ``size`` leaves. Never raises."""
    if not (0 <= index < size) or len(proof) > MAX_PROOF_HASHES or not _all_hashes(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: whether ``proof`` shows the tree (size1, root1) is a prefix of (size2, root2).

    Equal sizes need an empty proof and equal roots. ``size1`` = 0 is refused, as transparency-dev/merkle
    does (an empty tree is a prefix of every tree: a proof from it proves nothing; callers that accept
    ``old 0``, the witness, handle it before calling). Never raises.
    """
    if not (0 < size1 <= size2) or len(proof) > MAX_PROOF_HASHES or not _all_hashes(root1, root2, *proof):
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0
