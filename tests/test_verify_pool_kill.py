"""A verification worker SIGKILLed mid-run (parallel hashing, ``verify`` of many paths) never hangs the run
and never loses or doubles a result: its work runs again and the result equals a one-process run, or
workers that keep dying stop the run with ``worker.died`` (exit 2, one line). Each trial runs in a child
process with a timeout (tests/verify_pool_trials.py): a hang fails the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, World
from tests.verify_pool_trials import REPO, TRIAL_TIMEOUT, run_trial

FILES = 600  # more than hashing.PARALLEL_MIN_FILES: the files are hashed by two processes
# more than batch.POOL_MIN_TARGETS, and enough for audit --jobs 2 to start two workers (8 records each)
RECORDS = [f"dossier-{index:02d}" for index in range(16)]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    files = tmp_path / "files"
    files.mkdir()
    for index in range(FILES):
        (files / f"f{index:04d}.txt").write_bytes(f"file {index}\n".encode() * (index % 7 + 1))
    return files


@pytest.fixture
def records(world: World) -> World:
    """Sixteen records; dossier-05 has an altered file (invalid), so the reports differ from one another."""
    from provenance.ingest.service import ingest, read_transcription

    source = read_transcription(REFERENCE)
    for rid in RECORDS:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    altered = world.archive.record_dir("dossier-05") / "files" / REFERENCE.name
    altered.write_bytes(altered.read_bytes().replace(b"Kaesong", b"Xaesong"))
    return world


def test_hashing_a_worker_killed_mid_run_rehashes_its_files(folder: Path, tmp_path: Path) -> None:
    marker = tmp_path / "died"
    outcome = run_trial("hash", str(folder), "f0300.txt", str(marker))
    assert marker.exists()  # the worker did die
    assert outcome["error"] is None
    assert outcome["result"] == outcome["serial"] and len(outcome["result"]) == FILES  # none lost, none twice
    assert outcome["left"] == []


def test_hashing_workers_that_keep_dying_stop_with_worker_died(folder: Path) -> None:
    outcome = run_trial("hash", str(folder), "f0300.txt", "")
    assert outcome["code"] == "worker.died" and outcome["result"] is None
    assert outcome["error"].startswith("WorkerDiedError: hashing worker processes died 4 times")
    assert "exit code -9" in outcome["error"]
    assert len(outcome["serial"]) == FILES and outcome["left"] == []


def test_verify_of_many_paths_a_worker_killed_mid_run_verifies_its_targets_again(
    records: World, tmp_path: Path
) -> None:
    marker = tmp_path / "died"
    outcome = run_trial("verify", str(records.root), str(records.archive.keys_dir), "7", str(marker))
    assert marker.exists()
    assert outcome["error"] is None
    assert outcome["result"] == outcome["serial"]  # every report, once, in order, as one process gives them
    assert [item[0] for item in outcome["result"]] == list(range(len(RECORDS)))
    assert [item[1] for item in outcome["result"]].count("invalid") == 1
    assert outcome["left"] == []


def test_verify_of_many_paths_workers_that_keep_dying_stop_with_worker_died(records: World) -> None:
    outcome = run_trial("verify", str(records.root), str(records.archive.keys_dir), "7", "")
    assert outcome["code"] == "worker.died" and outcome["result"] is None
    assert outcome["error"].startswith("WorkerDiedError: verification worker processes died 4 times")
    assert outcome["left"] == []


def _cli(world: World, target: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**world.env, "PROVENANCE_NOW": "2026-02-01T00:00:00Z"}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.verify_pool_trials", "cli", target, *args],
        capture_output=True, text=True, timeout=TRIAL_TIMEOUT, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    return proc


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_verify_workers_that_keep_dying_give_one_coded_line_and_exit_2(records: World, as_json: bool) -> None:
    paths = [str(records.archive.record_dir(rid)) for rid in RECORDS]
    proc = _cli(records, "7", "verify", *paths, "--jobs", "2", *(["--json"] if as_json else []))
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("provenance: error: verification worker processes died 4 times")
    assert lines[0].endswith("; run it again, with fewer --jobs if memory is short [worker.died]")  # the CLI's hint
    if as_json:  # one JSON document: the reports streamed before the run stopped, then the error
        document = json.loads(proc.stdout)
        assert document["error"]["code"] == "worker.died" and document["error"]["deaths"] == 4
        assert {r["record"] for r in document["reports"]} <= set(RECORDS)


@pytest.mark.parametrize(("target", "options", "what"), [
    ("7", [], "verification"),  # the plain walk: verify's batch
    ("dossier-07", ["--sample", "100%", "--seed", "1"], "audit"),  # audit at scale: its local engine
])
def test_cli_audit_workers_that_keep_dying_give_one_coded_line_and_exit_2(
    records: World, target: str, options: list[str], what: str
) -> None:
    proc = _cli(records, target, "audit", "--jobs", "2", *options)
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f"provenance: error: {what} worker processes died 4 times")
    assert line.endswith("[worker.died]") and "fewer --jobs" in line
