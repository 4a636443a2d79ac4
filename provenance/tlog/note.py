"""C2SP signed notes (``c2sp.org/signed-note``): parse, verify and sign; verifier keys and key hashes.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <name> <base64(key hash[4] || signature)>\\n``. Signatures follow the *last* blank line. A key is a
name *and* a key hash: a signature whose (name, hash) is not a known key is ignored; a known key's
signature must verify, else the note is refused; a note no known key verifies is refused.

Key types: ``0x01`` Ed25519 (log signatures), ``0x04`` timestamped Ed25519 cosignatures
(``c2sp.org/tlog-cosignature``). Only :mod:`provenance.signing` touches the cryptography library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provenance.signing import SigningKey

TYPE_ED25519 = 0x01
TYPE_COSIGNATURE = 0x04
MAX_SIGNATURES = 100  # as Go's sumdb/note: more is refused
MAX_NOTE_BYTES = 1 << 20
_DASH = "\u2014 "
_NAME_RE = re.compile(r"[^\s+]+")
_HEX8_RE = re.compile(r"[0-9a-f]{8}")
_STD_B64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")


class NoteError(ValueError):
    """A note, key or signature that is malformed or does not verify (the message says which)."""


def b64decode_strict(text: str, *, length: int | None = None) -> bytes:
    """Standard padded base64 (RFC 4648 §4) and nothing else: re-encoding must give ``text`` back."""
    if not _STD_B64_RE.fullmatch(text) or len(text) % 4:
        raise NoteError("not standard base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("not standard base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError("not canonical base64")
    if length is not None and len(raw) != length:
        raise NoteError(f"expected {length} bytes, got {len(raw)}")
    return raw


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key_hash(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte key hash: ``SHA-256(name || 0x0A || type || public key)[:4]``."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def check_name(name: str) -> str:
    if not name or not _NAME_RE.fullmatch(name):
        raise NoteError(f"key name {name[:80]!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    """A verifier key: name, type, raw public key and key hash."""

    name: str
    key_type: int
    public_key: bytes

    @property
    def hash(self) -> bytes:
        return key_hash(self.name, self.key_type, self.public_key)

    def encode(self) -> str:
        """``<name>+<hex key hash>+<base64(type || public key)>``."""
        return f"{self.name}+{self.hash.hex()}+{b64encode(bytes([self.key_type]) + self.public_key)}"


def parse_verifier_key(text: str) -> Verifier:
    """Read ``<name>+<8 hex>+<base64(type || key)>``: split at most twice (base64 holds ``+``); the hash
    must match; types 0x01 and 0x04 with 32-byte keys. Raises ``NoteError``."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<hash>+<key>")
    name, hash_hex, key_b64 = parts
    check_name(name)
    if not _HEX8_RE.fullmatch(hash_hex):
        raise NoteError("the key hash of a verifier key is 8 lowercase hex digits")
    raw = b64decode_strict(key_b64)
    if len(raw) != 33 or raw[0] not in (TYPE_ED25519, TYPE_COSIGNATURE):
        raise NoteError("the verifier key is not an Ed25519 (0x01) or cosignature (0x04) key of 32 bytes")
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.hash.hex() != hash_hex:
        raise NoteError("the verifier key's hash does not match its name and key")
    return verifier


def verifier_for(name: str, public_key: bytes, key_type: int = TYPE_ED25519) -> Verifier:
    check_name(name)
    return Verifier(name, key_type, bytes(public_key))


def parse_signer_key(text: str) -> tuple[str, SigningKey]:
    """Go's signer key ``PRIVATE+KEY+<name>+<hex>+<base64(0x01 || seed)>`` (split four times)."""
    from provenance.signing import SigningKey

    parts = text.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError("a signer key is PRIVATE+KEY+<name>+<hash>+<key>")
    name = check_name(parts[2])
    raw = b64decode_strict(parts[4], length=33)
    if raw[0] != TYPE_ED25519:
        raise NoteError("not an Ed25519 signer key")
    key = SigningKey.from_seed(raw[1:])
    if key_hash(name, TYPE_ED25519, key.public_bytes()).hex() != parts[3]:
        raise NoteError("the signer key's hash does not match")
    return name, key


@dataclass(frozen=True)
class Signature:
    name: str
    hash: bytes
    raw: bytes  # what follows the 4-byte key hash

    def line(self) -> str:
        return f"{_DASH}{self.name} {b64encode(self.hash + self.raw)}\n"


@dataclass(frozen=True)
class Note:
    text: str  # ends in "\n"
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse(data: bytes | str) -> Note:
    """Split a signed note into its text and signature lines (nothing verified yet). Raises ``NoteError``."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("the note is too large")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("the note is not UTF-8") from None
    else:
        text = data
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in text):
        raise NoteError("the note holds a control character")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no signature block")
    body, block = text[: split + 1], text[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("the note's last signature line does not end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError("a line of the signature block is not a signature")
        name, _, encoded = line[len(_DASH) :].partition(" ")
        check_name(name)
        raw = b64decode_strict(encoded)
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    return Note(body, tuple(signatures))


def _verify_one(verifier: Verifier, text: str, sig: Signature) -> bool:
    from provenance.signing import verify_signature

    if verifier.key_type == TYPE_ED25519:
        return verify_signature(verifier.public_key, text.encode("utf-8"), sig.raw)
    if len(sig.raw) != 72:
        return False
    (timestamp,) = struct.unpack(">Q", sig.raw[:8])
    if timestamp > 2**63 - 1:
        return False
    return verify_signature(verifier.public_key, cosignature_message(text, timestamp), sig.raw[8:])


def verify(note: Note, verifiers: list[Verifier]) -> list[Verifier]:
    """The known verifiers whose signatures on ``note`` verify (each once).

    A signature by a known key (name and hash) that does not verify raises ``NoteError``, as does a note no
    known key signed.
    """
    known = {(v.name, v.hash): v for v in verifiers}
    good: list[Verifier] = []
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.hash))
        if verifier is None:
            continue
        if not _verify_one(verifier, note.text, sig):
            raise NoteError(f"the signature of {sig.name} does not verify")
        if verifier not in good:
            good.append(verifier)
    if not good:
        raise NoteError("no known key signed the note")
    return good


def sign(text: str, name: str, key: SigningKey) -> Signature:
    """An Ed25519 (0x01) signature line of ``text`` by ``key`` under ``name``."""
    if not text.endswith("\n"):
        raise NoteError("a note's text ends in a newline")
    check_name(name)
    return Signature(name, key_hash(name, TYPE_ED25519, key.public_bytes()), key.sign(text.encode("utf-8")))


def cosignature_message(text: str, timestamp: int) -> bytes:
    """``c2sp.org/tlog-cosignature`` v1: ``cosignature/v1\\ntime <T>\\n`` then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, key: SigningKey, timestamp: int) -> Signature:
    """A timestamped Ed25519 cosignature (type 0x04) of the checkpoint body ``text``."""
    check_name(name)
    if not 0 <= timestamp <= 2**63 - 1:
        raise NoteError("a cosignature time is from 0 to 2^63-1")
    signature = key.sign(cosignature_message(text, timestamp))
    return Signature(
        name, key_hash(name, TYPE_COSIGNATURE, key.public_bytes()), struct.pack(">Q", timestamp) + signature
    )


def cosignature_time(sig: Signature) -> int | None:
    """The timestamp of a cosignature's signature bytes, or None when it is not 72 bytes."""
    if len(sig.raw) != 72:
        return None
    return int(struct.unpack(">Q", sig.raw[:8])[0])
