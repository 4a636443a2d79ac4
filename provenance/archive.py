"""The archive and record layout, content-addressed objects, staged commits and locks.

Layout (see README)::

    <archive>/provenance.toml          optional configuration (default key, roles policy)
    <archive>/keys/*.json              key cards (public halves only)
    <archive>/records/<id>/manifest.json
    <archive>/records/<id>/files/...   the current files, byte for byte
    <archive>/records/<id>/objects/sha256/<hex>
                                       every earlier file version and every state snapshot (OCFL-like,
                                       content-addressed: the name is the SHA-256 of the bytes)
    <archive>/.provenance/             locks and staging folders (never part of a record)

A change to a record is staged in a copy of its folder (hard links for unchanged files), flushed, and
swapped into place in one atomic step: a command killed at any instant leaves the record as it was
before or after, never half-written.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provenance import fsio
from provenance.errors import ConflictError, ErrorCode, InputError, NotFoundError, UsageError
from provenance.model.events import DEFAULT_POLICY, EventType, Role

CONFIG_NAME = "provenance.toml"
MANIFEST_NAME = "manifest.json"
FILES_DIR = "files"
OBJECTS_DIR = "objects/sha256"
WORK_DIR = ".provenance"
RECORD_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}\Z")
# The places of an archive where no symbolic link is ever followed: writers refuse to run when one holds a
# link (archive.path-unsafe), the verifier reports one (file.path-unsafe). Each name is the top of a tree
# searched whole, except records/ (only the record written is searched: an archive may hold many) and the
# work folder (two levels: its locks and staging folders). A new top-level folder is one more name here.
LINK_FREE = ("records", "keys", WORK_DIR, "log", CONFIG_NAME)

DEFAULT_CONFIG = """\
# provenance archive configuration.
# default_key = "ed25519:..."     # the key used when --key is not given

# Which roles may sign which events. Uncomment a line to change the default policy for this archive.
[roles]
# registration = ["archivist"]
# translation = ["archivist", "translator"]
# review = ["reviewer"]
# release = ["publisher"]
"""


def check_record_id(record_id: str) -> str:
    """Return ``record_id`` when well-formed; raises ``UsageError(record.id-invalid)``."""
    if not RECORD_ID_RE.match(record_id) or ".." in record_id:
        raise UsageError(
            ErrorCode.RECORD_ID_INVALID,
            f"record id {record_id!r} is not valid: use 1-64 of a-z 0-9 . _ - starting with a letter or digit",
        )
    return record_id


@dataclass
class ArchiveConfig:
    """The archive's configuration: default signing key and roles policy."""

    default_key: str | None = None
    policy: dict[EventType, frozenset[Role]] = field(default_factory=lambda: dict(DEFAULT_POLICY))


def load_config(path: Path) -> ArchiveConfig:
    """Read ``provenance.toml``; a missing file gives the defaults.

    Raises ``InputError(archive.config-invalid)`` naming the file and the entry at fault.
    """
    config = ArchiveConfig()
    if not path.is_file():
        return config
    import tomllib  # here: an archive without a configuration file never needs it

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(ErrorCode.ARCHIVE_CONFIG, f"{path}: not valid TOML: {exc}") from exc
    default_key = data.get("default_key")
    if default_key is not None and not isinstance(default_key, str):
        raise InputError(ErrorCode.ARCHIVE_CONFIG, f"{path}: default_key must be a string")
    config.default_key = default_key
    roles = data.get("roles", {})
    if not isinstance(roles, dict):
        raise InputError(ErrorCode.ARCHIVE_CONFIG, f"{path}: [roles] must be a table")
    for name, allowed in roles.items():
        try:
            event_type = EventType(name)
        except ValueError:
            known = ", ".join(e.value for e in EventType)
            raise InputError(
                ErrorCode.ARCHIVE_CONFIG,
                f"{path}: [roles] names unknown event type {name!r} (known: {known})",
            ) from None
        if not isinstance(allowed, list) or not all(isinstance(r, str) for r in allowed):
            raise InputError(ErrorCode.ARCHIVE_CONFIG, f"{path}: [roles].{name} must be a list of role names")
        try:
            config.policy[event_type] = frozenset(Role(r) for r in allowed)
        except ValueError as exc:
            known = ", ".join(r.value for r in Role)
            raise InputError(
                ErrorCode.ARCHIVE_CONFIG, f"{path}: [roles].{name}: {exc} (known: {known})"
            ) from None
    return config


