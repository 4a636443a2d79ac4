"""Trials of the local audit engine that kill, poison or abandon its worker processes, each run in a child
Python process by :func:`run_trial` with a timeout: a trial that hangs fails its test (and its child is
killed) instead of stalling the suite.

``python -m tests.audit_trials NAME ARG...`` prints the trial's outcome as one JSON document.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parents[1]
TRIAL_TIMEOUT = 90.0  # seconds: a trial takes 1-3 s; only a hang comes near this


def run_trial(name: str, *args: str, timeout: float = TRIAL_TIMEOUT) -> Any:
    """Run trial ``name`` of this module in a child process (see :func:`run_module_trial`)."""
    return run_module_trial("tests.audit_trials", name, *args, timeout=timeout)


def run_module_trial(module: str, name: str, *args: str, timeout: float = TRIAL_TIMEOUT) -> Any:
    """Run trial ``name`` of ``module`` in a child process; its JSON outcome. Raises
    ``subprocess.TimeoutExpired`` (after killing the child) when it does not end within ``timeout`` seconds."""
    proc = subprocess.run(
        [sys.executable, "-m", module, name, *args],
        capture_output=True, text=True, timeout=timeout, cwd=REPO, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ---- what the workers run: a job (a dict of behaviours) and a batch of ids ----

def work(job: dict[str, Any], batch: list[str]) -> list[dict[str, Any]]:
    """One result per id with the worker's pid; ``die_once`` ids kill their worker on the first attempt
    (a marker file says it was made), ``die_always`` ids every time, ``raise`` ids raise ValueError."""
    for rid in batch:
        if rid in job.get("die_always", ()):
            os.kill(os.getpid(), signal.SIGKILL)
        if rid in job.get("die_once", ()):
            marker = Path(job["markers"]) / rid
            if not marker.exists():
                marker.touch()
                os.kill(os.getpid(), signal.SIGKILL)
        if rid in job.get("raise", ()):
            raise ValueError(f"cannot audit {rid}")
    return [{"record": rid, "pid": os.getpid()} for rid in batch]


def _batches(count: int, size: int) -> list[list[str]]:
    ids = [f"r{index:03d}" for index in range(count)]
    return [ids[start:start + size] for start in range(0, count, size)]


def _engine_run(job: dict[str, Any], workers: int = 2, count: int = 24, size: int = 4,
                stop: Callable[[], bool] = lambda: False,
                on_results: Callable[[list[dict[str, Any]]], None] | None = None) -> dict[str, Any]:
    from provenance.audit.engines import LocalEngine
    from provenance.audit.work import AuditJob

    engine = LocalEngine(workers, work=work)
    seen: list[str] = []
    outcome: dict[str, Any] = {"error": None}
    try:
        for results in engine.run(cast(AuditJob, job), iter(_batches(count, size)), stop):
            seen.extend(r["record"] for r in results)
            if on_results is not None:
                on_results(results)
    except Exception as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"
    outcome["records"] = seen
    outcome["left"] = [p.pid for p in multiprocessing.active_children()]
    return outcome


def _kill_a_worker(done: list[int]) -> Callable[[list[dict[str, Any]]], None]:
    def kill(results: list[dict[str, Any]]) -> None:
        children = [p.pid for p in multiprocessing.active_children() if p.pid is not None]
        if not done and children:
            os.kill(children[0], signal.SIGKILL)
            done.append(children[0])
    return kill


def trial_die_once(markers: str) -> dict[str, Any]:
    """Two records kill their workers mid-batch once each."""
    return _engine_run({"die_once": ["r005", "r017"], "markers": markers})


def trial_die_always() -> dict[str, Any]:
    """A record that kills every worker that reads it."""
    return _engine_run({"die_always": ["r009"]})


def trial_raises() -> dict[str, Any]:
    return _engine_run({"raise": ["r013"]})


def trial_kill_from_outside() -> dict[str, Any]:
    killed: list[int] = []
    outcome = _engine_run({}, on_results=_kill_a_worker(killed))
    outcome["killed"] = killed
    return outcome


def trial_stop_after_first() -> dict[str, Any]:
    returned: list[int] = []

    def stop() -> bool:
        return bool(returned)

    return _engine_run({}, stop=stop, on_results=lambda results: returned.append(len(results)))


def trial_abandoned() -> dict[str, Any]:
    """The caller stops reading after one batch (closes the generator): the workers are gone at once."""
    from provenance.audit.engines import LocalEngine
    from provenance.audit.work import AuditJob

    engine = LocalEngine(2, work=work)
    run = engine.run(cast(AuditJob, {}), iter(_batches(24, 4)), lambda: False)
    first = next(run)
    run.close()
    return {"first": [r["record"] for r in first], "left": [p.pid for p in multiprocessing.active_children()]}


def trial_exit_codes() -> dict[str, Any]:
    """After a finished run, the workers left because they were told to (exit code 0), not killed."""
    from provenance.audit.pool import WorkerPool

    pool = WorkerPool(2, {}, work)
    seen = [r["record"] for results in pool.run(iter(_batches(8, 2)), lambda: False) for r in results]
    processes = [worker.process for worker in pool._workers]
    pool.close(finished=True)
    return {"records": seen, "exit_codes": [p.exitcode for p in processes], "deaths": pool.deaths}


def trial_audit_kill(root: str, home: str) -> dict[str, Any]:
    """A scheduled audit (``--jobs 2``) of a real archive, one pool process SIGKILLed (as the OOM killer
    would) once the first batch is in."""
    from provenance.audit.run import Plan, prepare, run_audit
    from tests.conftest import T0

    now = T0 + timedelta(days=1)
    killed: list[int] = []
    prepared = prepare(root, None, now)
    try:
        outcome = run_audit(prepared, Plan(jobs=2), home=Path(home), clock=lambda: now,
                            on_results=_kill_a_worker(killed))
    finally:
        prepared.close()
    return {"killed": killed, "records": [r["record"] for r in outcome.results], "counts": outcome.counts,
            "workers": outcome.engine["workers"], "left": [p.pid for p in multiprocessing.active_children()]}


TRIALS: dict[str, Callable[..., dict[str, Any]]] = {
    "die-once": trial_die_once,
    "die-always": trial_die_always,
    "raises": trial_raises,
    "kill-from-outside": trial_kill_from_outside,
    "stop-after-first": trial_stop_after_first,
    "abandoned": trial_abandoned,
    "exit-codes": trial_exit_codes,
    "audit-kill": trial_audit_kill,
}


if __name__ == "__main__":
    print(json.dumps(TRIALS[sys.argv[1]](*sys.argv[2:])))
