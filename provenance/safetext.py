"""Text safe to show or to hand on: every control, bidi or invisible character a terminal (or a reader of
an exported file) would act on, as a visible escape. Used by the terminal output (``provenance.cli.output``)
and by every text the library exports (``bag-info.txt``, key cards written by ``keys export``), so that an
export escapes exactly what the terminal escapes. Imports nothing but ``re``.
"""

from __future__ import annotations

import re

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


