"""Options before the command (issue 14): ``provenance --version``, ``provenance --archive PATH COMMAND …``.

``--archive`` before the command means what ``$PROVENANCE_ARCHIVE`` means (an ``--archive`` after the
command still wins). :func:`take` reads both before typer (and before the fast path of ``verify`` and
``audit``), so they cost nothing; :func:`provenance.cli.help_text.register` shows them in ``provenance --help``.
"""

from __future__ import annotations

import os
import sys

ARCHIVE = ("--archive", "-A")
VERSION = ("--version", "-V")


def version_line() -> str:
    from provenance import __version__

    return f"provenance {__version__}"


def take(args: list[str]) -> list[str]:
    """``args`` without the options given before the command; ``--version`` prints and exits."""
    rest = list(args)
    while rest:
        head, equals, value = rest[0].partition("=")
        if rest[0] in VERSION:
            sys.stdout.write(version_line() + "\n")
            sys.exit(0)
        if head not in ARCHIVE or (not equals and len(rest) < 2):
            break
        if not equals:
            value = rest[1]
            del rest[1]
        del rest[0]
        if not value:
            break
        os.environ["PROVENANCE_ARCHIVE"] = value
    return rest
