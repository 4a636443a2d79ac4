"""Bounds on the work a command does for input it does not control (the README's "Limits" table).

Each limit has a default, an environment variable that raises (or lowers) it, and the code a command
stops with (or, in a verification report, the problem it reports) when it is exceeded. Counting stops at
the first entry past the limit, so refusing costs time in proportion to the limit, never to the input.
Values are read when used: a test, or a person with a large archive, sets the variable for one run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from provenance.errors import ErrorCode, ProvenanceError, UsageError, error

T = TypeVar("T")


@dataclass(frozen=True)
class Limit:
    """One bound: ``default`` unless ``$env`` says otherwise; ``code`` when it is exceeded."""

    default: int
    env: str
    code: ErrorCode
    what: str  # "editorial insertions in one transcription"

    def value(self) -> int:
        """The bound in force. Raises ``UsageError(usage.invalid)`` for a variable that is not a count."""
        raw = os.environ.get(self.env, "").strip()
        if not raw:
            return self.default
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise UsageError(ErrorCode.USAGE, f"${self.env} must be a positive whole number, not {raw[:40]!r}")
        return int(raw)

    def message(self, where: str) -> str:
        """One line naming the input, the bound and how to raise it."""
        return f"{where}: more than {self.value():,} {self.what}; refused (raise the limit with {self.env}=N)"

    def error(self, where: str) -> ProvenanceError:
        return error(self.code, self.message(where), limit=self.value())

    def take(self, items: Iterable[T], where: str) -> Iterator[T]:
        """``items`` one by one; raises :meth:`error` at the first one past the bound (never counts on)."""
        bound = self.value()
        for count, item in enumerate(items, start=1):
            if count > bound:
                raise self.error(where)
            yield item


NOTES = Limit(10_000, "PROVENANCE_MAX_NOTES", ErrorCode.INPUT_TOO_MANY_NOTES,
              "editorial insertions (notes) in one transcription")
RECORDS = Limit(50_000, "PROVENANCE_MAX_RECORDS", ErrorCode.ARCHIVE_TOO_MANY_RECORDS,
                "records in one archive")
FILES = Limit(50_000, "PROVENANCE_MAX_FILES", ErrorCode.RECORD_TOO_MANY_FILES,
              "files in one record (or stored versions in its objects/)")
KEYS = Limit(1_000, "PROVENANCE_MAX_KEYS", ErrorCode.KEYS_TOO_MANY, "key cards in one trust store or bundle")
