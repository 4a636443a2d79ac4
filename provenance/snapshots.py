"""A stored state snapshot, read one way: the object whose SHA-256 is an event's signed state digest.

Every event signs ``state_digest`` = ``sha256:`` + SHA-256 of the canonical state (RFC 8785); the record keeps
those bytes as ``objects/sha256/<hex>``. Reading one means: find the object, hash the bytes received (a
damaged snapshot is refused, never shown as history), then parse them strictly into a :class:`State`.
``state_at`` (``show --version``), the BagIt export, the preservation exports and the mismatch explanation
all read snapshots through :func:`read_snapshot`; each turns a :class:`SnapshotError` into its own message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from provenance.canonical import loads_strict
from provenance.model.manifest import Event, State

Reason = Literal["not stored", "damaged", "cannot be read"]


@dataclass(frozen=True)
class Snapshot:
    """A snapshot whose bytes hash to its event's state digest: the bytes, the parsed JSON and the model."""

    data: bytes
    raw: dict[str, Any]
    state: State


class SnapshotError(ValueError):
    """The snapshot of version ``seq`` cannot be used; ``str()`` says why in words, ``reason`` in a word."""

    def __init__(self, seq: int, reason: Reason, path: Path) -> None:
        self.seq = seq
        self.reason: Reason = reason
        self.path = path
        verb = "cannot be read" if reason == "cannot be read" else f"is {reason}"
        super().__init__(f"the state snapshot of version {seq} {verb}")


def snapshot_hex(event: Event) -> str:
    """The hex SHA-256 an event's state snapshot is stored under (its ``state_digest`` without ``sha256:``)."""
    return event.state_digest.split(":", 1)[1]


def read_snapshot(places: Path | Sequence[Path], event: Event, *, max_bytes: int | None = None) -> Snapshot:
    """The snapshot of ``event`` from the first folder of ``places`` that holds it intact.

    ``places`` is an objects folder (``<record>/objects/sha256``) or several, tried in order; with
    ``max_bytes``, a larger object (or one that is not a regular file) counts as not stored. Raises
    :class:`SnapshotError`: ``not stored`` (in no folder, or unreadable), ``damaged`` (no copy hashes to the
    digest) or ``cannot be read`` (the intact bytes are not a state).
    """
    folders = [places] if isinstance(places, Path) else list(places)
    hex_digest = snapshot_hex(event)
    reason: Reason = "not stored"
    path = folders[0] / hex_digest if folders else Path(hex_digest)
    for folder in folders:
        path = folder / hex_digest
        try:
            if max_bytes is not None and (not path.is_file() or path.stat().st_size > max_bytes):
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() != hex_digest:
            reason = "damaged"
            continue
        try:
            raw = loads_strict(data)
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            return Snapshot(data=data, raw=raw, state=State.model_validate(raw))
        except ValueError as exc:  # StrictJSONError and pydantic's ValidationError are ValueErrors
            raise SnapshotError(event.seq, "cannot be read", path) from exc
    raise SnapshotError(event.seq, reason, path)
