"""provenance.actions: the history actions (note, custody, revise, review, release, metadata, attach) called
from Python with real keys; each appends one signed event, and each refusal is coded and changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance import actions
from provenance.errors import ErrorCode
from provenance.manifest_io import read_manifest
from tests.coded import raises_code
from tests.conftest import REFERENCE, World
from tests.helpers import RID, tree_snapshot
from tests.shared_worlds import ingest_reference, shared_world


def _events(world: World) -> list[str]:
    return [str(e.type) for e in read_manifest(world.archive.record_dir(RID)).events]


def _trusted(world: World, verify_folder: Callable[[World, str], Any]) -> None:
    report = verify_folder(world, RID)
    assert str(report.state) == "trusted", [p.code for p in report.problems]


def test_every_action_appends_one_signed_event(ingested: World, verify_folder: Callable[[World, str], Any],
                                               tmp_path: Path) -> None:
    w, s = ingested, ingested.signers
    note = actions.add_note(w.archive, RID, s["translator"], quote="Kim II Sung", text="Read: Kim Il Sung.",
                            now=w.tick())
    added = note.state.notes[-1]  # after the registration's editorial-insertion notes
    assert added.target.quote.exact == "Kim II Sung" and added.kind == "translation" and added.event == 2
    custody = actions.transfer_custody(w.archive, RID, s["archivist"], from_="Archive of the President",
                                       to="Wilson Center", note="by courier", now=w.tick())
    assert custody.state.custodian == "Wilson Center"
    assert custody.events[-1].details["note"] == "by courier"
    fixed = tmp_path / "fixed.txt"
    fixed.write_bytes(REFERENCE.read_bytes().replace(b"Kim II Sung", b"Kim Il Sung"))
    revised = actions.revise(w.archive, RID, s["archivist"], source=fixed, reason="OCR error", now=w.tick())
    assert revised.events[-1].details["orphaned_notes"] == [added.id]
    assert [n.status for n in revised.state.notes if n.id == added.id] == ["orphaned"]
    metadata = actions.change_metadata(w.archive, RID, s["archivist"], changes={"title": "A new title"},
                                       reason="typo", now=w.tick())
    assert metadata.state.catalogue.as_json()["title"] == "A new title"
    assert metadata.events[-1].details == {"fields": ["title"], "reason": "typo"}
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    attached = actions.attach(w.archive, RID, s["archivist"], source=scan, role="scan", now=w.tick())
    entry = next(f for f in attached.state.files if f.path == "scan.png")
    assert entry.size == 264 and entry.media_type == "image/png"
    reviewed = actions.review(w.archive, RID, s["reviewer"], outcome="changes-requested", now=w.tick())
    assert reviewed.events[-1].details["outcome"] == "changes-requested"
    released = actions.release(w.archive, RID, s["publisher"], note="online", now=w.tick())
    assert released.events[-1].details == {"version": 7, "note": "online"}
    assert _events(w) == ["registration", "annotation", "custody-transfer", "revision", "metadata-change",
                          "attachment", "review", "release"]
    _trusted(w, verify_folder)


def test_a_folder_is_attached_as_one_event_with_every_file(ingested: World, tmp_path: Path) -> None:
    dossier = tmp_path / "dossier"
    (dossier / "pages").mkdir(parents=True)
    (dossier / "pages" / "p1.txt").write_text("page one", "utf-8")
    (dossier / "index.txt").write_text("index", "utf-8")
    manifest = actions.attach(ingested.archive, RID, ingested.signers["archivist"], source=dossier,
                              now=ingested.tick())
    paths = {f.path for f in manifest.state.files}
    assert {"dossier/index.txt", "dossier/pages/p1.txt"} <= paths
    assert len(manifest.events) == 2


def _empty_folder(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def _same_text(tmp: Path) -> Path:
    return REFERENCE


def _linked_folder(tmp: Path) -> Path:
    (tmp / "linked").mkdir()
    (tmp / "linked" / "secret").symlink_to("/etc/hostname")
    return tmp / "linked"


# (name, action, code, words in the message): each is refused before or while staging, nothing written
REFUSALS: list[tuple[str, Callable[[World, Path], object], ErrorCode, str]] = [
    ("empty note", lambda w, t: actions.add_note(w.archive, RID, w.signers["translator"], quote="Kim II Sung",
                                                 text="  ", now=w.tick()), ErrorCode.USAGE, "empty"),
    ("quote absent", lambda w, t: actions.add_note(w.archive, RID, w.signers["translator"], quote="Moscow 1950",
                                                   text="x", now=w.tick()), ErrorCode.NOTE_QUOTE_NOT_FOUND,
     "does not occur"),
    ("note on a file not in the record", lambda w, t: actions.add_note(
        w.archive, RID, w.signers["translator"], quote="Kim", text="x", file="nope.txt", now=w.tick()),
     ErrorCode.FILE_NOT_IN_RECORD, "nope.txt"),
    ("note on no record", lambda w, t: actions.add_note(w.archive, "no-such", w.signers["translator"], quote="Kim",
                                                        text="x", now=w.tick()), ErrorCode.RECORD_NOT_FOUND, ""),
    ("custody without a from", lambda w, t: actions.transfer_custody(w.archive, RID, w.signers["archivist"],
                                                                     from_=" ", to="B", now=w.tick()),
     ErrorCode.USAGE, "who hands over and who receives"),
    ("custody to the same", lambda w, t: actions.transfer_custody(w.archive, RID, w.signers["archivist"],
                                                                  from_="A", to=" A ", now=w.tick()),
     ErrorCode.USAGE, "same custodian"),
    ("revision without a reason", lambda w, t: actions.revise(w.archive, RID, w.signers["archivist"],
                                                              source=REFERENCE, reason="", now=w.tick()),
     ErrorCode.USAGE, "needs a reason"),
    ("revision to the same bytes", lambda w, t: actions.revise(w.archive, RID, w.signers["archivist"],
                                                               source=_same_text(t), reason="r", now=w.tick()),
     ErrorCode.REVISION_UNCHANGED, "identical"),
    ("revision from a missing file", lambda w, t: actions.revise(w.archive, RID, w.signers["archivist"],
                                                                 source=t / "absent.txt", reason="r",
                                                                 now=w.tick()),
     ErrorCode.INPUT_NOT_FOUND, ""),
    ("review outcome unknown", lambda w, t: actions.review(w.archive, RID, w.signers["reviewer"], outcome="maybe",
                                                           now=w.tick()), ErrorCode.USAGE, "approved or changes-requested"),
    ("no catalogue change", lambda w, t: actions.change_metadata(w.archive, RID, w.signers["archivist"],
                                                                 changes={}, reason=None, now=w.tick()),
     ErrorCode.USAGE, "no catalogue field"),
    ("catalogue unchanged", lambda w, t: actions.change_metadata(
        w.archive, RID, w.signers["archivist"],
        changes={"origin": read_manifest(w.archive.record_dir(RID)).state.catalogue.as_json()["origin"]},
        reason=None, now=w.tick()), ErrorCode.REVISION_UNCHANGED, "already"),
    ("attach a missing file", lambda w, t: actions.attach(w.archive, RID, w.signers["archivist"],
                                                          source=t / "absent.png", now=w.tick()),
     ErrorCode.INPUT_NOT_FOUND, "no such file"),
    ("attach an empty folder", lambda w, t: actions.attach(w.archive, RID, w.signers["archivist"],
                                                           source=_empty_folder(t), now=w.tick()),
     ErrorCode.INPUT_EMPTY, "no files"),
    ("attach a folder holding a link", lambda w, t: actions.attach(w.archive, RID, w.signers["archivist"],
                                                                   source=_linked_folder(t), now=w.tick()),
     ErrorCode.INPUT_PATH_UNSAFE, "secret"),
    ("attach a folder as a translation", lambda w, t: actions.attach(
        w.archive, RID, w.signers["translator"], source=_empty_folder(t), translation_of=f"{RID}.txt",
        now=w.tick()), ErrorCode.USAGE, "a translation is one file"),
    ("attach a file already there", lambda w, t: actions.attach(w.archive, RID, w.signers["archivist"],
                                                                source=REFERENCE, now=w.tick()),
     ErrorCode.RECORD_EXISTS, "a new version of it is a revision"),
    ("attach with a bad language", lambda w, t: actions.attach(w.archive, RID, w.signers["archivist"],
                                                               source=REFERENCE, name="t.txt",
                                                               language="english!", now=w.tick()),
     ErrorCode.USAGE, "BCP 47"),
]


@pytest.fixture(scope="module")
def one_record(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One archive shared by the refusals: each asserts that it changed nothing, so the next sees it intact."""
    with shared_world(tmp_path_factory, "actions", ingest_reference) as world:
        yield world


@pytest.mark.parametrize(("name", "action", "code", "words"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_refused_action_is_coded_and_changes_nothing(one_record: World, tmp_path: Path, name: str,
                                                        action: Callable[[World, Path], object], code: ErrorCode,
                                                        words: str) -> None:
    before = tree_snapshot(one_record.root)
    with raises_code(code, words):
        action(one_record, tmp_path)
    assert tree_snapshot(one_record.root) == before
