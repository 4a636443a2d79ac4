"""What every command shares: the archive option, the clock, passphrases, JSON and text output."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from provenance.cli.arg_table import ARCHIVE, JSON, KEY, PASSPHRASE_FILE, ROLE
from provenance.cli.arg_typer import declaration, parameter

# re-exported: every command module takes its output helpers from here
from provenance.cli.output import console as console
from provenance.cli.output import emit as emit
from provenance.cli.output import emit_json as emit_json
from provenance.cli.output import json_safe as json_safe
from provenance.cli.output import now as now
from provenance.cli.output import printable as printable
from provenance.cli.output import table_box as table_box

if TYPE_CHECKING:
    from provenance import Archive, EventType, Passphrase, Role, Signer

# the options every command shares, each declared once (provenance.cli.arg_table)
ArchiveOpt = Annotated[Path | None, declaration(ARCHIVE)]
JsonOpt = Annotated[bool, declaration(JSON)]
KeyOpt = Annotated[str | None, declaration(KEY)]
PassFileOpt = Annotated[Path | None, declaration(PASSPHRASE_FILE)]
RoleOpt = Annotated[str | None, declaration(ROLE)]


@dataclass(frozen=True)
class Signing:
    """The options of every command that signs an event, as :func:`signs` hands them to it."""

    key: str | None
    passphrase_file: Path | None
    role: str | None
    archive: Path | None
    json_out: bool


SIGNING = (KEY, PASSPHRASE_FILE, ROLE, ARCHIVE, JSON)


def signs(body: Callable[..., None]) -> Callable[..., None]:
    """A command that signs an event: ``body``'s last parameter, ``signing: Signing``, is shown to typer as
    the options --key, --passphrase-file, --role, --archive and --json (in that order, after its own)."""
    hints = inspect.get_annotations(body, eval_str=True)  # what typer would evaluate (no second pass)
    own = [p.replace(annotation=hints[p.name]) for p in inspect.signature(body).parameters.values()]
    own = [p for p in own if p.name != "signing"]
    params = [*own, *(parameter(arg) for arg in SIGNING)]

    @functools.wraps(body)
    def command(**values: Any) -> None:
        body(**{p.name: values.pop(p.name) for p in own}, signing=Signing(**values))

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def open_archive(path: Path | None) -> Archive:
    from provenance import open_archive as locate

    return locate(path)


def _terminal_prompt(what: str, confirm: bool) -> bytes:
    """Ask for a passphrase on the terminal, never echoed (twice when ``confirm``)."""
    from provenance import ErrorCode
    from provenance.exceptions import KeyStoreError

    if not sys.stdin.isatty():
        raise KeyStoreError(
            ErrorCode.KEY_PASSPHRASE_MISSING,
            f"no passphrase for the {what} and no terminal to prompt on",
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


def passphrase_source(passphrase_file: Path | None) -> Passphrase:
    """``--passphrase-file``, else ``$PROVENANCE_PASSPHRASE``, else a prompt on a terminal."""
    from provenance import Passphrase

    return Passphrase(file=passphrase_file, prompt=_terminal_prompt)


def read_passphrase(passphrase_file: Path | None, *, confirm: bool = False, what: str = "key") -> bytes:
    """The passphrase (see :func:`passphrase_source`). Raises ``KeyStoreError(key.passphrase-missing)``."""
    return passphrase_source(passphrase_file).read(what, confirm=confirm)


def load_signer(
    archive: Archive, event_type: EventType, key: str | None, passphrase_file: Path | None, role: str | None
) -> Signer:
    """The signer the library chooses (:func:`provenance.choose_signer`), its passphrase from the options."""
    from provenance import choose_signer

    return choose_signer(
        archive, event_type, key=key, role=role, passphrase=passphrase_source(passphrase_file), now=now()
    )


def parse_role(value: str) -> Role:
    from provenance.keyring import parse_role as parse

    return parse(value)
