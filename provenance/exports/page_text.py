"""The text parts of a reader's page: escaping, the transcription with its note markers, word-level diffs.

Everything a record holds is hostile until escaped: :func:`esc` escapes markup and quotes, and turns what
HTML must not carry (C0/C1 controls, noncharacters) and what could reorder what a reader sees (bidi
embedding, override and isolate controls) into U+FFFD. Offsets in a text are kept (one character for one).
"""

from __future__ import annotations

import difflib
import html
import itertools
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provenance.model.manifest import Note

_NONCHARACTERS = "".join(chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17))
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef"
    + re.escape(_NONCHARACTERS)
    + "]"
)
# words, runs of white space, and single other characters: a change of one word shows as that word
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
DIFF_CONTEXT = 12  # tokens kept either side of a change
MAX_DIFF_TOKENS = 200_000  # beyond this a revision is summarised, not diffed (bounded work on hostile input)


def clean(value: object) -> str:
    """``value`` as text an HTML page may carry, one character for one."""
    return _UNSAFE.sub("\ufffd", str(value))


def esc(value: object) -> str:
    """Escaped for an HTML text node or a quoted attribute value."""
    return html.escape(clean(value), quote=True)


def transcription_html(text: str, notes: list[Note], marker: Callable[[Note, int], str]) -> str:
    """The text with every anchored note's quote marked and its marker placed where the quote ends.

    Quotes may overlap or nest: the text is cut at every quote boundary and each piece covered by some
    quote is one ``mark``. ``marker(note, number)`` gives the HTML of the marker of the ``number``-th note.
    """
    # CR LF is left as it is (offsets count it; an HTML parser reads it as one line end)
    spans: list[tuple[int, int, Note, int]] = []
    for number, note in enumerate(notes, start=1):
        pos = note.target.position
        if (
            pos is not None
            and 0 <= pos.start < pos.end <= len(text)
            and text[pos.start : pos.end] == note.target.quote.exact
        ):
            spans.append((pos.start, pos.end, note, number))
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    starting: dict[int, list[tuple[int, str]]] = {}
    ending: dict[int, list[tuple[int, Note, int]]] = {}
    for start, end, note, number in spans:
        starting.setdefault(start, []).append((number, note.id))
        ending.setdefault(end, []).append((number, note, number))
    # one sweep over the cuts with the set of quotes open there: linear in the notes, however many overlap
    active: dict[int, str] = {}
    out: list[str] = []
    for left, right in itertools.pairwise(cuts):
        for number, _, _ in ending.get(left, []):
            active.pop(number, None)
        active.update(starting.get(left, []))
        piece = esc(text[left:right])
        covering = " ".join(active[n] for n in sorted(active))
        out.append(f'<mark data-notes="{covering}">{piece}</mark>' if covering else piece)
        for _, note, number in ending.get(right, []):
            out.append(marker(note, number))
    if not cuts[1:]:  # an empty text
        out.append(esc(text))
    return "".join(out)


def word_diff_html(old: str, new: str) -> tuple[str, int]:
    """A word-level diff of two texts as HTML (``del``/``ins``), unchanged runs shortened to their ends.

    Returns the HTML and the number of changes.
    """
    a = _TOKEN.findall(old.replace("\r\n", "\n"))
    b = _TOKEN.findall(new.replace("\r\n", "\n"))
    if len(a) + len(b) > MAX_DIFF_TOKENS:
        return '<p class="muted">The two versions are too long to compare word by word here.</p>', 0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    parts: list[str] = []
    changes = 0
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            parts.append(_context("".join(a[i1:i2]), first=index == 0, last=index == len(opcodes) - 1))
            continue
        changes += 1
        if i2 > i1:
            parts.append(f'<del><span class="visually-hidden">removed: </span>{esc("".join(a[i1:i2]))}</del>')
        if j2 > j1:
            parts.append(f'<ins><span class="visually-hidden">added: </span>{esc("".join(b[j1:j2]))}</ins>')
    return "".join(parts), changes


def _context(run: str, *, first: bool, last: bool) -> str:
    """An unchanged run: kept whole when short, else its ends around an ellipsis."""
    tokens = _TOKEN.findall(run)
    if len(tokens) <= 2 * DIFF_CONTEXT:
        return esc(run)
    head = "" if first else "".join(tokens[:DIFF_CONTEXT])
    tail = "" if last else "".join(tokens[-DIFF_CONTEXT:])
    return f'{esc(head)}<span class="gap"> … <span class="visually-hidden">(unchanged text left out)</span> </span>{esc(tail)}'
