"""``provenance tlog …`` (the archive's transparency log) and ``provenance witness …`` (a partner's witness)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, PassFileOpt, emit_json, now, open_archive

if TYPE_CHECKING:
    from provenance.archive import Archive

tlog_app = typer.Typer(
    help="The archive's transparency log: checkpoints, consistency proofs, cosignatures.\n\n"
    "Example: provenance tlog checkpoint",
    no_args_is_help=True,
    rich_markup_mode=None,
)
witness_app = typer.Typer(
    help="A witness for a partner's log: checks each checkpoint is consistent with the last one it saw, "
    "then cosigns it.\n\nExample: provenance witness cosign request.txt --state ~/witness",
    no_args_is_help=True,
    rich_markup_mode=None,
)

KdfOpt = Annotated[
    int | None, typer.Option("--kdf-rounds", help="bcrypt rounds protecting a new private key (default 100).")
]
StateOpt = Annotated[
    Path, typer.Option("--state", help="The witness's folder: its key card, known logs and state.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(tlog_app, name="tlog")
    app.add_typer(witness_app, name="witness")


def enable_log(
    archive: Archive, origin: str | None, passphrase_file: Path | None, rounds: int | None = None
) -> dict[str, object]:
    """Make the log key when there is none, then backfill every event and sign the first checkpoint."""
    import os

    from provenance import archive_log, keys
    from provenance.cli.common import read_passphrase

    origin = archive_log.check_origin(origin or archive_log.default_origin(archive))
    if archive_log.is_logged(archive):  # left as it is: no key is made, no passphrase asked
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
    passphrase = env.encode("utf-8") if env else read_passphrase(passphrase_file, what="log key")
    card = archive_log.generate_log_key(archive, origin, passphrase, now(), rounds=rounds)
    secret = keys.unlock(card, passphrase)
    result = archive_log.init_log(archive, secret, origin)
    return {
        "origin": result.origin,
        "size": result.size,
        "created": result.created,
        "log_key": card.id,
        "note_verifier_key": card.note_verifier_key,
    }


@tlog_app.command("init")
def tlog_init(
    origin: Annotated[
        str | None, typer.Option("--origin", help="The log's origin (default: provenance.local/<folder>).")
    ] = None,
    kdf_rounds: KdfOpt = None,
    archive: ArchiveOpt = None,
    passphrase_file: PassFileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Start the archive's log: make the log key, log every existing event (by time, record, seq), sign
    the first checkpoint. An archive already logged is left as it is.

    Example: provenance tlog init --origin archive.example.org/korea-1951
    """
    doc = enable_log(open_archive(archive), origin, passphrase_file, kdf_rounds)
    if json_out:
        emit_json(doc)
    else:
        state = "logged" if doc["created"] else "already logged"
        print(f"{state}: {doc['origin']}, {doc['size']} leaves; log key {doc['note_verifier_key']}")


def _logged(archive: Archive) -> None:
    from provenance import archive_log
    from provenance.errors import ErrorCode, NotFoundError

    if not archive_log.is_logged(archive):
        raise NotFoundError(
            ErrorCode.LOG_NOT_ENABLED, f"{archive.root} has no transparency log; run 'provenance tlog init'"
        )


@tlog_app.command("checkpoint")
def tlog_checkpoint(archive: ArchiveOpt = None, json_out: JsonOpt = False) -> None:
    """Print the newest signed checkpoint (C2SP tlog-checkpoint).

    Example: provenance tlog checkpoint > checkpoint-$(date +%F)
    """
    from provenance import archive_log

    arch = open_archive(archive)
    _logged(arch)
    log = archive_log.store(arch)
    with log.locked(archive_log.event_present(arch)):
        text = log.checkpoint_text()
        body = log.checkpoint()
    if json_out:
        emit_json({"origin": body.origin, "size": body.size, "checkpoint": text})
    else:
        print(text, end="")


