"""The archive's transparency log: which key signs it, logging a commit, backfilling, proofs for bundles.

An archive is *logged* when it holds ``log/checkpoint``. Its log key is the card in ``keys/`` with role
``log`` whose name is the checkpoint's origin. Every writer logs its event in the same commit as the
event (:func:`logged_commit`); lock order is always record lock, then the archive-wide log lock.

The log key's passphrase: ``$PROVENANCE_LOG_PASSPHRASE`` when set, else the passphrase the command was
given for its signing key (an archive run by one person gives both keys the same passphrase).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from provenance import fsio
from provenance.archive import MANIFEST_NAME, Archive
from provenance.errors import ErrorCode, InputError, KeyStoreError, UsageError
from provenance.fsio import storage_error
from provenance.model.events import Role
from provenance.tlog.checkpoint import leaf_data
from provenance.tlog.store import LogDamagedError, LogStore, Pending

if TYPE_CHECKING:
    from pathlib import Path

    from provenance.model.keycard import KeyCard
    from provenance.model.manifest import Manifest
    from provenance.signing import SigningKey
    from provenance.tlog.tiles import TileLog

LOG_DIR = "log"
LOG_PASSPHRASE_ENV = "PROVENANCE_LOG_PASSPHRASE"  # noqa: S105 - the variable's name
_ORIGIN_RE = re.compile(r"[^\s+]{1,255}")


def store(archive: Archive) -> LogStore:
    return LogStore(archive.root / LOG_DIR, archive.work_dir)


def is_logged(archive: Archive) -> bool:
    return store(archive).exists()


def default_origin(archive: Archive) -> str:
    """``provenance.local/<folder name>``: a schema-less name, no spaces or ``+``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", archive.root.name).strip("-") or "archive"
    return f"provenance.local/{slug}"


def check_origin(origin: str) -> str:
    if not _ORIGIN_RE.fullmatch(origin):
        raise UsageError(ErrorCode.USAGE, f"log origin {origin[:80]!r}: 1-255 characters, no spaces or '+'")
    return origin


def log_cards(archive: Archive) -> list[KeyCard]:
    from provenance.keys import TrustStore

    return [c for c in TrustStore.load(archive.keys_dir).cards.values() if Role.LOG in c.roles]


def log_card(archive: Archive, origin: str | None = None) -> KeyCard | None:
    """The archive's log key card: role ``log``, named as the log's origin, not revoked."""
    if origin is None:
        if not is_logged(archive):
            return None
        origin = _origin(archive)
    for card in log_cards(archive):
        if card.name == origin and card.revoked is None:
            return card
    return None


def pending_log_card(archive: Archive) -> KeyCard | None:
    """The log key of an archive not logged yet: the one unrevoked card with role ``log`` whose private
    key is on this machine (made by ``keys generate --role log``); the archive's next write starts the
    log with it, backfilling every event. A partner's log card (no private key here) is never one."""
    from provenance.keys import has_private_key

    cards = [c for c in log_cards(archive) if c.revoked is None and has_private_key(c.id)]
    return cards[0] if len(cards) == 1 else None


def _origin(archive: Archive) -> str:
    try:
        return store(archive).checkpoint().origin
    except LogDamagedError as exc:
        raise InputError(ErrorCode.LOG_DAMAGED, f"{exc}") from None


def unlock_log_key(archive: Archive, passphrase: bytes | None) -> SigningKey | None:
    """The unlocked log key of a logged archive (None when the archive is not logged).

    Raises ``KeyStoreError`` (log.key-missing, key.passphrase-wrong) when it cannot be had.
    """
    from provenance import keys

    if not is_logged(archive):
        card = pending_log_card(archive)
        if card is None:
            return None
    else:
        card = log_card(archive)
    if card is None:
        raise KeyStoreError(
            ErrorCode.LOG_KEY_MISSING,
            f"the archive is logged as {_origin(archive)!r} but keys/ holds no valid log key of that name",
        )
    env = os.environ.get(LOG_PASSPHRASE_ENV)
    secret = env.encode("utf-8") if env else passphrase
    if not secret:
        raise KeyStoreError(
            ErrorCode.KEY_PASSPHRASE_MISSING, f"the log key needs a passphrase: set {LOG_PASSPHRASE_ENV}"
        )
    try:
        return keys.unlock(card, secret)
    except KeyStoreError as exc:
        if exc.code is ErrorCode.KEY_PASSPHRASE_WRONG:
            raise KeyStoreError(
                ErrorCode.KEY_PASSPHRASE_WRONG,
                f"the passphrase does not unlock the log key ({card.name}); set {LOG_PASSPHRASE_ENV}",
            ) from None
        raise


