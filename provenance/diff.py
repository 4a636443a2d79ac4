"""What changed between two versions of a record: text (unified diff with line numbers, or word by word),
catalogue, notes."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from provenance.archive import Archive
from provenance.history import file_bytes_at, state_at
from provenance.ingest.decoding import decoded_or_none
from provenance.model.manifest import State


@dataclass
class RecordDiff:
    """The differences between versions ``a`` and ``b`` of a record."""

    record: str
    a: int
    b: int
    files: list[dict[str, Any]] = field(default_factory=list)
    catalogue: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    # path -> (old text, new text) of each modified text file, for a word-level view (not in the JSON)
    texts: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "from": self.a,
            "to": self.b,
            "files": self.files,
            "catalogue": self.catalogue,
            "notes": self.notes,
        }


def unified(old: str, new: str, name: str, a: int, b: int) -> list[str]:
    """A unified diff (difflib), hunk headers carrying line numbers."""
    return list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=f"{name}@v{a}",
            tofile=f"{name}@v{b}",
            lineterm="",
            n=1,
        )
    )


def patch_text(old: str, new: str, name: str) -> str:
    """A unified diff that ``patch`` applies (issue 14): line ends kept as they are (CR LF stays CR LF) and
    ``\\ No newline at end of file`` where a version ends without one; paths ``a/NAME`` and ``b/NAME``."""
    lines: list[str] = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=f"a/{name}", tofile=f"b/{name}", n=3
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def diff_versions(archive: Archive, record_id: str, a: int | None = None, b: int | None = None) -> RecordDiff:
    """Compare version ``a`` with ``b`` (defaults: the one before the last, and the last).

    Raises ``NotFoundError(version.not-found)`` for a version that does not exist.
    """
    from provenance.manifest_io import read_manifest

    count = len(read_manifest(archive.require_record(record_id)).events)
    b = count if b is None else b
    a = max(1, b - 1) if a is None else a
    _, old, _ = state_at(archive, record_id, a)
    _, new, _ = state_at(archive, record_id, b)
    result = RecordDiff(record=record_id, a=a, b=b)
    _diff_files(archive, record_id, old, new, result)
    _diff_catalogue(old, new, result)
    _diff_notes(old, new, result)
    return result


def _diff_files(archive: Archive, record_id: str, old: State, new: State, result: RecordDiff) -> None:
    old_files = {f.path: f for f in old.files}
    new_files = {f.path: f for f in new.files}
    for path in sorted(set(old_files) | set(new_files)):
        before, after = old_files.get(path), new_files.get(path)
        if before and after and before.sha256 == after.sha256:
            continue
        entry: dict[str, Any] = {
            "path": path,
            "change": "added" if not before else "removed" if not after else "modified",
        }
        if before and after:
            old_text = decoded_or_none(file_bytes_at(archive, record_id, before.sha256, path), before.media_type)
            new_text = decoded_or_none(file_bytes_at(archive, record_id, after.sha256, path), after.media_type)
            if old_text is not None and new_text is not None:
                entry["diff"] = unified(old_text, new_text, path, result.a, result.b)
                entry["patch"] = patch_text(old_text, new_text, path)  # issue 14: what `patch` applies
                result.texts[path] = (old_text, new_text)
            entry["from_sha256"], entry["to_sha256"] = before.sha256, after.sha256
        result.files.append(entry)


def _diff_catalogue(old: State, new: State, result: RecordDiff) -> None:
    before, after = old.catalogue.as_json(), new.catalogue.as_json()
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            result.catalogue.append({"field": name, "from": before.get(name), "to": after.get(name)})


def _diff_notes(old: State, new: State, result: RecordDiff) -> None:
    before = {n.id: n for n in old.notes}
    after = {n.id: n for n in new.notes}
    for note_id in sorted(set(before) | set(after), key=lambda i: int(i.split("-")[1])):
        x, y = before.get(note_id), after.get(note_id)
        if x == y:
            continue
        entry: dict[str, Any] = {"id": note_id}
        if x is None and y is not None:
            entry.update(change="added", quote=y.target.quote.exact, text=y.text)
        elif y is None and x is not None:
            entry.update(change="removed", quote=x.target.quote.exact)
        elif x is not None and y is not None:
            start_x = x.target.position.start if x.target.position else None
            start_y = y.target.position.start if y.target.position else None
            if x.status != y.status:
                entry.update(change=y.status, quote=y.target.quote.exact)
            elif start_x != start_y:
                entry.update(
                    change="moved", quote=y.target.quote.exact, from_position=start_x, to_position=start_y
                )
            elif (x.text, x.kind, x.target.quote.exact) == (y.text, y.kind, y.target.quote.exact):
                continue  # only the context around the quote changed: the text diff shows it
            else:
                entry.update(change="changed", quote=y.target.quote.exact)
        result.notes.append(entry)


# --- word by word (issue 14): what a person at a terminal needs to see `II` -> `Il` in a long paragraph ---

SegmentKind = Literal["equal", "removed", "added"]

# A token is a run of word characters, a run of white space, or one other character; combining marks join
# the token before them, so that an NFD letter (e + U+0301) is never split from its accent.
_RAW_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")
SIMILAR_WORDS = 0.5  # two differing words sharing at least this ratio of characters are compared letter by letter
# The work one comparison may do, in tokens x tokens (letters x letters within a word): difflib's matching
# is quadratic where tokens repeat (spaces, "the"), ~0.5 s at this bound. A pair of texts beyond what is left
# of it is shown as one removal and one addition.
MAX_COMPARISON = 4_000_000


@dataclass(frozen=True)
class Segment:
    """A piece of a word-level comparison: text both versions share, or that only the old or new one has."""

    kind: SegmentKind
    text: str


@dataclass(frozen=True)
class WordHunk:
    """A changed region and its context lines, word by word; lines are counted from 1, as in a unified diff."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    segments: list[Segment]