@tlog_app.command("prove")
def tlog_prove(
    from_size: Annotated[int, typer.Option("--from", help="The older tree size.")],
    to_size: Annotated[int | None, typer.Option("--to", help="The newer tree size (default: the newest).")] = None,
    archive: ArchiveOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print a consistency proof from tree size --from to --to, one base64 hash a line (RFC 9162 §2.1.4).

    Example: provenance tlog prove --from 120 > proof.txt
    """
    from provenance import archive_log
    from provenance.errors import ErrorCode, InputError, UsageError
    from provenance.tlog import merkle
    from provenance.tlog.note import b64encode

    arch = open_archive(archive)
    _logged(arch)
    log = archive_log.store(arch)
    with log.locked(archive_log.event_present(arch)):
        size = log.checkpoint().size
        end = size if to_size is None else to_size
        if not 0 <= from_size <= end <= size:
            raise UsageError(ErrorCode.USAGE, f"need 0 <= --from <= --to <= {size} (the log's size)")
        try:
            proof = merkle.consistency_proof(log.tree(size), from_size, end)
        except (OSError, ValueError) as exc:
            raise InputError(ErrorCode.LOG_DAMAGED, f"the log's tiles do not read: {exc}") from None
    lines = [b64encode(h) for h in proof]
    if json_out:
        emit_json({"from": from_size, "to": end, "proof": lines})
    else:
        print("".join(line + "\n" for line in lines), end="")


@tlog_app.command("cosign")
def tlog_cosign(
    add: Annotated[Path, typer.Option("--add", help="A file of cosignature lines from a witness.")],
    archive: ArchiveOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Attach witnesses' cosignature lines to the newest checkpoint. Each line must verify, as a
    tlog-cosignature/v1 of this checkpoint, against a witness key card in keys/.

    Example: provenance tlog cosign --add cosignature.txt
    """
    from provenance import archive_log, fsio
    from provenance.errors import ErrorCode, InputError
    from provenance.keys import TrustStore
    from provenance.model.events import Role
    from provenance.tlog import note

    arch = open_archive(archive)
    _logged(arch)
    try:
        text = fsio.read_limited(add, note.MAX_NOTE_BYTES, regular_only=False).decode("utf-8")
        added = note.parse("x\n\n" + "".join(line + "\n" for line in text.split("\n") if line.startswith("\u2014")))
    except (OSError, UnicodeDecodeError, note.NoteError) as exc:
        raise InputError(ErrorCode.LOG_INPUT_INVALID, f"{add}: no cosignature lines: {exc}") from None
    witnesses = [
        note.parse_verifier_key(c.note_verifier_key)
        for c in TrustStore.load(arch.keys_dir).cards.values()
        if Role.WITNESS in c.roles and c.note_verifier_key and c.revoked is None
    ]
    log = archive_log.store(arch)
    with log.locked(archive_log.event_present(arch)):
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
                    f"{add}: the cosignature of {sig.name} is not a known witness's cosignature of the newest "
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
    if json_out:
        emit_json({"added": [s.name for s in new], "checkpoint": updated})
    else:
        print(f"added {len(new)} cosignature(s)")


@tlog_app.command("timestamp")
def tlog_timestamp(
    tsa: Annotated[str, typer.Option("--tsa", help="The time-stamping authority's address (RFC 3161 over HTTP).")],
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for the TSA.")] = 30.0,
    archive: ArchiveOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Get an RFC 3161 timestamp of the newest checkpoint; kept in log/timestamps/ and shipped in bundles,
    it bounds when every event below that size was logged (needs the 'timestamp' extra).

    Example: provenance tlog timestamp --tsa http://timestamp.example.org/tsr
    """
    from provenance import archive_log, fsio, timestamp

    arch = open_archive(archive)
    _logged(arch)
    log = archive_log.store(arch)
    with log.locked(archive_log.event_present(arch)):
        text = log.checkpoint_text()
        body = log.checkpoint()
    token, when = timestamp.request(tsa, body.body().encode("utf-8"), timeout=timeout)
    folder = log.log_dir / archive_log.TIMESTAMPS_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fsio.write_atomic(folder / str(body.size), text.encode("utf-8"))
        fsio.write_atomic(folder / f"{body.size}.tsr", token)
    except OSError as exc:
        raise fsio.storage_error("store the timestamp in", folder, exc) from exc
    from provenance.model.timefmt import format_utc

    if json_out:
        emit_json({"origin": body.origin, "size": body.size, "time": format_utc(when)})
    else:
        print(f"{body.origin} at size {body.size} existed at {format_utc(when)} (RFC 3161, {tsa})")


# -- witness -------------------------------------------------------------------------------------------


@witness_app.command("init")
def witness_init(
    state: StateOpt,
    name: Annotated[str | None, typer.Option("--name", help="The witness's key name (no spaces).")] = None,
    log: Annotated[
        list[str] | None,
        typer.Option("--log", help="A log's verifier key (its card's note_verifier_key). Repeat for several."),
    ] = None,
    kdf_rounds: KdfOpt = None,
    passphrase_file: PassFileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make the witness's key (role witness; its card goes to STATE/keys/ for partners to import) and
    register the logs it witnesses. Run again with --log to add a log.

    Example: provenance witness init --state ~/witness --name witness.example.org --log "$(cat logkey)"
    """
    from provenance import keys
    from provenance.archive import Archive
    from provenance.cli.common import read_passphrase
    from provenance.errors import ErrorCode, UsageError
    from provenance.model.events import Role
    from provenance.tlog import note
    from provenance.tlog.witness import WitnessState

    folder = Archive(state.expanduser().absolute())
    card = _witness_card(folder, required=False)
    if card is None:
        if not name:
            raise UsageError(ErrorCode.USAGE, "a new witness needs --name")
        passphrase = read_passphrase(passphrase_file, confirm=True, what="witness key")
        try:
            folder.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from provenance.fsio import storage_error

            raise storage_error("create the witness folder", folder.root, exc) from exc
        card = keys.generate_key(
            folder, name=name, roles=[Role.WITNESS], passphrase=passphrase, now=now(), rounds=kdf_rounds
        )
    ws = WitnessState(folder.root)
    for text in log or []:
        try:
            verifier = note.parse_verifier_key(text.strip())
        except note.NoteError as exc:
            raise UsageError(ErrorCode.USAGE, f"--log: {exc}") from None
        if verifier.key_type != note.TYPE_ED25519:
            raise UsageError(ErrorCode.USAGE, "--log takes a log's Ed25519 (type 0x01) verifier key")
        ws.add_log(verifier)
    doc = {"witness": card.id, "note_verifier_key": card.note_verifier_key, "logs": [v.encode() for v in ws.logs()]}
    if json_out:
        emit_json(doc)
    else:
        print(card.note_verifier_key)


def _witness_card(folder: Archive, *, required: bool = True):  # type: ignore[no-untyped-def]
    from provenance.errors import ErrorCode, NotFoundError
    from provenance.keys import TrustStore
    from provenance.model.events import Role

    cards = [c for c in TrustStore.load(folder.keys_dir).cards.values() if Role.WITNESS in c.roles]
    if not cards:
        if required:
            raise NotFoundError(
                ErrorCode.KEY_NOT_FOUND, f"no witness key in {folder.root}; run 'provenance witness init'"
            )
        return None
    return cards[0]


_STATUS_CODES = {404: "WITNESS_UNKNOWN_LOG", 403: "WITNESS_BAD_SIGNATURE", 409: "WITNESS_CONFLICT"}


@witness_app.command("cosign")
def witness_cosign(
    request: Annotated[Path, typer.Argument(help="A C2SP tlog-witness add-checkpoint request body.")],
    state: StateOpt,
    passphrase_file: PassFileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a checkpoint is consistent with the last one this witness cosigned for its log, store it
    (before answering), and print a tlog-cosignature/v1 line (Ed25519, type 0x04, timestamped).

    Example: provenance witness cosign request.txt --state ~/witness > cosignature.txt
    """
    from provenance import fsio, keys
    from provenance.archive import Archive
    from provenance.cli.common import read_passphrase
    from provenance.errors import ErrorCode, InputError, error
    from provenance.tlog import note
    from provenance.tlog.witness import MAX_REQUEST_BYTES, WitnessError, WitnessState, check, parse_request

    folder = Archive(state.expanduser().absolute())
    card = _witness_card(folder)
    try:
        body = fsio.read_limited(request, MAX_REQUEST_BYTES, regular_only=False)
    except OSError as exc:
        raise InputError(ErrorCode.INPUT_UNREADABLE, f"cannot read {request}: {exc.strerror}") from None
    secret = keys.unlock(card, read_passphrase(passphrase_file, what=f"witness key {card.name}"))
    ws = WitnessState(folder.root)
    with fsio.exclusive_lock(folder.root / "witness.lock", what="witness"):
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
    timestamp = int(now().timestamp())
    line = note.cosign(checkpoint.body(), card.name, secret, timestamp).line()
    if json_out:
        emit_json({"origin": checkpoint.origin, "size": checkpoint.size, "cosignature": line})
    else:
        print(line, end="")
