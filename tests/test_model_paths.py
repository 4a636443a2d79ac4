"""provenance.model.manifest: a state's file paths are unique, also when case and Unicode forms are folded
(the bulk fold over all paths must give exactly what folding each path gives)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from provenance.model.manifest import State, _fold_all, path_fold

# path-like text: any character but NUL and surrogates, combining marks and compatibility forms included
_chars = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
_tricky = st.sampled_from(["\u0301", "\u0327", "Å", "A\u030a", "ﬁ", "Ａ", "ß", "ẞ", "İ", "ς", "Σ", "\u1e9b\u0323"])


_paths = st.lists(st.one_of(_chars, _tricky), max_size=8).map("".join)


@given(st.lists(_paths, max_size=20))
def test_bulk_fold_equals_the_fold_of_each_path(paths: list[str]) -> None:
    assert _fold_all(paths) == [path_fold(p) for p in paths]


def _entry(path: str) -> dict[str, object]:
    return {"path": path, "size": 1, "sha256": "0" * 64}


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        ("a.txt", "a.txt", "listed twice"),
        ("Letter.txt", "letter.txt", "collides"),
        ("caf\u00e9.txt", "CAF\u00c9.txt", "collides"),
        ("ﬁle.txt", "file.txt", "collides"),  # a ligature meets its letters under NFKC
        ("Ａ.txt", "a.txt", "collides"),  # a full-width letter
    ],
)
def test_colliding_paths_are_refused(first: str, second: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        State.model_validate({"files": [_entry(first), _entry(second)]})


def test_distinct_paths_pass() -> None:
    paths = ["a.txt", "b.txt", unicodedata.normalize("NFC", "caf\u00e9.txt"), "dir/a.txt"]
    state = State.model_validate({"files": [_entry(p) for p in paths]})
    assert [f.path for f in state.files] == paths
