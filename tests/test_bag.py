"""provenance.bundle.bag: the BagIt checks of an exported bag folder, called directly (check_bag on the
scanned tree, then check_info against the signed manifest), each tamper asserting the exact bag codes.

The whole-bundle verdicts (signatures, record, CLI) are in tests/test_bundle_tamper.py; this module pins
what the bag layer alone finds."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.bundle.bag import check_bag, check_info
from provenance.bundle.entries import scan_tree
from provenance.bundle.export import export_record
from provenance.canonical import loads_strict
from provenance.model.manifest import Manifest
from provenance.model.problems import VerificationReport
from tests.bundle_helpers import edit_text, rebag
from tests.conftest import World
from tests.helpers import RID
from tests.shared_worlds import full_life, shared_world

TEXT = f"data/files/{RID}.txt"


@dataclass
class Exported:
    world: World
    bag: Path  # a clean bag folder with every earlier version (never changed: each test copies it)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    with shared_world(tmp_path_factory, "bag", full_life) as world:
        bag = world.root.parent / "bag"
        export_record(world.archive, RID, bag, history=True)
        yield Exported(world, bag)


def _check(root: Path) -> tuple[object, VerificationReport]:
    report = VerificationReport(path=str(root), kind="bag")
    return check_bag(root, scan_tree(root), report), report


def _codes(report: VerificationReport) -> set[str]:
    return {str(p.code) for p in report.problems}


def _manifest(bag: Path) -> Manifest:
    return Manifest.model_validate(loads_strict((bag / "provenance" / "manifest.json").read_bytes()))


def test_a_clean_bag_has_no_bag_problem_and_says_what_it_holds(exported: Exported) -> None:
    findings, report = _check(exported.bag)
    assert report.problems == []
    assert findings is not None
    assert findings.payload_count == 8  # type: ignore[attr-defined]
    assert findings.payload_bytes == sum(  # type: ignore[attr-defined]
        p.stat().st_size for p in (exported.bag / "data").rglob("*") if p.is_file())
    assert findings.info_values("External-Identifier") == [RID]  # type: ignore[attr-defined]
    assert set(findings.payload_sha256) == {  # type: ignore[attr-defined]
        p.relative_to(exported.bag).as_posix() for p in (exported.bag / "data").rglob("*") if p.is_file()}
    check_info(findings, _manifest(exported.bag), True, report)  # type: ignore[arg-type]
    assert report.problems == []


def test_a_folder_without_a_declaration_is_not_a_bag(exported: Exported, tmp_path: Path) -> None:
    bag = Path(shutil.copytree(exported.bag, tmp_path / "bag"))
    (bag / "bagit.txt").unlink()
    findings, _ = _check(bag)
    assert findings is None


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def change(bag: Path) -> None:
        with open(bag / rel, "a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return change


def _remove(rel: str) -> Callable[[Path], None]:
    return lambda bag: (bag / rel).unlink()


def _write(rel: str, data: bytes) -> Callable[[Path], None]:
    return lambda bag: (bag / rel).write_bytes(data)


def _then_rebag(change: Callable[[Path], None], *, oxum: bool = True) -> Callable[[Path], None]:
    def both(bag: Path) -> None:
        change(bag)
        rebag(bag, oxum=oxum)
    return both


def _info(pattern: str, replacement: str) -> Callable[[Path], None]:
    return lambda bag: edit_text(bag / "bag-info.txt", lambda t: re.sub(pattern, replacement, t, count=1, flags=re.M))


# (name, change to a copy of the clean bag, the exact bag codes check_bag gives)
BAG_CASES: list[tuple[str, Callable[[Path], None], set[str]]] = [
    ("payload byte changed", _write(TEXT, b"changed"), {"bag.digest-mismatch", "bag.oxum-mismatch"}),
    ("payload file removed", _remove(TEXT), {"bag.file-missing", "bag.oxum-mismatch"}),
    ("payload file added", _write("data/files/extra.txt", b"x"), {"bag.file-unexpected", "bag.oxum-mismatch"}),
    ("payload added and re-bagged", _then_rebag(_write("data/files/extra.txt", b"x")), set()),
    ("oxum left stale", _then_rebag(_write("data/files/extra.txt", b"x"), oxum=False), {"bag.oxum-mismatch"}),
    ("tag file changed", _info(r"^Origin: .*$", "Origin: Moscow"), {"bag.tag-digest-mismatch"}),
    ("key card removed", lambda bag: next((bag / "provenance" / "keys").iterdir()).unlink(), {"bag.file-missing"}),
    ("tag manifest removed", _remove("tagmanifest-sha256.txt"), {"bag.invalid"}),
    ("payload manifest removed", _remove("manifest-sha256.txt"), {"bag.invalid", "bag.file-missing"}),
    ("fetch.txt added", _then_rebag(_write("fetch.txt", b"http://example.org/x 1 data/files/x\n")),
     {"bag.invalid"}),
    ("stray tag file", _then_rebag(_write("notes.txt", b"hello")), {"bag.file-unexpected"}),
    ("declaration changed", _write("bagit.txt", b"BagIt-Version: 0.96\nTag-File-Character-Encoding: UTF-8\n"),
     {"bag.invalid"}),
    ("manifest line malformed", _append("manifest-sha256.txt", "not a manifest line\n"),
     {"bag.invalid", "bag.tag-digest-mismatch"}),
]


@pytest.mark.parametrize(("name", "change", "codes"), BAG_CASES, ids=[c[0] for c in BAG_CASES])
def test_check_bag_tamper(exported: Exported, tmp_path: Path, name: str, change: Callable[[Path], None],
                          codes: set[str]) -> None:
    bag = Path(shutil.copytree(exported.bag, tmp_path / "bag"))
    change(bag)
    _, report = _check(bag)
    assert _codes(report) == codes, [(str(p.code), p.message) for p in report.problems]


# (name, change to bag-info.txt, re-bagged so that only check_info can tell)
INFO_CASES: list[tuple[str, Callable[[Path], None]]] = [
    ("a catalogue value changed", _info(r"^Origin: .*$", "Origin: Moscow")),
    ("a label provenance never writes", _info(r"^(Bagging-Date: .*)$", r"Contact-Name: Eve\n\1")),
    ("the history claim dropped", _info(r"^Provenance-History: included\n", "")),
    ("another agent", _info(r"^Bag-Software-Agent: .*$", "Bag-Software-Agent: bagit.py")),
    ("the layout folded", _info(r"^Author: (.*)$", r"Author:\n  \1")),
]


@pytest.mark.parametrize(("name", "change"), INFO_CASES, ids=[c[0] for c in INFO_CASES])
def test_check_info_finds_what_the_signed_manifest_does_not_say(exported: Exported, tmp_path: Path, name: str,
                                                                change: Callable[[Path], None]) -> None:
    bag = Path(shutil.copytree(exported.bag, tmp_path / "bag"))
    _then_rebag(change)(bag)
    findings, report = _check(bag)
    assert findings is not None and report.problems == []  # the bag itself is consistent
    check_info(findings, _manifest(bag), True, report)  # type: ignore[arg-type]
    assert _codes(report) == {"bag.info-mismatch"}
    assert all(p.fields.get("path") == "bag-info.txt" for p in report.problems)
