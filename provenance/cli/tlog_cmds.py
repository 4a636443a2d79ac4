"""``provenance tlog …`` (the archive's transparency log) and ``provenance witness …`` (a partner's witness)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, PassFileOpt, emit, now, open_archive

if TYPE_CHECKING:
    from provenance import Archive

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
    from provenance.cli.common import passphrase_source
    from provenance.transparency import enable_log as start_log

    return start_log(archive, origin, passphrase=passphrase_source(passphrase_file), rounds=rounds, now=now())


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
    state = "logged" if doc["created"] else "already logged"
    emit(doc, json_out, f"{state}: {doc['origin']}, {doc['size']} leaves; log key {doc['note_verifier_key']}\n")


@tlog_app.command("checkpoint")
def tlog_checkpoint(archive: ArchiveOpt = None, json_out: JsonOpt = False) -> None:
    """Print the newest signed checkpoint (C2SP tlog-checkpoint).

    Example: provenance tlog checkpoint > checkpoint-$(date +%F)
    """
    from provenance.transparency import log_checkpoint

    doc = log_checkpoint(open_archive(archive))
    emit(doc, json_out, doc["checkpoint"])


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
    from provenance.transparency import consistency_proof

    doc = consistency_proof(open_archive(archive), from_size, to_size)
    emit(doc, json_out, "".join(line + "\n" for line in doc["proof"]))


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
    from provenance.transparency import add_cosignatures

    doc = add_cosignatures(open_archive(archive), add)
    emit(doc, json_out, f"added {len(doc['added'])} cosignature(s)\n")


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
    from provenance.transparency import timestamp_checkpoint

    doc = timestamp_checkpoint(open_archive(archive), tsa, timeout=timeout)
    emit(doc, json_out, f"{doc['origin']} at size {doc['size']} existed at {doc['time']} (RFC 3161, {tsa})\n")


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
    from provenance.cli.common import passphrase_source
    from provenance.transparency import witness_init as make_witness

    doc = make_witness(
        state, name=name, logs=log, kdf_rounds=kdf_rounds, passphrase=passphrase_source(passphrase_file), now=now()
    )
    emit(doc, json_out, f"{doc['note_verifier_key']}\n")


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
    from provenance.cli.common import passphrase_source
    from provenance.transparency import witness_cosign as cosign

    doc = cosign(state, request, passphrase=passphrase_source(passphrase_file), now=now())
    emit(doc, json_out, doc["cosignature"])
