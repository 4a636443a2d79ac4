"""Notes anchored to the text by quote and position (W3C Web Annotation selectors), and re-anchoring.

A note's anchor is the pair TextQuoteSelector (exact, prefix, suffix) + TextPositionSelector (start, end)
in Unicode code points. After a revision each note is found again by its quote; a note whose quote no
longer occurs is kept and marked ``orphaned``, never silently dropped or moved.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from provenance.errors import ErrorCode, InputError
from provenance.model.manifest import Note, NoteTarget, TextPositionSelector, TextQuoteSelector

if TYPE_CHECKING:
    from pathlib import Path

    from provenance.model.manifest import FileEntry, State

CONTEXT_WIDTH = 32
MAX_SUGGEST_CHARS = 1 << 20  # suggestions look at the first MiB of a text: bounded time on huge files


def occurrences(text: str, quote: str) -> list[int]:
    """Start offsets of every occurrence of ``quote`` in ``text`` (overlapping ones included)."""
    found: list[int] = []
    start = text.find(quote)
    while start != -1:
        found.append(start)
        start = text.find(quote, start + 1)
    return found


def closest_passages(text: str, quote: str, limit: int = 3) -> list[str]:
    """Passages of ``text`` most like ``quote``, for a helpful 'not found' message.

    Candidates are runs of whole words as long as the quote (one word more or less), so that a passage
    is shown as it stands in the text, never cut inside a word.
    """
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[:MAX_SUGGEST_CHARS])]
    size = max(1, len(quote.split()))
    windows: set[str] = set()
    for count in {max(1, size - 1), size, size + 1}:
        for i in range(len(words) - count + 1):
            windows.add(text[words[i][0] : words[i + count - 1][1]])
    return difflib.get_close_matches(quote, sorted(windows), n=limit, cutoff=0.5)


def make_target(text: str, source: str, start: int, end: int) -> NoteTarget:
    """A target for ``text[start:end]`` of file ``source``, with context either side."""
    return NoteTarget(
        source=source,
        quote=TextQuoteSelector(
            exact=text[start:end],
            prefix=text[max(0, start - CONTEXT_WIDTH) : start],
            suffix=text[end : end + CONTEXT_WIDTH],
        ),
        position=TextPositionSelector(start=start, end=end),
    )


def locate_quote(text: str, quote: str, occurrence: int | None, *, source: str) -> tuple[int, int]:
    """Where ``quote`` stands in ``text``: its only occurrence, or the ``occurrence``-th (1-based).

    Raises ``InputError`` note.quote-not-found (with the closest passages) or note.quote-ambiguous.
    """
    if not quote:
        raise InputError(ErrorCode.NOTE_QUOTE_NOT_FOUND, "the quote is empty")
    found = occurrences(text, quote)
    if not found:
        close = closest_passages(text, quote)
        hint = f"; closest passages: {', '.join(repr(c) for c in close)}" if close else ""
        raise InputError(
            ErrorCode.NOTE_QUOTE_NOT_FOUND, f"{quote!r} does not occur in {source}{hint}", closest=close
        )
    if occurrence is None:
        if len(found) > 1:
            raise InputError(
                ErrorCode.NOTE_QUOTE_AMBIGUOUS,
                f"{quote!r} occurs {len(found)} times in {source}; choose an occurrence, 1 to {len(found)}",
                param="occurrence",
                occurrences=len(found),
            )
        occurrence = 1
    if not 1 <= occurrence <= len(found):
        raise InputError(
            ErrorCode.NOTE_QUOTE_AMBIGUOUS,
            f"{quote!r} occurs {len(found)} time(s) in {source}; occurrence {occurrence} is out of range",
            param="occurrence",
        )
    start = found[occurrence - 1]
    return start, start + len(quote)


def _context_score(text: str, start: int, end: int, quote: TextQuoteSelector) -> int:
    before = text[max(0, start - len(quote.prefix)) : start]
    after = text[end : end + len(quote.suffix)]
    score = 0
    for a, b in zip(reversed(before), reversed(quote.prefix), strict=False):
        if a != b:
            break
        score += 1
    for a, b in zip(after, quote.suffix, strict=False):
        if a != b:
            break
        score += 1
    return score


def reanchor(note: Note, text: str, source: str) -> Note:
    """Find ``note`` again in the revised ``text``: best context match, then nearest to its old place.

    A note whose quote no longer occurs comes back ``orphaned`` with its old selectors kept.
    """
    if note.target.source != source:
        return note
    exact = note.target.quote.exact
    found = occurrences(text, exact)
    if not found:
        return note.model_copy(update={"status": "orphaned"})
    old = note.target.position.start if note.target.position else 0
    best = max(
        found,
        key=lambda s: (_context_score(text, s, s + len(exact), note.target.quote), -abs(s - old)),
    )
    target = make_target(text, source, best, best + len(exact))
    return note.model_copy(update={"target": target, "status": "anchored"})


def next_note_id(notes: list[Note]) -> str:
    numbers = [int(n.id.split("-", 1)[1]) for n in notes]
    return f"note-{max(numbers, default=0) + 1}"


def main_text(state: State) -> FileEntry:
    """The file a note is anchored to when none is named: the transcription, else the record's first file."""
    for entry in state.files:
        if entry.role == "transcription":
            return entry
    return state.files[0]


def record_text(folder: Path, entry: FileEntry) -> str:
    """The text of ``entry`` in a record folder (or its stage), in the charset its media type names.

    Raises ``InputError(input.encoding)`` when the bytes are not text in that charset."""
    from provenance.ingest.decoding import charset_of

    data = (folder / "files" / entry.path).read_bytes()
    charset = charset_of(entry.media_type)
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError) as exc:
        raise InputError(ErrorCode.INPUT_ENCODING, f"{entry.path} is not readable as {charset} text") from exc
