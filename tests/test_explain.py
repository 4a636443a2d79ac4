"""provenance.verify.explain: why a file's bytes differ from the signed digest, said only when it is known.

Every explanation is a hypothesis tested against a digest: the table below gives each known change with
the sentence it must produce, and changes that no single (or double) normalisation undoes must produce
nothing at all."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.manifest_io import read_manifest
from provenance.model.problems import ProblemCode, VerificationReport
from provenance.verify.explain import (
    MAX_EXPLAIN_BYTES,
    explain_against_versions,
    explain_mismatch,
    explain_report,
    first_difference,
    first_differences,
    line_endings,
)
from tests.conftest import REFERENCE, World
from tests.helpers import RID
from tests.shared_worlds import full_life, shared_world

SIGNED = "Сталину.\nKim Il Sung and Syngman Rhee in Kaesŏng.\nТов. Филиппову, ёлка, й\n".encode()
NFD = unicodedata.normalize("NFD", SIGNED.decode()).encode()

# (what was done to the signed bytes, the found bytes, the sentence that must be given, or None)
MISMATCHES: list[tuple[str, bytes, str | None]] = [
    ("LF to CR LF", SIGNED.replace(b"\n", b"\r\n"), "only line endings changed: LF became CR LF"),
    ("to NFD", NFD, "only Unicode normalisation changed: the text was converted to NFD"),
    ("trailing spaces", SIGNED.replace(b"\n", b"  \n"), "only trailing whitespace was added at line ends"),
    ("final newline dropped", SIGNED[:-1], "only the final newline was removed"),
    ("final newline added", SIGNED + b"\n", "only a final newline was added"),
    ("BOM added", b"\xef\xbb\xbf" + SIGNED, "only a byte-order mark was added at the start"),
    ("CR LF and NFD", NFD.replace(b"\n", b"\r\n"),
     "only line endings changed: LF became CR LF, and Unicode normalisation changed: the text was converted to NFD"),
    ("a word changed", SIGNED.replace(b"Il", b"II"), None),
    ("binary", b"\x00" + SIGNED, None),
]


@pytest.mark.parametrize(("name", "found", "sentence"), MISMATCHES, ids=[m[0] for m in MISMATCHES])
def test_explain_mismatch(name: str, found: bytes, sentence: str | None) -> None:
    assert explain_mismatch(found, hashlib.sha256(SIGNED).hexdigest()) == sentence


def test_explain_mismatch_of_a_crlf_text_whose_lf_copy_was_found() -> None:
    crlf = SIGNED.replace(b"\n", b"\r\n")
    assert explain_mismatch(SIGNED, hashlib.sha256(crlf).hexdigest()) == "only line endings changed: CR LF became LF"


def test_explain_mismatch_says_nothing_of_a_huge_input() -> None:
    big = b"a\n" * (MAX_EXPLAIN_BYTES // 2 + 1)
    assert explain_mismatch(big, hashlib.sha256(big.replace(b"\n", b"\r\n")).hexdigest()) is None


@pytest.mark.parametrize(("data", "name"), [(b"a\r\nb\r\n", "CR LF"), (b"a\nb\n", "LF"), (b"a\r\nb\n", "mixed CR LF and LF"),
                                            (b"one line", "none"), (b"", "none")])
def test_line_endings(data: bytes, name: str) -> None:
    assert line_endings(data) == name


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (b"a\nb\nc\n", b"a\nB\nc\n", "line 2 differs: 'b' \u2192 'B'"),
        (b"a\nb\n", b"a\nb\nc\n", "the text has 3 lines where 2 were expected"),
        (b"a\n", b"a\n", None),
        (b"\xff", b"a", None),
    ],
)
def test_first_difference(old: bytes, new: bytes, said: str | None) -> None:
    assert first_difference(old, new) == said


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (b"a\nb\nc\nd\n", b"a\nB\nc\nd\ne\n", "line 2, column 1: 'b' \u2192 'B'; line 5 added: 'e'"),
        (b"a\nb\nc\n", b"a\nc\n", "line 2 removed: 'b'"),
        (b"x\n" * 4, b"y\n" * 4, "line 1, column 1: 'x' \u2192 'y' (and 3 more lines)"),
        (b"a\n", b"a\n", None),
        (b"\xff\n", b"a\n", None),
    ],
)
def test_first_differences(old: bytes, new: bytes, said: str | None) -> None:
    assert first_differences(old, new) == said


def test_first_differences_stops_at_the_limit() -> None:
    old = b"".join(b"line %d\n" % i for i in range(20))
    new = old.replace(b"line 3\n", b"LINE 3\n").replace(b"line 9\n", b"LINE 9\n").replace(b"line 15\n", b"X\n")
    assert first_differences(old, new, limit=2) is not None
    assert first_differences(old, new, limit=2).count("; ") == 1  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The reference life: event 6 revised the text (Kim II Sung → Kim Il Sung); read only."""
    with shared_world(tmp_path_factory, "explain", full_life) as world:
        yield world


