"""What a keeper of keys does, as one call each: make a key (a rotation included), list, import and export
key cards, make a key the archive's default.

These compose :mod:`provenance.keys` (cards, the private key store, the trust store) with the checks that
must come before a passphrase is asked for. Messages name no command-line option.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.errors import ErrorCode, InputError, KeyStoreError, NotFoundError, UsageError

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.model.events import Role
    from provenance.model.keycard import KeyCard
    from provenance.signers import Passphrase


def create_key(
    archive: Archive,
    *,
    name: str,
    roles: list[Role | str],
    passphrase: Passphrase,
    now: datetime | None = None,
    valid_until: datetime | str | None = None,
    supersedes: str | None = None,
    kdf_rounds: int | None = None,
    allow_new_roles: bool = False,
    make_default: bool = False,
    home: Path | None = None,
) -> KeyCard:
    """Make an Ed25519 key pair for ``name``: the private key encrypted under ``$PROVENANCE_HOME`` (or
    ``home``), the card in the archive's ``keys/``; returns the card.

    ``supersedes`` (key id, shortened id or name) makes it a rotation: the old key, which must still be
    valid, is unlocked with ``passphrase`` (asked for "superseded key of …") and signs the statement the new
    card carries. Everything that needs no passphrase is checked first: the roles, the name (refused when
    it is taken or looks like a trusted one: key.name-confusable), the widening of a rotation
    (key.rotation-widens unless ``allow_new_roles``). The new key's passphrase is read with confirmation.
    Raises ``UsageError``, ``KeyStoreError``, ``ConflictError``, ``PolicyError``, ``StorageError``.
    """
    from provenance import keys
    from provenance.history import check_key_usable
    from provenance.model.choices import parse_role
    from provenance.model.timefmt import utc_now_or

    moment = utc_now_or(now)
    wanted = [parse_role(r) if isinstance(r, str) else r for r in roles]
    if not wanted:
        raise UsageError(ErrorCode.USAGE, "a key needs at least one role", param="roles")
    if kdf_rounds is not None and kdf_rounds < 1:
        raise UsageError(ErrorCode.USAGE, "the bcrypt rounds must be at least 1", param="kdf_rounds")
    until = keys.parse_when(valid_until) if isinstance(valid_until, str) else valid_until
    old_card = None
    if supersedes:
        old_card = keys.TrustStore.load(archive.keys_dir).resolve(supersedes)
        check_key_usable(old_card, moment)  # a revoked or expired key cannot hand over its roles
        added = sorted({r.value for r in wanted} - {r.value for r in old_card.roles})
        if added and not allow_new_roles:
            raise KeyStoreError(
                ErrorCode.KEY_ROTATION_WIDENS,
                f"the new key would hold role(s) {', '.join(added)} that {old_card.name} lacks; "
                "allow new roles if that is meant",
                roles_added=added,
            )
    keys.check_new_name(archive, name, supersedes=old_card.id if old_card else None)  # before any passphrase
    old_key = None
    if old_card is not None:
        keys.check_private_key(old_card, home)
        old_key = keys.unlock(old_card, passphrase.read(f"superseded key of {old_card.name}"), home)
    secret = passphrase.read("new key", confirm=True)
    card = keys.generate_key(
        archive,
        name=name,
        roles=wanted,
        passphrase=secret,
        now=moment,
        rounds=kdf_rounds,
        valid_until=until,
        supersedes=old_card.id if old_card else None,
        old_key=old_key,
        allow_new_roles=allow_new_roles,
        home=home,
    )
    if make_default:
        set_default_key(archive, card.id)
    return card


def set_default_key(archive: Archive, key_id: str) -> None:
    """Make ``key_id`` the archive's ``default_key`` in ``provenance.toml`` (the file rewritten atomically,
    everything else in it kept). Raises ``StorageError`` (not readable or not writable),
    ``InputError(archive.config-invalid)`` (not UTF-8)."""
    from provenance import fsio

    path = archive.config_path
    try:
        text = path.read_text("utf-8") if path.exists() else ""
    except UnicodeDecodeError as exc:
        raise InputError(ErrorCode.ARCHIVE_CONFIG, f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise fsio.storage_error("read", path, exc) from exc
    line = f'default_key = "{key_id}"'
    if re.search(r"(?m)^#?\s*default_key\s*=.*$", text):
        text = re.sub(r"(?m)^#?\s*default_key\s*=.*$", line, text, count=1)
    else:
        text = line + "\n" + text
    try:
        fsio.write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise fsio.storage_error("update", path, exc) from exc


@dataclass
class KeyListing:
    """The archive's key cards as ``keys list`` shows them: one row per card, the files refused, and the
    pairs of names a reader could take for each other (UTS #39)."""

    rows: list[dict[str, Any]]
    rejected: list[tuple[str, str]]
    confusable: list[tuple[KeyCard, KeyCard]]

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": self.rows,
            "rejected": [{"file": f, "reason": r} for f, r in self.rejected],
            "confusable": [[a.id, b.id] for a, b in self.confusable],
        }


