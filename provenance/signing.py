"""Ed25519 keys, signatures, key ids and encrypted private-key files.

This is the only module of the project that imports ``cryptography.hazmat``; every other module asks it
for keys and signatures. Callers import it lazily, so the ``cryptography`` imports stay at module top.

* Signatures are plain Ed25519 (RFC 8032 §5.1) computed by OpenSSL through ``cryptography``.
* Public keys are checked once, when a key card is created or imported, by :func:`check_public_key`:
  a small pure-Python decoder (RFC 8032 §5.1.3) refuses non-canonical encodings, points that are not on
  the curve and the small-order points.
* Private keys are stored in the OpenSSH private-key format (``openssh-key-v1``, see OpenSSH's
  PROTOCOL.key), always encrypted, with the bcrypt KDF.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import struct
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provenance.errors import ErrorCode, KeyStoreError

__all__ = [
    "DEFAULT_KDF_ROUNDS",
    "KEY_ID_PREFIX",
    "MAX_KDF_ROUNDS",
    "PUBLIC_KEY_LENGTH",
    "SIGNATURE_LENGTH",
    "SigningKey",
    "check_public_key",
    "decrypt_private_key",
    "encrypt_private_key",
    "key_id",
    "openssh_kdf_rounds",
    "parse_key_id",
    "verifier",
    "verify_signature",
]

PUBLIC_KEY_LENGTH = 32
SIGNATURE_LENGTH = 64
SEED_LENGTH = 32
KEY_ID_PREFIX = "ed25519:"

# bcrypt KDF rounds for new private-key files. 100 rounds cost ≈0.8 s per unlock (measured: 0.75 s to
# encrypt, 0.74 s to decrypt on this 2-vCPU machine). The delay is deliberate: it is the price of every
# guess an attacker who copied the key file makes at the passphrase, and a person unlocking once per
# command hardly notices it.
DEFAULT_KDF_ROUNDS = 100
# The most rounds a key file may ask for (≈8 s per unlock here); more is refused, never attempted.
MAX_KDF_ROUNDS = 1_000

_KEY_ID_RE = re.compile(r"ed25519:[0-9a-f]{64}")


# --------------------------------------------------------------------------------------------------------
# Keys and signatures


class SigningKey:
    """An Ed25519 private key (RFC 8032 §5.1.5). Never printed: ``repr`` shows only the key id."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        from cryptography.hazmat.primitives import serialization  # signing only: verify never loads it

        self._key = key
        self._public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key from the operating system's random source."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """The key whose 32-byte secret (RFC 8032 §5.1.5 "private key") is ``seed``.

        Raises ``ValueError`` for a seed that is not 32 bytes (a programming error, not a user's).
        """
        if len(seed) != SEED_LENGTH:
            raise ValueError(f"an Ed25519 seed is {SEED_LENGTH} bytes, got {len(seed)}")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key (RFC 8032 §5.1.5 step 4)."""
        return self._public

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature R || S of ``message`` (RFC 8032 §5.1.6)."""
        return self._key.sign(message)

    @property
    def key_id(self) -> str:
        """``ed25519:`` + SHA-256 hex of the raw public key."""
        return key_id(self._public)

    def __repr__(self) -> str:
        return f"SigningKey({self.key_id})"


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True only when ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    Never raises for bad input: a key or signature of the wrong length, a key that is not a point, or a
    signature that does not verify all give False. OpenSSL checks S < L (RFC 8032 §5.1.7 step 1) and
    compares the encoding of R byte for byte, so non-canonical R and S are refused.
    """
    if not isinstance(public_key, bytes | bytearray) or len(public_key) != PUBLIC_KEY_LENGTH:
        return False
    if not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_LENGTH:
        return False
    if not isinstance(message, bytes | bytearray):
        return False
    try:
        _public_key(bytes(public_key)).verify(bytes(signature), bytes(message))
    except (InvalidSignature, ValueError):
        return False
    return True


def verifier(public_key: bytes) -> Callable[[bytes, bytes], bool]:
    """:func:`verify_signature` for one key, its point decoded once: ``check(message, signature)``.

    For a verifier that checks many signatures of one signer (an audit: every event of every record). The
    answers are :func:`verify_signature`'s: a key that is not 32 bytes or not a point gives a check that is
    always False, and a signature of the wrong length or that does not verify gives False.
    """
    try:
        if not isinstance(public_key, bytes | bytearray) or len(public_key) != PUBLIC_KEY_LENGTH:
            raise ValueError("not an Ed25519 public key")
        verify = _public_key(bytes(public_key)).verify
    except ValueError:
        return lambda message, signature: False

    def check(message: bytes, signature: bytes) -> bool:
        if type(signature) is not bytes or len(signature) != SIGNATURE_LENGTH or type(message) is not bytes:
            return verify_signature(public_key, message, signature)  # the general path decides
        try:
            verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    return check


@functools.lru_cache(maxsize=256)
def _public_key(public_key: bytes) -> Ed25519PublicKey:
    """The loaded key (raises ``ValueError``); cached, as a verifier checks many events of few signers.
    Callers pass the raw bytes of a card's key; :func:`verifier` holds the loaded key for one signer's
    many checks."""
    return Ed25519PublicKey.from_public_bytes(public_key)


def key_id(public_key: bytes) -> str:
    """``"ed25519:" + sha256(raw public key).hexdigest()``; the key must be 32 bytes (KEY_MALFORMED)."""
    if len(public_key) != PUBLIC_KEY_LENGTH:
        raise KeyStoreError(
            ErrorCode.KEY_MALFORMED,
            f"an Ed25519 public key is {PUBLIC_KEY_LENGTH} bytes, got {len(public_key)}",
        )
    return KEY_ID_PREFIX + hashlib.sha256(public_key).hexdigest()


def parse_key_id(text: str) -> str:
    """Return ``text`` if it is a key id (``ed25519:`` + 64 lowercase hex digits), else ``KeyStoreError(key.malformed)``."""
    if not isinstance(text, str) or _KEY_ID_RE.fullmatch(text) is None:
        shown = text[:80] if isinstance(text, str) else type(text).__name__
        raise KeyStoreError(
            ErrorCode.KEY_MALFORMED,
            f"not a key id: {shown!r} (expected 'ed25519:' followed by 64 lowercase hex digits)",
        )
    return text


# --------------------------------------------------------------------------------------------------------
# Weak public keys: a small pure-Python edwards25519 (RFC 8032 §5.1). It runs only when a key card is
# created or imported, so clarity wins over speed; it never handles secrets.

_P = 2**255 - 19  # RFC 8032 §5.1: the field GF(p)
_D = (-121665 * pow(121666, -1, _P)) % _P  # RFC 8032 §5.1: d = -121665/121666
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)  # RFC 8032 §5.1.3 step 3: 2^((p-1)/4), a square root of -1
_L = 2**252 + 27742317777372353535851937790883648493  # RFC 8032 §5.1: the order of the base point B

