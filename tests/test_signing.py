"""Ed25519 signing, verification, weak-key checks and encrypted OpenSSH key files."""

from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path
from typing import Any

import pytest

from provenance.errors import ErrorCode, KeyStoreError
from provenance.signing import (
    DEFAULT_KDF_ROUNDS,
    SigningKey,
    check_public_key,
    decrypt_private_key,
    encrypt_private_key,
    key_id,
    openssh_kdf_rounds,
    parse_key_id,
    verify_signature,
)

VECTORS = Path(__file__).parent / "data" / "vectors"
P = 2**255 - 19


# ---------------------------------------------------------------------------------------------------------
# RFC 8032 §7.1 test vectors (transcribed into tests/data/vectors/rfc8032.json, source named there)


def _rfc8032_vectors() -> list[dict[str, str]]:
    doc = json.loads((VECTORS / "rfc8032.json").read_text(encoding="utf-8"))
    assert "RFC 8032" in doc["source"]
    tests: list[dict[str, str]] = doc["tests"]
    return tests


@pytest.mark.parametrize("vector", _rfc8032_vectors(), ids=lambda v: v["name"])
def test_rfc8032_vector(vector: dict[str, str]) -> None:
    seed = bytes.fromhex(vector["secret_key"])
    public = bytes.fromhex(vector["public_key"])
    message = bytes.fromhex(vector["message"])
    signature = bytes.fromhex(vector["signature"])

    key = SigningKey.from_seed(seed)
    assert key.public_bytes() == public
    assert key.sign(message) == signature  # Ed25519 is deterministic: byte for byte
    assert verify_signature(public, message, signature)
    assert not verify_signature(public, message + b"\x00", signature)
    check_public_key(public)


def test_rfc8032_vectors_include_the_five_ed25519_tests() -> None:
    names = [v["name"] for v in _rfc8032_vectors()]
    assert names == ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]
    test_1024 = _rfc8032_vectors()[3]
    assert len(bytes.fromhex(test_1024["message"])) == 1023


def test_from_seed_refuses_wrong_length() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SigningKey.from_seed(b"\x00" * 31)


# ---------------------------------------------------------------------------------------------------------
# Wycheproof: C2SP/wycheproof testvectors_v1/ed25519_test.json (commit dac1dd4, Apache-2.0), copied into
# tests/data/vectors/wycheproof/ (see its README.md). Each case's verdict must equal result == "valid".


def _wycheproof_cases() -> list[Any]:
    doc = json.loads((VECTORS / "wycheproof" / "ed25519_test.json").read_text(encoding="utf-8"))
    cases = []
    for group in doc["testGroups"]:
        public = group["publicKey"]["pk"]
        for test in group["tests"]:
            cases.append(pytest.param(public, test, id=f"tc{test['tcId']}"))
    assert len(cases) == doc["numberOfTests"] == 151
    return cases


@pytest.mark.parametrize(("public_hex", "test"), _wycheproof_cases())
def test_wycheproof(public_hex: str, test: dict[str, Any]) -> None:
    verdict = verify_signature(
        bytes.fromhex(public_hex), bytes.fromhex(test["msg"]), bytes.fromhex(test["sig"])
    )
    assert verdict is (test["result"] == "valid"), (test["comment"], test["flags"])


# ---------------------------------------------------------------------------------------------------------
# verify_signature never raises


@pytest.mark.parametrize("public_length", [0, 1, 31, 33, 64])
def test_verify_malformed_key_lengths_is_false(public_length: int) -> None:
    key = SigningKey.generate()
    signature = key.sign(b"m")
    assert verify_signature(b"\x01" * public_length, b"m", signature) is False


@pytest.mark.parametrize("signature_length", [0, 1, 63, 65, 128])
def test_verify_malformed_signature_lengths_is_false(signature_length: int) -> None:
    key = SigningKey.generate()
    assert verify_signature(key.public_bytes(), b"m", b"\x00" * signature_length) is False


def test_verify_key_not_on_curve_is_false() -> None:
    key = SigningKey.generate()
    signature = key.sign(b"m")
    assert verify_signature(_not_on_curve_encoding(), b"m", signature) is False


