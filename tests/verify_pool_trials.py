"""Trials of verification's parallel work (parallel hashing, ``verify`` of many paths) whose worker processes
are SIGKILLed mid-run, each run in a child Python process by :func:`run_trial` with a timeout: a trial that
hangs (what ``multiprocessing.Pool`` did: it replaced the dead worker and lost its task) fails its test and
its child is killed, instead of stalling the suite.

A worker dies by killing itself when it reaches a chosen task: once (a marker file says it was done; the
task must then run again elsewhere) or every time (the run must stop with ``worker.died``). Only pool
workers (daemon processes) die: the trial's own process, which also runs the one-process reference, never.

``python -m tests.verify_pool_trials NAME ARG...`` prints the trial's outcome as one JSON document;
``python -m tests.verify_pool_trials cli TARGET ARG...`` runs the CLI with every worker dying at that target
(an index for ``verify`` or a plain ``audit``, a record id for an audit at scale).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.audit_trials import REPO, TRIAL_TIMEOUT, run_module_trial

__all__ = ["REPO", "TRIAL_TIMEOUT", "run_trial"]

# what the dying wrappers read: the task that kills its worker, and where the once-only marker goes
_DEATH: dict[str, Any] = {}


def run_trial(name: str, *args: str, timeout: float = TRIAL_TIMEOUT) -> Any:
    """Run trial ``name`` of this module in a child process (see ``audit_trials.run_module_trial``)."""
    return run_module_trial("tests.verify_pool_trials", name, *args, timeout=timeout)


def _maybe_die(hit: bool) -> None:
    """SIGKILL this process when it is a pool worker at the chosen task (once when a marker is set)."""
    if not hit or not multiprocessing.current_process().daemon:
        return
    marker = _DEATH.get("marker")
    if marker is not None:
        if Path(marker).exists():
            return
        Path(marker).touch()
    os.kill(os.getpid(), signal.SIGKILL)


def _patch_hashing() -> None:
    from provenance.verify import hashing

    real = hashing._hash_chunk

    def dying(task: tuple[list[str], tuple[str, ...]]) -> Any:
        _maybe_die(_DEATH["path"] in task[0])
        return real(task)

    hashing._hash_chunk = dying  # type: ignore[assignment]  # looked up at each call; inherited by the fork


def _patch_batch() -> None:
    from provenance.verify import batch

    real = batch._outcome

    def dying(index: int, path: str, job: Any) -> Any:
        _maybe_die(index == _DEATH["index"])
        return real(index, path, job)

    batch._outcome = dying  # type: ignore[assignment]


def _outcome(run: Callable[[], Any]) -> dict[str, Any]:
    outcome: dict[str, Any] = {"error": None, "code": None, "result": None}
    try:
        outcome["result"] = run()
    except Exception as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"
        outcome["code"] = str(getattr(exc, "code", ""))
    outcome["left"] = [p.pid for p in multiprocessing.active_children()]
    return outcome


def _digests(folder: str, jobs: int) -> list[Any]:
    from provenance.verify.hashing import hash_files

    paths = sorted(str(p) for p in Path(folder).iterdir())
    return [[size, digests["sha256"]] for size, digests in hash_files(paths, ["sha256"], jobs=jobs)]  # type: ignore[misc]


def trial_hash(folder: str, victim: str, marker: str) -> dict[str, Any]:
    """Hash every file of ``folder`` with two processes; the worker hashing ``victim`` dies (once when
    ``marker`` is not empty, else every time)."""
    _patch_hashing()
    _DEATH.update(path=str(Path(folder) / victim), marker=marker or None)
    outcome = _outcome(lambda: _digests(folder, 2))
    outcome["serial"] = _digests(folder, 1)
    return outcome


def _verify(archive: str, keys: str, jobs: int) -> list[Any]:
    from datetime import UTC, datetime

    from provenance.verify.batch import verify_batch
    from provenance.verify.target import make_context

    ctx = make_context(Path(keys), datetime(2026, 2, 1, tzinfo=UTC))
    targets = sorted((Path(archive) / "records").iterdir())
    return [[o.index, str(o.state), o.document] for o in verify_batch(targets, ctx, kind="record", jobs=jobs,
                                                                       as_json=True)]


def trial_verify(archive: str, keys: str, index: str, marker: str) -> dict[str, Any]:
    """Verify every record folder of ``archive`` with two processes; the worker verifying target ``index``
    dies (once when ``marker`` is not empty, else every time)."""
    _patch_batch()
    _DEATH.update(index=int(index), marker=marker or None)
    outcome = _outcome(lambda: _verify(archive, keys, 2))
    outcome["serial"] = _verify(archive, keys, 1)
    return outcome


def _patch_audit() -> None:
    from provenance.audit import work

    real = work._verify_local

    def dying(source: Any, record_id: str, ctx: Any) -> Any:
        _maybe_die(record_id == _DEATH["record"])
        return real(source, record_id, ctx)

    work._verify_local = dying  # type: ignore[assignment]


def cli(index: str, *argv: str) -> None:
    """The CLI, with every pool worker dying when it reaches target ``index`` (``verify``) or record
    ``index`` (``audit``)."""
    if not index.isdigit():
        _patch_audit()
        _DEATH.update(record=index, marker=None)
    else:
        _patch_batch()
        _DEATH.update(index=int(index), marker=None)
    from provenance.cli.app import main

    main(list(argv))


TRIALS: dict[str, Callable[..., dict[str, Any]]] = {"hash": trial_hash, "verify": trial_verify}

if __name__ == "__main__":
    if sys.argv[1] == "cli":
        cli(*sys.argv[2:])
    else:
        print(json.dumps(TRIALS[sys.argv[1]](*sys.argv[2:])))
