"""Worker processes of the local audit engine, supervised by the process that started them.

Each worker is a forked process with one socket pair to the parent. The parent sends it one batch at a
time and waits, with :func:`multiprocessing.connection.wait`, on every worker's socket and on every
worker's process sentinel at once. A worker that dies (killed, out of memory) is seen through its
sentinel or the end of its socket: its batch goes back to the queue and a new worker takes its place.
Nothing here ever waits without bound on a worker that may be dead: no pool to shut down, no queue
feeder thread, no lock a dead process could hold; stopping is a message, then a bounded join, then
SIGKILL.

A batch's results are taken once, from the one worker that holds the batch when they arrive: a batch is
re-queued only when its worker died before its results were read whole, so nothing is lost or doubled.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

Work = Callable[[Any, list[str]], list[dict[str, Any]]]

# seconds a worker has to leave after it was told to; then it is killed (it only ever reads the archive)
LEAVE_SECONDS = 5.0


class WorkerDiedError(RuntimeError):
    """Worker processes kept dying (``restarts`` deaths were tolerated): the run stops."""


def _serve(conn: Connection, others: list[Connection], job: Any, work: Work) -> None:
    """A worker's loop: take a batch, send back ``("ok", results)`` or ``("error", exception)``; leave on
    ``None`` or when the parent has gone (the end of the socket)."""
    for other in others:  # the parent's ends of the other workers' sockets, inherited by the fork
        other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    while True:
        try:
            batch = conn.recv()
        except (EOFError, OSError):
            return
        if batch is None:
            return
        reply: tuple[str, Any]
        try:
            reply = ("ok", work(job, batch))
        except Exception as exc:  # sent to the parent, which raises it
            reply = ("error", exc)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception as exc:  # an exception that does not pickle: its text does
            conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process of the chosen context
    conn: Connection
    batch: list[str] | None = None


@dataclass
class WorkerPool:
    """``size`` supervised worker processes running ``work(job, batch)``; see the module docstring."""

    size: int
    job: Any
    work: Work
    # worker deaths tolerated in one run before it stops with WorkerDiedError
    restarts: int = 3
    deaths: int = 0
    _workers: list[_Worker] = field(default_factory=list)
    _context: Any = None

    def __post_init__(self) -> None:
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context("fork" if "fork" in methods else None)

    def _start(self) -> None:
        parent, child = self._context.Pipe(duplex=True)
        others = [worker.conn for worker in self._workers]
        process = self._context.Process(
            target=_serve, args=(child, [*others, parent], self.job, self.work), name="provenance-audit",
            daemon=True,
        )
        process.start()
        child.close()  # only the worker holds its end: its death is the end of the parent's socket
        self._workers.append(_Worker(process, parent))

    def run(self, batches: Iterator[list[str]], stop: Callable[[], bool]) -> Iterator[list[dict[str, Any]]]:
        """Yield each batch's results once, as they arrive. Batches are taken from ``batches`` only while
        ``stop()`` is false; those already sent are finished. Raises the exception a batch raised, or
        :class:`WorkerDiedError`."""
        queue: deque[list[str]] = deque()  # batches taken but not held by a worker (given back by a death)
        ready: deque[list[dict[str, Any]]] = deque()
        exhausted = False
        while len(self._workers) < self.size:
            self._start()
        while True:
            # every idle worker gets a batch before anything is yielded: the workers keep going while the
            # caller handles results
            for worker in self._workers:
                while worker.batch is None:
                    if not queue:
                        if exhausted or stop():
                            break
                        batch = next(batches, None)
                        if batch is None:
                            exhausted = True
                            break
                        queue.append(batch)
                    worker.batch = queue.popleft()
                    try:
                        worker.conn.send(worker.batch)
                    except OSError:  # died since the last look: the wait below sees it
                        break
            if ready:
                yield ready.popleft()
                continue
            busy = [worker for worker in self._workers if worker.batch is not None]
            if not busy:
                return
            signalled = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for worker in busy:
                if worker.conn in signalled or worker.process.sentinel in signalled:
                    self._collect(worker, queue, ready)

    def _collect(self, worker: _Worker, queue: deque[list[str]], ready: deque[list[dict[str, Any]]]) -> None:
        """Take what a signalled worker has sent; a worker that died leaves (its batch back to the queue)
        and a new one takes its place."""
        reply: tuple[str, Any] | None = None
        try:
            if worker.conn.poll(0):  # a whole message, or the end of the socket (the worker died)
                reply = worker.conn.recv()
        except (EOFError, OSError):
            pass
        if reply is not None:
            kind, value = reply
            if kind == "error":
                raise value
            worker.batch = None
            ready.append(value)
            return
        # died: only the sentinel was signalled, or the socket ended (perhaps in the middle of a message)
        worker.process.kill()
        self.deaths += 1
        if worker.batch is not None:
            queue.appendleft(worker.batch)
        worker.conn.close()
        worker.process.join(LEAVE_SECONDS)
        self._workers.remove(worker)
        if self.deaths > self.restarts:
            raise WorkerDiedError(
                f"audit worker processes died {self.deaths} times (the last with exit code "
                f"{worker.process.exitcode}); the records not audited stay for the next run"
            )
        self._start()

    def close(self, *, finished: bool) -> None:
        """Stop every worker: asked to leave when the run ``finished`` (then killed if it does not within
        :data:`LEAVE_SECONDS`), killed at once otherwise (what it was doing is dropped: it only reads)."""
        for worker in self._workers:
            if finished and worker.batch is None:
                with contextlib.suppress(OSError):
                    worker.conn.send(None)
            else:
                worker.process.kill()
        for worker in self._workers:
            worker.process.join(LEAVE_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(LEAVE_SECONDS)
            worker.conn.close()
        self._workers.clear()
