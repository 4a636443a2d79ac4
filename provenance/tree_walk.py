"""Walking a folder one way: every entry below it, no link followed, at most a bounded number of entries.

``attach`` of a dossier, the verifier's reading of a record's ``files/`` and ``objects/`` and the prefetch
helper each used to walk folders with their own loop; they now share :func:`walk`, so the count that
``record.too-many-files`` is judged by is the same for the writer and the verifier. Each caller decides
what a link, a special file or a folder means to it (refused, reported, skipped).
"""

from __future__ import annotations

import os
from collections.abc import Iterator


class TooManyEntriesError(Exception):
    """More than ``bound`` entries below the folder: the walk stopped, the rest was never looked at."""

    def __init__(self, bound: int) -> None:
        super().__init__(f"more than {bound} entries")
        self.bound = bound


def walk(root: str | os.PathLike[str], bound: int) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Yield ``(relative POSIX path, entry)`` for every entry below ``root``, folders included.

    A folder is descended into after it is yielded, unless it is a link (``is_dir(follow_symlinks=False)``);
    nothing is followed. The order is depth-first from a stack, not sorted. Raises :class:`TooManyEntriesError`
    instead of yielding entry ``bound + 1``, and ``OSError`` when a folder cannot be listed.
    """
    seen = 0
    stack = [(os.fspath(root), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                seen += 1
                if seen > bound:
                    raise TooManyEntriesError(bound)
                rel = prefix + entry.name
                yield rel, entry
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
