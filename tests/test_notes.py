"""provenance.notes: anchoring a note by quote and position, finding it again after a revision."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.errors import ErrorCode
from provenance.model.manifest import FileEntry, Note, State
from provenance.notes import (
    CONTEXT_WIDTH,
    closest_passages,
    locate_quote,
    main_text,
    make_target,
    next_note_id,
    occurrences,
    reanchor,
    record_text,
)
from tests.coded import raises_code

TEXT = "KIM II SUNG TO STALIN. Kaesong, Kaesong again. Syngmann Rhee left for Seoul."


@pytest.mark.parametrize(
    ("text", "quote", "starts"),
    [
        (TEXT, "Kaesong", [23, 32]),
        (TEXT, "STALIN", [15]),
        (TEXT, "Moscow", []),
        ("aaaa", "aa", [0, 1, 2]),  # overlapping occurrences count
        ("", "a", []),
        ("Ёж ёж", "ёж", [3]),  # code points, not bytes
    ],
)
def test_occurrences(text: str, quote: str, starts: list[int]) -> None:
    assert occurrences(text, quote) == starts


def test_locate_quote_gives_the_only_or_the_chosen_occurrence() -> None:
    assert locate_quote(TEXT, "STALIN", None, source="t.txt") == (15, 21)
    assert locate_quote(TEXT, "Kaesong", 2, source="t.txt") == (32, 39)


@pytest.mark.parametrize(
    ("quote", "occurrence", "code", "words"),
    [
        ("", None, ErrorCode.NOTE_QUOTE_NOT_FOUND, "empty"),
        ("Syngman Rhee", None, ErrorCode.NOTE_QUOTE_NOT_FOUND, "'Syngmann Rhee"),  # the closest passage
        ("Kaesong", None, ErrorCode.NOTE_QUOTE_AMBIGUOUS, "occurs 2 times"),
        ("Kaesong", 3, ErrorCode.NOTE_QUOTE_AMBIGUOUS, "out of range"),
        ("Kaesong", 0, ErrorCode.NOTE_QUOTE_AMBIGUOUS, "out of range"),
        ("STALIN", 2, ErrorCode.NOTE_QUOTE_AMBIGUOUS, "out of range"),
    ],
)
def test_locate_quote_failures_are_coded(quote: str, occurrence: int | None, code: ErrorCode, words: str) -> None:
    with raises_code(code, words):
        locate_quote(TEXT, quote, occurrence, source="t.txt")


def test_a_quote_not_found_names_the_closest_passages_as_whole_words() -> None:
    with raises_code(ErrorCode.NOTE_QUOTE_NOT_FOUND) as raised:
        locate_quote(TEXT, "Syngman Rhee", None, source="t.txt")
    assert "Syngmann Rhee" in raised.details["closest"]
    assert closest_passages(TEXT, "Kaesong agian")[0] == "Kaesong again."
    assert closest_passages(TEXT, "zzzzzzzz") == []


def test_make_target_keeps_context_either_side() -> None:
    long = "x" * 100 + "QUOTE" + "y" * 100
    target = make_target(long, "f.txt", 100, 105)
    assert target.source == "f.txt" and target.quote.exact == "QUOTE"
    assert target.quote.prefix == "x" * CONTEXT_WIDTH and target.quote.suffix == "y" * CONTEXT_WIDTH
    assert target.position is not None and (target.position.start, target.position.end) == (100, 105)
    edge = make_target("QUOTE", "f.txt", 0, 5)
    assert (edge.quote.prefix, edge.quote.suffix) == ("", "")


def _note(text: str, start: int, end: int, source: str = "t.txt") -> Note:
    return Note(id="note-1", kind="translation", text="a note", target=make_target(text, source, start, end),
                event=2)


def test_reanchor_follows_a_moved_quote() -> None:
    note = _note(TEXT, 15, 21)  # STALIN
    revised = "A new first line.\n" + TEXT
    moved = reanchor(note, revised, "t.txt")
    assert moved.status == "anchored" and moved.target.position is not None
    assert revised[moved.target.position.start:moved.target.position.end] == "STALIN"
    assert moved.target.position.start == 15 + len("A new first line.\n")


def test_reanchor_prefers_the_occurrence_with_the_same_context() -> None:
    second = _note(TEXT, 32, 39)  # the second Kaesong ("Kaesong again")
    revised = "Kaesong. " + TEXT
    again = reanchor(second, revised, "t.txt")
    assert again.target.position is not None
    assert revised[again.target.position.start:].startswith("Kaesong again")


def test_reanchor_orphans_a_note_whose_quote_is_gone_and_keeps_its_selectors() -> None:
    note = _note(TEXT, 47, 60)  # Syngmann Rhee
    orphan = reanchor(note, TEXT.replace("Syngmann", "Syngman"), "t.txt")
    assert orphan.status == "orphaned" and orphan.target == note.target


def test_reanchor_leaves_a_note_on_another_file_alone() -> None:
    note = _note(TEXT, 15, 21, source="other.txt")
    assert reanchor(note, "nothing here", "t.txt") is note


@pytest.mark.parametrize(("ids", "expected"), [([], "note-1"), (["note-1"], "note-2"),
                                               (["note-3", "note-10", "note-2"], "note-11")])
def test_next_note_id(ids: list[str], expected: str) -> None:
    notes = [Note(id=i, kind="comment", text="t", target=make_target(TEXT, "t.txt", 0, 3), event=1) for i in ids]
    assert next_note_id(notes) == expected


def _entry(path: str, role: str, media_type: str = "text/plain; charset=utf-8") -> FileEntry:
    return FileEntry(path=path, size=0, sha256="0" * 64, media_type=media_type, role=role)


def test_main_text_is_the_transcription_else_the_first_file() -> None:
    scan, text = _entry("scan.tif", "original", "image/tiff"), _entry("text.txt", "transcription")
    assert main_text(State(files=[scan, text])) == text
    assert main_text(State(files=[scan, _entry("tr.txt", "translation")])) == scan


def test_record_text_reads_in_the_entrys_charset_or_refuses(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "t.txt").write_bytes("Сталину".encode("cp1251"))
    assert record_text(tmp_path, _entry("t.txt", "transcription", "text/plain; charset=cp1251")) == "Сталину"
    with raises_code(ErrorCode.INPUT_ENCODING):
        record_text(tmp_path, _entry("t.txt", "transcription"))
