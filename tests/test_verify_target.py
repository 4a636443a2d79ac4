"""provenance.verify.target.kind_of: which verifier a path gets, read with one stat a name on the text; it
answers as the pathlib reading it replaced (is_dir, exists, is_file) for every kind of path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from provenance.verify.target import BUNDLE_SUFFIXES, kind_of


def _pathlib_kind(path: Path) -> str:
    if path.is_dir():
        looks_like_bag = (path / "bagit.txt").exists() or (path / "data").is_dir()
        return "bag" if looks_like_bag and not (path / "manifest.json").exists() else "record"
    if path.is_file() and path.name.lower().endswith(BUNDLE_SUFFIXES):
        return "archive-file"
    if path.is_file() and path.name == "manifest.json":
        return "record"
    return "missing" if not path.exists() else "unknown"


def _layouts(root: Path) -> list[Path]:
    made = []
    for name, parts in {
        "bag": ["bagit.txt", "data/"],
        "bag-without-data": ["bagit.txt"],
        "data-only": ["data/"],
        "data-a-file": ["data"],
        "record": ["manifest.json", "files/"],
        "both": ["bagit.txt", "data/", "manifest.json"],
        "empty": [],
        "bagit-a-folder": ["bagit.txt/"],
    }.items():
        folder = root / name
        folder.mkdir()
        for part in parts:
            (folder / part.rstrip("/")).mkdir() if part.endswith("/") else (folder / part).write_text("x")
        made.append(folder)
    for name in ("b.zip", "b.TAR.GZ", "b.tgz", "manifest.json", "notes.txt"):
        (root / name).write_text("x")
        made.append(root / name)
    os.symlink(root / "bag", root / "link-to-bag")
    os.symlink(root / "nowhere", root / "dangling")
    os.mkfifo(root / "fifo.zip")
    made += [root / "link-to-bag", root / "dangling", root / "fifo.zip", root / "missing", root / "notes.txt" / "x",
             root / "bag" / "bagit.txt" / "x", root / "nul\0.zip"]
    return made


def test_kind_of_answers_as_pathlib(tmp_path: Path) -> None:
    for path in _layouts(tmp_path):
        assert kind_of(path) == _pathlib_kind(path), path


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder: no permission error to raise")
def test_a_folder_that_cannot_be_searched_raises_as_pathlib(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    (locked / "inner").mkdir(parents=True)
    locked.chmod(0)
    try:
        with pytest.raises(PermissionError):
            _pathlib_kind(locked / "inner")
        with pytest.raises(PermissionError):
            kind_of(locked / "inner")
    finally:
        locked.chmod(0o755)


def test_an_error_other_than_absence_is_raised_as_pathlib_raises_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "guarded").mkdir()
    real = os.stat

    def guarded(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if os.fspath(path).endswith("bagit.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", guarded)
    with pytest.raises(PermissionError):
        _pathlib_kind(tmp_path / "guarded")
    with pytest.raises(PermissionError):
        kind_of(tmp_path / "guarded")


@pytest.mark.parametrize("before", [None, "__all__", "some_plugin"])
def test_verify_path_leaves_the_plugin_setting_as_it_found_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, before: str | None
) -> None:
    from datetime import UTC, datetime

    from provenance.verify.target import make_context, verify_path

    if before is None:
        monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", before)
    seen: list[str | None] = []
    from provenance.verify import target

    monkeypatch.setattr(target, "_verify_path", lambda path, ctx: seen.append(
        os.environ.get("PYDANTIC_DISABLE_PLUGINS")) or "report")
    (tmp_path / "keys").mkdir()
    verify_path(tmp_path / "missing", make_context(tmp_path / "keys", datetime.now(UTC)))
    assert seen == ["__all__"]  # off while it verifies
    assert os.environ.get("PYDANTIC_DISABLE_PLUGINS") == before
