"""Key cards, the encrypted private-key store, the trust store, and choosing a signing key.

Private keys live under ``$PROVENANCE_HOME/keys`` (default: the user's data folder), one OpenSSH
private-key file per key, encrypted with the passphrase through bcrypt (``DEFAULT_KDF_ROUNDS``), mode
0600: they never enter an archive. Key cards, the public halves, live in an archive's ``keys/``.
"""

from __future__ import annotations

import base64
import functools
import os
import re
import stat
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
    PolicyError,
    UsageError,
    validation_detail,
)
from provenance.model.events import Role
from provenance.model.keycard import KeyCard, Revocation
from provenance.model.timefmt import format_utc, parse_utc
from provenance.rotation import (
    Step,
    chain_of,
    check_rotation,
    ended_at_rotation,
    prove_rotations,
    sign_rotation,
)

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
    """The raw 32-byte public key of a card, decoded once per process (the one cache of decoded keys: a
    verifier checks many events of few signers). Raises ``ValueError`` when it is not base64url."""
    return _decoded_public_key(card.public_key)


@functools.lru_cache(maxsize=1024)
def _decoded_public_key(text: str) -> bytes:
    return b64url_decode(text)


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:32] or "key"


def card_bytes(card: KeyCard) -> bytes:
    """A card as written and exported: pretty JSON, every control or bidi character in a string as a
    ``\\u`` escape (the same JSON value, safe on a terminal and in any text viewer)."""
    from provenance.safetext import json_safe

    return json_safe(dumps_pretty(card.as_json()).decode("utf-8")).encode("utf-8")


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
    rotations: list[Step] = field(default_factory=list)  # proven by the old keys (see provenance.rotation)
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
        # A card that supersedes another is trusted only on the old key's signed rotation statement; the
        # old key's validity ends at the rotation time.
        store.rotations = prove_rotations(store.cards, store.rejected, store.sources)
        return store

    def chain(self, key_id: str) -> list[Step]:
        """The proven rotations ``key_id`` is part of, oldest first."""
        return chain_of(key_id, self.rotations)

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
                f"(it has {len(hex_part)}), or the key's name",
                key=ref,
            )
        if not matches:
            raise NotFoundError(
                ErrorCode.KEY_NOT_FOUND,
                f"no key card matches {ref!r} in {self.location}",
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
    old_key: SigningKey | None = None,
    allow_new_roles: bool = False,
    home: Path | None = None,
) -> KeyCard:
    """Make a key pair: the encrypted private key under the home folder (0600), the card in ``keys/``.

    With ``supersedes`` (a rotation) the unlocked ``old_key`` signs the rotation statement the new card
    carries, and the old card's validity ends now. Raises ``UsageError`` for an empty passphrase,
    ``KeyStoreError`` (key.rotation-unproven, key.rotation-widens) for a rotation the old key cannot make,
    ``StorageError`` when either file cannot be written; ``UsageError(role.unknown)`` for a role that is not
    a :class:`Role`, ``UsageError(usage.invalid)`` for no role at all.
    """
    from provenance import signing
    from provenance.model.choices import parse_role

    roles = [parse_role(role) for role in roles]
    if not roles:
        raise UsageError(ErrorCode.USAGE, "a key needs at least one role")
    archive.refuse_links()  # before anything is written, the private key included
    if not passphrase:
        raise KeyStoreError(ErrorCode.KEY_PASSPHRASE_MISSING, "a key needs a non-empty passphrase")
    rounds = signing.DEFAULT_KDF_ROUNDS if rounds is None else rounds
    if not 1 <= rounds <= signing.MAX_KDF_ROUNDS:
        raise UsageError(
            ErrorCode.USAGE, f"the bcrypt rounds must be from 1 to {signing.MAX_KDF_ROUNDS}", param="kdf_rounds"
        )
    if valid_until is not None and valid_until <= now:
        raise UsageError(ErrorCode.USAGE, "the end of the key's validity must be in the future", param="valid_until")
    check_new_name(archive, name, supersedes=supersedes)
    key_type = note_key_type(roles)
    verifier_key = None
    if key_type is not None:
        from provenance.tlog.note import NoteError, verifier_for

        if len(set(roles)) > 1:
            raise UsageError(ErrorCode.USAGE, "a log or witness key holds that role only (one key per task)")
        try:
            verifier_key = verifier_for(name, b"\x00" * 32, key_type)
        except NoteError as exc:
            raise UsageError(ErrorCode.USAGE, f"the name of a log or witness key: {exc}", param="name") from None
    key = signing.SigningKey.generate()
    if verifier_key is not None:
        verifier_key = verifier_for(name, key.public_bytes(), verifier_key.key_type)
    roles = sorted(set(roles), key=list(Role).index)
    rotation = None
    store = TrustStore.load(archive.keys_dir) if supersedes else None
    if supersedes:
        if old_key is None or old_key.key_id != supersedes:
            raise KeyStoreError(
                ErrorCode.KEY_ROTATION_UNPROVEN, f"a rotation from {supersedes[:20]}… needs that key, unlocked"
            )
        rotation = sign_rotation(old_key, old=supersedes, new=key.key_id, roles=roles, time=now)
    card = KeyCard(
        id=key.key_id,
        public_key=b64url(key.public_bytes()),
        name=name,
        roles=roles,
        valid_from=format_utc(now),
        valid_until=format_utc(valid_until) if valid_until else None,
        supersedes=supersedes,
        rotation=rotation,
        note_verifier_key=verifier_key.encode() if verifier_key is not None else None,
    )
    ended: KeyCard | None = None
    if store is not None and rotation is not None:
        old = store.get(rotation.old)
        check_rotation(card, old, source="the rotation", allow_new_roles=allow_new_roles)
        assert old is not None
        ended = ended_at_rotation(old, rotation)
    private_path = private_key_path(card.id, home)
    card_path = archive.keys_dir / card_filename(card)
    try:
        private_path.parent.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # the home: only its owner's
        private_path.parent.mkdir(exist_ok=True, mode=0o700)
        os.chmod(private_path.parent, 0o700)
        check_key_folder(private_path.parent.parent)
        fsio.write_atomic(private_path, signing.encrypt_private_key(key, passphrase, rounds), mode=0o600)
    except OSError as exc:
        raise fsio.storage_error("store the private key in", private_path.parent, exc) from exc
    try:
        archive.keys_dir.mkdir(exist_ok=True)
        fsio.write_atomic(card_path, card_bytes(card))
    except OSError as exc:
        private_path.unlink(missing_ok=True)
        raise fsio.storage_error("write the key card to", card_path, exc) from exc
    if store is not None and ended is not None and ended.id in store.sources:
        write_card(archive, ended, replace=store.sources[ended.id])  # the old key's validity ends now
    return card