def event_present(archive: Archive) -> Callable[[str, int, str], bool]:
    """A callback for :meth:`LogStore.recover`: does record ``rid`` hold event ``seq`` with ``digest``?"""
    from provenance.manifest_io import event_digest, read_manifest

    def present(rid: str, seq: int, digest: str) -> bool:
        folder = archive.record_dir(rid)
        if not (folder / MANIFEST_NAME).is_file():
            return False
        try:
            events = read_manifest(folder).events
        except Exception:  # a record that does not read holds no event we could log
            return False
        return len(events) >= seq and event_digest(events[seq - 1]) == digest

    return present


def event_leaves(manifest: Manifest, first_seq: int = 1) -> list[bytes]:
    from provenance.manifest_io import event_digest

    return [leaf_data(manifest.record, e.seq, event_digest(e)) for e in manifest.events[first_seq - 1 :]]


@contextlib.contextmanager
def logged_commit(archive: Archive, log_key: SigningKey | None, leaves: list[bytes]) -> Iterator[None]:
    """Run the record's commit (the ``with`` body) with its events logged in the same commit.

    Takes the log lock (the caller holds the record's lock). Not logged: the body just runs. Logged: the
    new checkpoint is signed before the body runs (``log.key-missing`` without the log key: nothing is
    written), journalled, and applied after it; should the body fail, the journal is resolved against the
    record as it stands.
    """
    with logged_group_commit(archive, log_key, [leaves]):
        yield


@contextlib.contextmanager
def logged_group_commit(archive: Archive, log_key: SigningKey | None, groups: list[list[bytes]]) -> Iterator[None]:
    """:func:`logged_commit` for many records committed together (``ingest-batch``): ``groups`` holds the
    new leaves of each record, in the order the body renames the records into place. The journal holds a
    checkpoint for each step, so that a body stopped part-way leaves the log showing exactly the records
    renamed by then (see :mod:`provenance.tlog.store`). The caller holds every record's lock.
    """
    log = store(archive)
    present = event_present(archive)
    with log.locked(present):
        origin = None
        if not log.exists():
            card = pending_log_card(archive) if log_key is not None else None
            if card is None or log_key is None or card.id != log_key.key_id:
                yield
                return
            # the archive's first write since its log key was made: backfill every event, then this one's
            origin = check_origin(card.name)
            backfill = all_events_in_order(archive)
            groups = [[*backfill, *groups[0]], *groups[1:]] if groups else [backfill]
        if log_key is None:
            raise KeyStoreError(
                ErrorCode.LOG_KEY_MISSING,
                "this archive is logged: its log key must sign every commit (unlock it with "
                f"{LOG_PASSPHRASE_ENV} or the signer's passphrase)",
            )
        try:
            pending = log.prepare_steps(groups, log_key, origin=origin)
        except LogDamagedError as exc:
            raise InputError(ErrorCode.LOG_DAMAGED, f"{exc}") from None
        if origin is None:
            _check_key_matches(archive, log_key, pending)
        try:
            log.write_journal(pending)
        except OSError as exc:
            raise storage_error("write the log journal", log.journal_path, exc) from exc
        try:
            yield
        except BaseException:
            log.recover(present)
            raise
        try:
            log.apply(pending)
        except OSError as exc:
            raise storage_error("write the log", log.log_dir, exc) from exc


