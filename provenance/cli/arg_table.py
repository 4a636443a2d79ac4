"""A command's arguments declared once, in a table, and the fast parser that reads such a table (issue 15,
item 5).

Two parsers read each table: typer, whose parameters :mod:`provenance.cli.arg_typer` builds from it, and
:func:`parse_plain`, which :func:`provenance.cli.app.main` uses to run a command with plain arguments
without importing typer at all (typer builds a pydantic adapter for every parameter of the command it
runs, a large part of a cold start). A name, a type, a bound or a default is written in the table and
nowhere else, so the two cannot disagree; tests/test_verify_args.py checks that they parse every argv the
same way, and that whatever :func:`parse_plain` declines is left to typer, which parses and reports it.

The tables: :mod:`provenance.cli.verify_args` (verify, audit), :mod:`provenance.cli.search_args` (search),
:mod:`provenance.cli.batch_args` (ingest-batch). This module imports nothing beyond the standard library:
it runs before anything else is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

# "paths": one or more positional paths; "strs": a repeatable option (a list, None when absent)
Kind = Literal["paths", "path", "str", "strs", "int", "flag"]


@dataclass(frozen=True)
class Arg:
    """One parameter of a command: a positional argument (no names) or an option.

    ``dest`` is the keyword the command receives; ``minimum`` bounds an ``int``; ``preset`` is the default
    of a value that is not a flag; ``required`` makes an option required (a positional one always is);
    ``plain`` says which values the fast parser may take as they are (the others, say an ``s3://``
    archive for ``audit``, go to typer with the whole argv).
    """

    dest: str
    names: tuple[str, ...]
    kind: Kind
    help: str
    metavar: str | None = None
    minimum: int | None = None
    plain: Callable[[str], bool] | None = None
    preset: Any = None
    required: bool = False

    @property
    def default(self) -> Any:
        return False if self.kind == "flag" else self.preset

    def convert(self, text: str) -> Any:
        """``text`` as this argument's value, or None when typer should be the one to read it (and perhaps
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
        return Path(text) if self.kind in ("path", "paths") else text


def parse_plain(args: Sequence[Arg], argv: Sequence[str]) -> dict[str, Any] | None:
    """The values of ``args`` (by ``dest``) that ``argv`` (the words after the command) gives, when every
    word is plain: each option spelt out as the table names it (given twice, the last counts, as in
    click; a repeatable one collects every value), its value in the next word or after ``=`` (long names only), a flag without a value, no word
    ``--``, every value one that :meth:`Arg.convert` takes, the positional arguments present, the required
    options given. None for anything else (``--help``, an unknown option, ``-j2``): typer then parses the
    same argv, and reports what is wrong with it.
    """
    options = {name: arg for arg in args for name in arg.names}
    positionals = [arg for arg in args if not arg.names]
    values: dict[str, Any] = {arg.dest: arg.default for arg in args}
    given: set[str] = set()
    words: list[str] = []
    rest = iter(argv)
    for word in rest:
        if not word.startswith("-"):
            words.append(word)
            continue
        name, equals, text = word.partition("=")
        arg = options.get(name)
        if arg is None:
            return None
        given.add(arg.dest)
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
        values[arg.dest] = [*(values[arg.dest] or []), value] if arg.kind == "strs" else value
    if any(arg.required and arg.dest not in given for arg in args):
        return None  # typer says the option is missing
    return _positional(positionals, words, values)


def _positional(positionals: list[Arg], words: list[str], values: dict[str, Any]) -> dict[str, Any] | None:
    """``values`` with the positional ``words`` read into the table's one positional argument (``paths``
    takes one or more words, any other kind exactly one); None when they do not fit or one is not plain."""
    if not positionals:
        return values if not words else None
    arg = positionals[0]
    converted = [arg.convert(word) for word in words]
    if len(positionals) != 1 or not words or any(value is None for value in converted):
        return None  # typer says the argument is missing, or that one is extra
    if arg.kind == "paths":
        values[arg.dest] = converted
    elif len(words) == 1:
        values[arg.dest] = converted[0]
    else:
        return None
    return values


# The options many commands share, declared once: the tables of verify, audit, search and ingest-batch use
# them, and provenance.cli.common builds the typer options of every other command from them.
ARCHIVE = Arg("archive", ("--archive", "-A"), "path",
              "Archive folder (default: $PROVENANCE_ARCHIVE, else the current folder).")
JSON = Arg("json_out", ("--json",), "flag", "Print exactly one JSON document on stdout.")
KEY = Arg("key", ("--key", "-k"), "str",
          "Signing key: id, shortened id or name (default: configured, else the only one).")
PASSPHRASE_FILE = Arg("passphrase_file", ("--passphrase-file",), "path",
                      "Read the key's passphrase from this file (else $PROVENANCE_PASSPHRASE, else a prompt).")
ROLE = Arg("role", ("--role",), "str", "Sign in this role of the key (default: the first one allowed).")