def list_keys(archive: Archive, *, now: datetime | None = None, home: Path | None = None) -> KeyListing:
    """The archive's key cards, sorted by name: id, name, roles, validity, status at ``now``, and whether
    this machine holds the private key."""
    from provenance import keys
    from provenance.model.timefmt import utc_now_or

    store = keys.TrustStore.load(archive.keys_dir)
    moment = utc_now_or(now)
    rows = [
        {
            "id": card.id,
            "name": card.name,
            "roles": [r.value for r in card.roles],
            "valid_from": card.valid_from,
            "valid_until": card.valid_until,
            "status": keys.card_status(card, moment),
            "revoked": card.revoked.model_dump() if card.revoked else None,
            "supersedes": card.supersedes,
            "private_key_here": keys.has_private_key(card.id, home),
            "file": store.sources[card.id],
        }
        for card in sorted(store.cards.values(), key=lambda c: (c.name, c.valid_from))
    ]
    return KeyListing(rows=rows, rejected=list(store.rejected), confusable=keys.confusable_pairs(store))


@dataclass
class ImportResult:
    """What :func:`import_key_cards` did: each card with whether it was added (else already present), the
    roles a proven rotation added (by key id), and the folder entries skipped (not regular files)."""

    cards: list[tuple[KeyCard, bool]]
    roles_added: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[Path] = field(default_factory=list)


def import_key_cards(archive: Archive, paths: list[Path], *, allow_new_roles: bool = False) -> ImportResult:
    """Add key cards (files, or folders of ``*.json``) to the archive's trust store. Every card is checked
    before any is written: one refused card imports none. A FIFO, link or device in a folder is skipped,
    never waited on. Raises ``NotFoundError(input.not-found)`` for a folder without cards, and as
    :func:`provenance.keys.import_cards`."""
    from provenance import keys

    files: list[Path] = []
    listed: set[Path] = set()
    skipped: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        found = sorted(path.glob("*.json"))
        if not found:
            raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{path}: no key cards (*.json) in this folder")
        for entry in found:
            if not stat.S_ISREG(entry.lstat().st_mode):
                skipped.append(entry)
                continue
            files.append(entry)
            listed.add(entry)
    added: dict[str, list[str]] = {}
    cards = keys.import_cards(
        archive, files, allow_new_roles=allow_new_roles, roles_added=added, listed=frozenset(listed)
    )
    return ImportResult(cards=cards, roles_added=added, skipped=skipped)


def key_card_bytes(archive: Archive, ref: str) -> bytes:
    """The card of key ``ref`` (id, shortened id or name) as it is handed out: canonical, escaped JSON."""
    from provenance import keys

    return keys.card_bytes(keys.TrustStore.load(archive.keys_dir).resolve(ref))


def export_key_card(archive: Archive, ref: str, out: Path) -> Path:
    """Write the card of key ``ref`` to the file ``out`` (atomically). Raises ``StorageError``."""
    from provenance import fsio

    data = key_card_bytes(archive, ref)
    try:
        fsio.write_atomic(out, data)
    except OSError as exc:
        raise fsio.storage_error("write", out, exc) from exc
    return out


def export_key_cards(archive: Archive, folder: Path) -> list[Path]:
    """Write every key card of the archive into ``folder`` (made if missing), one file each, for a publisher
    to import at once. Returns the files written. Raises ``StorageError``."""
    from provenance import fsio, keys

    store = keys.TrustStore.load(archive.keys_dir)
    written: list[Path] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for card in store.cards.values():
            path = folder / keys.card_filename(card)
            fsio.write_atomic(path, keys.card_bytes(card))
            written.append(path)
    except OSError as exc:
        raise fsio.storage_error("write key cards into", folder, exc) from exc
    return written