def test_sign_verify_round_trip_and_tamper() -> None:
    key = SigningKey.generate()
    signature = key.sign(b"hello")
    assert len(signature) == 64
    assert len(key.public_bytes()) == 32
    assert verify_signature(key.public_bytes(), b"hello", signature) is True
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert verify_signature(key.public_bytes(), b"hello", flipped) is False
    other = SigningKey.generate()
    assert verify_signature(other.public_bytes(), b"hello", signature) is False


# ---------------------------------------------------------------------------------------------------------
# Key ids


def test_key_id_form() -> None:
    key = SigningKey.from_seed(bytes.fromhex(_rfc8032_vectors()[0]["secret_key"]))
    assert key.key_id == key_id(key.public_bytes())
    assert re.fullmatch(r"ed25519:[0-9a-f]{64}", key.key_id)
    assert parse_key_id(key.key_id) == key.key_id
    assert repr(key) == f"SigningKey({key.key_id})"  # never the secret


def test_key_id_refuses_wrong_length() -> None:
    with pytest.raises(KeyStoreError) as info:
        key_id(b"\x00" * 31)
    assert info.value.code is ErrorCode.KEY_MALFORMED


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ed25519:",
        "ed25519:" + "a" * 63,
        "ed25519:" + "a" * 65,
        "ed25519:" + "A" * 64,
        "ED25519:" + "a" * 64,
        "ed448:" + "a" * 64,
        "ed25519:" + "g" * 64,
        "ed25519:" + "a" * 64 + "\n",
        " ed25519:" + "a" * 64,
    ],
)
def test_parse_key_id_refuses(text: str) -> None:
    with pytest.raises(KeyStoreError) as info:  # key.malformed is a KeyStoreError (errors.ERROR_CLASS)
        parse_key_id(text)
    assert info.value.code is ErrorCode.KEY_MALFORMED


# ---------------------------------------------------------------------------------------------------------
# Weak public keys. The small-order points are listed here as hex and checked independently below with a
# few lines of affine Edwards arithmetic (RFC 8032 §5.1: -x^2 + y^2 = 1 + d x^2 y^2), so the list does not
# rely on the module under test.

D = (-121665 * pow(121666, -1, P)) % P

# The 8 points of order dividing 8, canonically encoded: orders 1, 2, 4, 4, 8, 8, 8, 8.
SMALL_ORDER_CANONICAL = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity (0, 1)
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # (0, -1)
    "0000000000000000000000000000000000000000000000000000000000000000",  # (sqrt(-1), 0), x even
    "0000000000000000000000000000000000000000000000000000000000000080",  # (-sqrt(-1), 0), x odd
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
]


def _encode(y: int, sign: int) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


# Their non-canonical encodings: y + p where that still fits in 255 bits (y = 0 and y = 1), and the sign
# bit set on the points with x = 0 (y = 1, y = p - 1 and again y = p + 1).
SMALL_ORDER_NON_CANONICAL = [
    _encode(P + 0, 0),
    _encode(P + 0, 1),
    _encode(P + 1, 0),
    _encode(P + 1, 1),
    _encode(1, 1),
    _encode(P - 1, 1),
]


def _affine_decode(encoded: bytes) -> tuple[int, int]:
    value = int.from_bytes(encoded, "little")
    y, sign = value & ((1 << 255) - 1), value >> 255
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    assert (x * x - x2) % P == 0
    if x % 2 != sign:
        x = (P - x) % P
    return x, y


