"""Key cards, the encrypted private-key store, the trust store, and choosing a signing key.

Private keys live under ``$PROVENANCE_HOME/keys`` (default: the user's data folder), one OpenSSH
private-key file per key, encrypted with the passphrase through bcrypt (``DEFAULT_KDF_ROUNDS``), mode
0600: they never enter an archive. Key cards, the public halves, live in an archive's ``keys/``.
"""

from __future__ import annotations

import base64
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from provenance import fsio
from provenance.canonical import StrictJSONError, dumps_pretty, loads_strict
from provenance.errors import (
    ConflictError,
    ErrorCode,
    KeyStoreError,
    NotFoundError,
    UsageError,
    validation_detail,
)
from provenance.model.events import Role
from provenance.model.keycard import KeyCard, Revocation
from provenance.model.timefmt import format_utc, parse_utc

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.signing import SigningKey

PRIVATE_SUFFIX = ".key"
MAX_CARD_BYTES = 1 << 20


def provenance_home() -> Path:
    """``$PROVENANCE_HOME``, else the user's data folder for provenance."""
    env = os.environ.get("PROVENANCE_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("provenance", appauthor=False))


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5), as keys and signatures are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url`; raises ``ValueError`` for anything else, a non-canonical spelling
    included (stray bits in the last character, or a length no encoding has): one value, one text."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url(data) != text:
        raise ValueError("not canonical base64url (stray bits in the last character)")
    return data


def card_public_key(card: KeyCard) -> bytes:
    """The raw 32-byte public key of a card."""
    return b64url_decode(card.public_key)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:32] or "key"


def card_filename(card: KeyCard) -> str:
    """``<name-slug>-<first 12 hex of the id>.json``: readable, and unique enough (the id is checked)."""
    return f"{_slug(card.name)}-{card.id.split(':', 1)[1][:12]}.json"


# Cards already parsed and checked in this process, by their exact bytes (a card is immutable, and the
# same bytes always give the same card): a verifier of many bundles meets the same signers' cards in each.
_PARSED_CARDS: dict[bytes, KeyCard] = {}


def parse_card(data: bytes, *, source: str) -> KeyCard:
    """Parse and check a key card: strict JSON, schema, id = SHA-256 of the key, key not weak.

    Raises ``KeyStoreError`` (key.malformed or key.weak) naming ``source`` and the problem.
    """
    data = bytes(data)
    cached = _PARSED_CARDS.get(data)
    if cached is not None:
        return cached
    card = _parse_card(data, source=source)
    if len(_PARSED_CARDS) < 1024:
        _PARSED_CARDS[data] = card
    return card


def _parse_card(data: bytes, *, source: str) -> KeyCard:
    from provenance import signing

    try:
        raw = loads_strict(data, max_bytes=MAX_CARD_BYTES)
        card = KeyCard.model_validate(raw)
    except StrictJSONError as exc:
        raise KeyStoreError(ErrorCode.KEY_MALFORMED, f"{source}: not a key card: {exc}") from exc
    except ValidationError as exc:
        where, msg = validation_detail(exc)
        raise KeyStoreError(ErrorCode.KEY_MALFORMED, f"{source}: key card field {where}: {msg}") from exc
    public = card_public_key(card)
    signing.check_public_key(public)
    if signing.key_id(public) != card.id:
        raise KeyStoreError(
            ErrorCode.KEY_MALFORMED,
            f"{source}: key card id {card.id} is not the SHA-256 of its public key ({signing.key_id(public)})",
        )
    _check_note_verifier_key(card, public, source=source)
    return card


def note_key_type(roles: Iterable[Role]) -> int | None:
    """The signed-note key type a card with ``roles`` carries: 0x01 for a log key, 0x04 for a witness."""
    from provenance.tlog.note import TYPE_COSIGNATURE, TYPE_ED25519

    wanted = set(roles)
    if Role.LOG in wanted:
        return TYPE_ED25519
    if Role.WITNESS in wanted:
        return TYPE_COSIGNATURE
    return None


def _check_note_verifier_key(card: KeyCard, public: bytes, *, source: str) -> None:
    """A card's C2SP verifier key, where it has one, is made of its own name, public key and role (0x01 for
    ``log``, else 0x04 for ``witness``)."""
    from provenance.tlog.note import NoteError, parse_verifier_key

    if card.note_verifier_key is None:
        return  # not usable as a log or witness key (the log's checks look for this field), nothing more
    key_type = note_key_type(card.roles)
    try:
        verifier = parse_verifier_key(card.note_verifier_key)
    except NoteError as exc:
        raise KeyStoreError(ErrorCode.KEY_MALFORMED, f"{source}: note_verifier_key: {exc}") from None
    if key_type is None or verifier.key_type != key_type or verifier.public_key != public or verifier.name != card.name:
        raise KeyStoreError(
            ErrorCode.KEY_MALFORMED,
            f"{source}: note_verifier_key does not match the card's role, name and public key",
        )


@dataclass
class TrustStore:
    """Key cards a verifier trusts: its own, never the ones that travel in a bundle."""

    cards: dict[str, KeyCard] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    location: str = ""
    links: list[str] = field(default_factory=list)  # symbolic links met in the folder, never followed

    @classmethod
    def load(cls, folder: Path, *, follow_folder: bool = True) -> TrustStore:
        """Every valid ``*.json`` card under ``folder`` (a card file may also be given directly).

        Cards that fail to parse are kept in ``rejected`` (a verifier reports them), never trusted; a card
        that is a symbolic link (or, unless ``follow_folder``, the folder itself) is never followed. Raises
        ``InputError(keys.too-many)`` past :data:`provenance.limits.KEYS` cards (none is parsed then).
        """
        store = cls(location=str(folder))
        paths: Iterable[Path]
        if not follow_folder and folder.is_symlink():  # an archive's keys/ as a link: not followed
            store.links.append(str(folder))
            store.rejected.append((str(folder), f"{folder}: a symbolic link, not followed"))
            paths = []
        elif folder.is_file():
            paths = [folder]
        elif folder.is_dir():
            from provenance import limits

            paths = sorted(limits.KEYS.take(folder.glob("*.json"), str(folder)))
        else:
            paths = []
        for path in paths:
            if path != folder and path.is_symlink():  # a link is never followed (the folder named may be one)
                store.links.append(str(path))
                store.rejected.append((str(path), f"{path}: a symbolic link, not followed"))
                continue
            try:
                # Bounded, regular files only: a FIFO or a link to /dev/zero in keys/ must not hang us.
                card = parse_card(fsio.read_limited(path, MAX_CARD_BYTES, follow=False), source=str(path))
            except KeyStoreError as exc:
                store.rejected.append((str(path), str(exc)))
                continue
            except OSError as exc:
                store.rejected.append((str(path), f"{path}: cannot read: {exc.strerror}"))
                continue
            store.cards[card.id] = card
            store.sources[card.id] = str(path)
        return store

    def get(self, key_id: str) -> KeyCard | None:
        return self.cards.get(key_id)

    def resolve(self, ref: str) -> KeyCard:
        """A card by full id, shortened id (``ed25519:ab12…`` or hex prefix, 8+ hex), or exact name.

        Raises ``NotFoundError(key.not-found)`` or ``UsageError(key.ambiguous)``.
        """
        ref = ref.strip()
        if ref in self.cards:
            return self.cards[ref]
        hex_part = ref.removeprefix("ed25519:").lower()
        matches: list[KeyCard] = []
        if re.fullmatch(r"[0-9a-f]{8,64}", hex_part):
            matches = [c for c in self.cards.values() if c.id[len("ed25519:") :].startswith(hex_part)]
        if not matches:
            matches = [c for c in self.cards.values() if c.name == ref]
        if not matches and re.fullmatch(r"[0-9a-f]{1,7}", hex_part):  # issue 14: say how many are needed
            raise UsageError(
                ErrorCode.KEY_AMBIGUOUS,
                f"{ref!r} is too short for a key id: give at least 8 hex digits after 'ed25519:' "
                f"(it has {len(hex_part)}; see 'provenance keys list'), or the key's name",
                key=ref,
            )
        if not matches:
            raise NotFoundError(
                ErrorCode.KEY_NOT_FOUND,
                f"no key card matches {ref!r} in {self.location} (see 'provenance keys list')",
                key=ref,
            )
        if len(matches) > 1:
            ids = ", ".join(c.id[:20] + "…" for c in matches)
            raise UsageError(
                ErrorCode.KEY_AMBIGUOUS, f"{ref!r} matches several keys ({ids}); give more of the id"
            )
        return matches[0]


def private_key_path(key_id: str, home: Path | None = None) -> Path:
    return (home or provenance_home()) / "keys" / (key_id.split(":", 1)[1] + PRIVATE_SUFFIX)


def has_private_key(key_id: str, home: Path | None = None) -> bool:
    return private_key_path(key_id, home).is_file()


def generate_key(
    archive: Archive,
    *,
    name: str,
    roles: list[Role],
    passphrase: bytes,
    now: datetime,
    rounds: int | None = None,
    valid_until: datetime | None = None,
    supersedes: str | None = None,
    home: Path | None = None,
) -> KeyCard:
    """Make a key pair: the encrypted private key under the home folder (0600), the card in ``keys/``.

    Raises ``UsageError`` for an empty passphrase, ``StorageError`` when either file cannot be written.
    """
    from provenance import signing

    archive.refuse_links()  # before anything is written, the private key included
    if not passphrase:
        raise UsageError(ErrorCode.KEY_PASSPHRASE_MISSING, "a key needs a non-empty passphrase")
    rounds = signing.DEFAULT_KDF_ROUNDS if rounds is None else rounds
    if not 1 <= rounds <= signing.MAX_KDF_ROUNDS:
        raise UsageError(ErrorCode.USAGE, f"--kdf-rounds must be from 1 to {signing.MAX_KDF_ROUNDS}")
    if valid_until is not None and valid_until <= now:
        raise UsageError(ErrorCode.USAGE, "--valid-until must be in the future")
    key_type = note_key_type(roles)
    verifier_key = None
    if key_type is not None:
        from provenance.tlog.note import NoteError, verifier_for

        if len(set(roles)) > 1:
            raise UsageError(ErrorCode.USAGE, "a log or witness key holds that role only (one key per task)")
        try:
            verifier_key = verifier_for(name, b"\x00" * 32, key_type)
        except NoteError as exc:
            raise UsageError(ErrorCode.USAGE, f"--name of a log or witness key: {exc}") from None
    key = signing.SigningKey.generate()
    if verifier_key is not None:
        verifier_key = verifier_for(name, key.public_bytes(), verifier_key.key_type)
    card = KeyCard(
        id=key.key_id,
        public_key=b64url(key.public_bytes()),
        name=name,
        roles=sorted(set(roles), key=list(Role).index),
        valid_from=format_utc(now),
        valid_until=format_utc(valid_until) if valid_until else None,
        supersedes=supersedes,
        note_verifier_key=verifier_key.encode() if verifier_key is not None else None,
    )
    private_path = private_key_path(card.id, home)
    card_path = archive.keys_dir / card_filename(card)
    try:
        private_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(private_path.parent, 0o700)
        fsio.write_atomic(private_path, signing.encrypt_private_key(key, passphrase, rounds), mode=0o600)
    except OSError as exc:
        raise fsio.storage_error("store the private key in", private_path.parent, exc) from exc
    try:
        archive.keys_dir.mkdir(exist_ok=True)
        fsio.write_atomic(card_path, dumps_pretty(card.as_json()))
    except OSError as exc:
        private_path.unlink(missing_ok=True)
        raise fsio.storage_error("write the key card to", card_path, exc) from exc
    return card


def unlock(card: KeyCard, passphrase: bytes, home: Path | None = None) -> SigningKey:
    """Decrypt the private key of ``card``.

    Raises ``NotFoundError(key.not-found)`` when this machine holds no private key for it,
    ``KeyStoreError(key.passphrase-wrong)`` for a wrong passphrase (nothing else is revealed).
    """
    from provenance import signing

    path = private_key_path(card.id, home)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(
            ErrorCode.KEY_NOT_FOUND,
            f"no private key for {card.id[:20]}… ({card.name}) under {path.parent}; only its card is here",
            key=card.id,
        ) from None
    key = signing.decrypt_private_key(data, passphrase)
    if key.key_id != card.id:
        raise KeyStoreError(ErrorCode.KEY_MALFORMED, f"{path} does not hold the key of card {card.id}")
    return key


def select_card(
    archive: Archive, ref: str | None, home: Path | None = None, allowed: frozenset[Role] | None = None
) -> KeyCard:
    """The signing key: ``--key``, else the archive's ``default_key``, else the only private key present
    (where several are present: the only one holding a role in ``allowed``, the roles that may sign).

    Raises ``NotFoundError``/``UsageError`` (key.not-found, key.ambiguous, key.none-usable).
    """
    store = TrustStore.load(archive.keys_dir)
    if ref:
        return store.resolve(ref)
    default = archive.config().default_key
    if default:
        return store.resolve(default)
    usable = [c for c in store.cards.values() if has_private_key(c.id, home)]
    if len(usable) > 1 and allowed is not None:
        fitting = [c for c in usable if allowed.intersection(c.roles) and c.revoked is None]
        if len(fitting) == 1:
            return fitting[0]
        usable = fitting or usable
    if len(usable) == 1:
        return usable[0]
    if not usable:
        raise NotFoundError(
            ErrorCode.KEY_NO_DEFAULT,
            "no private key here for any key card of this archive; run 'provenance keys generate' or pass --key",
        )
    names = ", ".join(f"{c.name} ({c.id[8:20]})" for c in usable)
    raise UsageError(ErrorCode.KEY_AMBIGUOUS, f"several keys could sign ({names}); choose one with --key")


def write_card(archive: Archive, card: KeyCard, *, replace: str | None = None) -> Path:
    """Write ``card`` into the archive's ``keys/`` (atomically), replacing the file ``replace`` if given."""
    path = Path(replace) if replace else archive.keys_dir / card_filename(card)
    try:
        archive.keys_dir.mkdir(exist_ok=True)
        fsio.write_atomic(path, dumps_pretty(card.as_json()))
    except OSError as exc:
        raise fsio.storage_error("write the key card", path, exc) from exc
    return path


def revoke(archive: Archive, ref: str, *, reason: str, at: datetime) -> KeyCard:
    """Mark a key revoked from ``at`` on; events it signs from then on are not trusted.

    Raises ``ConflictError`` when the card is already revoked, ``InputError(archive.path-unsafe)``.
    """
    archive.refuse_links()
    store = TrustStore.load(archive.keys_dir)
    card = store.resolve(ref)
    if card.revoked is not None:
        raise ConflictError(
            ErrorCode.KEY_REVOKED,
            f"key {card.id[:20]}… ({card.name}) was already revoked at {card.revoked.time}",
        )
    updated = card.model_copy(update={"revoked": Revocation(time=format_utc(at), reason=reason)})
    write_card(archive, updated, replace=store.sources[card.id])
    return updated


def read_card_file(path: Path) -> KeyCard:
    """Read (bounded: a FIFO or /dev/zero cannot hang it) and check a key card file.

    Raises ``NotFoundError(input.not-found)`` or ``KeyStoreError`` (key.malformed, key.weak).
    """
    try:
        data = fsio.read_limited(path, MAX_CARD_BYTES, regular_only=False)
    except OSError as exc:
        raise NotFoundError(
            ErrorCode.INPUT_NOT_FOUND, f"cannot read key card {path}: {exc.strerror}"
        ) from exc
    return parse_card(data, source=str(path))


def import_card(archive: Archive, path: Path) -> tuple[KeyCard, bool]:
    """Add a key card to the archive's trust store after checking it (weak keys refused).

    Returns (card, added); an identical card already present is not an error. Raises ``KeyStoreError``.
    """
    return import_cards(archive, [path])[0]


def import_cards(archive: Archive, paths: list[Path]) -> list[tuple[KeyCard, bool]]:
    """Import several key cards: every one is read and checked before any is written.

    Raises as :func:`read_card_file`, and ``ConflictError(key.conflict)`` for a card that would widen or
    rename a trusted key; then nothing is written.
    """
    archive.refuse_links()
    cards = [(read_card_file(path), str(path)) for path in paths]
    store = TrustStore.load(archive.keys_dir)
    plan: list[tuple[KeyCard, str | None, bool]] = []  # (card, file to replace, added)
    for card, source in cards:
        existing = store.get(card.id)
        if existing is not None:
            if existing == card:
                plan.append((existing, None, False))
                continue
            _check_narrowing(existing, card, source=source)
            plan.append((card, store.sources[card.id], True))
        else:
            _check_name_unique(store, card, source=source)
            plan.append((card, None, True))
        store.cards[card.id] = card  # a later card in the same batch is checked against this one too
        store.sources.setdefault(card.id, str(archive.keys_dir / card_filename(card)))
    for card, replace, added in plan:
        if added:
            write_card(archive, card, replace=replace)
    return [(card, added) for card, _, added in plan]


def _name_key(name: str) -> str:
    """Names that read the same: NFKC (full-width, ligatures), case folded, white space collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _check_name_unique(store: TrustStore, card: KeyCard, *, source: str) -> None:
    """Refuse a new key that takes the name of a key already trusted (key substitution).

    A forged card "A. Archivist" with the forger's key would otherwise sit beside the real one, and every
    report would name the forger's events as the archivist's. Rotation is allowed: a card that names the
    existing key in ``supersedes`` (or is named in the existing card's) may share its name.
    Raises ``ConflictError(key.conflict)``.
    """
    wanted = _name_key(card.name)
    for other in store.cards.values():
        if _name_key(other.name) != wanted or card.supersedes == other.id or other.supersedes == card.id:
            continue
        raise ConflictError(
            ErrorCode.KEY_CONFLICT,
            f"{source}: key {card.id[:20]}… is named {card.name!r}, like the trusted key {other.id[:20]}… "
            f"({other.name!r}); two keys may share a name only when one supersedes the other. Compare the "
            "key id with its owner out of band",
            key=card.id,
        )


def _check_narrowing(existing: KeyCard, incoming: KeyCard, *, source: str) -> None:
    """Refuse a card that would widen what an already trusted key may do.

    A card for a key already in the trust store may only narrow it: add or bring forward a revocation,
    shorten its validity, drop roles. Un-revoking it (``key.revoked``), adding roles, widening its
    validity or renaming it (``key.conflict``) would let whoever hands over a card escalate a key.
    """
    if existing.revoked is not None and (
        incoming.revoked is None or parse_utc(incoming.revoked.time) > parse_utc(existing.revoked.time)
    ):
        raise ConflictError(
            ErrorCode.KEY_REVOKED,
            f"{source}: key {existing.id[:20]}… ({existing.name}) is revoked in this trust store since "
            f"{existing.revoked.time}; a card cannot lift or postpone that revocation",
            key=existing.id,
        )
    widened: list[str] = []
    if incoming.name != existing.name:
        widened.append(f"name {existing.name!r} → {incoming.name!r}")
    added = sorted(set(incoming.roles) - set(existing.roles))
    if added:
        widened.append("roles " + ", ".join(r.value for r in added) + " added")
    if parse_utc(incoming.valid_from) < parse_utc(existing.valid_from):
        widened.append(f"valid from {incoming.valid_from} instead of {existing.valid_from}")
    if existing.valid_until is not None and (
        incoming.valid_until is None or parse_utc(incoming.valid_until) > parse_utc(existing.valid_until)
    ):
        widened.append(f"valid until {incoming.valid_until or 'open'} instead of {existing.valid_until}")
    if incoming.supersedes != existing.supersedes:
        widened.append("a different superseded key")
    if widened:
        raise ConflictError(
            ErrorCode.KEY_CONFLICT,
            f"{source}: a different card for key {existing.id[:20]}… ({existing.name}) is already trusted; "
            f"this one would widen it ({'; '.join(widened)}). Remove {existing.name}'s card from keys/ first "
            "if that is really meant",
            key=existing.id,
        )


def card_status(card: KeyCard, now: datetime) -> str:
    """A word for ``keys list``: valid, revoked, expired or not-yet-valid at ``now``."""
    return card.status_at(now)


def parse_when(text: str) -> datetime:
    """Parse a user-supplied UTC time (``2026-01-01T00:00:00Z``); raises ``UsageError``."""
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise UsageError(ErrorCode.USAGE, str(exc)) from exc