@dataclass(frozen=True)
class Archive:
    """An archive folder holding ``records/`` and ``keys/``."""

    root: Path

    @property
    def records_dir(self) -> Path:
        return self.root / "records"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def work_dir(self) -> Path:
        return self.root / WORK_DIR

    @classmethod
    def locate(cls, path: Path | None = None) -> Archive:
        """The archive at ``path``, else ``$PROVENANCE_ARCHIVE``, else the current folder.

        Raises ``NotFoundError(archive.not-found)`` when that folder holds no ``records/``.
        """
        if path is None:
            env = os.environ.get("PROVENANCE_ARCHIVE")
            path = Path(env) if env else Path.cwd()
        root = path.expanduser()
        if not (root / "records").is_dir():
            raise NotFoundError(
                ErrorCode.ARCHIVE_NOT_FOUND,
                f"{root} is not a provenance archive (no records/ folder)",
                path=str(root),
            )
        return cls(root.resolve())

    @classmethod
    def init(cls, path: Path) -> tuple[Archive, bool]:
        """Create an archive at ``path`` (folders and a commented config). Returns (archive, created).

        An existing archive is left as it is. Raises ``StorageError`` when the folder cannot be written.
        """
        root = path.expanduser()
        if (root / "records").is_dir() or (root / "records").is_symlink():
            cls(root).refuse_links()  # an existing archive: nothing is written through a link in it
        created = not (root / "records").is_dir()
        try:
            (root / "records").mkdir(parents=True, exist_ok=True)
            (root / "keys").mkdir(exist_ok=True)
            if not (root / CONFIG_NAME).exists():
                fsio.write_atomic(root / CONFIG_NAME, DEFAULT_CONFIG.encode("utf-8"))
        except OSError as exc:
            raise fsio.storage_error("create the archive at", root, exc) from exc
        return cls(root.resolve()), created

    def config(self) -> ArchiveConfig:
        return load_config(self.config_path)

    def refuse_links(self, record_id: str | None = None) -> None:
        """Refuse to write when a symbolic link (or a device, FIFO, socket) lies anywhere a writer may go:
        the places of :data:`LINK_FREE` and, when given, the whole of the record ``record_id``.

        Nothing is followed (``lstat`` only), so nothing outside the archive is read or written. Run before
        anything is written. Raises ``InputError(archive.path-unsafe)`` naming the first such entry.
        """
        for name in LINK_FREE:
            depth = 0 if name == "records" else 2 if name == WORK_DIR else -1
            _refuse_links_below(self.root, name, depth)
        if record_id is not None:
            _refuse_links_below(self.root, f"records/{check_record_id(record_id)}", -1)

    def linked_records(self) -> list[str]:
        """Entries of records/ that are symbolic links (never followed; ``audit`` reports them)."""
        if not self.records_dir.is_dir() or self.records_dir.is_symlink():
            return []
        from provenance import limits

        with os.scandir(self.records_dir) as entries:
            return sorted(
                entry.name for entry in limits.RECORDS.take(entries, str(self.records_dir))
                if entry.is_symlink() and RECORD_ID_RE.match(entry.name)
            )

    def record_dir(self, record_id: str) -> Path:
        return self.records_dir / check_record_id(record_id)

    def has_record(self, record_id: str) -> bool:
        return (self.record_dir(record_id) / MANIFEST_NAME).is_file()

    def require_record(self, record_id: str) -> Path:
        """The record's folder; raises ``NotFoundError(record.not-found)`` listing what exists."""
        folder = self.record_dir(record_id)
        if not (folder / MANIFEST_NAME).is_file():
            known = self.record_ids()
            hint = f" (records here: {', '.join(known[:8])}{' …' if len(known) > 8 else ''})" if known else ""
            raise NotFoundError(
                ErrorCode.RECORD_NOT_FOUND, f"no record {record_id!r} in {self.root}{hint}", record=record_id
            )
        return folder

    def record_ids(self) -> list[str]:
        """Every record id of the archive, sorted.

        Raises ``InputError(archive.too-many-records)`` past :data:`provenance.limits.RECORDS` entries."""
        from provenance import limits

        if not self.records_dir.is_dir():
            return []
        with os.scandir(self.records_dir) as entries:
            bounded = list(limits.RECORDS.take(entries, str(self.records_dir)))
        return sorted(
            entry.name
            for entry in bounded
            if entry.is_dir(follow_symlinks=False)
            and RECORD_ID_RE.match(entry.name)
            and os.path.isfile(os.path.join(entry.path, MANIFEST_NAME))
        )

    def _lock_dir(self) -> Path:
        """The folder of the record locks, made if need be. Raises ``StorageError(io.write-failed)``."""
        lock_dir = self.work_dir / "locks"
        try:
            lock_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise fsio.storage_error("prepare a lock in", self.work_dir, exc) from exc
        return lock_dir

    @contextlib.contextmanager
    def locked(self, record_id: str) -> Iterator[None]:
        """Serialise writers of one record (an flock under ``.provenance/locks``).

        First refuses (``archive.path-unsafe``) when a link lies where a writer may go (:meth:`refuse_links`).
        """
        self.refuse_links(record_id)
        lock_dir = self._lock_dir()
        with fsio.exclusive_lock(lock_dir / f"{check_record_id(record_id)}.lock"):
            yield

    @contextlib.contextmanager
    def locked_records(self, record_ids: list[str]) -> Iterator[None]:
        """:meth:`locked` for many records at once (a group commit of ``ingest-batch``): the archive is
        searched for links once, then each record's lock is taken in sorted order (two batches never
        wait on each other in a cycle; a single writer holds one record lock and then the log lock)."""
        self.refuse_links()
        ids = sorted(set(record_ids))
        for record_id in ids:
            _refuse_links_below(self.root, f"records/{check_record_id(record_id)}", -1)
        lock_dir = self._lock_dir()
        with contextlib.ExitStack() as stack:
            for record_id in ids:
                stack.enter_context(fsio.exclusive_lock(lock_dir / f"{record_id}.lock"))
            yield

    def new_stage(self, record_id: str) -> Path:
        """A fresh, empty staging folder on the archive's file system.

        Called with the record's lock held, so any earlier staging folder of this record is a leftover of a
        command that was killed (never part of the record): it is removed first.
        """
        tmp = self.work_dir / "tmp"
        prefix = f"{record_id}-"
        try:
            if tmp.is_dir():
                for entry in os.scandir(tmp):
                    if _is_stage_of(entry.name, prefix):
                        shutil.rmtree(entry.path, ignore_errors=True)
            tmp.mkdir(parents=True, exist_ok=True)
            stage = tmp / f"{record_id}-{os.urandom(6).hex()}"
            stage.mkdir()
        except OSError as exc:
            raise fsio.storage_error("stage a change in", tmp, exc) from exc
        return stage


