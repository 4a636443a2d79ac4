"""The transparency log's pure functions against published vectors and known answers.

Vectors (copied into tests/data/vectors, see tests/data/SOURCES.md):
* ``merkle/``: transparency-dev/merkle ``testdata/`` (Apache-2.0), every inclusion and consistency case;
* ``signed-note/note-vectors.json``: golang/mod ``sumdb/note/note_test.go`` (BSD-3-Clause).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.signing import SigningKey
from provenance.tlog import checkpoint as cp
from provenance.tlog import merkle, note, tiles

VECTORS = Path(__file__).parent / "data" / "vectors"


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _cases(kind: str) -> list[tuple[str, dict[str, object]]]:
    root = VECTORS / "merkle" / kind
    return [(str(p.relative_to(root)), json.loads(p.read_text())) for p in sorted(root.rglob("*.json"))]


@pytest.mark.parametrize(("name", "case"), _cases("inclusion"), ids=lambda v: v if isinstance(v, str) else "")
def test_inclusion_vectors(name: str, case: dict[str, object]) -> None:
    proof = [_b64(h) for h in (case["proof"] or [])]  # type: ignore[union-attr]
    ok = merkle.verify_inclusion(
        _b64(case["leafHash"]),  # type: ignore[arg-type]
        case["leafIdx"],  # type: ignore[arg-type]
        case["treeSize"],  # type: ignore[arg-type]
        proof,
        _b64(case["root"]),  # type: ignore[arg-type]
    )
    assert ok is not case["wantErr"], case["desc"]


@pytest.mark.parametrize(("name", "case"), _cases("consistency"), ids=lambda v: v if isinstance(v, str) else "")
def test_consistency_vectors(name: str, case: dict[str, object]) -> None:
    root1, root2 = _b64(case["root1"]), _b64(case["root2"])  # type: ignore[arg-type]
    if not case["wantErr"] and len(root1) != 32:
        pytest.skip("12-byte fake roots: this verifier insists on 32-byte hashes (pitfall 10)")
    proof = [_b64(h) for h in (case["proof"] or [])]  # type: ignore[union-attr]
    ok = merkle.verify_consistency(case["size1"], case["size2"], root1, root2, proof)  # type: ignore[arg-type]
    assert ok is not case["wantErr"], case["desc"]


def test_known_answers() -> None:
    # transparency-dev/merkle rfc6962/rfc6962_test.go
    assert merkle.EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.leaf_hash(b"").hex().startswith("6e340b9c") and merkle.leaf_hash(b"").hex().endswith("a01d")
    assert merkle.leaf_hash(b"L123456").hex().startswith("395aa064")
    assert merkle.node_hash(b"N123", b"N456").hex().startswith("aa217fe8")


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_generated_proofs_verify(size: int, data: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(str(i).encode()) for i in range(size)]
    src = merkle.ListSource(leaves)
    root = merkle.root_hash(src, size)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = merkle.inclusion_proof(src, index, size)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    # (a proof does not fix the size: it may verify for size + 1 too; size comes from the checkpoint)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"other"), index, size, proof, root)
    size1 = data.draw(st.integers(min_value=1, max_value=size))
    root1 = merkle.root_hash(src, size1)
    cproof = merkle.consistency_proof(src, size1, size)
    assert merkle.verify_consistency(size1, size, root1, root, cproof)
    if size1 < size:
        assert not merkle.verify_consistency(size1, size, root, root1, cproof)


def test_proof_bounds() -> None:
    src = merkle.ListSource([merkle.leaf_hash(b"x")])
    with pytest.raises(ValueError):
        merkle.inclusion_proof(src, 1, 1)
    with pytest.raises(ValueError):
        merkle.consistency_proof(src, 2, 1)
    assert merkle.consistency_proof(src, 0, 1) == []
    assert merkle.root_hash(src, 0) == merkle.EMPTY_ROOT
    assert not merkle.verify_consistency(0, 1, merkle.EMPTY_ROOT, merkle.leaf_hash(b"x"), [])


# ---- tiles -------------------------------------------------------------------------------------------


def test_tile_paths() -> None:
    assert tiles.encode_index(1234067) == "x001/x234/067"
    assert tiles.encode_index(5) == "005"
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.tile_path(1, 3, 17) == "tile/1/003.p/17"
    assert tiles.tile_path("entries", 0, 1) == "tile/entries/000.p/1"
    with pytest.raises(ValueError):
        tiles.tile_path(0, 0, 0)
    with pytest.raises(ValueError):
        tiles.encode_index(-1)


@pytest.mark.parametrize("steps", [[1], [255, 1], [256], [300, 70000 - 300], [1, 1, 254, 1, 65535, 2]])
def test_tile_log_matches_list(steps: list[int]) -> None:
    files: dict[str, bytes] = {}
    size = 0
    all_leaves: list[bytes] = []
    for step in steps:
        batch = [f"leaf {size + i}\n".encode() for i in range(step)]
        log = tiles.TileLog(size, tiles.memory_reader(files))
        files.update(log.append(batch))
        size += step
        all_leaves += batch
    log = tiles.TileLog(size, tiles.memory_reader(files))
    src = merkle.ListSource([merkle.leaf_hash(x) for x in all_leaves])
    assert log.root() == merkle.root_hash(src, size)
    assert log.leaves(max(size - 3, 0), size) == all_leaves[-3:]
    for index in {0, size // 2, size - 1}:
        assert merkle.inclusion_proof(log, index, size) == merkle.inclusion_proof(src, index, size)
    if size > 256:
        assert "tile/1/000" not in files or len(files["tile/1/000"]) == 256 * 32
        assert f"tile/0/{tiles.encode_index(0)}" in files
    assert merkle.consistency_proof(log, 1, size) == merkle.consistency_proof(src, 1, size)


def test_tile_damage() -> None:
    files = tiles.TileLog(0, tiles.memory_reader({})).append([b"a", b"b"])
    files["tile/0/000.p/2"] = b"short"
    with pytest.raises(ValueError):
        tiles.TileLog(2, tiles.memory_reader(files)).root()
    with pytest.raises(ValueError):
        tiles.decode_entries(b"\x00\x05ab", 1)
    with pytest.raises(ValueError):
        tiles.decode_entries(b"\x00", 1)
    with pytest.raises(ValueError):
        tiles.decode_entries(b"\x00\x01a", 2)
    with pytest.raises(ValueError):
        tiles.encode_entries([b"x" * 70000])
    with pytest.raises(FileNotFoundError):
        tiles.memory_reader({})("x")


# ---- signed notes ------------------------------------------------------------------------------------

NOTES = json.loads((VECTORS / "signed-note" / "note-vectors.json").read_text())


def _verifier(name: str) -> note.Verifier:
    return note.parse_verifier_key(NOTES["keys"][name]["verifier_key"])


def test_verifier_keys_round_trip() -> None:
    for entry in NOTES["keys"].values():
        assert note.parse_verifier_key(entry["verifier_key"]).encode() == entry["verifier_key"]


@pytest.mark.parametrize("bad", NOTES["bad_verifier_keys"] + ["nohash", "A+zzzzzzzz+AAAA", "a b+00000000+AA=="])
def test_bad_verifier_keys(bad: str) -> None:
    with pytest.raises(note.NoteError):
        note.parse_verifier_key(bad)


def test_signer_key_reproduces_signature() -> None:
    name, key = note.parse_signer_key(NOTES["keys"]["PeterNeumann"]["signer_key"])
    valid = NOTES["valid"][0]
    parsed = note.parse(valid["note"])
    assert note.Note(parsed.text, (note.sign(parsed.text, name, key),)).encode() == valid["note"]
    assert note.verifier_for(name, key.public_bytes()).encode() == NOTES["keys"]["PeterNeumann"]["verifier_key"]
    for bad in ("PRIVATE+KEY+x", "PRIVATE+KEY+PeterNeumann+00000000+" + NOTES["keys"]["PeterNeumann"]["signer_key"].split("+")[-1]):
        with pytest.raises(note.NoteError):
            note.parse_signer_key(bad)


@pytest.mark.parametrize("case", NOTES["valid"], ids=lambda c: c["desc"][:30])
def test_valid_notes(case: dict[str, object]) -> None:
    parsed = note.parse(str(case["note"]).encode())
    assert [v.name for v in note.verify(parsed, [_verifier("PeterNeumann")])] == ["PeterNeumann"]
    both = note.verify(parsed, [_verifier("PeterNeumann"), _verifier("EnochRoot")])
    assert sorted(v.name for v in both) == sorted(case["verified_by"])  # type: ignore[arg-type]
    with pytest.raises(note.NoteError):  # nobody known
        note.verify(parsed, [note.Verifier("PeterNeumann", 1, b"\x00" * 32)])


@pytest.mark.parametrize("case", NOTES["malformed"], ids=lambda c: c["desc"][:30])
def test_malformed_notes(case: dict[str, str]) -> None:
    with pytest.raises(note.NoteError):
        note.parse(case["note"].encode())


def test_altered_signature() -> None:
    case = NOTES["invalid_signature"][0]
    with pytest.raises(note.NoteError):
        note.verify(note.parse(case["note"]), [_verifier(case["key"])])


def test_note_input_checks() -> None:
    with pytest.raises(note.NoteError):
        note.parse(b"\xff\n\n")
    with pytest.raises(note.NoteError):
        note.parse(b"x" * (note.MAX_NOTE_BYTES + 1))
    with pytest.raises(note.NoteError):
        note.parse("a\n\nnot a signature\n")
    with pytest.raises(note.NoteError):
        note.parse("a\n\n\u2014 k AAAA\n")  # too short
    for text in ("AAA", "AA==x", "AB==", "A-_="):
        with pytest.raises(note.NoteError):
            note.b64decode_strict(text)
    with pytest.raises(note.NoteError):
        note.sign("no newline", "k", SigningKey.generate())


def test_cosignature_round_trip() -> None:
    key = SigningKey.generate()
    body = "example.org/log\n3\n" + base64.b64encode(b"\x01" * 32).decode() + "\n"
    sig = note.cosign(body, "witness.example", key, 1_700_000_000)
    line = sig.line()
    assert len(line.split(" ")[-1].strip()) == 104 and line.strip().endswith("==")
    assert note.cosignature_time(sig) == 1_700_000_000
    verifier = note.verifier_for("witness.example", key.public_bytes(), note.TYPE_COSIGNATURE)
    assert verifier.encode().split("+")[2].startswith("B")
    log_key = SigningKey.generate()
    signed = note.Note(body, (note.sign(body, "example.org/log", log_key), sig))
    assert note.verify(note.parse(signed.encode()), [verifier]) == [verifier]
    wrong_time = note.Signature(sig.name, sig.hash, (1).to_bytes(8, "big") + sig.raw[8:])
    with pytest.raises(note.NoteError):
        note.verify(note.Note(body, (wrong_time,)), [verifier])
    with pytest.raises(note.NoteError):
        note.verify(note.Note(body, (note.Signature(sig.name, sig.hash, sig.raw[:40]),)), [verifier])
    with pytest.raises(note.NoteError):
        note.cosign(body, "w", key, -1)
    assert note.cosignature_time(note.Signature("x", b"1234", b"")) is None
    # the key hash is over type 0x04
    assert sig.hash == hashlib.sha256(b"witness.example\n\x04" + key.public_bytes()).digest()[:4]


# ---- checkpoints, proofs, leaves ---------------------------------------------------------------------


def test_checkpoint_body() -> None:
    c = cp.Checkpoint("example.org/log", 7, b"\x02" * 32)
    assert cp.parse_body(c.body()) == c
    empty = cp.Checkpoint("o", 0, merkle.EMPTY_ROOT)
    assert cp.parse_body(empty.body()) == empty
    root = base64.b64encode(b"\x02" * 32).decode()
    for bad in (
        f"o\n07\n{root}\n",
        f"o\n+7\n{root}\n",
        f"o\n1_0\n{root}\n",
        f"o\n\u0663\n{root}\n",
        f"o\n7\n{root}\next\n",
        f"o b\n7\n{root}\n",
        f"\n7\n{root}\n",
        f"o\n0\n{root}\n",
        "o\n7\nAAAA\n",
        f"o\n{2**63}\n{root}\n",
    ):
        with pytest.raises(note.NoteError):
            cp.parse_body(bad)


def test_leaf_data() -> None:
    digest = "sha256:" + "a" * 64
    data = cp.leaf_data("rec-1", 3, digest)
    assert data == f"provenance/event/v1 rec-1 3 {digest}\n".encode()
    assert cp.parse_leaf(data) == ("rec-1", 3, digest)
    assert cp.parse_leaf(b"other\n") is None
    assert cp.parse_leaf(b"\xff") is None


def test_tlog_proof_round_trip() -> None:
    proof = cp.TlogProof(5, (b"\x01" * 32, b"\x02" * 32), "o\n9\nAAAA\n\n\u2014 k AAAA\n", extra=b"hi")
    text = proof.encode()
    assert text.startswith("c2sp.org/tlog-proof@v1\nextra aGk=\nindex 5\n")
    assert cp.parse_proof(text.encode()) == proof
    plain = cp.TlogProof(0, (), "x\n")
    assert cp.parse_proof(plain.encode().encode()) == plain
    for bad in (b"\xff", b"c2sp.org/tlog-proof@v2\nindex 1\n\nx", b"c2sp.org/tlog-proof@v1\nindex 01\n\nx",
                b"c2sp.org/tlog-proof@v1\n\nx", b"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\nx", b"no blank"):
        with pytest.raises(note.NoteError):
            cp.parse_proof(bad)
    assert cp.parse_hash_lines(b"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n") == [b"\x01" * 32]
    with pytest.raises(note.NoteError):
        cp.parse_hash_lines(b"\xff")