def _affine_add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return (x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P


def test_small_order_list_is_the_8_torsion_subgroup() -> None:
    points = {_affine_decode(bytes.fromhex(h)) for h in SMALL_ORDER_CANONICAL}
    assert len(points) == 8
    for point in points:
        acc = (0, 1)
        for _ in range(8):
            acc = _affine_add(acc, point)
        assert acc == (0, 1)  # [8]P = identity
        for other in points:  # closed under addition: a group of 8 elements
            assert _affine_add(point, other) in points


@pytest.mark.parametrize("encoded", SMALL_ORDER_CANONICAL)
def test_small_order_points_refused(encoded: str) -> None:
    with pytest.raises(KeyStoreError) as info:
        check_public_key(bytes.fromhex(encoded))
    assert info.value.code is ErrorCode.KEY_WEAK


@pytest.mark.parametrize("encoded", SMALL_ORDER_NON_CANONICAL, ids=lambda b: b.hex())
def test_small_order_non_canonical_encodings_refused(encoded: bytes) -> None:
    with pytest.raises(KeyStoreError) as info:
        check_public_key(encoded)
    assert info.value.code is ErrorCode.KEY_WEAK


@pytest.mark.parametrize("offset", range(19))
@pytest.mark.parametrize("sign", [0, 1])
def test_non_canonical_y_refused(offset: int, sign: int) -> None:
    # RFC 8032 §5.1.3 step 1: a y of p or more is a non-canonical encoding (p + 0 .. p + 18 fit 255 bits).
    with pytest.raises(KeyStoreError) as info:
        check_public_key(_encode(P + offset, sign))
    assert info.value.code is ErrorCode.KEY_WEAK


def _not_on_curve_encoding() -> bytes:
    # The first y whose x^2 = (y^2 - 1) / (d y^2 + 1) is a non-square (Euler's criterion): no point.
    for y in range(2, 100):
        x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
        if pow(x2, (P - 1) // 2, P) == P - 1:
            return _encode(y, 0)
    raise AssertionError("no non-square found")


def test_point_not_on_curve_refused() -> None:
    with pytest.raises(KeyStoreError) as info:
        check_public_key(_not_on_curve_encoding())
    assert info.value.code is ErrorCode.KEY_MALFORMED


@pytest.mark.parametrize("length", [0, 31, 33])
def test_wrong_length_key_refused(length: int) -> None:
    with pytest.raises(KeyStoreError) as info:
        check_public_key(b"\x05" * length)
    assert info.value.code is ErrorCode.KEY_MALFORMED


def test_fresh_keys_accepted() -> None:
    for _ in range(5):
        check_public_key(SigningKey.generate().public_bytes())


def test_wycheproof_and_rfc_public_keys_accepted() -> None:
    doc = json.loads((VECTORS / "wycheproof" / "ed25519_test.json").read_text(encoding="utf-8"))
    for group in doc["testGroups"]:
        check_public_key(bytes.fromhex(group["publicKey"]["pk"]))


# ---------------------------------------------------------------------------------------------------------
# Encrypted private keys (OpenSSH format, bcrypt KDF). rounds=1 keeps the tests fast.

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture(scope="module")
def key_and_file() -> tuple[SigningKey, bytes]:
    key = SigningKey.generate()
    return key, encrypt_private_key(key, PASSPHRASE, rounds=1)


def test_default_rounds() -> None:
    assert DEFAULT_KDF_ROUNDS == 100


def test_encrypt_decrypt_round_trip(key_and_file: tuple[SigningKey, bytes]) -> None:
    key, data = key_and_file
    assert data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert PASSPHRASE not in data
    loaded = decrypt_private_key(data, PASSPHRASE)
    assert loaded.public_bytes() == key.public_bytes()
    assert loaded.key_id == key.key_id
    assert verify_signature(key.public_bytes(), b"msg", loaded.sign(b"msg"))


@pytest.mark.parametrize("rounds", [1, 3, 17])
def test_kdf_rounds_read_back(rounds: int) -> None:
    data = encrypt_private_key(SigningKey.generate(), PASSPHRASE, rounds=rounds)
    assert openssh_kdf_rounds(data) == rounds


def test_wrong_passphrase(key_and_file: tuple[SigningKey, bytes]) -> None:
    _, data = key_and_file
    wrong = b"Tr0ub4dor&3-secret"
    with pytest.raises(KeyStoreError) as info:
        decrypt_private_key(data, wrong)
    assert info.value.code is ErrorCode.KEY_PASSPHRASE_WRONG
    assert "Tr0ub4dor" not in str(info.value)
    assert "Tr0ub4dor" not in json.dumps(info.value.to_json())


def test_empty_passphrase(key_and_file: tuple[SigningKey, bytes]) -> None:
    _, data = key_and_file
    with pytest.raises(KeyStoreError) as info:
        decrypt_private_key(data, b"")
    assert info.value.code is ErrorCode.KEY_PASSPHRASE_MISSING
    with pytest.raises(KeyStoreError) as info:
        encrypt_private_key(SigningKey.generate(), b"", rounds=1)
    assert info.value.code is ErrorCode.KEY_PASSPHRASE_MISSING


def test_bad_rounds() -> None:
    with pytest.raises(ValueError, match="positive"):
        encrypt_private_key(SigningKey.generate(), PASSPHRASE, rounds=0)


def _body(data: bytes) -> bytes:
    lines = data.strip().splitlines()
    return base64.b64decode(b"".join(lines[1:-1]))


def _armour(raw: bytes) -> bytes:
    text = base64.b64encode(raw)
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return (
        b"\n".join([b"-----BEGIN OPENSSH PRIVATE KEY-----", *lines, b"-----END OPENSSH PRIVATE KEY-----"])
        + b"\n"
    )


def _ssh_string(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def _replace_public_blob(raw: bytes, public: bytes, key_type: bytes = b"ssh-ed25519") -> bytes:
    """``raw`` with its one public-key blob (after magic, cipher, kdf, kdfoptions, count) replaced."""
    start = raw.index(_ssh_string(b"ssh-ed25519"))
    (old_length,) = struct.unpack(">I", raw[start - 4 : start])
    blob = _ssh_string(key_type) + _ssh_string(public)
    return raw[: start - 4] + _ssh_string(blob) + raw[start + old_length :]


def _corruptions(data: bytes) -> list[Any]:
    raw = _body(data)
    magic_bad = b"openssh-key-v2\x00" + raw[15:]
    truncated = raw[: len(raw) // 2]
    # the header's public key replaced by another key's: the decrypted private key no longer matches it
    wrong_public = _replace_public_blob(raw, SigningKey.generate().public_bytes())

    def flip(from_end: int) -> bytes:
        changed = bytearray(raw)
        changed[len(raw) - from_end] ^= 1
        return _armour(bytes(changed))

    return [
        pytest.param(b"", id="empty"),
        pytest.param(b"not a key at all", id="garbage"),
        pytest.param(data.replace(b"OPENSSH PRIVATE KEY", b"PRIVATE KEY"), id="armour"),
        pytest.param(data[:40] + b"!!!!" + data[44:], id="base64"),
        pytest.param(_armour(magic_bad), id="magic"),
        pytest.param(_armour(truncated), id="truncated"),
        pytest.param(_armour(raw + b"\x00"), id="trailing"),
        pytest.param(_armour(wrong_public), id="public-key-mismatch"),
        # bit flips in the encrypted section after its check integers (aes256-ctr has no MAC: a flip in
        # the first 8 bytes of that section is indistinguishable from a wrong passphrase)
        *(pytest.param(flip(n), id=f"ciphertext-flip-{n}") for n in (1, 20, 60, 100)),
    ]


_FILE_FOR_CORRUPTIONS = encrypt_private_key(SigningKey.from_seed(b"\x07" * 32), PASSPHRASE, rounds=1)


@pytest.mark.parametrize("corrupted", _corruptions(_FILE_FOR_CORRUPTIONS))
def test_corrupted_file_is_malformed(corrupted: bytes) -> None:
    with pytest.raises(KeyStoreError) as info:
        decrypt_private_key(corrupted, PASSPHRASE)
    assert info.value.code is ErrorCode.KEY_MALFORMED


def _unencrypted_header(raw: bytes) -> bytes:
    """``raw`` rewritten to claim cipher "none" and KDF "none" (an unencrypted openssh-key-v1 file)."""
    rest = raw[15:]  # after the 15-byte magic "openssh-key-v1\0"
    for _ in range(3):  # skip ciphername, kdfname, kdfoptions
        (length,) = struct.unpack(">I", rest[:4])
        rest = rest[4 + length :]
    return raw[:15] + _ssh_string(b"none") + _ssh_string(b"none") + _ssh_string(b"") + rest


def test_unencrypted_key_refused() -> None:
    data = _armour(_unencrypted_header(_body(_FILE_FOR_CORRUPTIONS)))
    with pytest.raises(KeyStoreError) as info:
        decrypt_private_key(data, PASSPHRASE)
    assert info.value.code is ErrorCode.KEY_MALFORMED
    with pytest.raises(KeyStoreError) as info:
        openssh_kdf_rounds(data)
    assert info.value.code is ErrorCode.KEY_MALFORMED


def test_other_key_type_refused() -> None:
    raw = _body(_FILE_FOR_CORRUPTIONS)
    data = _armour(_replace_public_blob(raw, b"\x04" + b"\x01" * 64, key_type=b"ecdsa-sha2-nistp256"))
    with pytest.raises(KeyStoreError) as info:
        decrypt_private_key(data, PASSPHRASE)
    assert info.value.code is ErrorCode.KEY_MALFORMED
