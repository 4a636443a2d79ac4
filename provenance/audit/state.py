"""The persistent audit state (``.provenance/audit-state.sqlite``): when each record was last checked, in
which cycle, and with what outcome, so that the next run continues where the last one stopped.

A *cycle* is one pass over every record of the archive. A run audits records not yet checked in the
current cycle; when none is left, the next run starts the next cycle. Results are committed batch by
batch: a run that is killed loses at most the batches in flight, which the next run audits again (a
record's row is replaced, never added twice). A record the store could not deliver is not marked done.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from provenance.errors import ErrorCode, StorageError

STATE_NAME = "audit-state.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    record TEXT PRIMARY KEY,
    cycle INTEGER NOT NULL,
    checked TEXT NOT NULL,
    state TEXT NOT NULL,
    head TEXT
);
CREATE INDEX IF NOT EXISTS records_cycle ON records (cycle);
"""


def state_path(archive_root: Path | None, url: str, home: Path) -> Path:
    """Where the state of an archive lives: in its own ``.provenance/`` when it is a folder here; for an
    archive on object storage (read-only), under ``$PROVENANCE_HOME/audit-state/``, named by its URL."""
    if archive_root is not None:
        return archive_root / ".provenance" / STATE_NAME
    return home / "audit-state" / (hashlib.sha256(url.encode("utf-8")).hexdigest()[:24] + ".sqlite")


class AuditState:
    """One archive's audit state; every method commits what it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            # WAL, synced at checkpoints: a commit a batch costs no fsync; a crash loses at most the last
            # batches, which the next run audits again (never a result twice: a record has one row)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(ErrorCode.WRITE_FAILED, f"cannot open the audit state {path}: {exc}",
                               path=str(path)) from None

    def close(self) -> None:
        self._db.close()

    def _run(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            raise StorageError(ErrorCode.WRITE_FAILED, f"audit state {self.path}: {exc}", path=str(self.path)) from None

    @property
    def cycle(self) -> int:
        rows = self._run("SELECT value FROM meta WHERE key = 'cycle'")
        return int(rows[0][0]) if rows else 1

    def set_cycle(self, cycle: int) -> None:
        self._run("INSERT INTO meta (key, value) VALUES ('cycle', ?) ON CONFLICT(key) DO UPDATE SET value = "
                  "excluded.value", (str(cycle),))

    def done(self, cycle: int) -> set[str]:
        """Records already checked in ``cycle``."""
        return {row[0] for row in self._run("SELECT record FROM records WHERE cycle = ?", (cycle,))}

    def last_checked(self) -> dict[str, str]:
        """Each record's last check (UTC timestamp)."""
        return dict(self._run("SELECT record, checked FROM records"))

    def start(self, record_ids: list[str]) -> tuple[int, list[str]]:
        """The current cycle and the records still to check in it; a finished cycle starts the next one."""
        cycle = self.cycle
        done = self.done(cycle)
        pending = [rid for rid in record_ids if rid not in done]
        if not pending and record_ids:
            cycle += 1
            self.set_cycle(cycle)
            pending = list(record_ids)
        elif not self._run("SELECT value FROM meta WHERE key = 'cycle'"):
            self.set_cycle(cycle)
        return cycle, pending

    def record(self, results: list[dict[str, Any]], cycle: int, checked: str) -> None:
        """Mark ``results`` checked in ``cycle`` at ``checked``, in one transaction."""
        rows = [(r["record"], cycle, checked, r["state"], r.get("head")) for r in results]
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO records (record, cycle, checked, state, head) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(record) DO UPDATE SET cycle = excluded.cycle, checked = excluded.checked, "
                    "state = excluded.state, head = excluded.head",
                    rows,
                )
        except sqlite3.Error as exc:
            raise StorageError(ErrorCode.WRITE_FAILED, f"audit state {self.path}: {exc}", path=str(self.path)) from None
