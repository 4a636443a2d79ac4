"""Reading and writing manifests, and the bytes that are signed and digested.

One place decides the signed bytes (python-tuf's habit): an event's signature covers the RFC 8785
canonical JSON of exactly ``SIGNED_EVENT_FIELDS``, prefixed with ``EVENT_SIGNING_CONTEXT``; a state's
digest is the SHA-256 of its canonical JSON; an event's digest (what the next event chains to) is the
SHA-256 of the canonical JSON of the whole event, signature included.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from provenance.canonical import StrictJSONError, canonical_bytes, loads_strict, pretty_string
from provenance.errors import ErrorCode, InputError, validation_detail
from provenance.model.manifest import EVENT_SIGNING_CONTEXT, Event, Manifest, State

MAX_MANIFEST_BYTES = 64 * 1024 * 1024


def digest_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def state_canonical(state: State | dict[str, Any], *, parsed: bool = False) -> bytes:
    """Canonical bytes of a state (what a snapshot object holds and what is digested).

    ``parsed``: a dict as :func:`provenance.canonical.loads_strict` returned it (see ``canonical_bytes``).
    """
    if isinstance(state, State):
        return canonical_bytes(state.as_json())
    return canonical_bytes(state, parsed=parsed)


def state_digest(state: State | dict[str, Any], *, parsed: bool = False) -> str:
    return digest_bytes(state_canonical(state, parsed=parsed))


def event_signing_bytes(fields: dict[str, Any], *, parsed: bool = False) -> bytes:
    """Context string + RFC 8785 canonical JSON of the signed fields (RFC 8032 signs these bytes)."""
    return EVENT_SIGNING_CONTEXT + canonical_bytes(fields, parsed=parsed)


def event_digest(event: Event | dict[str, Any], *, parsed: bool = False) -> str:
    """Digest of a whole event, signature included: what the next event's ``previous_digest`` holds."""
    if isinstance(event, Event):
        return digest_bytes(canonical_bytes(event.model_dump(mode="json")))
    return digest_bytes(canonical_bytes(event, parsed=parsed))


def manifest_bytes(manifest: Manifest) -> bytes:
    """The manifest as it is written to disk: readable, UTF-8, one trailing newline.

    Exactly :func:`provenance.canonical.dumps_pretty` of :meth:`Manifest.as_json` (indent 2, ``": "`` after
    a name, non-ASCII as UTF-8, json's escapes; a property test holds the two equal), written by
    pydantic-core's JSON serializer (``model_dump_json(indent=2)``, a documented call) rather than walked in
    Python: five times faster, and every verification writes it again to compare with what it read. The
    state leaves unset fields out and an event writes each of its fields, as ``as_json`` does, so the two
    are serialized apart and joined here; a written JSON string never holds a raw newline, so indenting a
    part one level deeper is a replacement of its newlines.
    """
    state = manifest.state.model_dump_json(indent=2, exclude_none=True).replace("\n", "\n  ")
    if manifest.events:
        events = ",\n    ".join(e.model_dump_json(indent=2).replace("\n", "\n    ") for e in manifest.events)
        events = "[\n    " + events + "\n  ]"
    else:
        events = "[]"
    text = (
        '{\n  "format": ' + pretty_string(manifest.format) + ',\n  "record": ' + pretty_string(manifest.record)
        + ',\n  "state": ' + state + ',\n  "events": ' + events + "\n}\n"
    )
    return text.encode("utf-8")



def writable_manifest_bytes(manifest: Manifest) -> bytes:
    """:func:`manifest_bytes`, refused when larger than a verifier reads (``MAX_MANIFEST_BYTES``): a writer
    must never make a record its own verifier calls malformed. Raises ``InputError(record.too-large)``."""
    data = manifest_bytes(manifest)
    if len(data) > MAX_MANIFEST_BYTES:
        raise InputError(
            ErrorCode.RECORD_TOO_LARGE,
            f"record {manifest.record}: its manifest would be {len(data):,} bytes, more than the "
            f"{MAX_MANIFEST_BYTES:,} a verifier reads; nothing was written",
            record=manifest.record,
        )
    return data


def parse_manifest(data: bytes, *, source: str) -> Manifest:
    """Strictly parse and validate manifest bytes.

    Raises ``InputError(record.corrupt)`` naming the source and the first problem; a verifier uses
    :mod:`provenance.verify` instead, which reports every problem with its own code.
    """
    try:
        raw = loads_strict(data, max_bytes=MAX_MANIFEST_BYTES)
        return Manifest.model_validate(raw)
    except StrictJSONError as exc:
        raise InputError(ErrorCode.RECORD_CORRUPT, f"{source}: {exc}") from exc
    except ValidationError as exc:
        where, msg = validation_detail(exc)
        raise InputError(
            ErrorCode.RECORD_CORRUPT, f"{source}: field {where}: {msg}"
        ) from exc


def read_manifest(record_dir: Path) -> Manifest:
    """The manifest of a record folder (strict). Raises ``InputError(record.corrupt)``."""
    path = record_dir / "manifest.json"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(ErrorCode.RECORD_CORRUPT, f"cannot read {path}: {exc.strerror}") from exc
    return parse_manifest(data, source=str(path))
