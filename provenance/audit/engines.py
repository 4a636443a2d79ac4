"""Engines that run batches of audit work: this process, a local process pool (the default), or a Dask
cluster (``--engine dask --scheduler ADDRESS``, the ``dask`` extra, imported only here).

Every engine takes the batches one by one, keeps a bounded number in flight (so that a run can stop
between batches when its time is up or the store has gone away, and memory does not grow with the
archive), and yields each batch's results once, as it completes. On Dask, a batch whose worker is lost is
run again on another worker by the scheduler: its results arrive once, from whichever run finished.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from provenance.audit.work import AuditJob, audit_batch

Results = list[dict[str, Any]]
Batches = Iterator[list[str]]
StopAsked = Callable[[], bool]


def batch_size(records: int, workers: int) -> int:
    """Records per batch: enough to make the cost of sending a batch small, few enough that every worker
    gets several batches (and a run stops soon after its time is up)."""
    return max(8, min(64, records // max(1, workers * 8)))


@dataclass
class LocalEngine:
    """``workers`` processes on this machine (forked: they inherit the loaded library and trust store),
    supervised by this process (:mod:`provenance.audit.pool`).

    A worker process that dies (killed, out of memory) is replaced and the batch it held is run again;
    each batch's results are taken once. After ``restarts`` deaths in one run it stops with
    :class:`~provenance.errors.WorkerDiedError`. Nothing waits without bound on a dead process.
    """

    workers: int
    name: str = "local"
    # worker deaths tolerated in one run before it gives up
    restarts: int = 3
    # what a worker runs on each batch (a module-level function of the job and the batch's record ids)
    work: Callable[[Any, list[str]], Results] = audit_batch

    def run(self, job: AuditJob, batches: Batches, stop: StopAsked) -> Iterator[Results]:
        if self.workers <= 1:
            while not stop():  # asked before a batch is taken: one not taken stays for the next run
                records = next(batches, None)
                if records is None:
                    return
                yield self.work(job, records)
            return
        from provenance.audit.pool import WorkerPool

        pool = WorkerPool(self.workers, job, self.work, restarts=self.restarts)
        finished = False
        try:
            yield from pool.run(batches, stop)
            finished = True
        finally:
            # on an error, or a caller that stopped reading, the workers are killed (they only read);
            # batches not sent are dropped (their records stay for the next run)
            pool.close(finished=finished)


@dataclass
class DaskEngine:
    """Batches sent to the workers of a running Dask scheduler; each worker reads the archive itself."""

    scheduler: str
    name: str = "dask"
    workers: int = 1
    connect_timeout: float = 5.0

    def connect(self) -> Any:
        """A client of the scheduler. Raises ``ProvenanceError(dependency.missing)`` without the extra and
        ``UnavailableError(audit.scheduler-unreachable)`` when no scheduler answers at the address."""
        from provenance.errors import ErrorCode, UnavailableError

        try:
            from distributed import Client
        except ImportError:
            raise UnavailableError(
                ErrorCode.EXTRA_MISSING, "the dask engine needs Dask: pip install 'provenance[dask]'"
            ) from None
        try:
            client = Client(  # type: ignore[no-untyped-call]
                self.scheduler, timeout=self.connect_timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UnavailableError(
                ErrorCode.SCHEDULER_UNREACHABLE,
                f"no Dask scheduler answers at {self.scheduler} ({type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else 'no answer'}); start one with 'dask scheduler'",
            ) from None
        return client

    def run(self, job: AuditJob, batches: Batches, stop: StopAsked) -> Iterator[Results]:
        from distributed import as_completed

        client = self.connect()
        try:
            threads = sum(client.nthreads().values()) or 1
            self.workers = max(1, len(client.nthreads()))
            pending: Any = None
            flight = 0
            exhausted = False
            number = 0
            token = os.urandom(6).hex()

            def feed() -> None:
                nonlocal flight, exhausted, number, pending
                while not exhausted and flight < 2 * threads and not stop():
                    batch: list[str] | None = next(batches, None)
                    if batch is None:
                        exhausted = True
                        return
                    number += 1
                    # retries: a batch whose worker raised is run again (a lost worker's batches are
                    # rescheduled by the scheduler itself)
                    # the job (archive location, trust store, policy, clock: a few KiB) travels with each
                    # batch, so a batch rerun on a new worker needs nothing that died with the old one
                    future = client.submit(
                        audit_batch, job, batch, pure=False, retries=2, key=f"provenance-audit-{token}-{number}"
                    )
                    if pending is None:
                        pending = as_completed([future], loop=client.loop)  # type: ignore[no-untyped-call]
                    else:
                        pending.add(future)
                    flight += 1

            feed()
            while flight:
                future = next(pending)
                flight -= 1
                results = future.result()
                future.release()
                yield results
                feed()
        finally:
            client.close()
