"""Issue 9 item 4: a bag holds only what provenance writes.

Any tag file or folder provenance does not write (listed in the tag manifests or not), and any bag-info
label it does not write or a layout it does not use, is a problem: another tool would show it to a reader.
Each case changes a clean export and re-bags it ("rebagged": bag manifests, Payload-Oxum and tag manifests
recomputed, so only these rules can catch it); the state and the *set* of codes must be exactly those given.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.bundle import tagfiles
from provenance.bundle.export import export_record
from provenance.verify.target import make_context, verify_path
from tests.bundle_helpers import copy_bag, edit_text, rebag, zip_folder
from tests.conftest import REFERENCE, World, make_world

RID = "telegram-23256"


@dataclass
class Clean:
    world: World
    bag: Path


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Clean:
    from provenance.ingest.service import ingest, read_transcription

    tmp = tmp_path_factory.mktemp("written-only")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = make_world(tmp)
        ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
    export_record(world.archive, RID, tmp / "bag")
    return Clean(world, tmp / "bag")


def write(rel: str, data: str = "x\n") -> Callable[[Path], None]:
    def step(bag: Path) -> None:
        (bag / rel).parent.mkdir(parents=True, exist_ok=True)
        (bag / rel).write_text(data, "utf-8")

    return step


def folder(rel: str) -> Callable[[Path], None]:
    return lambda bag: (bag / rel).mkdir(parents=True)


def info(change: Callable[[str], str]) -> Callable[[Path], None]:
    return lambda bag: edit_text(bag / "bag-info.txt", change)


def swap_first_lines(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[0], lines[1] = lines[1], lines[0]
    return "".join(lines)


def fold_title(text: str) -> str:
    head, _, rest = text.partition("External-Description: ")
    title, _, tail = rest.partition("\n")
    words = title.split(" ")
    return f"{head}External-Description: {' '.join(words[:3])}\n  {' '.join(words[3:])}\n{tail}"


class AfterRebag:
    """A change to the payload manifest made after re-bagging; only the tag manifest is recomputed after it."""

    def __init__(self, change: Callable[[str], str]) -> None:
        self.change = change

    def __call__(self, bag: Path) -> None:
        rebag(bag, oxum=False)
        edit_text(bag / "manifest-sha256.txt", self.change)
        tags = [p for p in sorted(bag.rglob("*")) if p.is_file() and not p.relative_to(bag).as_posix().startswith(
            ("data/", "tagmanifest-"))]
        (bag / "tagmanifest-sha256.txt").write_text("".join(
            f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(bag).as_posix()}\n" for p in tags), "utf-8")


CASES: list[tuple[str, Callable[[Path], object], set[str]]] = [
    ("clean", lambda bag: None, set()),
    # -- tag files and folders provenance does not write ------------------------------------------------
    ("root-readme-listed", write("README.txt"), {"bag.file-unexpected"}),
    ("provenance-notes-listed", write("provenance/notes.txt"), {"bag.file-unexpected"}),
    ("foreign-tag-folder-listed", write("docs/about.html", "<p>forged</p>"), {"bag.file-unexpected"}),
    ("nested-foreign-folder-listed", write("provenance/extra/deep/x.json", "{}"), {"bag.file-unexpected"}),
    ("keys-non-json-listed", write("provenance/keys/readme.txt"), {"bag.file-unexpected"}),
    ("empty-tag-folder", folder("extra"), {"bag.file-unexpected"}),
    ("empty-payload-folder", folder("data/files/empty"), {"bag.file-unexpected"}),
    ("empty-folder-in-provenance", folder("provenance/log"), {"bag.file-unexpected"}),
    # -- bag-info.txt: labels and layout provenance does not write --------------------------------------
    ("info-foreign-label", info(lambda t: t + "Contact-Name: Mallory\n"), {"bag.info-mismatch"}),
    ("info-internal-sender-description", info(lambda t: t.replace(
        "Bagging-Date", "Internal-Sender-Description: verified by the archive\nBagging-Date")),
     {"bag.info-mismatch"}),
    ("info-other-software-agent", info(lambda t: t.replace("Bag-Software-Agent: provenance ",
                                                           "Bag-Software-Agent: bagit.py ")),
     {"bag.info-mismatch"}),
    ("info-bagging-date-changed", info(lambda t: t.replace("Bagging-Date: 2026", "Bagging-Date: 1999")),
     {"bag.info-mismatch"}),
    ("info-bagging-date-twice", info(lambda t: t + "Bagging-Date: 2026-01-05\n"), {"bag.info-mismatch"}),
    ("info-lines-reordered", info(swap_first_lines), {"bag.info-mismatch"}),
    ("info-value-folded", info(fold_title), {"bag.info-mismatch"}),
    ("info-crlf", info(lambda t: t.replace("\n", "\r\n")), {"bag.info-mismatch"}),
    ("payload-manifest-upper-case-hex", AfterRebag(lambda t: re.sub(r"(?m)^[0-9a-f]+", lambda m: m.group().upper(), t)), {"bag.invalid"}),
    ("payload-manifest-tab", AfterRebag(lambda t: t.replace("  ", "\t")), {"bag.invalid"}),
    ("info-double-space", info(lambda t: t.replace("Provenance-Format: ", "Provenance-Format:  ")),
     {"bag.info-mismatch"}),
]


@pytest.mark.parametrize(("name", "change", "codes"), CASES, ids=[c[0] for c in CASES])
def test_a_bag_holds_only_what_provenance_writes(
    clean: Clean, tmp_path: Path, name: str, change: Callable[[Path], object], codes: set[str]
) -> None:
    bag = copy_bag(clean.bag, tmp_path / "bag")
    change(bag)
    if not isinstance(change, AfterRebag):
        rebag(bag, oxum=False)  # no case changes the payload; bag-info.txt is left byte for byte as changed
    report = verify_path(bag, make_context(clean.world.archive.keys_dir, clean.world.clock[0]))
    found = {str(p.code) for p in report.problems}
    assert found == codes, [p.message for p in report.problems]
    assert str(report.state) == ("invalid" if codes else "trusted")


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_a_listed_foreign_tag_file_is_refused_through_the_cli(clean: Clean, tmp_path: Path, form: str) -> None:
    bag = copy_bag(clean.bag, tmp_path / "bag")
    write("provenance/readme.html", "<b>verified</b>")(bag)
    rebag(bag)
    target = zip_folder(bag, tmp_path / "bundle.zip", "bundle") if form == "zip" else bag
    result = clean.world.run("verify", str(target), "--json")
    assert result.returncode == 1, result.stderr
    problems = result.json()["problems"]
    assert {p["code"] for p in problems} == {"bag.file-unexpected"}
    assert [p["path"] for p in problems] == ["provenance/readme.html"]


def test_the_allow_list_is_one_list_of_patterns_that_a_new_tag_file_extends(
    clean: Clean, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bag = copy_bag(clean.bag, tmp_path / "bag")
    write("provenance/future/tag.txt")(bag)  # (provenance/log/… is on the list since issue 10)
    rebag(bag)
    ctx = make_context(clean.world.archive.keys_dir, clean.world.clock[0])
    assert {str(p.code) for p in verify_path(bag, ctx).problems} == {"bag.file-unexpected"}
    monkeypatch.setattr(tagfiles, "TAG_FILE_PATTERNS", [*tagfiles.TAG_FILE_PATTERNS, r"provenance/future/tag\.txt"])
    assert verify_path(bag, ctx).problems == []
    assert not tagfiles.is_written_tag_file("provenance/log/checkpoint.bak")
    assert tagfiles.is_written_tag_file("provenance/log/checkpoint")


def test_every_file_export_writes_is_on_the_allow_list(clean: Clean, tmp_path: Path) -> None:
    out = tmp_path / "history"
    export_record(clean.world.archive, RID, out, history=True, algorithms=("sha256", "sha512"))
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not rel.startswith("data/"):
            assert tagfiles.is_written_tag_file(rel), rel
    shutil.rmtree(out)
