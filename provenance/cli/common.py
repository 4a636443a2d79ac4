"""What every command shares: the archive option, the clock, passphrases, JSON and text output."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

# re-exported: every command module takes its output helpers from here
from provenance.cli.output import console as console
from provenance.cli.output import emit_json as emit_json
from provenance.cli.output import json_safe as json_safe
from provenance.cli.output import now as now
from provenance.cli.output import printable as printable
from provenance.cli.output import table_box as table_box

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.history import Signer
    from provenance.model.events import EventType, Role
    from provenance.signing import SigningKey

ArchiveOpt = Annotated[
    Path | None,
    typer.Option(
        "--archive",
        "-A",
        help="Archive folder (default: $PROVENANCE_ARCHIVE, else the current folder).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
KeyOpt = Annotated[
    str | None,
    typer.Option(
        "--key", "-k", help="Signing key: id, shortened id or name (default: configured, else the only one)."
    ),
]
PassFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="Read the key's passphrase from this file (else $PROVENANCE_PASSPHRASE, else a prompt).",
    ),
]
MAX_PASSPHRASE_BYTES = 4096

RoleOpt = Annotated[
    str | None, typer.Option("--role", help="Sign in this role of the key (default: the first one allowed).")
]


def open_archive(path: Path | None) -> Archive:
    from provenance.archive import Archive

    return Archive.locate(path)


def read_passphrase(passphrase_file: Path | None, *, confirm: bool = False, what: str = "key") -> bytes:
    """The passphrase: ``--passphrase-file``, else ``$PROVENANCE_PASSPHRASE``, else a prompt on a terminal.

    Raises ``KeyStoreError(key.passphrase-missing)`` when none can be had. The passphrase is never echoed.
    """
    from provenance.errors import ErrorCode, KeyStoreError, NotFoundError

    if passphrase_file is not None:
        from provenance.fsio import read_limited

        try:
            # Bounded: --passphrase-file /dev/zero must not read forever; pipes (<(…)) are fine.
            data = read_limited(passphrase_file, MAX_PASSPHRASE_BYTES, regular_only=False)
        except OSError as exc:
            code = ErrorCode.INPUT_NOT_FOUND if isinstance(exc, FileNotFoundError) else ErrorCode.INPUT_UNREADABLE
            raise NotFoundError(code, f"cannot read passphrase file {passphrase_file}: {exc.strerror}") from exc
        return data.rstrip(b"\r\n")
    env = os.environ.get("PROVENANCE_PASSPHRASE")
    if env:
        return env.encode("utf-8")
    if not sys.stdin.isatty():
        raise KeyStoreError(
            ErrorCode.KEY_PASSPHRASE_MISSING,
            "no passphrase: give --passphrase-file or set PROVENANCE_PASSPHRASE (no terminal to prompt on)",
        )
    import getpass

    try:
        first = getpass.getpass(f"Passphrase for the {what}: ")
        again = getpass.getpass("Repeat the passphrase: ") if confirm else first
    except KeyboardInterrupt:
        sys.stderr.write("\n")  # Ctrl-C at the prompt: the one line that follows starts a line of its own
        raise
    if again != first:
        raise KeyStoreError(ErrorCode.KEY_PASSPHRASE_WRONG, "the two passphrases differ; nothing was written")
    return first.encode("utf-8")


def load_signer(
    archive: Archive, event_type: EventType, key: str | None, passphrase_file: Path | None, role: str | None
) -> Signer:
    """Choose the key, check its role and validity *before* asking for the passphrase; the key is unlocked
    when the first event is signed, after the command has checked its input (issue 14: quote found, id
    free, revision differs, metadata valid: all refused before any prompt)."""
    from provenance import keys
    from provenance.history import Signer, check_key_usable, choose_role

    policy = archive.config().policy
    card = keys.select_card(archive, key, allowed=policy.get(event_type, frozenset()))
    wanted = parse_role(role) if role is not None else None
    chosen = choose_role(card, event_type, policy, wanted)
    check_key_usable(card, now())
    from provenance.agent import agent_key_for  # i11-collections: a running agent signs without a passphrase

    held = agent_key_for(card) if passphrase_file is None else None
    if held is not None:  # the log key then needs $PROVENANCE_LOG_PASSPHRASE (issue 10)
        return Signer(card=card, key=cast("SigningKey", held), role=chosen, log_key=_log_key(archive, None))
    keys.check_private_key(card)  # an unsafe or missing key file is refused before the passphrase prompt
    # issue 14: the passphrase is asked when the first event is signed, after the command checked its input;
    # the log key (issue 10), unlocked with that passphrase, is set on the signer then (before any commit)
    lazy = KeyOnFirstUse(card, passphrase_file, archive)
    signer = Signer(card=card, key=cast("SigningKey", lazy), role=chosen)
    lazy.signer = signer
    return signer


class KeyOnFirstUse:
    """A signing key that asks for its passphrase and unlocks when it first signs (then stays unlocked).

    Unlocking also unlocks a logged archive's log key and sets it on the signer: every writer signs its
    event before it commits, so the log key is there when the commit needs it.
    """

    def __init__(self, card: Any, passphrase_file: Path | None, archive: Archive) -> None:
        self.card = card
        self.passphrase_file = passphrase_file
        self.archive = archive
        self.signer: Signer | None = None
        self.unlocked: Any = None

    def unlock_now(self) -> None:
        from provenance import keys

        if self.unlocked is None:
            passphrase = read_passphrase(self.passphrase_file, what=f"key of {self.card.name}")
            unlocked = keys.unlock(self.card, passphrase)
            log_key = _log_key(self.archive, passphrase)
            if self.signer is not None:
                object.__setattr__(self.signer, "log_key", log_key)  # the signer is frozen; set once, here
            self.unlocked = unlocked

    def sign(self, message: bytes) -> bytes:
        self.unlock_now()
        signature: bytes = self.unlocked.sign(message)
        return signature


def _log_key(archive: Archive, passphrase: bytes | None) -> SigningKey | None:
    """A logged archive's log key, unlocked ($PROVENANCE_LOG_PASSPHRASE, else the signer's passphrase)."""
    from provenance.archive_log import unlock_log_key
    from provenance.errors import ErrorCode, InputError

    try:
        return unlock_log_key(archive, passphrase)
    except InputError as exc:  # a damaged log: an event's commit then refuses it (log.damaged), other
        if exc.code is not ErrorCode.LOG_DAMAGED:  # signers (an audit report's) are not held up by it
            raise
        return None


def parse_role(value: str) -> Role:
    from provenance.model.choices import parse_role as library_parse_role

    return library_parse_role(value)
