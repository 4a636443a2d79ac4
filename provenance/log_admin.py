"""What the keeper of an archive's transparency log and a partner's witness do, one call each: start the log,
read its newest checkpoint, prove consistency, attach cosignatures, timestamp a checkpoint; make a witness
and cosign a checkpoint. Each returns the JSON document the command line prints under ``--json``.

Formats: C2SP tlog-checkpoint, tlog-cosignature and tlog-witness; RFC 9162 (docs/security.md says how they are used).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.errors import ErrorCode, InputError, NotFoundError, UsageError, error
from provenance.model.timefmt import utc_now_or

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.model.keycard import KeyCard
    from provenance.signers import Passphrase
    from provenance.tlog.checkpoint import Checkpoint
    from provenance.tlog.store import LogStore

_STATUS_CODES = {404: "WITNESS_UNKNOWN_LOG", 403: "WITNESS_BAD_SIGNATURE", 409: "WITNESS_CONFLICT"}


def _passphrase(passphrase: Passphrase | None) -> Passphrase:
    from provenance.signers import Passphrase

    return passphrase or Passphrase()


def enable_log(
    archive: Archive,
    origin: str | None = None,
    *,
    passphrase: Passphrase | None = None,
    rounds: int | None = None,
    now: datetime | None = None,
) -> dict[str, object]:
    """Start the archive's log: make the log key (its passphrase ``$PROVENANCE_LOG_PASSPHRASE``, else
    ``passphrase``), log every existing event, sign the first checkpoint. An archive already logged is left
    as it is (no key made, no passphrase asked)."""
    from provenance import archive_log, keys

    origin = archive_log.check_origin(origin or archive_log.default_origin(archive))
    if archive_log.is_logged(archive):
        current = archive_log.store(archive).checkpoint()
        card = archive_log.log_card(archive)
        return {
            "origin": current.origin,
            "size": current.size,
            "created": False,
            "log_key": card.id if card else None,
            "note_verifier_key": card.note_verifier_key if card else None,
        }
    env = os.environ.get(archive_log.LOG_PASSPHRASE_ENV)
    secret = env.encode("utf-8") if env else _passphrase(passphrase).read("log key")
    card = archive_log.generate_log_key(archive, origin, secret, utc_now_or(now), rounds=rounds)
    result = archive_log.init_log(archive, keys.unlock(card, secret), origin)
    return {
        "origin": result.origin,
        "size": result.size,
        "created": result.created,
        "log_key": card.id,
        "note_verifier_key": card.note_verifier_key,
    }


def require_log(archive: Archive) -> None:
    """Raises ``NotFoundError(log.not-enabled)`` when the archive has no transparency log."""
    from provenance import archive_log

    if not archive_log.is_logged(archive):
        raise NotFoundError(ErrorCode.LOG_NOT_ENABLED, f"{archive.root} has no transparency log")


@contextlib.contextmanager
def _locked_log(archive: Archive) -> Iterator[LogStore]:
    """The archive's log with its lock held (a journalled append a killed command left is finished first).
    Raises ``NotFoundError(log.not-enabled)``."""
    from provenance import archive_log

    require_log(archive)
    log = archive_log.store(archive)
    with log.locked(archive_log.event_present(archive)):
        yield log


def _newest_checkpoint(archive: Archive) -> tuple[LogStore, str, Checkpoint]:
    """The log, its newest signed checkpoint's text and that checkpoint's body, read under the log lock."""
    with _locked_log(archive) as log:
        return log, log.checkpoint_text(), log.checkpoint()


def log_checkpoint(archive: Archive) -> dict[str, Any]:
    """The newest signed checkpoint: ``origin``, ``size`` and its ``checkpoint`` text."""
    _log, text, body = _newest_checkpoint(archive)
    return {"origin": body.origin, "size": body.size, "checkpoint": text}


def consistency_proof(archive: Archive, from_size: int, to_size: int | None = None) -> dict[str, Any]:
    """A consistency proof from tree size ``from_size`` to ``to_size`` (default: the newest), as base64
    hashes (RFC 9162 §2.1.4). Raises ``UsageError`` for sizes out of range, ``InputError(log.damaged)``."""
    from provenance.tlog import merkle
    from provenance.tlog.note import b64encode

    with _locked_log(archive) as log:
        size = log.checkpoint().size
        end = size if to_size is None else to_size
        if not 0 <= from_size <= end <= size:
            raise UsageError(
                ErrorCode.USAGE, f"need 0 <= from <= to <= {size} (the log's size)", param=["from", "to"]
            )
        try:
            proof = merkle.consistency_proof(log.tree(size), from_size, end)
        except (OSError, ValueError) as exc:
            raise InputError(ErrorCode.LOG_DAMAGED, f"the log's tiles do not read: {exc}") from None
    return {"from": from_size, "to": end, "proof": [b64encode(h) for h in proof]}


def add_cosignatures(archive: Archive, path: Path) -> dict[str, Any]:
    """Attach the witnesses' cosignature lines of the file ``path`` to the newest checkpoint; each must
    verify, as a tlog-cosignature/v1 of this checkpoint, against a witness key card in ``keys/``.
    Returns the names ``added`` and the ``checkpoint``. Raises ``InputError(log.input-invalid)``."""
    from provenance import fsio
    from provenance.keys import TrustStore
    from provenance.model.events import Role
    from provenance.tlog import note

    require_log(archive)
    try:
        text = fsio.read_limited(path, note.MAX_NOTE_BYTES, regular_only=False).decode("utf-8")
        added = note.parse("x\n\n" + "".join(line + "\n" for line in text.split("\n") if line.startswith("\u2014")))
    except (OSError, UnicodeDecodeError, note.NoteError) as exc:
        raise InputError(ErrorCode.LOG_INPUT_INVALID, f"{path}: no cosignature lines: {exc}") from None
    witnesses = [
        note.parse_verifier_key(c.note_verifier_key)
        for c in TrustStore.load(archive.keys_dir).cards.values()
        if Role.WITNESS in c.roles and c.note_verifier_key and c.revoked is None
    ]
    with _locked_log(archive) as log:
        current = note.parse(log.checkpoint_text())
        have = {(s.name, s.hash) for s in current.signatures}
        new = []
        for sig in added.signatures:
            if (sig.name, sig.hash) in have:
                continue
            try:
                note.verify(note.Note(current.text, (sig,)), witnesses)
            except note.NoteError as exc:
                raise InputError(
                    ErrorCode.LOG_INPUT_INVALID,
                    f"{path}: the cosignature of {sig.name} is not a known witness's cosignature of the newest "
                    f"checkpoint ({exc})",
                ) from None
            new.append(sig)
            have.add((sig.name, sig.hash))
        updated = note.Note(current.text, (*current.signatures, *new)).encode()
        try:
            # kept for good under log/cosigned/<size>: bundles carry them to bound when events were logged
            kept = log.cosigned_path(log.checkpoint().size)
            kept.parent.mkdir(parents=True, exist_ok=True)
            fsio.write_atomic(kept, updated.encode("utf-8"))
            fsio.write_atomic(log.checkpoint_path, updated.encode("utf-8"))
        except OSError as exc:
            raise fsio.storage_error("write", log.checkpoint_path, exc) from exc
    return {"added": [s.name for s in new], "checkpoint": updated}


def timestamp_checkpoint(archive: Archive, tsa: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """Ask the time-stamping authority ``tsa`` (RFC 3161 over HTTP) for a timestamp of the newest
    checkpoint, kept in ``log/timestamps/`` and shipped in bundles. Returns ``origin``, ``size``, ``time``."""
    from provenance import archive_log, fsio, timestamp
    from provenance.model.timefmt import format_utc

    log, text, body = _newest_checkpoint(archive)
    token, when = timestamp.request(tsa, body.body().encode("utf-8"), timeout=timeout)
    folder = log.log_dir / archive_log.TIMESTAMPS_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fsio.write_atomic(folder / str(body.size), text.encode("utf-8"))
        fsio.write_atomic(folder / f"{body.size}.tsr", token)
    except OSError as exc:
        raise fsio.storage_error("store the timestamp in", folder, exc) from exc
    return {"origin": body.origin, "size": body.size, "time": format_utc(when)}


# -- a partner's witness ------------------------------------------------------------------------------------


def witness_card(state: Path, *, required: bool = True) -> KeyCard | None:
    """The witness's key card in its folder ``state``. Raises ``NotFoundError(key.not-found)`` when there
    is none and ``required``."""
    from provenance.keys import TrustStore
    from provenance.model.events import Role

    cards = [c for c in TrustStore.load(state / "keys").cards.values() if Role.WITNESS in c.roles]
    if not cards:
        if required:
            raise NotFoundError(ErrorCode.KEY_NOT_FOUND, f"no witness key in {state}")
        return None
    return cards[0]


def witness_init(
    state: Path,
    *,
    name: str | None = None,
    logs: list[str] | None = None,
    kdf_rounds: int | None = None,
    passphrase: Passphrase | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Make the witness's key (role witness; its card in ``state/keys/`` for partners to import) when there
    is none, and register the logs it witnesses (their Ed25519 verifier keys). Returns ``witness``,
    ``note_verifier_key``, ``logs``."""
    from provenance import keys
    from provenance.archive import Archive
    from provenance.model.events import Role
    from provenance.tlog import note
    from provenance.tlog.witness import WitnessState

    folder = Archive(state.expanduser().absolute())
    card = witness_card(folder.root, required=False)
    if card is None:
        if not name:
            raise UsageError(ErrorCode.USAGE, "a new witness needs a name", param="name")
        secret = _passphrase(passphrase).read("witness key", confirm=True)
        try:
            folder.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from provenance.fsio import storage_error

            raise storage_error("create the witness folder", folder.root, exc) from exc
        card = keys.generate_key(
            folder, name=name, roles=[Role.WITNESS], passphrase=secret, now=utc_now_or(now), rounds=kdf_rounds
        )
    ws = WitnessState(folder.root)
    for text in logs or []:
        try:
            verifier = note.parse_verifier_key(text.strip())
        except note.NoteError as exc:
            raise UsageError(ErrorCode.USAGE, f"a log's verifier key: {exc}", param="log") from None
        if verifier.key_type != note.TYPE_ED25519:
            raise UsageError(ErrorCode.USAGE, "a log's verifier key must be Ed25519 (type 0x01)", param="log")
        ws.add_log(verifier)
    return {"witness": card.id, "note_verifier_key": card.note_verifier_key, "logs": [v.encode() for v in ws.logs()]}


