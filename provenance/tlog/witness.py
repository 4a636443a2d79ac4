"""A witness (``c2sp.org/tlog-witness`` v1.0.0, add-checkpoint), as pure functions plus its state file.

The request body: ``old <size>\\n``, 0-63 base64 consistency-proof lines, a blank line, the signed
checkpoint. The witness answers with the HTTP statuses of the spec, kept here as the ``status`` of a
:class:`WitnessError`: 404 unknown origin, 403 no valid log signature, 400 old > size, 409 old is not the
size it last cosigned (the answer then carries that size), 422 bad proof or a same-size checkpoint with
another root. ``old 0`` needs no proof (an empty tree is a prefix of every tree).

:class:`WitnessState` keeps, per origin, the last size and root cosigned, in one JSON file written
atomically *before* the cosignature is printed: a witness killed after answering cannot be rolled back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from provenance import fsio
from provenance.tlog import merkle, note
from provenance.tlog.checkpoint import Checkpoint, parse_body, parse_decimal

MAX_REQUEST_BYTES = 1 << 20
MAX_PROOF_LINES = 63


class WitnessError(ValueError):
    def __init__(self, status: int, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.size = size


@dataclass(frozen=True)
class Request:
    old: int
    proof: tuple[bytes, ...]
    checkpoint: str  # the signed note


def parse_request(data: bytes) -> Request:
    """Read an add-checkpoint body; ``WitnessError(400)`` when it is malformed."""
    try:
        text = data.decode("utf-8")
        head, sep, signed = text.partition("\n\n")
        if not sep:
            raise note.NoteError("no blank line before the checkpoint")
        lines = head.split("\n")
        if not lines[0].startswith("old "):
            raise note.NoteError("the body starts with 'old <size>'")
        old = parse_decimal(lines[0][4:])
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise note.NoteError("more than 63 proof lines")
        proof = tuple(note.b64decode_strict(x, length=merkle.HASH_SIZE) for x in lines[1:])
    except (UnicodeDecodeError, note.NoteError) as exc:
        raise WitnessError(400, f"malformed add-checkpoint request: {exc}") from None
    return Request(old, proof, signed)


def check(request: Request, logs: list[note.Verifier], state: dict[str, tuple[int, bytes]]) -> Checkpoint:
    """Judge a request against the known logs and the stored state; the new checkpoint when it is to be
    cosigned. Raises ``WitnessError`` with the spec's status."""
    try:
        signed = note.parse(request.checkpoint)
        checkpoint = parse_body(signed.text)
    except note.NoteError as exc:
        raise WitnessError(400, f"malformed checkpoint: {exc}") from None
    known = [v for v in logs if v.name == checkpoint.origin and v.key_type == note.TYPE_ED25519]
    if not known:
        raise WitnessError(404, f"unknown log origin {checkpoint.origin[:80]!r}")
    try:
        note.verify(signed, known)
    except note.NoteError as exc:
        raise WitnessError(403, f"the checkpoint is not signed by the log: {exc}") from None
    if request.old > checkpoint.size:
        raise WitnessError(400, f"old size {request.old} is larger than the checkpoint's {checkpoint.size}")
    last_size, last_root = state.get(checkpoint.origin, (0, merkle.EMPTY_ROOT))
    if request.old != last_size:
        raise WitnessError(409, f"the last size cosigned is {last_size}, not {request.old}", size=last_size)
    if request.old == 0:
        if request.proof:
            raise WitnessError(422, "old 0 takes an empty proof")
    elif request.old == checkpoint.size:
        if request.proof or checkpoint.root != last_root:
            raise WitnessError(422, "same size as the last cosigned checkpoint, another root: a fork")
    elif not merkle.verify_consistency(request.old, checkpoint.size, last_root, checkpoint.root, request.proof):
        raise WitnessError(422, "the consistency proof does not verify: a fork or a bad proof")
    return checkpoint


class WitnessState:
    """``<dir>/state.json``: origin → (size, base64 root) last cosigned; ``<dir>/logs``: verifier keys."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def state_path(self) -> Path:
        return self.folder / "state.json"

    @property
    def logs_path(self) -> Path:
        return self.folder / "logs"

    def logs(self) -> list[note.Verifier]:
        try:
            text = self.logs_path.read_text("utf-8")
        except FileNotFoundError:
            return []
        return [note.parse_verifier_key(line) for line in text.split("\n") if line.strip()]

    def add_log(self, verifier: note.Verifier) -> None:
        keys = [v.encode() for v in self.logs()]
        if verifier.encode() not in keys:
            keys.append(verifier.encode())
        self.folder.mkdir(parents=True, exist_ok=True)
        fsio.write_atomic(self.logs_path, ("\n".join(keys) + "\n").encode("utf-8"))

    def load(self) -> dict[str, tuple[int, bytes]]:
        try:
            raw = json.loads(self.state_path.read_bytes())
        except FileNotFoundError:
            return {}
        return {origin: (int(v["size"]), note.b64decode_strict(v["root"], length=32)) for origin, v in raw.items()}

    def store(self, state: dict[str, tuple[int, bytes]]) -> None:
        doc = {o: {"size": s, "root": note.b64encode(r)} for o, (s, r) in sorted(state.items())}
        self.folder.mkdir(parents=True, exist_ok=True)
        fsio.write_atomic(self.state_path, json.dumps(doc, indent=1).encode("utf-8"))
