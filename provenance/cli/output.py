"""What every command prints with, and its clock: safe text for a terminal, JSON, a rich console on demand.

This module imports neither typer nor rich at start-up, so the fast path of ``verify``/``audit`` (see
:mod:`provenance.cli.app`) runs without the CLI framework; :mod:`provenance.cli.common` re-exports it.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

# The one escaping of the project (terminal output, JSON, exports, bag-info): see provenance.safetext.
from provenance.rendering import json_safe as json_safe
from provenance.rendering import printable as printable

if TYPE_CHECKING:
    from rich.console import Console


def counted(number: int, noun: str) -> str:
    """``1 event``, ``2 events``, ``1,024 files`` (issue 14: never "1 events")."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def now() -> datetime:
    """The clock: ``$PROVENANCE_NOW`` (a UTC timestamp, for reproducible fixtures and tests) or the real one."""
    from provenance.records import parse_utc, utc_now

    fixed = os.environ.get("PROVENANCE_NOW")
    if fixed:
        from provenance import ErrorCode
        from provenance.exceptions import UsageError

        try:
            return parse_utc(fixed)
        except ValueError as exc:
            raise UsageError(ErrorCode.USAGE, f"$PROVENANCE_NOW: {exc}") from exc
    return utc_now()


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (C1 and bidi controls as ``\\u`` escapes, still JSON)."""
    sys.stdout.write(json_safe(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")
    sys.stdout.flush()


def emit(document: Any, json_out: bool, text: str) -> None:
    """A command's result: its JSON document under --json, else ``text`` as it is (its own newlines)."""
    if json_out:
        emit_json(document)
    else:
        sys.stdout.write(text)


@functools.cache
def _safe_console_class() -> type[Console]:
    from rich.console import Console
    from rich.text import Text

    class SafeConsole(Console):
        """Rich markup off unless a call asks for it (data may hold ``[/]``), every string made printable."""

        def render_str(self, text: str, **kwargs: Any) -> Text:
            return super().render_str(printable(text), **kwargs)

    return SafeConsole


def console(stderr: bool = False) -> Console:
    """A rich console: colours and box tables on a terminal, plain text when piped.

    Markup is off by default (pass ``markup=True`` for a string of our own), and every string is passed
    through :func:`printable`, so no record content reaches the terminal as markup or escape sequences.
    """
    import sys

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else 160  # piped: one long line per row, easy to grep
    return _safe_console_class()(stderr=stderr, highlight=False, soft_wrap=False, width=width, markup=False)


def table_box(out: Console) -> Any:
    from rich import box

    return box.SIMPLE_HEAD if out.is_terminal else box.ASCII2