def witness_cosign(
    state: Path, request: Path, *, passphrase: Passphrase | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Check the add-checkpoint ``request`` is consistent with the last checkpoint this witness cosigned for
    its log, store it (before answering), and return the ``cosignature`` line (tlog-cosignature/v1,
    Ed25519, timestamped) with ``origin`` and ``size``. A refusal carries the HTTP status the C2SP
    tlog-witness protocol gives it (witness.*, log.input-invalid)."""
    from provenance import fsio, keys
    from provenance.tlog import note
    from provenance.tlog.witness import MAX_REQUEST_BYTES, WitnessError, WitnessState, check, parse_request

    root = state.expanduser().absolute()
    card = witness_card(root)
    assert card is not None
    try:
        body = fsio.read_limited(request, MAX_REQUEST_BYTES, regular_only=False)
    except OSError as exc:
        raise InputError(ErrorCode.INPUT_UNREADABLE, f"cannot read {request}: {exc.strerror}") from None
    secret = keys.unlock(card, _passphrase(passphrase).read(f"witness key {card.name}"))
    ws = WitnessState(root)
    with fsio.exclusive_lock(root / "witness.lock", what="witness"):
        try:
            req = parse_request(body)
            current = ws.load()
            checkpoint = check(req, ws.logs(), current)
        except WitnessError as exc:
            code = ErrorCode[_STATUS_CODES.get(exc.status, "WITNESS_BAD_PROOF")]
            if exc.status == 400:
                code = ErrorCode.LOG_INPUT_INVALID
            raise error(code, f"{request}: {exc} (HTTP {exc.status})", status=exc.status, size=exc.size) from None
        current[checkpoint.origin] = (checkpoint.size, checkpoint.root)
        try:
            ws.store(current)  # persist before answering
        except OSError as exc:
            raise fsio.storage_error("store the witness state in", ws.state_path, exc) from exc
    line = note.cosign(checkpoint.body(), card.name, secret, int(utc_now_or(now).timestamp())).line()
    return {"origin": checkpoint.origin, "size": checkpoint.size, "cosignature": line}