_ExtendedPoint = tuple[int, int, int, int]  # (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z


def _decode_point(encoded: bytes) -> tuple[int, int]:
    """Decode a 32-byte point as RFC 8032 §5.1.3 says, or raise KeyStoreError."""
    # RFC 8032 §5.1.3 step 1: the low 255 bits are y (little-endian), bit 255 is the sign of x.
    as_int = int.from_bytes(encoded, "little")
    y = as_int & ((1 << 255) - 1)
    x_0 = as_int >> 255
    # Step 1: "If the resulting value is >= p, decoding fails" — a non-canonical encoding of y.
    if y >= _P:
        raise KeyStoreError(ErrorCode.KEY_WEAK, "public key is not canonically encoded (y >= p)")
    # Step 2: x^2 = (y^2 - 1) / (d y^2 + 1) = u / v.
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    # Step 3: candidate root x = u v^3 (u v^7)^((p-5)/8).
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    vxx = (v * x * x) % _P
    if vxx == u:
        pass
    elif vxx == (-u) % _P:
        x = (x * _SQRT_M1) % _P
    else:
        # Step 3: "Otherwise, no square root exists, and the decoding fails" — not a curve point.
        raise KeyStoreError(ErrorCode.KEY_MALFORMED, "public key is not a point on edwards25519")
    # Step 4: "If x = 0, and x_0 = 1, decoding fails" — the second encoding of a point with x = 0.
    if x == 0 and x_0 == 1:
        raise KeyStoreError(ErrorCode.KEY_WEAK, "public key is not canonically encoded (x = 0, sign 1)")
    if x & 1 != x_0:
        x = _P - x
    return x, y


