"""Hashing a record's large files, or a bag's whole payload, while the verifier is still starting.

A cold ``verify`` of one record spends its first fifth of a second importing the library and reading the
trust store; a record holding one large scan then spends seconds in SHA-256. The two can run at once on
two cores: :meth:`Prefetch.start` forks a small helper process before the library is imported (a thread
would not do: it waits for the interpreter's lock between two blocks while the imports hold it, and
hashes at a fraction of its speed), which lists the record's ``files/`` (regular files only, no link
followed) and hashes the large ones. Step 6 of the verification takes these digests as its own: the
bytes were read from disk by the verifier's own process tree, in the same way. Anything the helper did
not hash, or could not report, step 6 hashes itself.

A bag folder's payload is read whole by the bag check (every file against the bag's manifests), so for a
bag the helper hashes every regular file of ``data/`` (:meth:`Prefetch.start` with ``every``), small
ones included: for a dossier of thousands of pages that is most of a verification's work, done on the
second core while the first imports the library. (When the large files hold 64 MiB or more, the helper
leaves them to the bag check, which spreads them over processes.) The bag check takes the SHA-256 of each
file it finds there (a bag whose manifests name another algorithm is hashed by the check itself).
"""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

from provenance.verify.hashing import DEFAULT_ALGORITHMS, PARALLEL_MIN_BYTES, FileDigests, _Reader

MIN_SIZE = 1 << 20  # smaller files cost more in Python than in SHA-256: step 6 takes them
MAX_ENTRIES = 256  # a dossier of many files is hashed by processes in step 6 instead
MAX_PAYLOAD_ENTRIES = 100_000  # a bag's payload: at most as many entries as a bag may hold (entries.Limits)


def _large_files(folder: str) -> list[str]:
    """The regular files of at least MIN_SIZE below ``folder``, or none when it holds many entries."""
    from provenance.tree_walk import TooManyEntriesError, walk

    found: list[str] = []
    try:
        for _rel, entry in walk(folder, MAX_ENTRIES):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_size >= MIN_SIZE:
                found.append(entry.path)
    except TooManyEntriesError:
        return []
    return found


def _payload_files(folder: str) -> list[str]:
    """The regular files below ``folder`` (no link followed), or none past the bound: every one, unless
    the large ones hold PARALLEL_MIN_BYTES or more, which the bag check then spreads over processes (this
    helper is one process): the small ones only."""
    from provenance.tree_walk import TooManyEntriesError, walk

    try:
        found = [(entry.path, entry.stat(follow_symlinks=False).st_size)
                 for _rel, entry in walk(folder, MAX_PAYLOAD_ENTRIES) if entry.is_file(follow_symlinks=False)]
    except (TooManyEntriesError, OSError):
        return []
    if sum(size for _path, size in found if size >= MIN_SIZE) >= PARALLEL_MIN_BYTES:
        return [path for path, size in found if size < MIN_SIZE]
    return [path for path, _size in found]


def _hash_into(folder: str, out: int, every: bool = False) -> None:
    """The helper's work, written once it is done (a pipe never fills while it hashes): the paths, one a
    line, then NUL, the sizes, NUL, the SHA-256 digests, both separated by spaces, in the same order."""
    reader = _Reader()
    paths: list[str] = []
    sizes: list[str] = []
    digests: list[str] = []
    for path in _payload_files(folder) if every else _large_files(folder):
        if "\n" in path:
            continue
        try:
            size, hexes = reader.hash(path, DEFAULT_ALGORITHMS)
        except OSError:
            continue  # the check reads it again and reports why it cannot
        paths.append(path)
        sizes.append(str(size))
        digests.append(hexes["sha256"])
    view = memoryview(f"{chr(10).join(paths)}\0{' '.join(sizes)}\0{' '.join(digests)}".encode("utf-8", "surrogateescape"))
    while view:
        view = view[os.write(out, view) :]


class Prefetch:
    """Digests of the large files below one folder, taken by a helper process started early."""

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid = pid
        self._pipe = pipe
        self._results: dict[str, FileDigests | OSError] | None = None

    @classmethod
    def start(cls, folder: Path, *, every: bool = False) -> Prefetch | None:
        """Fork the helper, which hashes the large files below ``folder`` (``every``: all its regular
        files, a bag's payload); None where processes cannot be forked (the verification then hashes
        alone)."""
        if not hasattr(os, "fork"):
            return None
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the helper: hash, report, leave without running the parent's exit handlers
            code = 1
            try:
                os.close(read)
                _hash_into(os.fspath(folder), write, every)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        return cls(pid, read)

    def close(self) -> None:
        """End the helper when its results were never asked for (the verification stopped before it
        hashed, or hashed otherwise): killed and reaped, its pipe closed. Does nothing once they were."""
        if self._results is not None:
            return
        self._results = {}
        os.close(self._pipe)
        os.kill(self._pid, signal.SIGKILL)  # not reaped yet, so still there (perhaps as a zombie)
        os.waitpid(self._pid, 0)

    def results(self) -> dict[str, FileDigests | OSError]:
        """(size, {"sha256": hex}) of each file the helper hashed, by path; waits for it to finish."""
        if self._results is not None:
            return self._results
        chunks = []
        try:
            while chunk := os.read(self._pipe, 1 << 16):
                chunks.append(chunk)
        finally:
            os.close(self._pipe)
            _, status = os.waitpid(self._pid, 0)
        self._results = {}
        parts = b"".join(chunks).decode("utf-8", "surrogateescape").split("\0")
        if os.waitstatus_to_exitcode(status) != 0 or len(parts) != 3:
            return self._results  # the verification hashes everything itself
        paths = parts[0].split("\n") if parts[0] else []
        sizes = [int(size) for size in parts[1].split()]
        digests = parts[2].split()
        if len(paths) == len(sizes) == len(digests):
            self._results = dict(zip(paths, zip(sizes, [{"sha256": d} for d in digests], strict=True), strict=True))
        return self._results
