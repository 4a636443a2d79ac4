"""The search index: an embedded SQLite database (FTS5) derived from the records' manifests.

Derived, never trusted: every row can be rebuilt from ``records/`` (``provenance index --rebuild``), and the
signed manifests always win. The index lives in ``<archive>/.provenance/index.sqlite``.

Kept current in the same commit as every write: a signing command marks the record *pending* just before
its atomic commit and indexes it just after (:func:`before_commit`, :func:`after_commit`, called from
``ingest`` and ``history.append_event``). An update that fails never fails the signed write: the record
stays pending (or the folder's change time no longer matches) and the next search re-indexes it.

Before answering, :func:`open_index` detects a stale or damaged index and repairs it: a file SQLite cannot
read, or of another schema, is rebuilt; pending records are re-indexed; when ``records/`` changed behind
the index's back (its modification time or link count differ from the last indexed write: a record added,
replaced or removed by hand, or a command killed between its commit and the index update) every manifest's
(inode, size, mtime) is compared and the changed ones re-indexed. Each result is checked against its
manifest's SHA-256 before it is shown (see :mod:`provenance.search`).

Durability: ``synchronous=OFF`` with a rollback journal. A killed command leaves the index consistent; a
power loss may damage it, and a damaged index is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

    from provenance.archive import Archive

INDEX_NAME = "index.sqlite"
SCHEMA_VERSION = "2"
MAX_TEXT_BYTES = 8 * 1024 * 1024  # text indexed per file; a larger file is indexed by its first 8 MiB
TOKENIZER = "unicode61 remove_diacritics 2"
RANK = "bm25(5.0, 1.0, 2.0)"  # catalogue, text, notes: the weights of provenance.search.BM25_WEIGHTS

SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE records(
  id INTEGER PRIMARY KEY,
  record TEXT NOT NULL UNIQUE,
  manifest_sha256 TEXT NOT NULL,
  st_ino INTEGER NOT NULL, st_size INTEGER NOT NULL, st_mtime_ns INTEGER NOT NULL,
  title TEXT, sent TEXT, released INTEGER NOT NULL, events INTEGER NOT NULL, last_time TEXT,
  filename TEXT, catalogue TEXT NOT NULL
);
CREATE TABLE signers(id INTEGER NOT NULL, key TEXT NOT NULL, agent TEXT NOT NULL, PRIMARY KEY(id, key));
CREATE INDEX signers_by_key ON signers(key);
CREATE TABLE pending(record TEXT PRIMARY KEY);
CREATE VIRTUAL TABLE docs USING fts5(catalogue, text, notes, tokenize='{TOKENIZER}');
"""


def index_path(archive: Archive) -> Path:
    return archive.work_dir / INDEX_NAME


def _connect(path: Path) -> sqlite3.Connection:
    import sqlite3  # here: a signing command with no index never loads it

    db = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    return db


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (each statement would otherwise be one, and write its journal): committed when
    the block ends well, rolled back when it fails."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _records_stamp(archive: Archive) -> str:
    info = os.stat(archive.records_dir)
    return f"{info.st_mtime_ns}:{info.st_nlink}"


# ---------------------------------------------------------------------------------------------------------
# The commit hooks (best effort: never raise)


def _change_index(archive: Archive, change: Callable[[sqlite3.Connection], object]) -> None:
    """Make ``change`` to the archive's index in one transaction (nothing when there is no index yet). Never
    raises: a change that fails leaves the index as it was, and the next search re-checks what it must (a
    record left pending is re-indexed; a records/ stamp that no longer matches re-checks every manifest)."""
    path = index_path(archive)
    if not os.path.exists(path):
        return
    import sqlite3

    with suppress(sqlite3.Error, OSError, ValueError), closing(_connect(path)) as db, _transaction(db):
        change(db)


def before_commit(archive: Archive, *record_ids: str) -> None:
    """Mark the records pending just before their commit; a group commit marks all of its records at once."""
    rows = [(rid,) for rid in record_ids]
    _change_index(archive, lambda db: db.executemany("INSERT OR IGNORE INTO pending(record) VALUES (?)", rows))


def after_commit(archive: Archive, *record_ids: str) -> None:
    """Index the records as just committed, clearing their pending marks."""

    def change(db: sqlite3.Connection) -> None:
        for record_id in record_ids:
            index_record(db, archive, record_id)
        db.executemany("DELETE FROM pending WHERE record = ?", [(rid,) for rid in record_ids])
        if db.execute("SELECT count(*) FROM pending").fetchone()[0] == 0:
            _set_meta(db, "records_stamp", _records_stamp(archive))

    _change_index(archive, change)


# ---------------------------------------------------------------------------------------------------------
# Indexing one record