def _point_add(p1: _ExtendedPoint, p2: _ExtendedPoint) -> _ExtendedPoint:
    """Complete addition in extended coordinates, the formulas of RFC 8032 §5.1.4 (also for doubling)."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = ((y1 - x1) * (y2 - x2)) % _P
    b = ((y1 + x1) * (y2 + x2)) % _P
    c = (t1 * 2 * _D * t2) % _P
    d = (z1 * 2 * z2) % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f) % _P, (g * h) % _P, (f * g) % _P, (e * h) % _P


def _is_identity(point: _ExtendedPoint) -> bool:
    x, y, z, _ = point
    return x % _P == 0 and (y - z) % _P == 0


def _point_double(point: _ExtendedPoint) -> _ExtendedPoint:
    """Doubling in extended coordinates, the dedicated formulas of RFC 8032 §5.1.4 (4 squarings and
    4 multiplications instead of the 9 multiplications of an addition: every key card checked on
    start-up takes some 250 of them)."""
    x1, y1, z1, _ = point
    a = (x1 * x1) % _P
    b = (y1 * y1) % _P
    c = (2 * z1 * z1) % _P
    h = a + b
    s = x1 + y1
    e = (h - s * s) % _P
    g = a - b
    f = c + g
    return (e * f) % _P, (g * h) % _P, (f * g) % _P, (e * h) % _P


def _scalar_mult(scalar: int, point: _ExtendedPoint) -> _ExtendedPoint:
    """[scalar]P by double-and-add, most significant bit first (variable time: it only ever sees public
    keys)."""
    result: _ExtendedPoint = (0, 1, 1, 0)  # the identity (0, 1)
    for bit in bin(scalar)[2:]:
        result = _point_double(result)
        if bit == "1":
            result = _point_add(result, point)
    return result


def check_public_key(public_key: bytes) -> None:
    """Refuse a public key no honest key generator produces.

    * wrong length or not a point on the curve: ``KeyStoreError(KEY_MALFORMED)``;
    * a non-canonical encoding (RFC 8032 §5.1.3 steps 1 and 4): ``KeyStoreError(KEY_WEAK)``;
    * a point of small order, [8]P = identity (the 8 points of the cofactor subgroup, RFC 8032 §5.1 gives
      the group order 8·L): ``KeyStoreError(KEY_WEAK)``. A signature under such a key proves nothing,
      since it verifies for many messages without knowledge of a secret;
    * a mixed-order point, outside the prime-order subgroup ([L]P != identity): a valid key plus a
      small-order component, which RFC 8032 §5.1.5 key generation ([s]B, B of order L) never produces.
      Such a key lets its holder make signatures that cofactored and cofactorless verifiers judge
      differently: ``KeyStoreError(KEY_WEAK)``.
    """
    if not isinstance(public_key, bytes | bytearray) or len(public_key) != PUBLIC_KEY_LENGTH:
        length = len(public_key) if isinstance(public_key, bytes | bytearray) else None
        raise KeyStoreError(
            ErrorCode.KEY_MALFORMED,
            f"an Ed25519 public key is {PUBLIC_KEY_LENGTH} bytes, got {length}",
        )
    problem = _subgroup_problem(bytes(public_key))
    if problem is not None:
        raise KeyStoreError(ErrorCode.KEY_WEAK, problem)


def _subgroup_problem(public_key: bytes) -> str | None:
    """Why a (decodable) key is outside the prime-order subgroup, or None. Not cached here: a card is
    checked when it is parsed, and a parsed card is kept by its bytes (``keys.parse_card``)."""
    x, y = _decode_point(public_key)
    point: _ExtendedPoint = (x, y, 1, (x * y) % _P)
    eighth = point
    for _ in range(3):  # [8]P by three doublings
        eighth = _point_add(eighth, eighth)
    if _is_identity(eighth):
        return "public key is a small-order point (order divides 8)"
    # RFC 8032 §5.1: the base point B has prime order L; honest keys [s]B satisfy [L]P = identity.
    if not _is_identity(_scalar_mult(_L, point)):
        return "public key has a small-order component (mixed order: [L]P is not the identity)"
    return None


# --------------------------------------------------------------------------------------------------------
# Encrypted private-key files: the OpenSSH format (openssh-key-v1, OpenSSH's PROTOCOL.key) with bcrypt KDF.

_ARMOR_BEGIN = b"-----BEGIN OPENSSH PRIVATE KEY-----"
_ARMOR_END = b"-----END OPENSSH PRIVATE KEY-----"
_MAGIC = b"openssh-key-v1\x00"


class _OpenSSHHeader:
    """The unencrypted fields of an openssh-key-v1 file."""

    __slots__ = ("cipher", "kdf", "kdf_options", "public_blobs")

    def __init__(self, cipher: bytes, kdf: bytes, kdf_options: bytes, public_blobs: list[bytes]) -> None:
        self.cipher = cipher
        self.kdf = kdf
        self.kdf_options = kdf_options
        self.public_blobs = public_blobs


def _malformed(reason: str) -> KeyStoreError:
    return KeyStoreError(ErrorCode.KEY_MALFORMED, f"not an encrypted OpenSSH Ed25519 private key: {reason}")


class _Reader:
    """SSH wire-format reader (RFC 4251 §5: uint32 and length-prefixed string) over bytes."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def uint32(self) -> int:
        if self._pos + 4 > len(self._data):
            raise _malformed("truncated")
        (value,) = struct.unpack_from(">I", self._data, self._pos)
        self._pos += 4
        return int(value)

    def string(self) -> bytes:
        length = self.uint32()
        if self._pos + length > len(self._data):
            raise _malformed("truncated")
        value = self._data[self._pos : self._pos + length]
        self._pos += length
        return value

    def at_end(self) -> bool:
        return self._pos == len(self._data)


