"""The fast path ``main()`` takes for ``ingest-batch`` with plain arguments, without building typer's app.

Building the app and parsing through typer costs a cold start a few tenths of a second (an adapter per
option of every command); a batch is timed against ``bagit.make_bag`` (``make bench``). The command itself
is the same function typer calls (:func:`provenance.cli.batch_cmds.run_ingest_batch`); anything but plain
arguments (``--help``, an unknown or repeated option, a missing ``--catalogue``) goes through typer, which
parses and reports it. Both parsers are built from one table, :mod:`provenance.cli.batch_args`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def fast_command(args: list[str]) -> Callable[[], int] | None:
    """``ingest-batch`` with plain arguments (its table, :mod:`provenance.cli.batch_args`, read by
    :func:`parse_plain`), run without typer; None to let typer parse them."""
    if not args or args[0] != "ingest-batch":
        return None
    from provenance.cli.arg_table import parse_plain
    from provenance.cli.batch_args import INGEST_BATCH

    values = parse_plain(INGEST_BATCH, args[1:])
    if values is None:
        return None
    return lambda: _run(values)


def _run(values: dict[str, Any]) -> int:
    import typer

    from provenance.cli.batch_cmds import run_ingest_batch

    try:
        run_ingest_batch(**values)
    except typer.Exit as exc:
        return int(exc.exit_code)
    return 0
