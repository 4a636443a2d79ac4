"""The archive's log on disk: ``log/checkpoint`` and the tiles under ``log/tile/``, and its journal.

Appending is a small two-phase commit with the record it logs:

1. :meth:`LogStore.prepare` computes the new tiles and signs the new checkpoint (nothing written);
2. :meth:`LogStore.write_journal` stores the new leaves and the signed checkpoint, flushed (the one
   fsync the log adds to a commit), under the archive's work folder; then the caller commits the record
   (its atomic swap, flushed);
3. :meth:`LogStore.apply` writes the new tiles, then the checkpoint (the log's own commit point:
   readers take the size from it, and tiles beyond it are ignored), each by rename, without a flush of
   their own: the journal stays until the next append replaces it, so what a power loss takes back is
   written again from it.

A command killed (or a machine stopped) after 2 leaves a journal: whoever takes the log lock next calls
:meth:`LogStore.recover`, which rolls the log forward when the record holds the journalled events and the
log does not yet show them (or its tiles do not read), and drops the journal when the record does not
hold them. Log and records thus always end up agreeing, event for leaf.

A group commit (``ingest-batch``: many records flushed together, then renamed into place one by one)
journals one *step* per record (:meth:`LogStore.prepare_steps`): the leaves of each and a checkpoint signed
for the log as it stands after that step. A commit killed part-way through its renames leaves a first run
of the group's records in place; recovery rolls the log forward to the last step whose records are all
there (the renames are made in step order), so the log never shows an event its record lacks.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provenance import fsio
from provenance.tlog import note
from provenance.tlog.checkpoint import Checkpoint, parse_body, parse_leaf
from provenance.tlog.tiles import TileLog

if TYPE_CHECKING:
    from provenance.signing import SigningKey

CHECKPOINT_NAME = "checkpoint"
COSIGNED_DIR = "cosigned"
JOURNAL_NAME = "log-journal.json"
LOCK_NAME = "_log.lock"  # record ids start with a letter or digit: no record lock can take this name
MAX_TILE_BYTES = 256 * 32 + 256 * (2 + 0xFFFF)


class LogDamagedError(ValueError):
    """The stored log does not read (missing tile, bad checkpoint): ``audit`` reports it."""


@dataclass(frozen=True)
class Pending:
    """A prepared append: the new tiles, leaves and signed checkpoint, not yet written."""

    old_size: int
    leaves: tuple[bytes, ...]
    files: dict[str, bytes]
    checkpoint: str  # the signed note
    # a group commit's steps: (leaves of the pending append up to the end of the step, the checkpoint signed
    # for the log as it stands then); the last step is the whole append. Empty: one step
    steps: tuple[tuple[int, str], ...] = ()


class LogStore:
    """``log/`` of one archive; ``work_dir`` holds its lock and journal."""

    def __init__(self, log_dir: Path, work_dir: Path) -> None:
        self.log_dir = log_dir
        self.work_dir = work_dir

    @property
    def checkpoint_path(self) -> Path:
        return self.log_dir / CHECKPOINT_NAME

    @property
    def journal_path(self) -> Path:
        return self.work_dir / JOURNAL_NAME

    def cosigned_path(self, size: int) -> Path:
        """``log/cosigned/<size>``: a checkpoint as witnesses cosigned it (kept when the log moves on)."""
        return self.log_dir / COSIGNED_DIR / str(size)

    def cosigned_sizes(self) -> list[int]:
        folder = self.log_dir / COSIGNED_DIR
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.name.isascii() and p.name.isdigit())

    def exists(self) -> bool:
        return self.checkpoint_path.is_file()

    @contextlib.contextmanager
    def locked(self, event_present: Callable[[str, int, str], bool] | None = None) -> Iterator[None]:
        """Hold the archive-wide log lock (taken after any record lock, never before one), then finish a
        journalled append left by a killed command (``event_present`` answers whether a record holds it)."""
        with fsio.exclusive_lock(self.work_dir / "locks" / LOCK_NAME, what="archive's log"):
            if event_present is not None:
                self.recover(event_present)
            yield

    # -- reading -----------------------------------------------------------------------------------------

    def read_file(self, rel: str) -> bytes:
        return fsio.read_limited(self.log_dir / rel, MAX_TILE_BYTES)

    def checkpoint_text(self) -> str:
        """The stored signed checkpoint; ``LogDamagedError`` when unreadable."""
        try:
            return fsio.read_limited(self.checkpoint_path, note.MAX_NOTE_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LogDamagedError(f"cannot read {self.checkpoint_path}: {exc}") from None

    def checkpoint(self) -> Checkpoint:
        """The stored checkpoint's body (signatures not checked here: the verifier checks them)."""
        try:
            return parse_body(note.parse(self.checkpoint_text()).text)
        except note.NoteError as exc:
            raise LogDamagedError(f"{self.checkpoint_path}: {exc}") from None

    def tree(self, size: int | None = None) -> TileLog:
        return TileLog(self.checkpoint().size if size is None else size, self.read_file)

    # -- appending ---------------------------------------------------------------------------------------

    def prepare(self, leaves: list[bytes], key: SigningKey, *, origin: str | None = None) -> Pending:
        """New tiles and a new checkpoint signed by ``key`` under the log's origin (``origin`` for a new log).

        Raises ``LogDamagedError`` when the stored log does not read.
        """
        return self.prepare_steps([leaves], key, origin=origin)

    def prepare_steps(self, groups: list[list[bytes]], key: SigningKey, *, origin: str | None = None) -> Pending:
        """:meth:`prepare` for the leaves of ``groups`` appended one group after the other: besides the whole
        append, a checkpoint signed for the log as it stands after each group (the steps a recovery rolls
        forward to when a group commit was killed part-way). Raises ``LogDamagedError``.
        """
        groups = [group for group in groups if group]
        leaves = [leaf for group in groups for leaf in group]
        if self.exists():
            current = self.checkpoint()
            origin = current.origin
            old = current.size
        else:
            if origin is None:
                raise LogDamagedError("the archive has no log")
            old = 0
        tree = self.tree(old)
        try:
            files = tree.append(leaves)
            new_tree = TileLog(old + len(leaves), _reader(files, self.read_file))
            root = new_tree.root()
        except (OSError, ValueError) as exc:
            raise LogDamagedError(f"the log's tiles do not read: {exc}") from None
        signed = _signed_checkpoint(Checkpoint(origin, old + len(leaves), root), key)
        if len(groups) < 2:
            return Pending(old, tuple(leaves), files, signed)
        steps: list[tuple[int, str]] = []
        done: dict[str, bytes] = {}  # the tiles of the steps so far (only to compute their roots)
        count = 0
        try:
            for group in groups[:-1]:
                done.update(TileLog(old + count, _reader(done, self.read_file)).append(group))
                count += len(group)
                step_root = TileLog(old + count, _reader(done, self.read_file)).root()
                steps.append((count, _signed_checkpoint(Checkpoint(origin, old + count, step_root), key)))
        except (OSError, ValueError) as exc:
            raise LogDamagedError(f"the log's tiles do not read: {exc}") from None
        steps.append((len(leaves), signed))
        return Pending(old, tuple(leaves), files, signed, tuple(steps))

    def write_journal(self, pending: Pending) -> None:
        """Flush the pending append's leaves and checkpoint (the roll-forward record). Raises ``OSError``.

        Written in place and fsynced: a journal torn by a crash does not parse and is dropped, which is
        right, since the record is only committed after this returns.
        """
        doc: dict[str, object] = {
            "old_size": pending.old_size,
            "leaves": [leaf.decode("utf-8") for leaf in pending.leaves],
            "checkpoint": pending.checkpoint,
        }
        if pending.steps:
            doc["steps"] = [[count, signed] for count, signed in pending.steps]
        self.work_dir.mkdir(parents=True, exist_ok=True)
        new = not self.journal_path.exists()
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, json.dumps(doc).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            fsio.fsync_dir(self.work_dir)

    def apply(self, pending: Pending, *, keep_journal: bool = True) -> None:
        """Write the tiles, then the checkpoint, each by rename (no flush: see the module's note).
        Raises ``OSError``."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for rel, data in sorted(pending.files.items()):
            path = self.log_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            fsio.write_atomic(path, data, sync=False)
        fsio.write_atomic(self.checkpoint_path, pending.checkpoint.encode("utf-8"), sync=False)
        if not keep_journal:
            self.journal_path.unlink(missing_ok=True)

    def recover(self, event_present: Callable[[str, int, str], bool]) -> str | None:
        """Finish or drop a journalled append; returns "rolled-forward", "dropped", "done" (the log shows
        it already) or None (no journal)."""
        try:
            doc = json.loads(self.journal_path.read_bytes())
            leaves = [str(x).encode("utf-8") for x in doc["leaves"]]
            old_size = int(doc["old_size"])
            steps = _journal_steps(doc, len(leaves))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            self.journal_path.unlink(missing_ok=True)  # torn: its record was never swapped in
            return "dropped"
        if not self.exists():
            self.journal_path.unlink(missing_ok=True)
            return "dropped"
        parsed = [parse_leaf(leaf) for leaf in leaves]
        # the last step whose records all hold their events (a group commit renames them in step order)
        reached, signed, start = 0, "", 0
        for count, step_signed in steps:
            if not all(p is not None and event_present(*p) for p in parsed[start:count]):
                break
            reached, signed, start = count, step_signed, count
        if reached == 0:
            self.journal_path.unlink(missing_ok=True)
            return "dropped"
        leaves = leaves[:reached]
        try:
            target = parse_body(note.parse(signed).text)
        except (note.NoteError, ValueError):
            self.journal_path.unlink(missing_ok=True)
            return "dropped"
        try:
            current = self.checkpoint() if self.exists() else None
        except LogDamagedError:
            current = None  # a checkpoint lost to a power cut: written again below
        if current is not None and current.size > target.size:
            return "done"  # a later append already went through
        if current is not None and current.size == target.size and current.root == target.root:
            try:
                if self.tree(target.size).root() == target.root:
                    return "done"
            except (OSError, ValueError):
                pass  # tiles lost to a power cut: written again below
        if current is not None and current.size not in (old_size, target.size):
            self.journal_path.unlink(missing_ok=True)
            return "dropped"
        files = self.tree(old_size).append(leaves)
        self.apply(Pending(old_size, tuple(leaves), files, signed))
        return "rolled-forward"


def _signed_checkpoint(checkpoint: Checkpoint, key: SigningKey) -> str:
    body = checkpoint.body()
    return note.Note(body, (note.sign(body, checkpoint.origin, key),)).encode()


def _journal_steps(doc: dict[str, object], leaves: int) -> list[tuple[int, str]]:
    """The journal's steps (one, the whole append, in a journal of one commit); ``ValueError`` when they do
    not cut its leaves in order."""
    raw = doc.get("steps")
    if raw is None:
        return [(leaves, str(doc["checkpoint"]))]
    if not isinstance(raw, list):
        raise ValueError("steps is not a list")
    steps = [(int(count), str(signed)) for count, signed in raw]
    counts = [count for count, _ in steps]
    if not steps or counts != sorted(set(counts)) or counts[0] < 1 or counts[-1] != leaves:
        raise ValueError("the steps do not cut the leaves in order")
    return steps


def _reader(files: dict[str, bytes], fallback: Callable[[str], bytes]) -> Callable[[str], bytes]:
    def read(path: str) -> bytes:
        return files[path] if path in files else fallback(path)

    return read
