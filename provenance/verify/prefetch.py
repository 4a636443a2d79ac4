"""Hashing a record's large files while the verifier is still starting.

A cold ``verify`` of one record spends its first fifth of a second importing the library and reading the
trust store; a record holding one large scan then spends seconds in SHA-256. The two can run at once on
two cores: :meth:`Prefetch.start` forks a small helper process before the library is imported (a thread
would not do: it waits for the interpreter's lock between two blocks while the imports hold it, and
hashes at a fraction of its speed), which lists the record's ``files/`` (regular files only, no link
followed) and hashes the large ones. Step 6 of the verification takes these digests as its own: the
bytes were read from disk by the verifier's own process tree, in the same way. Anything the helper did
not hash, or could not report, step 6 hashes itself.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provenance.verify.hashing import DEFAULT_ALGORITHMS, FileDigests, _Reader

MIN_SIZE = 1 << 20  # smaller files cost more in Python than in SHA-256: step 6 takes them
MAX_ENTRIES = 256  # a dossier of many files is hashed by processes in step 6 instead


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


def _hash_into(folder: str, out: int) -> None:
    """The helper's work: one line per file, ``size<TAB>sha256<TAB>path`` (paths hold no newline here)."""
    reader = _Reader()
    for path in _large_files(folder):
        if "\n" in path:
            continue
        try:
            size, digests = reader.hash(path, DEFAULT_ALGORITHMS)
        except OSError:
            continue  # step 6 reads it again and reports why it cannot
        line = f"{size}\t{digests['sha256']}\t{path}\n".encode("utf-8", "surrogateescape")
        os.write(out, line)


class Prefetch:
    """Digests of the large files below one folder, taken by a helper process started early."""

    def __init__(self, pid: int, pipe: int) -> None:
        self._pid = pid
        self._pipe = pipe
        self._results: dict[str, FileDigests | OSError] | None = None

    @classmethod
    def start(cls, folder: Path) -> Prefetch | None:
        """Fork the helper; None where processes cannot be forked (the verification then hashes alone)."""
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
                _hash_into(os.fspath(folder), write)
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        return cls(pid, read)

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
        if os.waitstatus_to_exitcode(status) != 0:
            return self._results  # step 6 hashes everything itself
        for line in b"".join(chunks).decode("utf-8", "surrogateescape").splitlines():
            size, digest, path = line.split("\t", 2)
            self._results[path] = (int(size), {"sha256": digest})
        return self._results
