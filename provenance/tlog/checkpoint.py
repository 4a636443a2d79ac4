"""C2SP tlog-checkpoint bodies, tlog-proof files and the archive's leaf data: pure functions over text.

* Checkpoint body (``c2sp.org/tlog-checkpoint`` v1.0.0): ``<origin>\\n<size>\\n<base64 root>\\n``; we write
  no extension lines and refuse them when reading (they are unsigned by some schemes and unauditable).
* tlog-proof (``c2sp.org/tlog-proof@v1``, untagged): the header line, optional ``extra <base64>``,
  ``index <n>``, the audit path one base64 hash a line, a blank line, the checkpoint note verbatim.
* Leaf data: ``provenance/event/v1 <record-id> <seq> <event-digest>\\n``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from provenance.tlog import merkle
from provenance.tlog.note import NoteError, b64decode_strict, b64encode

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
LEAF_PREFIX = "provenance/event/v1"
_DECIMAL_RE = re.compile(r"0|[1-9][0-9]{0,19}")
_LEAF_RE = re.compile(r"provenance/event/v1 ([a-z0-9][a-z0-9._-]{0,63}) (0|[1-9][0-9]{0,19}) (sha256:[0-9a-f]{64})\n")
MAX_SIZE = 2**63 - 1


def parse_decimal(text: str) -> int:
    """A decimal with no sign, no leading zero, no underscore, ASCII digits only, at most 2^63 - 1."""
    if not _DECIMAL_RE.fullmatch(text):
        raise NoteError(f"{text[:30]!r} is not a decimal number")
    value = int(text)
    if value > MAX_SIZE:
        raise NoteError(f"{text[:30]} is too large")
    return value


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{b64encode(self.root)}\n"


def parse_body(text: str) -> Checkpoint:
    """Read a checkpoint body (the signed text of the note). Raises ``NoteError``."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise NoteError("a checkpoint body is exactly three lines: origin, size, root (no extension lines)")
    origin, size_text, root_text = lines[:3]
    if not origin or " " in origin or "+" in origin:
        raise NoteError("a checkpoint origin is non-empty, without spaces or '+'")
    size = parse_decimal(size_text)
    root = b64decode_strict(root_text, length=merkle.HASH_SIZE)
    if size == 0 and root != merkle.EMPTY_ROOT:
        raise NoteError("an empty tree's root is SHA-256 of nothing")
    return Checkpoint(origin, size, root)


def leaf_data(record_id: str, seq: int, event_digest: str) -> bytes:
    """The bytes of the leaf that logs event ``seq`` of ``record_id``."""
    return f"{LEAF_PREFIX} {record_id} {seq} {event_digest}\n".encode()


def parse_leaf(data: bytes) -> tuple[str, int, str] | None:
    """(record id, seq, event digest) of a leaf, or None when it is not an event leaf."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    match = _LEAF_RE.fullmatch(text)
    if match is None:
        return None
    return match.group(1), int(match.group(2)), match.group(3)


@dataclass(frozen=True)
class TlogProof:
    index: int
    path: tuple[bytes, ...]
    checkpoint: str  # the signed note, verbatim
    extra: bytes | None = None

    def encode(self) -> str:
        lines = [PROOF_HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode(h) for h in self.path)
        return "\n".join(lines) + "\n\n" + self.checkpoint


def parse_proof(data: bytes) -> TlogProof:
    """Read a tlog-proof file. Raises ``NoteError`` (unknown header, bad numbers, hashes not 32 bytes)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NoteError("the proof is not UTF-8") from None
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise NoteError("the proof has no checkpoint")
    lines = head.split("\n")
    if lines[0] != PROOF_HEADER:
        raise NoteError(f"not a {PROOF_HEADER} proof")
    pos = 1
    extra = None
    if pos < len(lines) and lines[pos].startswith("extra "):
        extra = b64decode_strict(lines[pos][len("extra ") :])
        pos += 1
    if pos >= len(lines) or not lines[pos].startswith("index "):
        raise NoteError("the proof has no index line")
    index = parse_decimal(lines[pos][len("index ") :])
    path = tuple(b64decode_strict(line, length=merkle.HASH_SIZE) for line in lines[pos + 1 :])
    if len(path) > merkle.MAX_PROOF_HASHES:
        raise NoteError("the proof has too many hashes")
    return TlogProof(index, path, checkpoint, extra)


def parse_hash_lines(data: bytes) -> list[bytes]:
    """A consistency proof as ``tlog prove`` prints it: one base64 hash a line."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise NoteError("the proof is not ASCII") from None
    lines = [line for line in text.split("\n") if line]
    if len(lines) > merkle.MAX_PROOF_HASHES:
        raise NoteError("the proof has too many hashes")
    return [b64decode_strict(line, length=merkle.HASH_SIZE) for line in lines]