_HEX = frozenset("0123456789abcdef")


def _is_stage_of(name: str, prefix: str) -> bool:
    """Is ``name`` a staging folder ``<record id>-<12 hex digits>`` of the record whose ``prefix`` is
    ``<record id>-``? (No pattern compiled per record: a batch stages thousands.)"""
    rest = name[len(prefix) :]
    return name.startswith(prefix) and len(rest) == 12 and _HEX.issuperset(rest)


def _refuse_links_below(root: Path, rel: str, depth: int) -> None:
    """``root/rel`` and (to ``depth`` levels, -1 for all) everything below it: folders and regular files only.

    Raises ``InputError(archive.path-unsafe)``."""
    stack = [(rel, depth)]
    while stack:
        current, left = stack.pop()
        path = os.path.join(root, current)
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise fsio.storage_error("read", Path(path), exc) from exc
        if stat.S_ISDIR(mode):
            if left != 0:
                try:
                    names = os.listdir(path)
                except OSError as exc:
                    raise fsio.storage_error("read", Path(path), exc) from exc
                stack.extend((f"{current}/{name}", left - 1) for name in names)
            continue
        if not stat.S_ISREG(mode):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file or folder"
            raise InputError(
                ErrorCode.ARCHIVE_PATH_UNSAFE,
                f"{path} is {kind}; a writer never follows one in an archive: remove it (nothing was written)",
                path=path,
            )


def object_path(record_dir: Path, sha256_hex: str) -> Path:
    """Where the object with this SHA-256 lives in a record folder."""
    return record_dir / OBJECTS_DIR / sha256_hex


