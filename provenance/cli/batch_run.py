"""The fast path ``main()`` takes for ``ingest-batch`` with plain arguments, without building typer's app.

Building the app and parsing through typer costs a cold start a few tenths of a second (an adapter per
option of every command); a batch is timed against ``bagit.make_bag`` (``make bench``). The command itself
is the same function typer calls (:func:`provenance.cli.batch_cmds.run_ingest_batch`); anything but plain
arguments (``--help``, ``--opt=value``, an unknown option, a missing ``--catalogue``) goes through typer,
which parses and reports it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

_VALUE_OPTIONS = {
    "--catalogue": "catalogue",
    "-c": "catalogue",
    "--encoding": "encoding",
    "--key": "key",
    "-k": "key",
    "--passphrase-file": "passphrase_file",
    "--role": "role",
    "--archive": "archive",
    "-A": "archive",
}
_FLAGS = {"--dry-run": "dry_run", "--json": "json_out"}
_PATHS = {"catalogue", "passphrase_file", "archive"}


def fast_command(args: list[str]) -> Callable[[], int] | None:
    """``ingest-batch`` with plain arguments, run without typer; None to let typer parse them."""
    if not args or args[0] != "ingest-batch":
        return None
    options: dict[str, Any] = {}
    folder: Path | None = None
    rest = args[1:]
    index = 0
    while index < len(rest):
        arg = rest[index]
        if arg in _VALUE_OPTIONS and index + 1 < len(rest) and _VALUE_OPTIONS[arg] not in options:
            name, value = _VALUE_OPTIONS[arg], rest[index + 1]
            options[name] = Path(value) if name in _PATHS else value
            index += 2
            continue
        if arg in _FLAGS:
            options[_FLAGS[arg]] = True
        elif not arg or arg.startswith("-") or folder is not None:
            return None  # --help, an option we do not know, a repeated one, a second folder: typer decides
        else:
            folder = Path(arg)
        index += 1
    if folder is None or "catalogue" not in options:
        return None
    chosen = folder
    return lambda: _run(chosen, options)


def _run(folder: Path, options: dict[str, Any]) -> int:
    import typer

    from provenance.cli.batch_cmds import run_ingest_batch

    catalogue = options.pop("catalogue")
    try:
        run_ingest_batch(folder, catalogue, **options)
    except typer.Exit as exc:
        return int(exc.exit_code)
    return 0