def _parse_openssh(data: bytes) -> _OpenSSHHeader:
    """Read the armour and the unencrypted header of an openssh-key-v1 file (stdlib only)."""
    if not isinstance(data, bytes | bytearray):
        raise _malformed("not bytes")
    text = bytes(data).strip()
    if not text.startswith(_ARMOR_BEGIN) or not text.endswith(_ARMOR_END):
        raise _malformed("missing the OPENSSH PRIVATE KEY armour")
    body = text[len(_ARMOR_BEGIN) : len(text) - len(_ARMOR_END)]
    try:
        raw = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("invalid base64") from None
    if not raw.startswith(_MAGIC):
        raise _malformed("missing the openssh-key-v1 magic")
    reader = _Reader(raw[len(_MAGIC) :])
    cipher = reader.string()
    kdf = reader.string()
    kdf_options = reader.string()
    count = reader.uint32()
    if count > 16:
        raise _malformed(f"{count} keys")
    blobs = [reader.string() for _ in range(count)]
    reader.string()  # the encrypted private section
    if not reader.at_end():
        raise _malformed("trailing data")
    return _OpenSSHHeader(cipher, kdf, kdf_options, blobs)


def _check_encrypted_ed25519(header: _OpenSSHHeader) -> bytes:
    """The raw public key of a one-key, bcrypt-encrypted, Ed25519 file; KEY_MALFORMED otherwise."""
    if header.cipher == b"none" or header.kdf == b"none":
        raise _malformed("the file is not encrypted")
    if header.kdf != b"bcrypt":
        raise _malformed(f"unsupported KDF {header.kdf[:32]!r}")
    if len(header.public_blobs) != 1:
        raise _malformed(f"{len(header.public_blobs)} keys in the file, expected 1")
    blob = _Reader(header.public_blobs[0])
    if blob.string() != b"ssh-ed25519":
        raise _malformed("the key is not Ed25519")
    public = blob.string()
    if len(public) != PUBLIC_KEY_LENGTH or not blob.at_end():
        raise _malformed("bad Ed25519 public key blob")
    return public