# The largest private-key file a valid key can make: an encrypted OpenSSH Ed25519 key is about 460 bytes
# (armoured base64 of a 330-byte blob with a comment); anything larger is not ours.
MAX_PRIVATE_KEY_BYTES = 4096


def check_key_folder(folder: Path) -> None:
    """Refuse a key folder that others may write to (they could swap a key file): one line, as OpenSSH.

    Raises ``KeyStoreError(key.file-unsafe)``.
    """
    try:
        info = os.stat(folder)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode) and info.st_mode & 0o022 and not info.st_mode & stat.S_ISVTX:
        raise KeyStoreError(
            ErrorCode.KEY_FILE_UNSAFE,
            f"{folder} is writable by others (mode {stat.S_IMODE(info.st_mode):04o}); private keys are not used "
            f"from it: chmod go-w {folder}",
        )


def read_private_key_file(path: Path, card: KeyCard) -> bytes:
    """The bytes of a private-key file, refused as OpenSSH refuses it: readable or writable by others, not
    a regular file (a link, a FIFO, a device), or larger than any valid key; in a folder others may write to.

    Raises ``NotFoundError(key.not-found)`` or ``KeyStoreError(key.file-unsafe)``; never waits on a FIFO.
    """
    check_key_folder(path.parent.parent)
    check_key_folder(path.parent)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise NotFoundError(
            ErrorCode.KEY_NOT_FOUND,
            f"no private key for {card.id[:20]}… ({card.name}) under {path.parent}; only its card is here",
            key=card.id,
        ) from None
    except OSError as exc:  # ELOOP: a symbolic link, refused as OpenSSH's O_NOFOLLOW-less check would not
        raise KeyStoreError(
            ErrorCode.KEY_FILE_UNSAFE, f"{path}: not used as a private key ({exc.strerror})", key=card.id
        ) from exc
    try:
        info = os.fstat(fd)
        problem = None
        if not stat.S_ISREG(info.st_mode):
            problem = "it is not a regular file"
        elif info.st_mode & 0o077:
            problem = f"others may read or change it (mode {stat.S_IMODE(info.st_mode):04o}; chmod 600 {path})"
        elif info.st_size > MAX_PRIVATE_KEY_BYTES:
            problem = f"it is larger ({info.st_size} bytes) than any valid key ({MAX_PRIVATE_KEY_BYTES})"
        if problem is not None:
            raise KeyStoreError(
                ErrorCode.KEY_FILE_UNSAFE, f"{path}: not used as a private key: {problem}", key=card.id
            )
        os.set_blocking(fd, True)
        data = os.read(fd, MAX_PRIVATE_KEY_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_PRIVATE_KEY_BYTES:  # grew after the check
        raise KeyStoreError(ErrorCode.KEY_FILE_UNSAFE, f"{path}: larger than any valid key", key=card.id)
    return data


def check_new_name(archive: Archive, name: str, *, supersedes: str | None) -> None:
    """A name for a new key: fit to name a signer (``usage.invalid``), and distinct from every trusted name
    but the superseded key's (``key.name-confusable``)."""
    from provenance.model.identity import identity_problem

    if not 1 <= len(name) <= 4096:
        raise UsageError(
            ErrorCode.USAGE, f"a key's name must be 1 to 4096 characters (it has {len(name)})", field="name", param="name"
        )
    problem = identity_problem(name)
    if problem is not None:
        raise UsageError(
            ErrorCode.USAGE, f"the key's name {problem}; a reader could not see what it says", field="name", param="name"
        )
    store = TrustStore.load(archive.keys_dir)
    check_name_distinct(store, name, "(new key)", supersedes=supersedes, source="the new name")


def check_private_key(card: KeyCard, home: Path | None = None) -> None:
    """Refuse an unsafe or missing private-key file before a passphrase is asked for (see
    :func:`read_private_key_file`)."""
    read_private_key_file(private_key_path(card.id, home), card)


def unlock(card: KeyCard, passphrase: bytes, home: Path | None = None) -> SigningKey:
    """Decrypt the private key of ``card``.

    Raises ``NotFoundError(key.not-found)`` when this machine holds no private key for it,
    ``KeyStoreError(key.passphrase-wrong)`` for a wrong passphrase (nothing else is revealed).
    """
    from provenance import signing

    path = private_key_path(card.id, home)
    data = read_private_key_file(path, card)
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
            "no private key here for any key card of this archive",
        )
    names = ", ".join(f"{c.name} ({c.id[8:20]})" for c in usable)
    raise UsageError(ErrorCode.KEY_AMBIGUOUS, f"several keys could sign ({names})")


