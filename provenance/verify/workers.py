"""Process pools for verification work: hashing many files, verifying many records or bundles.

Workers are forked where the platform allows it, so they inherit what the parent already loaded (the
modules, the trust store) instead of importing and parsing it again. A pool worker never starts a pool of
its own (see :func:`provenance.verify.hashing.worth_parallel`).

:func:`imap` runs on the audit's supervised workers (:class:`provenance.audit.pool.WorkerPool`): a worker
killed mid-run (SIGKILL, out of memory) is replaced and its batch run again, so no result is lost or doubled;
workers that keep dying stop the run with :class:`~provenance.errors.WorkerDiedError` (``worker.died``),
never a hang. (A ``multiprocessing.Pool`` replaces a dead worker silently and loses its task: its
``imap`` then waits forever.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# worker deaths one verification tolerates (each re-runs the batch the worker held) before it stops
RESTARTS = 3
_initialised = False  # in a worker: whether imap's initializer has run there


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return max(os.cpu_count() or 1, 1)


def resolve_jobs(jobs: int | None) -> int:
    """``jobs`` as a count of processes: ``None`` or 0 mean one per available CPU."""
    if jobs is None or jobs <= 0:
        return available_cpus()
    return jobs


def _apply(job: tuple[Callable[[Any], Any], Callable[..., None] | None, tuple[Any, ...]],
           batch: tuple[int, list[Any]]) -> tuple[int, list[Any]]:
    """In a worker: ``func`` over one numbered batch of tasks (the initializer first, once a worker)."""
    global _initialised
    func, initializer, initargs = job
    if not _initialised:
        _initialised = True
        if initializer is not None:
            initializer(*initargs)
    number, tasks = batch
    return number, [func(task) for task in tasks]


def imap(
    processes: int,
    func: Callable[[T], R],
    tasks: Iterable[T],
    *,
    chunksize: int = 1,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    label: str = "verification",
) -> Iterator[R]:
    """``func(task)`` for every task, in the order given, computed by ``processes`` supervised workers
    (forked where possible) that take ``chunksize`` tasks at a time; like ``Pool.imap``, but a worker that
    dies is replaced and its tasks run again. Raises what ``func`` raised, or
    :class:`~provenance.errors.WorkerDiedError` when workers died more than :data:`RESTARTS` times.
    Every worker is gone when the iterator ends, is closed or raises."""
    from provenance.audit.pool import WorkerPool

    source = iter(tasks)

    def batches() -> Iterator[tuple[int, list[Any]]]:
        number = 0
        while chunk := list(islice(source, max(chunksize, 1))):
            yield number, chunk
            number += 1

    supervised = WorkerPool(
        processes, (func, initializer, initargs), _apply, restarts=RESTARTS, label=label,
        left="nothing was reported for what was not done",
    )
    waiting: dict[int, list[Any]] = {}  # batches that arrived before an earlier one
    following = 0
    finished = False
    try:
        for number, results in supervised.run(batches(), lambda: False):
            waiting[number] = results
            while following in waiting:
                yield from waiting.pop(following)
                following += 1
        finished = True
    finally:
        supervised.close(finished=finished)
