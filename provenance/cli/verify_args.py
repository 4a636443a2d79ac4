"""The arguments of ``verify`` and ``audit``, declared once (issue 15, item 5).

Two parsers read these tables: typer, whose parameters :mod:`provenance.cli.verify_cmds` builds from them,
and :func:`parse_plain`, which :func:`provenance.cli.app.main` uses to run a command with plain arguments
without importing typer at all (typer builds a pydantic adapter for every parameter of the command it
runs, which would cost a cold ``verify`` about a third of its time). A name, a type, a bound or a default
is written here and nowhere else, so the two cannot disagree; tests/test_verify_args.py checks that they
parse every argv the same way, and that whatever :func:`parse_plain` declines is left to typer, which
parses and reports it.

This module imports nothing beyond the standard library: it runs before anything else is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["paths", "path", "str", "int", "flag"]


@dataclass(frozen=True)
class Arg:
    """One parameter of a command: the positional ``paths`` (no names) or an option.

    ``dest`` is the keyword the command receives; ``minimum`` bounds an ``int``; ``plain`` says which
    values the fast parser may take as they are (the others, say an ``s3://`` archive for ``audit``, go to
    typer with the whole argv).
    """

    dest: str
    names: tuple[str, ...]
    kind: Kind
    help: str
    metavar: str | None = None
    minimum: int | None = None
    plain: Callable[[str], bool] | None = None

    @property
    def default(self) -> Any:
        return False if self.kind == "flag" else None

    def convert(self, text: str) -> Any:
        """``text`` as this option's value, or None when typer should be the one to read it (and perhaps
        refuse it): an empty value, one that starts with ``-``, a number that is not plain decimal digits
        or is below the minimum, a value ``plain`` declines."""
        if not text or text.startswith("-") or (self.plain is not None and not self.plain(text)):
            return None
        if self.kind == "int":
            # at most 6 digits: int() of 4,300 digits or more raises, and no count here is that large
            if not (text.isascii() and text.isdigit() and len(text) <= 6):
                return None
            number = int(text)
            return None if self.minimum is not None and number < self.minimum else number
        return Path(text) if self.kind == "path" else text


def _local(text: str) -> bool:
    return "://" not in text


TRUST = Arg("trust", ("--trust",), "path", "Trust store: a folder of key cards (default: the archive's keys/).")
JOBS = Arg(
    "jobs", ("--jobs", "-j"), "int", "Processes to verify with (default: one per CPU; 1: this process only).",
    minimum=1,
)
MAX_SIZE = Arg(
    "max_size", ("--max-size",), "str",
    "Largest a .zip/.tar.gz bundle may decompress to (e.g. 4G, 512M; default 8G); beyond it the bundle is "
    "refused as bundle.too-large.", metavar="SIZE",
)
JSON = Arg("json_out", ("--json",), "flag", "Print exactly one JSON document on stdout.")

VERIFY: tuple[Arg, ...] = (
    Arg("paths", (), "paths", "Record folder(s), bag folder(s), .zip or .tar.gz bundle(s)."),
    TRUST,
    Arg("archive", ("--archive", "-A"), "path",
        "Archive folder (default: $PROVENANCE_ARCHIVE, else the current folder)."),
    JOBS,
    MAX_SIZE,
    Arg("state", ("--state",), "path",
        "Remember the newest log checkpoint and record heads here; report log.fork and log.rollback against "
        "them."),
    Arg("consistency", ("--consistency",), "path",
        "A consistency proof ('tlog prove') from the remembered checkpoint."),
    Arg("witnesses", ("--witnesses",), "int",
        "Trusted witnesses that must cosign each checkpoint (default: the trust store's log-policy.toml, "
        "else 0).", minimum=0),
    JSON,
)

# audit's own options; those of audit at scale (--report, --sample, --engine, ...) are typer's alone
# (provenance.cli.audit_cmds): an argv naming one goes to typer whole
AUDIT: tuple[Arg, ...] = (
    TRUST,
    Arg("archive", ("--archive", "-A"), "str",
        "Archive folder or s3://bucket/prefix (default: $PROVENANCE_ARCHIVE, else the current folder).",
        plain=_local),
    JOBS,
    Arg("since", ("--since",), "path", "An earlier log checkpoint: prove the log is consistent with it."),
    JSON,
)

TABLES: dict[str, tuple[Arg, ...]] = {"verify": VERIFY, "audit": AUDIT}


def parse_plain(args: Sequence[Arg], argv: Sequence[str]) -> dict[str, Any] | None:
    """The values of ``args`` (by ``dest``) that ``argv`` (the words after the command) gives, when every
    word is plain: each option spelt out as the table names it, its value in the next word or after ``=``
    (long names only), a flag without a value, no word ``--``, every value one that :meth:`Arg.convert`
    takes, the positional paths present when the table has them. None for anything else (``--help``, an
    unknown option, ``-j2``): typer then parses the same argv, and reports what is wrong with it.
    """
    options = {name: arg for arg in args for name in arg.names}
    positional = next((arg for arg in args if not arg.names), None)
    values: dict[str, Any] = {arg.dest: arg.default for arg in args}
    paths: list[Path] = []
    rest = iter(argv)
    for word in rest:
        if not word.startswith("-"):
            if positional is None:
                return None
            paths.append(Path(word))
            continue
        name, equals, text = word.partition("=")
        arg = options.get(name)
        if arg is None:
            return None
        if arg.kind == "flag":
            if equals:
                return None
            values[arg.dest] = True
            continue
        if not equals:
            text = next(rest, "")
        elif not name.startswith("--"):
            return None  # -A=x: click reads the value "=x"
        value = arg.convert(text)
        if value is None:
            return None
        values[arg.dest] = value
    if positional is not None:
        if not paths:
            return None  # typer says the argument is missing
        values[positional.dest] = paths
    return values