def write_card(archive: Archive, card: KeyCard, *, replace: str | None = None) -> Path:
    """Write ``card`` into the archive's ``keys/`` (atomically), replacing the file ``replace`` if given."""
    path = Path(replace) if replace else archive.keys_dir / card_filename(card)
    try:
        archive.keys_dir.mkdir(exist_ok=True)
        fsio.write_atomic(path, card_bytes(card))
    except OSError as exc:
        raise fsio.storage_error("write the key card", path, exc) from exc
    return path


def revoke(archive: Archive, ref: str, *, reason: str, at: datetime) -> KeyCard:
    """Mark a key revoked from ``at`` on; events it signs from then on are not trusted.

    Raises ``PolicyError(key.revoked)`` when the card is already revoked, ``InputError(archive.path-unsafe)``.
    """
    archive.refuse_links()
    store = TrustStore.load(archive.keys_dir)
    card = store.resolve(ref)
    if card.revoked is not None:
        raise PolicyError(
            ErrorCode.KEY_REVOKED,
            f"key {card.id[:20]}… ({card.name}) was already revoked at {card.revoked.time}",
        )
    updated = card.model_copy(update={"revoked": Revocation(time=format_utc(at), reason=reason)})
    write_card(archive, updated, replace=store.sources[card.id])
    return updated


def read_card_file(path: Path, *, regular_only: bool = False) -> KeyCard:
    """Read (bounded: /dev/zero cannot make it read forever) and check a key card file. A file named on the
    command line may be a pipe (``<(…)``); a file found in a folder must be regular (``regular_only``): a
    FIFO planted there is refused, never waited on.

    Raises ``NotFoundError(input.not-found)`` or ``KeyStoreError`` (key.malformed, key.weak).
    """
    try:
        data = fsio.read_limited(path, MAX_CARD_BYTES, regular_only=regular_only)
    except OSError as exc:
        raise NotFoundError(
            ErrorCode.INPUT_NOT_FOUND, f"cannot read key card {path}: {exc.strerror}"
        ) from exc
    return parse_card(data, source=str(path))