def _current(world: World) -> tuple[Path, str, bytes]:
    record = world.archive.record_dir(RID)
    path = f"{RID}.txt"
    data = (record / "files" / path).read_bytes()
    return record, path, data


def test_a_rolled_back_file_is_named_as_the_earlier_version(lived: World) -> None:
    record, path, current = _current(lived)
    manifest = read_manifest(record)
    why = explain_against_versions(REFERENCE.read_bytes(), path, hashlib.sha256(current).hexdigest(), manifest,
                                   [record / "objects" / "sha256"])
    assert why == "the file is the earlier version of event 5: it was rolled back"


def test_a_change_is_shown_against_the_signed_bytes_when_they_are_at_hand(lived: World) -> None:
    record, path, current = _current(lived)
    found = current.replace(b"Kim Il Sung", b"Kim Jong Il", 1)
    why = explain_against_versions(found, path, hashlib.sha256(current).hexdigest(), read_manifest(record),
                                   [record / "objects" / "sha256"], [record / "files"])
    assert why is not None and why.startswith("compared with the signed version: line ")
    assert "'Kim Il Sung" in why or "Il Sung" in why


def test_without_the_signed_bytes_an_earlier_version_is_for_orientation_only(lived: World) -> None:
    record, path, current = _current(lived)
    found = current.replace(b"Kim Il Sung", b"Kim Jong Il", 1)
    why = explain_against_versions(found, path, hashlib.sha256(current).hexdigest(), read_manifest(record),
                                   [record / "objects" / "sha256"])
    assert why is not None and "for orientation only" in why and "event 5" in why


def test_nothing_at_hand_explains_nothing(lived: World, tmp_path: Path) -> None:
    record, path, current = _current(lived)
    assert explain_against_versions(b"other", path, hashlib.sha256(current).hexdigest(), read_manifest(record),
                                    [tmp_path]) is None


def test_explain_report_adds_the_explanation_to_a_file_mismatch(lived: World, tmp_path: Path) -> None:
    record, path, current = _current(lived)
    files = tmp_path / "files"
    files.mkdir()
    (files / path).write_bytes(REFERENCE.read_bytes())  # the copy under check was rolled back
    report = VerificationReport(path=str(tmp_path), kind="record", record=RID)
    report.add(ProblemCode.FILE_DIGEST_MISMATCH, f"{path}: digest mismatch", path=path,
               expected={"sha256": hashlib.sha256(current).hexdigest()})
    report.add(ProblemCode.FILE_MISSING, "other.txt: missing", path="other.txt")
    explain_report(report, read_manifest(record), files, [record / "objects" / "sha256"])
    mismatch, missing = report.problems
    assert mismatch.fields["explanation"] == "the file is the earlier version of event 5: it was rolled back"
    assert mismatch.message.endswith("it was rolled back")
    assert "explanation" not in missing.fields
