"""provenance.tlog.merkle: RFC 9162 tree hashes and proofs, checked against an independent recursive
definition (section 2.1.1) for every tree up to 40 leaves; every proof verifies, and a changed proof, leaf
or root is refused (the size and root come together from a signed checkpoint). Published vectors are in tests/test_tlog_vectors.py."""

from __future__ import annotations

import hashlib

import pytest

from provenance.tlog.merkle import (
    ListSource,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [f"leaf {i}".encode() for i in range(40)]


def mth(data: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 2.1.1 writes it."""
    if not data:
        return hashlib.sha256(b"").digest()
    if len(data) == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < len(data):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(data[:k]) + mth(data[k:])).digest()


SOURCE = ListSource([leaf_hash(d) for d in LEAVES])


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", range(41))
def test_root_hash_is_mth(size: int) -> None:
    assert root_hash(SOURCE, size) == mth(LEAVES[:size])


def _flip(proof: list[bytes], at: int) -> list[bytes]:
    changed = list(proof)
    changed[at] = bytes([changed[at][0] ^ 1]) + changed[at][1:]
    return changed


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 40])
def test_every_inclusion_proof_verifies_and_no_changed_one_does(size: int) -> None:
    root = mth(LEAVES[:size])
    for index in range(size):
        leaf = leaf_hash(LEAVES[index])
        proof = inclusion_proof(SOURCE, index, size)
        assert verify_inclusion(leaf, index, size, proof, root)
        if size > 1:  # another leaf's hash at this place
            assert not verify_inclusion(leaf_hash(b"other"), index, size, proof, root)
        assert not verify_inclusion(leaf, index, size, proof[:-1], root) or not proof
        assert not verify_inclusion(leaf, index, size, proof, hashlib.sha256(root).digest())
        assert not verify_inclusion(leaf, index, size, [*proof, root], root)
        for at in range(len(proof)):
            assert not verify_inclusion(leaf, index, size, _flip(proof, at), root)


@pytest.mark.parametrize("size2", [1, 2, 3, 5, 8, 13, 21])
def test_every_consistency_proof_verifies_and_no_changed_one_does(size2: int) -> None:
    root2 = mth(LEAVES[:size2])
    for size1 in range(1, size2 + 1):
        root1 = mth(LEAVES[:size1])
        proof = consistency_proof(SOURCE, size1, size2)
        assert verify_consistency(size1, size2, root1, root2, proof)
        for at in range(len(proof)):
            assert not verify_consistency(size1, size2, root1, root2, _flip(proof, at))
        if size1 < size2:
            assert not verify_consistency(size1, size2, root2, root2, proof)
            assert not verify_consistency(size1, size2, root1, root1, proof)


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_a_leaf_outside_the_tree_has_no_proof(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        inclusion_proof(SOURCE, index, size)


def test_a_proof_from_the_empty_tree_is_empty_and_proves_nothing() -> None:
    assert consistency_proof(SOURCE, 0, 3) == []
    assert not verify_consistency(0, 3, mth([]), mth(LEAVES[:3]), [])


@pytest.mark.parametrize(("size1", "size2"), [(4, 3), (-1, 2)])
def test_no_consistency_proof_between_impossible_sizes(size1: int, size2: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(SOURCE, size1, size2)


def test_verifiers_never_raise_on_malformed_input() -> None:
    root = mth(LEAVES[:4])
    assert not verify_inclusion(b"short", 0, 4, [], root)
    assert not verify_inclusion(leaf_hash(LEAVES[0]), 0, 4, [b"x" * 31], root)
    assert not verify_consistency(0, 4, root, root, [])
    assert not verify_consistency(4, 4, root, root, [root])
    assert verify_consistency(4, 4, root, root, [])
