"""The shortcuts the verifier takes for speed give the answers of the full checks (issue 15's speed targets).

A plain ASCII payload path is accepted by one pattern; anything it accepts passes every check of
``check_relative_path``, and the answer for any path is the same with or without the shortcut.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import provenance.model.manifest as manifest_model
from provenance.verify.target import make_context, verify_path
from tests.conftest import World, full_life

paths = st.text(alphabet="aZ09._-/ \\:\t", max_size=14) | st.sampled_from(
    ["a", "a/b", ".a", "a/.", "a/..", "..", "a//b", "/a", "a/", "C:/x", "a" * 255, "a" * 256, "a/" + "b" * 300]
)


@settings(max_examples=800)
@given(paths)
def test_plain_path_pattern_accepts_only_valid_paths(path: str) -> None:
    fast = len(path) <= 1024 and manifest_model._PLAIN_PATH.fullmatch(path) is not None
    original = manifest_model._PLAIN_PATH
    try:
        manifest_model._PLAIN_PATH = re.compile("(?!)")  # the full checks alone
        try:
            manifest_model.check_relative_path(path)
            valid = True
        except ValueError:
            valid = False
    finally:
        manifest_model._PLAIN_PATH = original
    if fast:
        assert valid, path
    # and with the shortcut in place the answer is the same
    try:
        manifest_model.check_relative_path(path)
        assert valid
    except ValueError:
        assert not valid


@pytest.mark.parametrize("path", ["pages/page-00001.bin", "a.b/c_d-e", "x" * 255])
def test_plain_paths_take_the_shortcut(path: str) -> None:
    assert manifest_model._PLAIN_PATH.fullmatch(path)


# ---------------------------------------------------------------------------------------------------------
# A bag folder's files/ is taken from its safe scan instead of a second walk: the same findings either way


def _findings(bag: Path, world: World) -> list[tuple[str, object]]:
    ctx = make_context(world.archive.keys_dir, world.tick())
    report = verify_path(bag, ctx)
    return [(str(p.code), p.fields.get("path")) for p in report.problems]


@pytest.mark.parametrize("max_files", [None, "1", "2"])
def test_listing_from_the_scan_equals_a_walk(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_files: str | None
) -> None:
    from provenance.bundle.export import export_record
    from provenance.verify import record

    full_life(world)
    bag = tmp_path / "bag"
    export_record(world.archive, "telegram-23256", bag)
    (bag / "data" / "files" / "stray.txt").write_bytes(b"not listed\n")  # a finding to agree on
    if max_files is not None:
        monkeypatch.setenv("PROVENANCE_MAX_FILES", max_files)
    scanned = _findings(bag, world)

    def walked(source: record.RecordSource, report: object) -> object:
        return record._walk_files(source.files_root, report, "files", source.view)  # type: ignore[arg-type]

    monkeypatch.setattr(record, "_current_files", walked)
    assert _findings(bag, world) == scanned
    assert scanned  # the stray file (or the bound) was found


def test_declared_bytes_of_a_bag(world: World, tmp_path: Path) -> None:
    """The Payload-Oxum a bag declares chooses how its payload is hashed (never a finding)."""
    from provenance.bundle import bag as bag_module
    from provenance.bundle.export import export_record
    from provenance.bundle.readers import DEFAULT_LIMITS, scan_tree

    full_life(world)
    bag = tmp_path / "bag"
    export_record(world.archive, "telegram-23256", bag)
    tree = scan_tree(bag, DEFAULT_LIMITS)
    root_files = {rel: path for rel, path in tree.files.items() if "/" not in rel}
    info = (bag / "bag-info.txt").read_text()
    declared = int(info.split("Payload-Oxum: ", 1)[1].split(".", 1)[0])
    assert bag_module._declared_bytes(tree, root_files) == declared > 0
    assert bag_module._declared_bytes(tree, {k: v for k, v in root_files.items() if k != "bag-info.txt"}) is None
    (bag / "bag-info.txt").write_bytes(b"\xff\xfe not UTF-8")
    assert bag_module._declared_bytes(tree, root_files) == declared  # a tag file is read once: the bytes kept
    tree = scan_tree(bag, DEFAULT_LIMITS)
    assert bag_module._declared_bytes(tree, root_files) is None
