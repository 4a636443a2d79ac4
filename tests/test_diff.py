"""provenance.diff: what changed between two versions of a record (files, catalogue, notes), and the
unified diffs it gives (one for reading, one that ``patch`` applies)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import actions
from provenance.diff import diff_versions, patch_text, unified
from provenance.errors import ErrorCode
from tests.coded import raises_code
from tests.conftest import World
from tests.helpers import RID
from tests.shared_worlds import full_life, shared_world


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The reference life (tests/conftest.py full_life), read only here: 1 registration, 2-4 notes,
    5 custody, 6 revision, 7 review, 8 release."""
    with shared_world(tmp_path_factory, "diff", full_life) as world:
        yield world


def test_a_revision_shows_the_changed_line_and_the_orphaned_note(lived: World) -> None:
    diff = diff_versions(lived.archive, RID, 5, 6)
    assert (diff.a, diff.b) == (5, 6)
    [changed] = diff.files
    assert changed["change"] == "modified" and changed["path"] == f"{RID}.txt"
    assert changed["from_sha256"] != changed["to_sha256"]
    assert any(line.startswith("-") and "Kim II Sung" in line for line in changed["diff"])
    assert any(line.startswith("+") and "Kim Il Sung" in line for line in changed["diff"])
    assert changed["diff"][0] == f"--- {RID}.txt@v5"
    orphaned = [n for n in diff.notes if n["change"] == "orphaned"]
    assert [n["quote"] for n in orphaned] == ["Kim II Sung"]
    assert diff.catalogue == []


def test_the_default_is_the_last_event_against_the_one_before(lived: World) -> None:
    diff = diff_versions(lived.archive, RID)
    assert (diff.a, diff.b) == (7, 8)
    assert diff.to_json() == {"record": RID, "from": 7, "to": 8, "files": [], "catalogue": [], "notes": []}


def test_notes_added_are_listed_with_their_quote_and_text(lived: World) -> None:
    diff = diff_versions(lived.archive, RID, 1, 4)
    added = [n for n in diff.notes if n["change"] == "added"]
    assert [n["quote"] for n in added] == ["Kim II Sung", "Syngmann Rhee", "Gaeseong [Kaesong]"]
    assert added[1]["text"] == "Usually spelled Syngman Rhee."


def test_catalogue_changes_name_the_field_and_both_values(ingested: World) -> None:
    actions.change_metadata(ingested.archive, RID, ingested.signers["archivist"],
                            changes={"origin": "Peking", "series": None}, reason="as written", now=ingested.tick())
    diff = diff_versions(ingested.archive, RID)
    assert diff.catalogue == [{"field": "origin", "from": "Beijing", "to": "Peking"},
                              {"field": "series", "from": "G", "to": None}]
    assert diff.files == [] and diff.notes == []


def test_an_attached_file_is_added(ingested: World, tmp_path: Path) -> None:
    extra = tmp_path / "scan.bin"
    extra.write_bytes(b"\x00\x01binary")
    actions.attach(ingested.archive, RID, ingested.signers["archivist"], source=extra, now=ingested.tick())
    assert diff_versions(ingested.archive, RID).files == [{"path": "scan.bin", "change": "added"}]


@pytest.mark.parametrize(("a", "b"), [(1, 99), (0, 1), (99, 1)])
def test_a_version_that_does_not_exist_is_refused(ingested: World, a: int, b: int) -> None:
    with raises_code(ErrorCode.VERSION_NOT_FOUND):
        diff_versions(ingested.archive, RID, a, b)


def test_a_record_that_does_not_exist_is_refused(ingested: World) -> None:
    with raises_code(ErrorCode.RECORD_NOT_FOUND, "no-such"):
        diff_versions(ingested.archive, "no-such")


def test_unified_carries_versions_and_line_numbers() -> None:
    lines = unified("a\nb\nc\n", "a\nB\nc\n", "t.txt", 1, 2)
    assert lines == ["--- t.txt@v1", "+++ t.txt@v2", "@@ -1,3 +1,3 @@", " a", "-b", "+B", " c"]
    assert unified("same\n", "same\n", "t.txt", 1, 2) == []


PATCH_CASES = [
    ("lf", "one\ntwo\nthree\n", "one\n2\nthree\n"),
    ("crlf kept", "one\r\ntwo\r\nthree\r\n", "one\r\ntwo!\r\nthree\r\n"),
    ("no final newline", "one\ntwo", "one\ntwo\nthree"),
    ("newline added at the end", "one\ntwo", "one\ntwo\n"),
    ("cyrillic", "Сталину\nтов. Филиппову\n", "Сталину\nтов. Филиппов\n"),
]


@pytest.mark.parametrize(("name", "old", "new"), PATCH_CASES, ids=[c[0] for c in PATCH_CASES])
def test_patch_text_is_applied_by_patch_byte_for_byte(tmp_path: Path, name: str, old: str, new: str) -> None:
    text = patch_text(old, new, "t.txt")
    assert text.startswith("--- a/t.txt\n+++ b/t.txt\n")
    if "no final newline" in name or "added at the end" in name:
        assert "\\ No newline at end of file\n" in text
    tool = shutil.which("patch")
    if tool is None:
        pytest.skip("GNU patch is not installed (tests/system/packages.txt installs it)")
    (tmp_path / "t.txt").write_bytes(old.encode("utf-8"))
    subprocess.run([tool, "-p1", "--binary", "--quiet"], input=text.encode("utf-8"), cwd=tmp_path, check=True,
                   timeout=30)
    assert (tmp_path / "t.txt").read_bytes() == new.encode("utf-8")
