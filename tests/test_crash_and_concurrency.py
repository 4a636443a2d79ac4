"""A writing command killed at any moment, and many writers at once, never leave a half-written record.

``provenance note`` runs as a real subprocess and is sent SIGKILL after a random delay; afterwards the
record verifies trusted and has either the events it had or exactly one more. Eight writers on one record
at once lose nothing: the flock serialises them. ``make stress`` runs the kill test with
``$PROVENANCE_STRESS_TRIALS`` trials (200 by default).
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from provenance.manifest_io import read_manifest
from provenance.model.problems import TrustState
from tests.conftest import World, provenance_bin
from tests.helpers import RID, TRANSLATOR

NORMAL_TRIALS = 20
MAX_DELAY = 0.300  # seconds: kills land anywhere in a window of this width


def _env(world: World, **extra: str) -> dict[str, str]:
    env = dict(world.env)
    env["PROVENANCE_NOW"] = world.tick().strftime("%Y-%m-%dT%H:%M:%SZ")
    env.update(extra)
    return env


def _note_command(text: str) -> list[str]:
    return [provenance_bin(), "note", RID, "--quote", "Kaeseong", "--text", text, "--key", TRANSLATOR]


def _events(world: World) -> int:
    return len(read_manifest(world.archive.record_dir(RID)).events)


def _assert_sound(world: World, verify_folder: Any, allowed: tuple[int, ...]) -> int:
    report = verify_folder(world)
    assert report.state is TrustState.TRUSTED, [p.to_json() for p in report.problems]
    assert report.events in allowed, (report.events, allowed)
    # nothing half-done lies beside the record either
    assert sorted(os.listdir(world.archive.records_dir)) == [RID]
    return int(report.events)


def kill_trials(world: World, verify_folder: Any, trials: int, seed: int) -> tuple[int, int]:
    """Run ``trials`` notes, each killed at a random moment; returns (kills that landed before, after commit).

    The window of ``MAX_DELAY`` seconds ends just after the time an unkilled ``note`` takes on this
    machine, so that kills fall across start-up, unlocking, staging, the swap and the clean-up alike.
    """
    rng = random.Random(seed)
    started = time.monotonic()
    calibration = subprocess.run(
        _note_command("calibration"), env=_env(world), capture_output=True, text=True, timeout=60, check=False
    )
    duration = time.monotonic() - started
    assert calibration.returncode == 0, calibration.stderr
    low = max(0.0, duration - MAX_DELAY + 0.03)
    counts = [0, 0]
    for trial in range(trials):
        before = _events(world)
        proc = subprocess.Popen(
            _note_command(f"trial {trial}"),
            env=_env(world),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(rng.uniform(low, low + MAX_DELAY))
        proc.kill()
        _, stderr = proc.communicate(timeout=60)
        assert b"Traceback" not in stderr, stderr
        after = _assert_sound(world, verify_folder, (before, before + 1))
        counts[after - before] += 1
    return counts[0], counts[1]


def test_killed_writer_leaves_the_record_before_or_after(ingested: World, verify_folder: Any) -> None:
    kill_trials(ingested, verify_folder, NORMAL_TRIALS, seed=20260105)
    # and the archive still takes writes afterwards: no lock or staging folder is left in the way
    result = ingested.run(
        "note", RID, "--quote", "Syngmann Rhee", "--text", "After the storm.", "--key", TRANSLATOR
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.stress
def test_killed_writer_stress(ingested: World, verify_folder: Any) -> None:
    trials = int(os.environ.get("PROVENANCE_STRESS_TRIALS", "200"))
    before, after = kill_trials(ingested, verify_folder, trials, seed=int(time.time()))
    assert before + after == trials
    if trials >= 50:  # enough trials that both outcomes must have happened
        assert before and after, (before, after)


def run_writers(world: World, count: int) -> list[subprocess.CompletedProcess[bytes]]:
    """``count`` notes started at once on one record, all with the same clock."""
    env = _env(world)
    procs = [
        subprocess.Popen(
            _note_command(f"writer {n}"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for n in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def test_eight_writers_at_once_lose_nothing(ingested: World, verify_folder: Any) -> None:
    results = run_writers(ingested, 8)
    for result in results:
        assert result.returncode == 0, result.stderr.decode()
    _assert_sound(ingested, verify_folder, (9,))
    manifest = read_manifest(ingested.archive.record_dir(RID))
    assert [e.seq for e in manifest.events] == list(range(1, 10))
    texts = sorted(n.text for n in manifest.state.notes if n.kind == "translation")
    assert texts == sorted(f"writer {n}" for n in range(8))
    ids = [n.id for n in manifest.state.notes]
    assert len(ids) == len(set(ids)) == 6 + 8
    # every note says which event added it, and each of events 2..9 added exactly one
    assert sorted(n.event for n in manifest.state.notes if n.kind == "translation") == list(range(2, 10))


@pytest.mark.stress
def test_many_writers_stress(ingested: World, verify_folder: Any) -> None:
    count = max(8, min(64, int(os.environ.get("PROVENANCE_STRESS_TRIALS", "200")) // 8))
    results = run_writers(ingested, count)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    _assert_sound(ingested, verify_folder, (count + 1,))


def test_staging_leftovers_of_a_killed_writer_are_not_part_of_the_record(
    ingested: World, verify_folder: Any, tmp_path: Path
) -> None:
    """A stage abandoned mid-write (as a SIGKILL leaves it) changes nothing a verifier or reader sees."""
    from provenance.archive import StagedRecord

    stage = StagedRecord(ingested.archive, RID, new=False)
    stage.write("files/telegram-23256.txt", b"half a new version")
    _assert_sound(ingested, verify_folder, (1,))
    result = ingested.run(
        "note", RID, "--quote", "Syngmann Rhee", "--text", "Still writable.", "--key", TRANSLATOR
    )
    assert result.returncode == 0, result.stderr
    _assert_sound(ingested, verify_folder, (2,))
