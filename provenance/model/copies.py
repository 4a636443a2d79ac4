"""The written form of a distribution list (``Stalin (2), Molotov``): one reading for every place that takes it.

The same text gives the same recipients wherever it is written: ``ingest --copies``, ``catalogue --set
copies=…``, a ``copies`` cell of an ``ingest-batch`` sheet, and the ``Copies:`` line of a telegram header.

- Recipients are separated by ``,``, ``;`` or ``|``, or by the word ``and`` (``и``) between spaces.
- A count follows a recipient in parentheses, in ASCII digits, optionally followed by words:
  ``Stalin (2)``, ``Stalin (2 copies)``. Without one the count is 1. A count in look-alike digits
  (``Stalin (٢)``) is not read as a count: it stays in the name, which the catalogue then refuses.
- A final period is dropped (``Molotov.``); runs of white space become one space.
- An item with no letter names no one and is left out (a trailing separator, a stray number).

Counts are not bounded here: the catalogue model refuses a count out of range with ``metadata.invalid``.
Every pattern is linear on its input (the count's digits are possessive).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SEPARATOR = re.compile(r" ?[,;|] ?| and | и ")
_ITEM = re.compile(r"(?P<name>.*?) ?(?:\( ?(?P<count>[0-9]++)[^()]*\))?[.]?")
# More digits than this is no real count: kept as a count beyond any bound (so the catalogue refuses it),
# never converted (int() of thousands of digits is slow, and refused by CPython past 4,300).
_MAX_COUNT_DIGITS = 12
_BEYOND_ANY_COUNT = 10**_MAX_COUNT_DIGITS


def _as_written(name: str) -> str:
    return name


def parse_copies(text: str, *, name: Callable[[str], str] = _as_written) -> list[dict[str, str | int]]:
    """Return ``[{"recipient": name, "count": n}, ...]`` read from ``text`` by the rules of this module.

    ``name`` is applied to each recipient before the check for a letter (a header profile passes one that
    drops editorial brackets and title-cases names written in capitals). Never raises.
    """
    copies: list[dict[str, str | int]] = []
    for item in _SEPARATOR.split(" ".join(text.split())):
        match = _ITEM.fullmatch(item.strip())
        if match is None:  # pragma: no cover - the name takes any text the count does not
            continue
        recipient = " ".join(name(match.group("name")).split())
        if not any(char.isalpha() for char in recipient):
            continue
        digits = match.group("count")
        count = 1 if digits is None else int(digits) if len(digits) <= _MAX_COUNT_DIGITS else _BEYOND_ANY_COUNT
        copies.append({"recipient": recipient, "count": count})
    return copies
