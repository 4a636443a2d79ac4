"""Process pools for verification work: hashing many files, verifying many records or bundles.

Workers are forked where the platform allows it, so they inherit what the parent already loaded (the
modules, the trust store) instead of importing and parsing it again. A pool worker never starts a pool of
its own (see :func:`provenance.verify.hashing.worth_parallel`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.pool import Pool


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


@contextlib.contextmanager
def pool(
    processes: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> Iterator[Pool]:
    """A pool of ``processes`` workers (forked where possible), terminated when the block ends."""
    import multiprocessing  # here: a verification that stays in one process never loads it

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    workers = context.Pool(processes, initializer, initargs)
    try:
        yield workers
    finally:
        workers.terminate()
        workers.join()