def _set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def _catalogue_text(catalogue: dict[str, Any]) -> str:
    parts: list[str] = []
    for value in catalogue.values():
        if isinstance(value, list):
            parts.extend(str(c.get("recipient", "")) for c in value if isinstance(c, dict))
        else:
            parts.append(str(value))
    return "\n".join(parts)


def _charset(media_type: str) -> str | None:
    if not media_type.startswith("text/"):
        return None
    for param in media_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset":
            return value.strip() or "utf-8"
    return "utf-8"


def _file_text(record_dir: Path, entry: dict[str, Any]) -> str:
    charset = _charset(str(entry.get("media_type", "")))
    if charset is None:
        return ""
    try:
        with open(record_dir / "files" / str(entry["path"]), "rb") as handle:
            data = handle.read(MAX_TEXT_BYTES)
        return data.decode(charset, errors="replace")
    except (OSError, LookupError, KeyError):
        return ""


def record_row(record_dir: Path) -> tuple[os.stat_result, str, dict[str, Any]]:
    """The manifest's stat, SHA-256 and parsed JSON; raises ``OSError`` / ``ValueError``."""
    path = record_dir / "manifest.json"
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        data = handle.read()
    document = json.loads(data)
    if not isinstance(document, dict) or not isinstance(document.get("state"), dict):
        raise ValueError(f"{path}: not a manifest")
    return info, hashlib.sha256(data).hexdigest(), document


def index_record(db: sqlite3.Connection, archive: Archive, record_id: str) -> bool:
    """(Re)index one record from its manifest on disk; a record that is gone (or unreadable) is removed.
    Returns whether the record is in the index now."""
    record_dir = archive.records_dir / record_id
    old = db.execute("SELECT id FROM records WHERE record = ?", (record_id,)).fetchone()
    if old is not None:
        _delete(db, old[0])
    try:
        info, digest, document = record_row(record_dir)
    except (OSError, ValueError):
        return False
    _insert(db, record_id, record_dir, info, digest, document)
    return True


def _delete(db: sqlite3.Connection, rowid: int) -> None:
    db.execute("DELETE FROM records WHERE id = ?", (rowid,))
    db.execute("DELETE FROM signers WHERE id = ?", (rowid,))
    db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))


def _insert(
    db: sqlite3.Connection,
    record_id: str,
    record_dir: Path,
    info: os.stat_result,
    digest: str,
    document: dict[str, Any],
) -> None:
    state = document["state"]
    catalogue = state.get("catalogue") or {}
    files = [f for f in state.get("files") or [] if isinstance(f, dict)]
    events = [e for e in document.get("events") or [] if isinstance(e, dict)]
    transcription = next((f for f in files if f.get("role") == "transcription"), files[0] if files else None)
    cursor = db.execute(
        "INSERT INTO records(record, manifest_sha256, st_ino, st_size, st_mtime_ns, title, sent, released, events,"
        " last_time, filename, catalogue) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            record_id,
            digest,
            info.st_ino,
            info.st_size,
            info.st_mtime_ns,
            catalogue.get("title"),
            catalogue.get("sent"),
            int(any(e.get("type") == "release" for e in events)),
            len(events),
            events[-1].get("time") if events else None,
            transcription.get("path") if transcription else None,
            json.dumps(catalogue, ensure_ascii=False, sort_keys=True),
        ),
    )
    rowid = cursor.lastrowid
    signers = {(str(e.get("key")), str(e.get("agent"))) for e in events}
    db.executemany(
        "INSERT OR IGNORE INTO signers(id, key, agent) VALUES (?, ?, ?)", [(rowid, k, a) for k, a in signers]
    )
    text = "\n\n".join(_file_text(record_dir, f) for f in files)
    notes = "\n".join(str(n.get("text", "")) for n in state.get("notes") or [] if isinstance(n, dict))
    db.execute(
        "INSERT INTO docs(rowid, catalogue, text, notes) VALUES (?, ?, ?, ?)",
        (rowid, f"{record_id}\n{_catalogue_text(catalogue)}", text, notes),
    )


# ---------------------------------------------------------------------------------------------------------
# Opening, checking, rebuilding


@dataclass
class IndexStatus:
    """What opening the index had to do before it could be believed."""

    rebuilt: bool = False
    reason: str = ""
    refreshed: int = 0  # records re-indexed because they changed behind the index's back
    records: int = 0