def _check_key_matches(archive: Archive, key: SigningKey, pending: Pending) -> None:
    card = log_card(archive)
    if card is None or card.id != key.key_id:
        raise KeyStoreError(ErrorCode.LOG_KEY_MISSING, "the unlocked key is not this archive's log key")
    del pending


@dataclass(frozen=True)
class Backfill:
    origin: str
    size: int
    created: bool


def all_events_in_order(archive: Archive) -> list[bytes]:
    """Every event of every record, in the backfill order: by (time, record id, seq). Times within a record
    never decrease, so each record's events stay in chain order."""
    from provenance.manifest_io import event_digest, read_manifest

    rows: list[tuple[str, str, int, str]] = []
    for rid in archive.record_ids():
        manifest = read_manifest(archive.record_dir(rid))
        rows.extend((e.time, rid, e.seq, event_digest(e)) for e in manifest.events)
    rows.sort()
    return [leaf_data(rid, seq, digest) for _, rid, seq, digest in rows]


def init_log(archive: Archive, key: SigningKey, origin: str) -> Backfill:
    """Start the log of an archive: backfill every existing event (deterministic order), sign the first
    checkpoint. An archive already logged is left as it is. Raises ``StorageError``."""
    log = store(archive)
    with log.locked(event_present(archive)):
        if log.exists():
            current = log.checkpoint()
            return Backfill(current.origin, current.size, False)
        leaves = all_events_in_order(archive)
        pending = log.prepare(leaves, key, origin=check_origin(origin))
        try:
            log.apply(pending, keep_journal=False)
            fsio.sync_filesystem(log.log_dir)  # a backfill has no journal: flush it all once
        except OSError as exc:
            raise storage_error("write the log", log.log_dir, exc) from exc
        return Backfill(origin, len(leaves), True)


def generate_log_key(
    archive: Archive, origin: str, passphrase: bytes, now: datetime, *, rounds: int | None = None
) -> KeyCard:
    """The archive's log key: role ``log``, named as the origin (its card carries ``note_verifier_key``)."""
    from provenance import keys

    check_origin(origin)
    existing = log_card(archive, origin)
    if existing is not None and keys.has_private_key(existing.id):
        return existing
    return keys.generate_key(archive, name=origin, roles=[Role.LOG], passphrase=passphrase, now=now, rounds=rounds)


def leaf_index(archive: Archive, size: int) -> dict[tuple[str, int], int]:
    """(record, seq) → leaf index over the first ``size`` leaves. Raises ``InputError(log.damaged)``."""
    from provenance.tlog.checkpoint import parse_leaf

    try:
        leaves = store(archive).tree(size).leaves(0, size)
    except (OSError, ValueError) as exc:
        raise InputError(ErrorCode.LOG_DAMAGED, f"the log's tiles do not read: {exc}") from None
    out: dict[tuple[str, int], int] = {}
    for i, leaf in enumerate(leaves):
        parsed = parse_leaf(leaf)
        if parsed is not None:
            out[(parsed[0], parsed[1])] = i
    return out


@contextlib.contextmanager
def reading(archive: Archive) -> Iterator[None]:
    """The log lock for a reader (finishing what a killed writer journalled); a read-only archive, whose
    lock cannot be taken, is read without it."""
    from provenance.errors import StorageError

    log = store(archive)
    with contextlib.ExitStack() as stack:
        with contextlib.suppress(StorageError):
            stack.enter_context(log.locked(event_present(archive)))
        yield


LOG_TAG = "provenance/log"
TIMESTAMPS_DIR = "timestamps"


