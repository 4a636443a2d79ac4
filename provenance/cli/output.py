"""What every command prints with, and its clock: safe text for a terminal, JSON, a rich console on demand.

This module imports neither typer nor rich at start-up, so the fast path of ``verify``/``audit`` (see
:mod:`provenance.cli.app`) runs without the CLI framework; :mod:`provenance.cli.common` re-exports it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def counted(number: int, noun: str) -> str:
    """``1 event``, ``2 events``, ``1,024 files`` (issue 14: never "1 events")."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def now() -> datetime:
    """The clock: ``$PROVENANCE_NOW`` (a UTC timestamp, for reproducible fixtures and tests) or the real one."""
    from provenance.model.timefmt import parse_utc, utc_now

    fixed = os.environ.get("PROVENANCE_NOW")
    if fixed:
        from provenance.errors import ErrorCode, UsageError

        try:
            return parse_utc(fixed)
        except ValueError as exc:
            raise UsageError(ErrorCode.USAGE, f"$PROVENANCE_NOW: {exc}") from exc
    return utc_now()


# Characters a terminal acts on rather than shows: C0 controls but tab and newline (ESC starts the
# sequences that move the cursor, clear the screen or retitle the window; CR overwrites a line), DEL, C1
# controls (U+009B is a one-character CSI on some terminals), bidi controls (U+202E makes "txt.exe" read
# "exe.txt"), line/paragraph separators, and lone surrogates (undecodable file names).
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_TERMINAL_UNSAFE_LINE = re.compile(_TERMINAL_UNSAFE.pattern[:-1] + "\n\t]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` safe to show on a terminal: every control, bidi or invisible character as a visible escape.

    Record content is hostile until verified (a summary, a custodian, a key card's name, a file name in a
    bundle): shown raw, an escape sequence could erase the INVALID line of a report. ``one_line`` also
    escapes newlines and tabs, for the one-line error message.
    """
    pattern = _TERMINAL_UNSAFE_LINE if one_line else _TERMINAL_UNSAFE
    return pattern.sub(_escape_char, text)


def json_safe(text: str) -> str:
    """JSON text with C1 and bidi controls as ``\\u`` escapes: the same JSON, safe on a terminal."""
    # json.dumps escapes C0 controls itself; inside JSON these characters can only occur in strings.
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def emit_json(document: Any) -> None:
    """Print exactly one JSON document on stdout (C1 and bidi controls as ``\\u`` escapes, still JSON)."""
    sys.stdout.write(json_safe(json.dumps(document, ensure_ascii=False, indent=2)) + "\n")
    sys.stdout.flush()


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