def _live_records(archive: Archive) -> Iterator[tuple[str, os.stat_result]]:
    from provenance.archive import RECORD_ID_RE

    for entry in os.scandir(archive.records_dir):
        if not RECORD_ID_RE.match(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            yield entry.name, os.stat(os.path.join(entry.path, "manifest.json"))
        except OSError:
            continue


def rebuild(archive: Archive, db: sqlite3.Connection | None = None) -> int:
    """Index every record from scratch (one transaction: readers see the old index or the new one).

    Returns the number of records indexed. Raises ``sqlite3.Error`` / ``OSError``.
    """
    path = index_path(archive)
    own = db is None
    if db is None:
        archive.work_dir.mkdir(parents=True, exist_ok=True)
        db = _connect(path)
    try:
        stamp = _records_stamp(archive)  # before reading: a write meanwhile changes it, seen next time
        with _transaction(db):
            for table in ("meta", "records", "signers", "pending", "docs"):
                db.execute(f"DROP TABLE IF EXISTS {table}")
            for statement in SCHEMA.split(";"):  # not executescript: it would COMMIT the transaction first
                if statement.strip():
                    db.execute(statement)
            count = sum(index_record(db, archive, record_id) for record_id, _info in _live_records(archive))
            db.execute("INSERT INTO docs(docs, rank) VALUES ('rank', ?)", (RANK,))
            _set_meta(db, "schema", SCHEMA_VERSION)
            _set_meta(db, "records_stamp", stamp)
    finally:
        if own:
            db.close()
    return count


def _discard(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.unlink(str(path) + suffix)


def open_index(archive: Archive) -> tuple[sqlite3.Connection, IndexStatus]:
    """The index, made current first (see the module's description). Raises ``ProvenanceError``
    (index.unavailable) when SQLite lacks FTS5 or the index cannot be written."""
    import sqlite3

    from provenance.errors import ErrorCode, UnavailableError

    path = index_path(archive)
    status = IndexStatus()
    try:
        if not path.exists():
            status.rebuilt, status.reason = True, "no index yet"
            status.records = rebuild(archive)
            return _connect(path), status
        db = None
        try:
            db = _connect(path)
            version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version is None or version[0] != SCHEMA_VERSION:
                raise sqlite3.DatabaseError("another schema")
            db.execute("SELECT count(*) FROM docs WHERE docs MATCH 'x'").fetchone()
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise UnavailableError(
                    ErrorCode.INDEX_UNAVAILABLE,
                    f"the search index is busy (being rebuilt?); try again ({exc})",
                ) from exc
            _discard(path)
            status.rebuilt, status.reason = True, f"the index was damaged ({exc}); rebuilt from the manifests"
            status.records = rebuild(archive)
            return _connect(path), status
        status.refreshed = _refresh(db, archive)
        return db, status
    except sqlite3.OperationalError as exc:
        if "fts5" in str(exc).lower():
            raise UnavailableError(
                ErrorCode.INDEX_UNAVAILABLE, f"this Python's SQLite has no FTS5 full-text search ({exc})"
            ) from exc
        raise UnavailableError(
            ErrorCode.INDEX_UNAVAILABLE, f"the search index {path} cannot be used: {exc}"
        ) from exc
    except OSError as exc:
        raise UnavailableError(
            ErrorCode.INDEX_UNAVAILABLE, f"the search index {path} cannot be written: {exc.strerror}"
        ) from exc


def _refresh(db: sqlite3.Connection, archive: Archive) -> int:
    """Re-index pending records, and every changed record when ``records/`` changed behind our back."""
    stamp = _records_stamp(archive)
    stored = db.execute("SELECT value FROM meta WHERE key = 'records_stamp'").fetchone()
    pending = [r for (r,) in db.execute("SELECT record FROM pending")]
    if not pending and stored is not None and stored[0] == stamp:
        return 0
    with _transaction(db):
        changed = set(pending)
        if stored is None or stored[0] != stamp:
            known = {
                r: (ino, size, mtime)
                for r, ino, size, mtime in db.execute(
                    "SELECT record, st_ino, st_size, st_mtime_ns FROM records"
                )
            }
            for record_id, info in _live_records(archive):
                if known.pop(record_id, None) != (info.st_ino, info.st_size, info.st_mtime_ns):
                    changed.add(record_id)
            changed.update(known)  # indexed, but no longer in records/
        for record_id in sorted(changed):
            index_record(db, archive, record_id)
        db.execute("DELETE FROM pending")
        _set_meta(db, "records_stamp", stamp)
    return len(changed)


def check_all(archive: Archive) -> tuple[int, int]:
    """Compare every indexed record with its manifest's SHA-256 (and find records not indexed); re-index
    what differs. Returns (records, re-indexed). Raises as :func:`open_index`."""
    db, _status = open_index(archive)
    try:
        known = dict(db.execute("SELECT record, manifest_sha256 FROM records").fetchall())
        differ = []
        for record_id, _info in _live_records(archive):
            try:
                data = (archive.records_dir / record_id / "manifest.json").read_bytes()
            except OSError:
                data = b""
            if known.pop(record_id, None) != hashlib.sha256(data).hexdigest():
                differ.append(record_id)
        differ.extend(known)
        if differ:
            with _transaction(db):
                for record_id in differ:
                    index_record(db, archive, record_id)
        total = db.execute("SELECT count(*) FROM records").fetchone()[0]
    finally:
        db.close()
    return int(total), len(differ)