def import_cards(
    archive: Archive,
    paths: list[Path],
    *,
    allow_new_roles: bool = False,
    roles_added: dict[str, list[str]] | None = None,
    listed: frozenset[Path] = frozenset(),
) -> list[tuple[KeyCard, bool]]:
    """Import several key cards: every one is read and checked before any is written.

    A card that supersedes a trusted key needs that key's signed rotation statement; roles the old key
    lacked are refused unless ``allow_new_roles`` (they are then listed in ``roles_added``, by key id); the
    old key's card is narrowed to end at the rotation time. Raises as :func:`read_card_file`,
    ``ConflictError`` (key.conflict, key.name-confusable) for a card that would widen, rename or look like
    a trusted key, ``PolicyError(key.revoked)`` for one that would lift a revocation, ``KeyStoreError`` (key.rotation-unproven, key.rotation-widens); then nothing is written.
    ``listed``: the paths found by listing a folder (read only if regular files).
    """
    archive.refuse_links()
    cards = [(read_card_file(path, regular_only=path in listed), str(path)) for path in paths]
    by_id = {card.id: card for card, _ in cards}

    def depth(card: KeyCard) -> int:  # a superseded card of the same batch is imported before its successor
        seen = 0
        while card.supersedes in by_id and seen < len(by_id):
            card, seen = by_id[card.supersedes or ""], seen + 1
        return seen

    cards.sort(key=lambda pair: depth(pair[0]))
    store = TrustStore.load(archive.keys_dir)
    results: list[tuple[KeyCard, bool]] = []
    writes: dict[str, tuple[KeyCard, str | None]] = {}  # key id → (card, file to replace)
    for card, source in cards:
        existing = store.get(card.id)
        if existing is not None:
            if existing == card:
                results.append((existing, False))
                continue
            _check_narrowing(existing, card, source=source)
            writes[card.id] = (card, store.sources[card.id])
        else:
            if card.supersedes is not None or card.rotation is not None:
                old = store.get(card.supersedes or "")
                added = check_rotation(card, old, source=source, allow_new_roles=allow_new_roles)
                if added and roles_added is not None:
                    roles_added[card.id] = added
                if old is not None and card.rotation is not None:
                    ended = ended_at_rotation(old, card.rotation)
                    if ended != old:
                        store.cards[old.id] = ended
                        writes[old.id] = (ended, store.sources.get(old.id))
            check_name_distinct(store, card.name, card.id, supersedes=card.supersedes, source=source)
            writes[card.id] = (card, None)
        results.append((card, True))
        store.cards[card.id] = card  # a later card in the same batch is checked against this one too
        store.sources.setdefault(card.id, str(archive.keys_dir / card_filename(card)))
    for card, replace in writes.values():
        write_card(archive, card, replace=replace)
    return results


def confusable_pairs(store: TrustStore) -> list[tuple[KeyCard, KeyCard]]:
    """Pairs of trusted keys a reader could take for each other (a store filled before names were checked,
    or edited by hand); keys of one rotation chain are not a pair."""
    from provenance.confusables import name_keys

    keys = {card.id: name_keys(card.name) for card in store.cards.values()}
    chained = {(s.old, s.new) for s in store.rotations} | {(s.new, s.old) for s in store.rotations}
    cards = sorted(store.cards.values(), key=lambda c: c.id)
    return [
        (a, b)
        for i, a in enumerate(cards)
        for b in cards[i + 1 :]
        if keys[a.id] & keys[b.id] and (a.id, b.id) not in chained and a.supersedes != b.id and b.supersedes != a.id
    ]


def check_name_distinct(
    store: TrustStore, name: str, key_id: str, *, supersedes: str | None, source: str
) -> None:
    """Refuse a key whose name a person could take for a trusted key's name (key substitution).

    Names are compared by their UTS #39 skeletons (whole-script and mixed-script look-alikes: "A. Аrchivist"
    with a Cyrillic А, "rn" for "m"), case, width and white space folded. A forged card "A. Archivist" with
    the forger's key would otherwise sit beside the real one, and every report would name the forger's
    events as the archivist's. Rotation is allowed: a card may share the name of the key it supersedes (or
    that supersedes it), and of every key before it in the chain. Raises ``ConflictError(key.name-confusable)``
    naming the trusted key.
    """
    from provenance.confusables import confusable

    lineage = {key_id}  # the keys this one replaces, directly or through earlier rotations
    cursor = supersedes
    while cursor is not None and cursor not in lineage and len(lineage) <= len(store.cards):
        lineage.add(cursor)
        earlier = store.cards.get(cursor)
        cursor = earlier.supersedes if earlier is not None else None
    for other in store.cards.values():
        if other.id in lineage or other.supersedes == key_id:
            continue
        if not confusable(name, other.name):
            continue
        same = "the same name as" if name == other.name else "a name a reader cannot tell from that of"
        subject = f"key {key_id[:20]}…" if key_id.startswith("ed25519:") else "the new key"
        raise ConflictError(
            ErrorCode.KEY_NAME_CONFUSABLE,
            f"{source}: {subject} has {same} the trusted key {other.id} ({other.name!r}, "
            f"{store.sources.get(other.id, 'in the trust store')}); two keys may share a name only when one "
            "supersedes the other. Compare the key id with its owner out of band",
            key=key_id if key_id.startswith("ed25519:") else None,
            existing=other.id,
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
        raise PolicyError(
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
    if incoming.supersedes != existing.supersedes or incoming.rotation != existing.rotation:
        widened.append("a different superseded key or rotation statement")
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
