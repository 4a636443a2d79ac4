"""provenance.bundle.entries.scan_tree: a folder of plain names is admitted a folder at a time
(``_admit_plain``); whatever a folder holds, the scan gives exactly what admitting each entry one at a
time gives (the same files, folders, refusals and words), including names that collide once case is
folded, links, devices, and the entry and length bounds."""

from __future__ import annotations

import os
import shutil
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.bundle import entries
from provenance.bundle.entries import BundleRejectedError, Limits, Tree, scan_tree


def _outcome(root: Path, limits: Limits) -> tuple[str, object]:
    try:
        tree = scan_tree(root, limits)
    except BundleRejectedError as exc:
        return "refused", [(f.code, f.message, f.fields) for f in exc.findings]
    return "read", (tree.files, tree.folders)


def _both(root: Path, limits: Limits, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = _outcome(root, limits)
    with monkeypatch.context() as patched:  # every entry through EntryNames.admit, one at a time
        patched.setattr(entries, "_admit_plain", lambda *args: False)
        slow = _outcome(root, limits)
    return fast, slow


# names: plain ones (some equal once lower-cased), and a few that are not plain
NAMES = st.sampled_from(["a", "A", "b", "B.txt", "b.txt", "x-1", "X_1", "..a", "...", ".hidden", "c",
                         "É", "é", "e\u0301", "sp ace", "tab\t", "C:", "ß", "SS", "ss"])


@st.composite
def layouts(draw: st.DrawFn) -> list[tuple[str, str]]:
    """(kind, path) entries of a small tree: files, folders, links and fifos."""
    out: list[tuple[str, str]] = []
    folders = [""]
    for _ in range(draw(st.integers(1, 14))):
        parent = draw(st.sampled_from(folders))
        name = draw(NAMES)
        kind = draw(st.sampled_from(["file", "file", "folder", "folder", "link", "fifo"]))
        path = parent + name
        if any(p == path for _, p in out):
            continue
        out.append((kind, path))
        if kind == "folder":
            folders.append(path + "/")
    return out


def _make(root: Path, layout: list[tuple[str, str]]) -> None:
    root.mkdir()
    for kind, path in layout:
        target = root / path
        if not target.parent.is_dir():
            continue
        if kind == "file":
            target.write_bytes(b"x")
        elif kind == "folder":
            target.mkdir()
        elif kind == "link":
            os.symlink("a", target)
        else:
            os.mkfifo(target)


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=layouts(), max_entries=st.sampled_from([3, 8, 100]))
def test_a_folder_at_a_time_reads_as_one_entry_at_a_time(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, layout: list[tuple[str, str]], max_entries: int
) -> None:
    root = scratch / "bag"
    if root.exists():
        shutil.rmtree(root)
    _make(root, layout)
    fast, slow = _both(root, Limits(max_entries=max_entries), monkeypatch)
    assert fast == slow


def test_names_that_differ_only_in_case_are_refused_with_the_same_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "bag"
    (root / "data").mkdir(parents=True)
    for name in ("page-1.bin", "PAGE-1.bin", "page-2.bin"):
        (root / "data" / name).write_bytes(b"x")
    (root / "data" / "Pages").mkdir()
    (root / "data" / "pages").write_bytes(b"x")
    fast, slow = _both(root, Limits(), monkeypatch)
    assert fast == slow
    assert fast[0] == "refused"
    messages = [message for _, message, _ in fast[1]]  # type: ignore[union-attr]
    assert messages == [
        "entry 'data/page-1.bin': collides with 'data/PAGE-1.bin' when case is folded",
        "entry 'data/pages': collides with 'data/Pages' when case is folded",
    ]


@pytest.mark.parametrize("length", [94, 95, 96])
@pytest.mark.parametrize("kind", ["file", "folder"])
def test_the_path_bound_holds_for_plain_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, length: int, kind: str
) -> None:
    monkeypatch.setattr(entries, "MAX_PATH_BYTES", 100)  # "data/" + 95 bytes: 100 (a folder's + "/": 101)
    root = tmp_path / "bag"
    (root / "data").mkdir(parents=True)
    target = root / "data" / ("n" * length)
    target.mkdir() if kind == "folder" else target.write_bytes(b"x")
    fast, slow = _both(root, Limits(), monkeypatch)
    assert fast == slow
    assert (fast[0] == "refused") == (5 + length + (kind == "folder") > 100)


def test_a_plain_folder_lists_paths_as_text_and_keeps_no_bytes_before_a_read(tmp_path: Path) -> None:
    root = tmp_path / "bag"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.txt").write_bytes(b"abc")
    tree = scan_tree(root)
    assert tree.files == {"data/a.txt": os.path.join(str(root), "data", "a.txt")}
    assert tree.folders == {"data"} and tree.kept == {}
    assert tree.read("data/a.txt", 10) == b"abc" and tree.kept == {"data/a.txt": b"abc"}
    (root / "data" / "a.txt").write_bytes(b"changed")
    assert tree.read("data/a.txt", 10) == b"abc"  # read once: what was checked is what is used
    with pytest.raises(OSError, match="larger than 2 bytes"):
        tree.read("data/a.txt", 2)
    assert isinstance(Tree().files, dict)


def test_plain_names_cover_what_safe_entry_path_leaves_unchanged() -> None:
    plain = string.ascii_letters + string.digits + "._-"
    for char in plain:
        assert entries.safe_entry_path(f"x{char}y") == f"x{char}y"
        assert entries.collision_key(f"X{char}Y") == f"x{char}y".lower()