def openssh_kdf_rounds(data: bytes) -> int:
    """The bcrypt rounds recorded in the kdfoptions of an openssh-key-v1 file (KEY_MALFORMED if none)."""
    return _kdf_rounds(_parse_openssh(data))


def _kdf_rounds(header: _OpenSSHHeader) -> int:
    if header.kdf != b"bcrypt":
        raise _malformed("the file does not use the bcrypt KDF")
    options = _Reader(header.kdf_options)
    salt = options.string()  # kdfoptions = string salt, uint32 rounds
    rounds = options.uint32()
    if not salt or not options.at_end():
        raise _malformed("bad bcrypt kdfoptions")
    return rounds


def encrypt_private_key(key: SigningKey, passphrase: bytes, rounds: int = DEFAULT_KDF_ROUNDS) -> bytes:
    """``key`` as an OpenSSH private-key file (PEM armour), encrypted under ``passphrase`` with bcrypt.

    An empty passphrase raises ``KeyStoreError(KEY_PASSPHRASE_MISSING)``; rounds < 1 raises ValueError.
    """
    if not passphrase:
        raise KeyStoreError(ErrorCode.KEY_PASSPHRASE_MISSING, "a private key needs a non-empty passphrase")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= MAX_KDF_ROUNDS:
        raise ValueError(f"bcrypt KDF rounds must be a positive integer up to {MAX_KDF_ROUNDS}, got {rounds!r}")
    from cryptography.hazmat.primitives import serialization

    encryption = (
        serialization.PrivateFormat.OpenSSH.encryption_builder().kdf_rounds(rounds).build(bytes(passphrase))
    )
    return key._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, encryption)


def decrypt_private_key(data: bytes, passphrase: bytes) -> SigningKey:
    """Load an encrypted OpenSSH Ed25519 private-key file.

    Raises ``KeyStoreError(KEY_PASSPHRASE_WRONG)`` when the passphrase does not open it, and
    ``KeyStoreError(KEY_MALFORMED)`` for anything that is not a bcrypt-encrypted, single Ed25519 OpenSSH
    key (an unencrypted key is refused too). Messages never contain the passphrase.

    The default cipher (aes256-ctr) carries no MAC, so damage to the first 8 bytes of the encrypted
    section (the two check integers) cannot be told from a wrong passphrase and reports as one; damage
    anywhere else is caught by the padding check or by comparing the decrypted key with the header's.
    """
    from cryptography.hazmat.primitives import serialization

    header = _parse_openssh(data)
    public = _check_encrypted_ed25519(header)
    # A file naming billions of bcrypt rounds would make the unlock run for days: refused, not attempted.
    if _kdf_rounds(header) > MAX_KDF_ROUNDS:
        raise _malformed(f"more than {MAX_KDF_ROUNDS} bcrypt rounds")
    if not passphrase:
        raise KeyStoreError(ErrorCode.KEY_PASSPHRASE_MISSING, "the private key needs its passphrase")
    try:
        loaded = serialization.load_ssh_private_key(bytes(data), password=bytes(passphrase))
    except ValueError as exc:
        # The decrypted section starts with two equal check integers (PROTOCOL.key); a wrong passphrase
        # makes them differ, and that is the only failure the header already parsed leaves possible for a
        # well-formed file. Other ValueErrors mean the encrypted section itself is damaged.
        if "checksum" in str(exc):
            raise KeyStoreError(
                ErrorCode.KEY_PASSPHRASE_WRONG, "wrong passphrase for the private key"
            ) from None
        raise _malformed("the encrypted section is damaged") from None
    except (TypeError, NotImplementedError, UnsupportedAlgorithm):  # e.g. an unsupported cipher
        raise _malformed("the file cannot be decrypted") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise _malformed("the key is not Ed25519")
    key = SigningKey(loaded)
    if key.public_bytes() != public:
        raise _malformed("the private key does not match the public key in the header")
    return key
