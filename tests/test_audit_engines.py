"""provenance.audit.engines and provenance.audit.pool: the local engine's supervised worker processes.

Every trial that starts worker processes runs in a child process with a timeout (tests/audit_trials.py):
a hang fails the test instead of stalling the suite. Each asserts that every batch's results arrive
exactly once, whatever happened to the workers, and that no worker process is left behind.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.audit.engines import LocalEngine, batch_size
from provenance.audit.work import AuditJob
from tests import audit_trials
from tests.audit_trials import run_trial

ALL = [f"r{index:03d}" for index in range(24)]


@pytest.mark.parametrize(("records", "workers", "size"), [(0, 2, 8), (24, 2, 8), (1000, 2, 62), (10_000, 2, 64),
                                                          (10_000, 64, 19), (100, 64, 8)])
def test_batch_size_is_between_8_and_64(records: int, workers: int, size: int) -> None:
    assert batch_size(records, workers) == size


def test_one_worker_runs_in_this_process_and_stops_when_asked() -> None:
    engine = LocalEngine(1, work=audit_trials.work)
    job: AuditJob = {}  # type: ignore[assignment]
    batches = iter([["a", "b"], ["c"], ["d"]])
    taken: list[str] = []
    for results in engine.run(job, batches, lambda: len(taken) >= 3):
        taken.extend(r["record"] for r in results)
    assert taken == ["a", "b", "c"]
    assert next(batches) == ["d"]  # never taken: it stays for the next run


def test_every_batch_once_when_workers_die_mid_batch(tmp_path: Path) -> None:
    outcome = run_trial("die-once", str(tmp_path))
    assert outcome["error"] is None
    assert sorted(outcome["records"]) == ALL  # none lost, none twice
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r005", "r017"]  # both workers did die
    assert outcome["left"] == []


def test_a_worker_killed_from_outside_is_replaced() -> None:
    outcome = run_trial("kill-from-outside")
    assert outcome["killed"] and outcome["error"] is None
    assert sorted(outcome["records"]) == ALL
    assert outcome["left"] == []


def test_a_batch_that_kills_every_worker_stops_the_run_after_the_restarts() -> None:
    outcome = run_trial("die-always")
    assert outcome["error"].startswith("WorkerDiedError: audit worker processes died 4 times")
    assert "exit code -9" in outcome["error"]
    assert "r009" not in outcome["records"] and len(outcome["records"]) == len(set(outcome["records"]))
    assert outcome["left"] == []


def test_an_exception_in_a_batch_is_raised_in_the_caller_and_the_workers_end() -> None:
    outcome = run_trial("raises")
    assert outcome["error"] == "ValueError: cannot audit r013"
    assert "r013" not in outcome["records"] and len(outcome["records"]) == len(set(outcome["records"]))
    assert outcome["left"] == []


def test_stop_finishes_the_batches_sent_and_takes_no_more() -> None:
    outcome = run_trial("stop-after-first")
    assert outcome["error"] is None
    # stop() turns true once the first result is handled; by then each worker holds one batch and may have
    # finished one more (a worker is given its next batch before a result is handed over): at most
    # 2 x 2 batches of 4 were taken, and each of them is finished
    assert 4 <= len(outcome["records"]) <= 16 and len(outcome["records"]) % 4 == 0
    assert len(outcome["records"]) == len(set(outcome["records"])) and set(outcome["records"]) <= set(ALL)
    assert outcome["left"] == []


def test_a_caller_that_stops_reading_leaves_no_worker() -> None:
    outcome = run_trial("abandoned")
    assert len(outcome["first"]) == 4 and outcome["left"] == []


def test_workers_of_a_finished_run_leave_when_told() -> None:
    outcome = run_trial("exit-codes")
    assert sorted(outcome["records"]) == ALL[:8]
    assert outcome["exit_codes"] == [0, 0] and outcome["deaths"] == 0
