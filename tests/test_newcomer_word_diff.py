"""Issue 14 item 6 in the library: a word-level comparison (provenance.diff.word_segments / word_hunks).

Words first, then the letters of a similar word, so that ``II`` -> ``Il`` marks one letter; combining marks
stay with their letter (an NFD accent is never split off); nothing is normalised (NFC against NFD is a change).
"""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import diff
from provenance.diff import Segment, word_hunks, word_segments, word_tokens


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


E, R, A = "equal", "removed", "added"

CASES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    ("one letter of a word", "Kim II Sung", "Kim Il Sung", [(E, "Kim I"), (R, "I"), (A, "l"), (E, " Sung")]),
    ("identical", "Kim Il Sung", "Kim Il Sung", [(E, "Kim Il Sung")]),
    ("both empty", "", "", []),
    ("all added", "", "new text", [(A, "new text")]),
    ("all removed", "old text", "", [(R, "old text")]),
    ("unlike words whole", "cat sat", "dog sat", [(R, "cat"), (A, "dog"), (E, " sat")]),
    ("a rewrite: no word in common", "one two.", "six ten.", [(R, "one two."), (A, "six ten.")]),
    ("a word added", "the zone", "the neutral zone", [(E, "the "), (A, "neutral "), (E, "zone")]),
    ("punctuation", "Hello, world", "Hello; world", [(E, "Hello"), (R, ","), (A, ";"), (E, " world")]),
    (
        "space to hyphen beside a letter",
        "Kim II Sung",
        "Kim Il-Sung",
        [(E, "Kim I"), (R, "I"), (A, "l"), (R, " "), (A, "-"), (E, "Sung")],
    ),
    ("Cyrillic ending added", "Ким Ир Сен", "Ким Ир Сена", [(E, "Ким Ир Сен"), (A, "а")]),
    (
        "Cyrillic letter inside a word",
        "Товарищ Ким",
        "Товарыщ Ким",
        [(E, "Товар"), (R, "и"), (A, "ы"), (E, "щ Ким")],
    ),
    ("Latin C for Cyrillic С (a look-alike)", "Сен", "Cен", [(R, "С"), (A, "C"), (E, "ен")]),
    (
        "NFC to NFD: the letter with its accent",
        nfc("Le café"),
        nfd("Le café"),
        [(E, "Le caf"), (R, nfc("é")), (A, nfd("é"))],
    ),
    ("NFD to NFC", nfd("naïve"), nfc("naïve"), [(E, "na"), (R, nfd("ï")), (A, nfc("ï")), (E, "ve")]),
    ("NFD word, another letter", nfd("café"), nfd("cafés"), [(E, nfd("café")), (A, "s")]),
    ("CR LF to LF", "a\r\nb\r\n", "a\nb\n", [(E, "a"), (R, "\r"), (E, "\nb"), (R, "\r"), (E, "\n")]),
    ("final newline added", "end", "end\n", [(E, "end"), (A, "\n")]),
]


@pytest.mark.parametrize(("old", "new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_word_segments(old: str, new: str, expected: list[tuple[str, str]]) -> None:
    assert word_segments(old, new) == [Segment(kind, text) for kind, text in expected]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Kim II Sung.", ["Kim", " ", "II", " ", "Sung", "."]),
        (nfd("naïve café"), [nfd("naïve"), " ", nfd("café")]),
        ("Товарищ  Ким,\r\n", ["Товарищ", "  ", "Ким", ",", "\r\n"]),
        ("", []),
    ],
)
def test_word_tokens_keep_marks_with_their_letter(text: str, tokens: list[str]) -> None:
    assert word_tokens(text) == tokens
    assert "".join(tokens) == text


_ALPHABET = st.sampled_from(list("aeIl1 \r\n\t,.-\u00e9ИиСCен\u0301\u0308"))  # NFC é, combining marks


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(_ALPHABET, max_size=40), st.text(max_size=20)), st.text(_ALPHABET, max_size=40))
def test_segments_give_both_texts_back(old: str, new: str) -> None:
    segments = word_segments(old, new)
    assert "".join(s.text for s in segments if s.kind != "added") == old
    assert "".join(s.text for s in segments if s.kind != "removed") == new
    assert all(s.text for s in segments)
    assert all(x.kind != y.kind for x, y in itertools.pairwise(segments))
    if old == new:
        assert all(s.kind == "equal" for s in segments)


def test_segments_never_split_a_letter_from_its_accent() -> None:
    for segment in word_segments(nfd("Crème brûlée"), nfd("Crime brulée")):
        assert not unicodedata.category(segment.text[0]).startswith("M"), segment


def test_beyond_the_work_bound_one_removal_and_one_addition(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound counts tokens x tokens, then letters x letters, over one call (all hunks of a text)."""
    monkeypatch.setattr(diff, "MAX_COMPARISON", 20)
    assert word_segments("a b c", "a b d") == [Segment("removed", "a b c"), Segment("added", "a b d")]
    assert word_segments("a b c", "a b c") == [Segment("equal", "a b c")]
    monkeypatch.setattr(diff, "MAX_COMPARISON", 27)  # the five tokens (25), not the letters of II/Il (4)
    assert word_segments("Kim II Sung", "Kim Il Sung") == [
        Segment("equal", "Kim "),
        Segment("removed", "II"),
        Segment("added", "Il"),
        Segment("equal", " Sung"),
    ]
    # one line's tokens (36) and letters (4): the next line is whole
    monkeypatch.setattr(diff, "MAX_COMPARISON", 40)
    old = "Kim II Sung\n" + "x\n" * 5 + "Kim II Sung\n"
    first, second = word_hunks(old, old.replace("II", "Il"))
    assert Segment("added", "l") in first.segments
    assert Segment("added", "Kim Il Sung\n") in second.segments


def test_word_hunks_carry_line_numbers_and_context() -> None:
    old = "title\n\nfirst\nKim II Sung\nlast\n\nfar away\n"
    new = "title\n\nfirst\nKim Il Sung\nlast\n\nfar away\n"
    (hunk,) = word_hunks(old, new, context=1)
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (3, 3, 3, 3)
    assert hunk.segments == [
        Segment("equal", "first\nKim I"),
        Segment("removed", "I"),
        Segment("added", "l"),
        Segment("equal", " Sung\nlast\n"),
    ]
    assert word_hunks(old, old) == []
    two = word_hunks("a\nb\nc\nd\ne\nf\n", "A\nb\nc\nd\ne\nF\n", context=1)
    assert [(h.old_start, h.old_count) for h in two] == [(1, 2), (5, 2)]


def test_word_hunks_compare_as_many_lines_line_by_line() -> None:
    """LF to CR LF on every line (each line's words repeating the others'): only the CRs are added."""
    old = "".join(f"the zone at Kaesong, line {n}\n" for n in range(300))
    (hunk,) = word_hunks(old, old.replace("\n", "\r\n"))
    assert {s.text for s in hunk.segments if s.kind != "equal"} == {"\r"}
    assert sum(s.kind == "added" for s in hunk.segments) == 300