class StagedRecord:
    """A copy of a record folder being changed; :meth:`commit` swaps it into place atomically."""

    def __init__(self, archive: Archive, record_id: str, *, new: bool, flush_once: bool = False) -> None:
        self.archive = archive
        self.record_id = record_id
        self.new = new
        self._unflushed = False  # files copied in without an fsync of their own (add_file)
        # flush_once (ingest-batch): every write unflushed, then one syncfs at commit instead of an fsync
        # per file and per folder (about ten a record), or one syncfs for a whole group of stages before
        # each is placed (:meth:`place`); either is just as atomic. The new record's entry in records/ is
        # flushed by the next syncfs, and the batch flushes once at its end
        self.flush_once = flush_once
        self.target = archive.record_dir(record_id)
        self.path = archive.new_stage(record_id)
        if not new:
            try:
                self._link_tree(self.target, self.path)
            except BaseException:
                self.discard()
                raise

    @staticmethod
    def _link_tree(src: Path, dst: Path) -> None:
        """Hard-link every file of ``src`` into ``dst``.

        Raises ``InputError(record.corrupt)`` for a symbolic link, device, FIFO or socket in the record: a
        writer must not follow a planted link (and copy what it points to into the record) nor sign on top
        of a record that ``verify`` reports as ``file.path-unsafe``.
        """
        for dirpath, dirnames, filenames in os.walk(src):
            rel = os.path.relpath(dirpath, src)
            out = dst if rel == "." else dst / rel
            out.mkdir(parents=True, exist_ok=True)
            dirnames.sort()
            for name in [*dirnames, *filenames]:
                info = os.lstat(os.path.join(dirpath, name))
                if not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                    raise InputError(
                        ErrorCode.RECORD_CORRUPT,
                        f"{os.path.join(dirpath, name)} is a link or special file, not part of a record; "
                        "refusing to sign on top of it",
                    )
            for name in filenames:
                fsio.link_or_copy(Path(dirpath) / name, out / name)

    def write(self, rel: str, data: bytes) -> None:
        """Write a file of the staged record (replacing, never modifying, a linked one)."""
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write(path, data, 0o644)

    def _write(self, path: Path, data: bytes, mode: int) -> None:
        if self.new:  # a new record's stage holds no link to a record's file: its files are written directly
            try:
                fsio.write_new(path, data, mode=mode, sync=not self.flush_once)
            except FileExistsError:
                fsio.write_atomic(path, data, mode=mode, sync=not self.flush_once)
        else:
            fsio.write_atomic(path, data, mode=mode, sync=not self.flush_once)
        self._unflushed = self._unflushed or self.flush_once

    def add_file(self, rel: str, source: Path) -> tuple[int, str]:
        """Copy ``source`` into the staged record as the new file ``rel``, streaming; returns the size and
        SHA-256 of the bytes copied. Flushed by :meth:`commit`. Raises ``OSError`` (``FileExistsError``
        when ``rel`` is already taken, ELOOP/EINVAL for a link or special file at ``source``)."""
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        size, digests = fsio.copy_hashed(source, path)
        self._unflushed = True
        return size, digests["sha256"]

    def put_object(self, sha256_hex: str, data: bytes) -> None:
        """Store ``data`` under its digest unless it is already there."""
        path = object_path(self.path, sha256_hex)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write(path, data, 0o444)

    def move_to_objects(self, rel: str, sha256_hex: str) -> None:
        """Keep the current file ``rel`` as an object before it is replaced or removed."""
        src = self.path / rel
        dst = object_path(self.path, sha256_hex)
        if dst.exists():
            src.unlink()
            return
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)

    def commit(self) -> None:
        """Flush the staged folder, swap it into place (one atomic step) and remove the old copy.

        Raises ``ConflictError(record.exists)`` when a new record's id was taken meanwhile.
        """
        if self._unflushed:  # files added by add_file: one flush for all of them
            fsio.sync_filesystem(self.path)
        if not self.flush_once:  # syncfs flushed the folders too
            for dirpath, _dirnames, _filenames in os.walk(self.path):
                fsio.fsync_dir(Path(dirpath))
        self.place()

    def place(self) -> None:
        """Swap the staged folder into place (one atomic step) and remove the old copy, without flushing it
        first: :meth:`commit` flushes; a group commit (``flush_once`` stages) flushes all its stages with
        one :func:`fsio.sync_filesystem` and then places each. With ``flush_once`` the new entry in
        ``records/`` is left for the next flush (the next group's, and one at the end of the batch).

        Raises ``ConflictError(record.exists)`` when a new record's id was taken meanwhile.
        """
        if self.new:
            try:
                fsio.rename_noreplace(self.path, self.target, sync=not self.flush_once)
            except FileExistsError:
                raise ConflictError(
                    ErrorCode.RECORD_EXISTS,
                    f"record {self.record_id!r} already exists",
                    record=self.record_id,
                ) from None
            return
        fsio.exchange_dirs(self.path, self.target)
        shutil.rmtree(self.path, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    @contextlib.contextmanager
    def discarded_on_failure(self) -> Iterator[None]:
        """Discard the stage when the block fails: the record stays as it was. An ``OSError`` is raised as
        ``StorageError(io.write-failed)`` naming the record's folder, anything else as it is."""
        try:
            yield
        except OSError as exc:
            self.discard()
            raise fsio.storage_error("write record", self.target, exc) from exc
        except BaseException:
            self.discard()
            raise