class _Budget:
    """What is left of ``MAX_COMPARISON`` for one call (shared by every block of a text's hunks)."""

    def __init__(self) -> None:
        self.left = MAX_COMPARISON

    def take(self, cost: int) -> bool:
        if cost > self.left:
            return False
        self.left -= cost
        return True


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def word_tokens(text: str) -> list[str]:
    """``text`` cut on word boundaries: words, white-space runs and single other characters, together
    ``text`` again. A combining mark stays with the character before it (and a word it sits inside stays one)."""
    tokens: list[str] = []
    glue = False  # the last token is a word that ended in a combining mark: a word right after continues it
    for piece in _RAW_TOKEN.findall(text):
        if tokens and _is_mark(piece[0]):
            tokens[-1] += piece
            glue = _is_word(tokens[-1][0])
        elif glue and _is_word(piece[0]):
            tokens[-1] += piece
            glue = False
        else:
            tokens.append(piece)
            glue = False
    return tokens


def _clusters(token: str) -> list[str]:
    """The characters of a token, each with the combining marks that follow it."""
    out: list[str] = []
    for char in token:
        if out and _is_mark(char):
            out[-1] += char
        else:
            out.append(char)
    return out


def _add(segments: list[Segment], kind: SegmentKind, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].kind == kind:
        segments[-1] = Segment(kind, segments[-1].text + text)
    else:
        segments.append(Segment(kind, text))


def _replaced(segments: list[Segment], old: str, new: str) -> None:
    _add(segments, "removed", old)
    _add(segments, "added", new)


def _pair(segments: list[Segment], old: str, new: str, budget: _Budget) -> None:
    """One old token against the new one in its place: letter by letter when they are alike, else whole."""
    a, b = _clusters(old), _clusters(new)
    if not budget.take(len(a) * len(b)):
        _replaced(segments, old, new)
        return
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.ratio() < SIMILAR_WORDS:
        _replaced(segments, old, new)
        return
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _add(segments, "equal", "".join(a[i1:i2]))
        else:
            _replaced(segments, "".join(a[i1:i2]), "".join(b[j1:j2]))


def _word_segments(old: str, new: str, budget: _Budget) -> list[Segment]:
    segments: list[Segment] = []
    if old == new:
        _add(segments, "equal", old)
        return segments
    a, b = word_tokens(old), word_tokens(new)
    if not budget.take(len(a) * len(b)):
        _replaced(segments, old, new)
        return segments
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(segments, "equal", "".join(a[i1:i2]))
        elif tag == "replace" and i2 - i1 == j2 - j1:
            for x, y in zip(a[i1:i2], b[j1:j2], strict=True):
                _pair(segments, x, y, budget)
        else:
            _replaced(segments, "".join(a[i1:i2]), "".join(b[j1:j2]))
    if old and new and not any(s.kind == "equal" and any(map(_is_word, s.text)) for s in segments):
        # a rewrite: what the two share is only spaces and punctuation, so show one removal and one addition
        # rather than a word-by-word interleaving nobody could read
        return [Segment("removed", old), Segment("added", new)]
    return segments


def word_segments(old: str, new: str) -> list[Segment]:
    """``old`` and ``new`` compared word by word: equal, removed and added segments, in reading order.

    Where a word was replaced by a similar one (``II`` -> ``Il``), only the letters that differ are removed
    and added. Nothing is normalised: an NFC ``é`` against an NFD one is a change (the bytes differ), shown
    on that letter with its accent. Two texts that share no word, or too long to compare within
    ``MAX_COMPARISON``, are one removal and one addition. The equal and removed segments give ``old`` back,
    the equal and added ones ``new``.
    """
    return _word_segments(old, new, _Budget())


def word_hunks(old: str, new: str, context: int = 1) -> list[WordHunk]:
    """The changed lines of two texts with ``context`` unchanged lines around them, each hunk word by word.

    Lines are matched as ``unified`` matches them. Where a run of lines was replaced by as many lines (a
    line-end conversion, NFC to NFD, a letter per line), they are compared line by line, else as one block.
    Lines keep their ends (CR LF to LF is a change of ``\\r`` alone).
    """
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    budget = _Budget()
    hunks: list[WordHunk] = []
    for group in difflib.SequenceMatcher(None, a, b).get_grouped_opcodes(context):
        segments: list[Segment] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                _add(segments, "equal", "".join(a[i1:i2]))
                continue
            if i2 - i1 == j2 - j1:
                pairs = list(zip(a[i1:i2], b[j1:j2], strict=True))
            else:
                pairs = [("".join(a[i1:i2]), "".join(b[j1:j2]))]
            for x, y in pairs:
                for segment in _word_segments(x, y, budget):
                    _add(segments, segment.kind, segment.text)
        first, last = group[0], group[-1]
        hunks.append(
            WordHunk(
                old_start=first[1] + 1,
                old_count=last[2] - first[1],
                new_start=first[3] + 1,
                new_count=last[4] - first[3],
                segments=segments,
            )
        )
    return hunks
