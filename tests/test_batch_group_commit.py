"""ingest-batch's group commit killed at each of its steps: each record absent or whole, the log agreeing.

A batch stages a group of records, flushes them with one syncfs, renames each into place, applies the
transparency log and updates the search index (:mod:`provenance.batch.commit`). Here the real CLI runs in a
subprocess (groups of 4 records) and sends itself SIGKILL at a chosen step: while staging, right after the
flush, after some of a group's renames, before the log is applied, before the index is updated. After every
kill each record present verifies trusted, the log shows exactly the events the records hold (its journal
rolled forward or dropped), and running the batch again registers exactly what is missing: every record is
then present once and logged once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance import archive_log, log_audit
from provenance.keys import TrustStore
from provenance.manifest_io import read_manifest
from provenance.model.problems import TrustState
from provenance.verify.record import verify_record_folder
from provenance.verify.target import make_context
from tests.batch_helpers import csv_text
from tests.conftest import CORPUS, World
from tests.test_tlog_archive import enable_log

FILES = 10
GROUP = 4
NOW = "2026-01-05T10:00:00Z"

# The batch in a subprocess, killed by itself (SIGKILL: no clean-up runs) at the n-th call of one step.
DRIVER = """
import os, signal, sys
point, nth = sys.argv[1], int(sys.argv[2])
import provenance.batch.commit as commit
commit.GROUP_SIZE = int(sys.argv[3])
from provenance import catalogue_index, fsio
from provenance.archive import StagedRecord
from provenance.ingest import service
from provenance.tlog.store import LogStore
calls = [0]
def killing(owner, name, after):
    real = getattr(owner, name)
    def step(*args, **kwargs):
        calls[0] += 1
        if not after and calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        out = real(*args, **kwargs)
        if after and calls[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return out
    setattr(owner, name, step)
if point == "stage":  # before the n-th record is staged
    killing(service, "stage_registration", False)
elif point == "flush":  # right after the n-th group's syncfs, before its first rename
    killing(fsio, "sync_filesystem", True)
elif point == "place":  # right after the n-th rename
    killing(StagedRecord, "place", True)
elif point == "apply":  # every record of the n-th group renamed, its log not yet applied
    killing(LogStore, "apply", False)
elif point == "index":  # the n-th group renamed and logged, the index not yet updated
    killing(catalogue_index, "after_commit", False)
from provenance.cli.app import main
main(sys.argv[4:])
"""

# (step, n-th call, records there after the kill)
KILLS = [
    ("stage", 6, 4),  # in the second group's staging: the first group is in, nothing of the second
    ("flush", 2, 4),  # the second group flushed, not renamed: absent (its stages are leftovers)
    ("place", 6, 6),  # half of the second group renamed: those two are in, and logged
    ("apply", 2, 8),  # the second group renamed, the log not applied: rolled forward from the journal
    ("index", 3, 10),  # all renamed and logged; the index is rebuilt from the manifests when searched
]


def _collection(base: Path) -> tuple[Path, Path]:
    folder = base / "group"
    folder.mkdir()
    text = (CORPUS / "telegram-23256.txt").read_bytes()
    rows = []
    for n in range(FILES):
        (folder / f"t{n:02d}.txt").write_bytes(text + f"\nCopy {n}.\n".encode())
        rows.append([f"t{n:02d}.txt", f"copy-{n:02d}", f"Copy {n}"])
    sheet = base / "group.csv"
    sheet.write_text(csv_text(["filename", "id", "dc.title"], rows), encoding="utf-8")
    return folder, sheet


def _batch(world: World, folder: Path, sheet: Path, *driver: str) -> subprocess.CompletedProcess[str]:
    env = {**world.env, "PROVENANCE_NOW": NOW}
    argv = ["ingest-batch", str(folder), "--catalogue", str(sheet), "--archive", str(world.root), "--json"]
    return subprocess.run(
        [sys.executable, "-c", DRIVER, *driver, *argv], env=env, capture_output=True, text=True, timeout=300
    )


def _assert_consistent(world: World) -> list[str]:
    """Every record whole and trusted, nothing half-made in records/, the log agreeing event for leaf."""
    archive = world.archive
    ctx = make_context(archive.keys_dir, world.tick())
    ids = archive.record_ids()
    for rid in ids:
        report = verify_record_folder(archive.record_dir(rid), ctx)
        assert report.state is TrustState.TRUSTED, (rid, [p.to_json() for p in report.problems])
    assert sorted(p.name for p in archive.records_dir.iterdir()) == ids  # no half-made or stray entry
    cards = list(TrustStore.load(archive.keys_dir).cards.values())
    report = log_audit.audit_log(archive, cards)  # takes the log lock: a journal left is resolved first
    assert report.problems == [], [p.to_json() for p in report.problems]
    return ids


def _assert_logged_once(world: World) -> None:
    archive = world.archive
    leaves: dict[tuple[str, int], int] = archive_log.leaf_index(archive, archive_log.store(archive).checkpoint().size)
    events = 0
    for rid in archive.record_ids():
        manifest = read_manifest(archive.record_dir(rid))
        events += len(manifest.events)
        for event in manifest.events:
            assert (rid, event.seq) in leaves, (rid, event.seq)
    assert archive_log.store(archive).checkpoint().size == events  # every event once, nothing else


@pytest.mark.parametrize(("point", "nth", "expected"), KILLS, ids=[f"{p}-{n}" for p, n, _ in KILLS])
def test_a_group_commit_killed_at_each_step(world: World, point: str, nth: int, expected: int) -> None:
    enable_log(world)
    folder, sheet = _collection(world.root.parent)
    killed = _batch(world, folder, sheet, point, str(nth), str(GROUP))
    assert killed.returncode == -9, killed.stderr[-2000:]
    ids = _assert_consistent(world)
    assert len(ids) == expected, ids
    _assert_logged_once(world)

    again = _batch(world, folder, sheet, "none", "0", str(GROUP))
    assert again.returncode == 0, again.stderr[-2000:]
    summary = json.loads(again.stdout)["summary"]
    assert summary == {"registered": FILES - expected, "present": expected, "refused": 0}
    assert _assert_consistent(world) == [f"copy-{n:02d}" for n in range(FILES)]
    _assert_logged_once(world)
    leftovers = world.archive.work_dir / "tmp"
    assert not leftovers.is_dir() or not list(leftovers.iterdir())  # every stage renamed or cleaned up
    search = world.run("search", "Kaesong", "--json")
    assert search.returncode == 0, search.stderr
    assert search.json()["total"] == FILES


def test_an_unlogged_archive_killed_mid_group(world: World) -> None:
    """The same mid-rename kill without a log: the records renamed are whole, the rest registered next."""
    folder, sheet = _collection(world.root.parent)
    killed = _batch(world, folder, sheet, "place", "3", str(GROUP))
    assert killed.returncode == -9, killed.stderr[-2000:]
    ctx = make_context(world.archive.keys_dir, world.tick())
    ids = world.archive.record_ids()
    assert ids == ["copy-00", "copy-01", "copy-02"]
    for rid in ids:
        assert verify_record_folder(world.archive.record_dir(rid), ctx).state is TrustState.TRUSTED
    again = _batch(world, folder, sheet, "none", "0", str(GROUP))
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["summary"] == {"registered": FILES - 3, "present": 3, "refused": 0}
    assert len(world.archive.record_ids()) == FILES


def test_an_id_taken_between_flush_and_rename_is_refused_and_the_rest_retried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that ignores the locks makes one of the group's records after the flush: its rename finds the
    id taken (never overwritten: refused as a conflict), the records renamed before it stay, the ones after it
    are registered by the next group."""
    from provenance import fsio
    from provenance.batch import commit
    from tests.helpers import run_in_process

    enable_log(world)
    folder, sheet = _collection(world.root.parent)
    monkeypatch.setattr(commit, "GROUP_SIZE", GROUP)
    real = fsio.sync_filesystem
    calls = [0]

    def flush_then_intrude(path: Path) -> None:
        real(path)
        calls[0] += 1
        if calls[0] == 1:
            intruder = world.archive.record_dir("copy-01")
            intruder.mkdir()
            (intruder / "manifest.json").write_text('{"events": [{"state_digest": "sha256:00"}]}', encoding="utf-8")

    monkeypatch.setattr(fsio, "sync_filesystem", flush_then_intrude)
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"] == {"registered": FILES - 1, "present": 0, "refused": 1}
    assert [(p["code"], p["value"]) for p in document["refused"]] == [("row.conflict", "copy-01")]
    registered = sorted(r["record"] for r in document["registered"])
    assert registered == [f"copy-{n:02d}" for n in range(FILES) if n != 1]
    (world.archive.record_dir("copy-01") / "manifest.json").unlink()
    world.archive.record_dir("copy-01").rmdir()
    _assert_logged_once(world)
    again = _batch(world, folder, sheet, "none", "0", str(GROUP))
    assert json.loads(again.stdout)["summary"] == {"registered": 1, "present": FILES - 1, "refused": 0}
    _assert_consistent(world)
    _assert_logged_once(world)


def test_what_changed_since_the_validation_is_refused_or_found_present(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between validation and registration: a file edited is refused (run again), a row registered by another
    command with the same content is present, one with other content a conflict; rows past the prepared
    ones are prepared again and sign the same state."""
    from provenance.batch import commit, plan
    from provenance.ingest.service import ingest, read_transcription

    folder, sheet = _collection(world.root.parent)
    monkeypatch.setattr(commit, "GROUP_SIZE", GROUP)
    monkeypatch.setattr(plan, "KEEP_PREPARED", 5)  # rows 6 to 10 are prepared again at registration
    checked = plan.make_plan(world.archive, folder, sheet)
    assert checked.ok and sum(r.prepared is not None for r in checked.records) == 5
    (folder / "t03.txt").write_bytes((folder / "t03.txt").read_bytes() + b"Edited meanwhile.\n")
    signer = world.signers["archivist"]
    ingest(world.archive, read_transcription(folder / "t04.txt"), signer, now=world.tick(), record_id="copy-04",
           overrides={"title": "Copy 4"})
    ingest(world.archive, read_transcription(folder / "t07.txt"), signer, now=world.tick(), record_id="copy-07")
    result = plan.run_plan(world.archive, checked, signer, world.tick)
    assert [r.record_id for r in result.present] == ["copy-04"]
    assert [(p.code, p.value) for p in result.refused] == [("row.conflict", "t03.txt"), ("row.conflict", "copy-07")]
    assert len(result.registered) == FILES - 3
    ctx = make_context(world.archive.keys_dir, world.tick())
    for record in result.registered:
        report = verify_record_folder(world.archive.record_dir(record.record_id), ctx)
        assert report.state is TrustState.TRUSTED
        assert read_manifest(world.archive.record_dir(record.record_id)).events[0].state_digest == record.state_digest


def test_a_key_revoked_before_the_group_commits_refuses_the_group(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provenance import history
    from provenance.batch import plan
    from provenance.errors import ErrorCode, PolicyError

    folder, sheet = _collection(world.root.parent)
    checked = plan.make_plan(world.archive, folder, sheet)

    def revoked(*_args: object, **_kwargs: object) -> None:
        raise PolicyError(ErrorCode.KEY_REVOKED, "key A. Archivist was revoked while this command waited")

    monkeypatch.setattr(history, "recheck_signer", revoked)
    result = plan.run_plan(world.archive, checked, world.signers["archivist"], world.tick)
    assert not result.registered and len(result.refused) == FILES
    assert "revoked" in result.refused[0].why
    assert world.archive.record_ids() == []
    assert not list((world.archive.work_dir / "tmp").iterdir())  # every stage removed
