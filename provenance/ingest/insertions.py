"""Find square-bracketed editorial insertions in a transcription and the context a quote selector needs.

Offsets are Unicode code points into the ``str`` given (what Python indexes by), end exclusive, so
``text[start:end] == exact`` always holds. Line endings are not normalised: a CR LF counts as two code points,
exactly as it stands in the text.

Rules for brackets:

* An insertion is a ``[`` matched with a later ``]`` in the same paragraph; a blank (whitespace-only) line or
  a U+2029 PARAGRAPH SEPARATOR ends a paragraph, so no insertion crosses one. Single line breaks inside a
  paragraph are allowed.
* Nested brackets belong to the outermost closed pair: ``[a [b] c]`` is one insertion.
* An unclosed ``[`` is not an insertion, but closed pairs inside it still are: in ``[a [b] c`` only ``[b]``
  is.
* A stray ``]`` with no opener is ignored.
* Empty or whitespace-only brackets (``[]``, ``[ ]``) carry no editorial text and are not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BRACKET = re.compile(r"[\[\]]")
# One line with its ending, as str.splitlines(keepends=True) cuts them, found one at a time (a list of every
# line of a 200 MB text would cost more than the text).
_LINE = re.compile("[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*(?:\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])?")


class TooManyBracketsError(ValueError):
    """More bracketed pairs, or more open brackets, than the ``limit`` given to the search."""


@dataclass(frozen=True, slots=True)
class Insertion:
    """One editorial insertion: its text including both brackets, and its code-point span in the source."""

    exact: str
    start: int
    end: int


@dataclass(slots=True)
class _Opener:
    """An open ``[`` and the closed pairs found directly inside it so far."""

    start: int
    inner: list[tuple[int, int]]


def find_editorial_insertions(text: str, limit: int | None = None) -> list[Insertion]:
    """Return every square-bracketed insertion in ``text``, in order of occurrence.

    Each returned :class:`Insertion` has ``exact`` with the brackets included and ``start``/``end`` code-point
    offsets (end exclusive) such that ``text[start:end] == exact``. See the module docstring for how nested,
    unbalanced and multi-paragraph brackets are treated. Runs in time linear in ``len(text)``.

    With ``limit``, raises ``TooManyBracketsError`` as soon as more than ``limit`` pairs have closed or more than
    ``limit`` brackets stand open: the work and memory are then bounded by the limit, not by the text.
    """
    spans: list[tuple[int, int]] = []
    stack: list[_Opener] = []
    bound = limit if limit is not None else len(text) + 1
    closed = 0

    def end_paragraph() -> None:
        # Openers left on the stack never closed: they are not insertions, but the closed pairs
        # directly inside them are not covered by any closed pair, so they are.
        for opener in stack:
            spans.extend(opener.inner)
        stack.clear()

    offset = 0
    for match in _LINE.finditer(text):
        line = match.group()
        if not line:
            continue
        if not line.strip():
            end_paragraph()
        else:
            for match in _BRACKET.finditer(line):
                position = offset + match.start()
                if match.group() == "[":
                    stack.append(_Opener(position, []))
                    if len(stack) > bound:
                        raise TooManyBracketsError(f"more than {bound} open brackets")
                elif stack:
                    closed += 1
                    if closed > bound:
                        raise TooManyBracketsError(f"more than {bound} bracketed pairs")
                    opener = stack.pop()
                    pair = (opener.start, position + 1)
                    if stack:
                        stack[-1].inner.append(pair)
                    else:
                        spans.append(pair)
            if line.endswith("\u2029"):
                end_paragraph()
        offset += len(line)
    end_paragraph()

    spans.sort()
    return [
        Insertion(text[start:end], start, end) for start, end in spans if text[start + 1 : end - 1].strip()
    ]
