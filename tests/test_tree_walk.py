"""The one folder walk (provenance/tree_walk.py): every entry, no link followed, bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.tree_walk import TooManyEntriesError, walk


def _tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "deep.txt").write_text("x")
    (root / "top.txt").write_text("x")
    (root / "outside").mkdir()
    (root / "outside" / "secret.txt").write_text("x")
    os.symlink(root / "outside", root / "a" / "link")


def test_every_entry_is_yielded_once_and_no_link_is_followed(tmp_path: Path) -> None:
    _tree(tmp_path)
    seen = {rel: entry.is_symlink() for rel, entry in walk(tmp_path, 100)}
    assert seen == {
        "a": False,
        "a/b": False,
        "a/b/deep.txt": False,
        "a/link": True,
        "top.txt": False,
        "outside": False,
        "outside/secret.txt": False,
    }
    assert not any(rel.startswith("a/link/") for rel in seen)


@pytest.mark.parametrize(("bound", "refused"), [(7, False), (6, True), (0, True)])
def test_the_bound_counts_entries_files_and_folders(tmp_path: Path, bound: int, refused: bool) -> None:
    _tree(tmp_path)
    if not refused:
        assert len(list(walk(tmp_path, bound))) == 7
        return
    with pytest.raises(TooManyEntriesError) as caught:
        list(walk(tmp_path, bound))
    assert caught.value.bound == bound


def test_an_empty_folder_yields_nothing(tmp_path: Path) -> None:
    assert list(walk(tmp_path, 0)) == []