def _add_earlier(
    files: dict[str, bytes], copies: dict[str, Path], tree: TileLog, kept: int, size: int, what: str
) -> None:
    """Add to ``files`` what the log kept of its checkpoint of size ``kept`` (``copies``: bundle name → file),
    and the consistency proof from ``kept`` to ``size`` under the first name + ``.proof`` (RFC 9162 §2.1.4).
    Raises ``InputError(log.damaged)`` naming ``what`` it was."""
    from provenance.tlog import merkle
    from provenance.tlog.note import b64encode

    try:
        for name, path in copies.items():
            files[name] = path.read_bytes()
        proof = merkle.consistency_proof(tree, kept, size)
    except (OSError, ValueError) as exc:
        raise InputError(ErrorCode.LOG_DAMAGED, f"the log's {what} {kept}: {exc}") from None
    files[f"{next(iter(copies))}.proof"] = "".join(b64encode(h) + "\n" for h in proof).encode("ascii")


def bundle_files(archive: Archive, manifest: Manifest, *, tiles: bool = False) -> dict[str, bytes]:
    """The tag files that carry a logged record's proofs in a bundle: ``provenance/log/checkpoint`` and,
    per event, ``provenance/log/<seq>.tlog-proof`` (all against that checkpoint); with ``tiles``, the tiles
    of that tree too (``provenance/log/tile/…``), from which a verifier computes consistency proofs.

    Empty for an archive that is not logged. The caller holds the record's lock; the log lock is taken
    here. Raises ``InputError(log.damaged)`` when an event of the record is not in the log.
    """
    from provenance.manifest_io import event_digest
    from provenance.tlog import merkle
    from provenance.tlog.checkpoint import TlogProof
    from provenance.tlog.tiles import TILE_HEIGHT, TILE_WIDTH, tile_path

    log = store(archive)
    files: dict[str, bytes] = {}
    with reading(archive):
        if not log.exists():
            return files
        text = log.checkpoint_text()
        size = _checkpoint_size(log)
        index = leaf_index(archive, size)
        tree = log.tree(size)
        for event in manifest.events:
            at = index.get((manifest.record, event.seq))
            wanted = leaf_data(manifest.record, event.seq, event_digest(event))
            if at is None or tree.leaves(at, at + 1) != [wanted]:
                raise InputError(
                    ErrorCode.LOG_DAMAGED,
                    f"event {event.seq} of {manifest.record} is not in the archive's log",
                )
            try:
                path = merkle.inclusion_proof(tree, at, size)
            except (OSError, ValueError) as exc:
                raise InputError(ErrorCode.LOG_DAMAGED, f"the log's tiles do not read: {exc}") from None
            files[f"{LOG_TAG}/{event.seq}.tlog-proof"] = TlogProof(at, tuple(path), text).encode().encode("utf-8")
        files[f"{LOG_TAG}/checkpoint"] = text.encode("utf-8")
        for kept in log.cosigned_sizes():
            if 0 < kept <= size:  # earlier cosigned checkpoints, each with its consistency proof to this one
                copies = {f"{LOG_TAG}/cosigned/{kept}": log.cosigned_path(kept)}
                _add_earlier(files, copies, tree, kept, size, "cosigned checkpoint")
        stamps = log.log_dir / TIMESTAMPS_DIR
        for kept in sorted(int(p.stem) for p in stamps.glob("*.tsr") if p.stem.isascii() and p.stem.isdigit()):
            if 0 < kept <= size:  # RFC 3161 tokens of earlier checkpoints, each with its consistency proof
                name = f"{LOG_TAG}/{TIMESTAMPS_DIR}/{kept}"
                copies = {name: stamps / str(kept), f"{name}.tsr": stamps / f"{kept}.tsr"}
                _add_earlier(files, copies, tree, kept, size, "timestamp")
        if tiles:
            level = 0
            while (count := size >> (TILE_HEIGHT * level)) > 0:
                for n in range((count + TILE_WIDTH - 1) // TILE_WIDTH):
                    rel = tile_path(level, n, min(TILE_WIDTH, count - n * TILE_WIDTH))
                    files[f"{LOG_TAG}/{rel}"] = log.read_file(rel)
                level += 1
    return files


def _checkpoint_size(log: LogStore) -> int:
    try:
        return log.checkpoint().size
    except LogDamagedError as exc:
        raise InputError(ErrorCode.LOG_DAMAGED, f"{exc}") from None
