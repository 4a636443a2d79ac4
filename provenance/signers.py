"""Choosing who signs: the key, its role, its passphrase; the key is unlocked only when it first signs.

:func:`choose_signer` picks the key (the one named, else the archive's ``default_key``, else the only usable
private key), checks its role and validity, and returns a :class:`~provenance.history.Signer` whose key
asks for its passphrase when the first event is signed, after the caller has checked its input (issue 14:
a quote not found, an id taken, an unchanged revision are refused before any prompt). A running signing
agent that holds the key signs without a passphrase. A :class:`Passphrase` says where the passphrase comes
from: a value, a file, ``$PROVENANCE_PASSPHRASE``, or a prompt the caller supplies (the CLI's terminal).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from provenance.errors import ErrorCode, InputError, KeyStoreError

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.history import Signer
    from provenance.model.events import EventType, Role
    from provenance.model.keycard import KeyCard
    from provenance.signing import SigningKey

PASSPHRASE_ENV = "PROVENANCE_PASSPHRASE"  # noqa: S105 - the name of a variable, not a password
MAX_PASSPHRASE_BYTES = 4096

Prompt = Callable[[str, bool], bytes]
"""``prompt(what, confirm)``: ask a person for the passphrase of ``what`` (twice when ``confirm``)."""


@dataclass(frozen=True)
class Passphrase:
    """Where a key's passphrase comes from, in this order: ``value``, ``file`` (its first line, at most 4 KiB;
    a pipe is fine), ``$PROVENANCE_PASSPHRASE`` (unless ``use_env`` is false), ``prompt``.

    Example: ``Passphrase(value=b"correct horse")``, ``Passphrase(file=Path("pass.txt"))``, ``Passphrase()``
    (the environment variable).
    """

    value: bytes | None = None
    file: Path | None = None
    prompt: Prompt | None = None
    use_env: bool = True

    def read(self, what: str = "key", *, confirm: bool = False) -> bytes:
        """The passphrase. Raises ``KeyStoreError(key.passphrase-missing)`` when no source has one,
        ``NotFoundError(input.not-found)`` / ``InputError(input.unreadable)`` for a file that cannot be read."""
        if self.value is not None:
            return self.value
        if self.file is not None:
            return read_passphrase_file(self.file)
        env = os.environ.get(PASSPHRASE_ENV) if self.use_env else None
        if env:
            return env.encode("utf-8")
        if self.prompt is None:
            raise KeyStoreError(
                ErrorCode.KEY_PASSPHRASE_MISSING,
                f"no passphrase for the {what}: none given, no passphrase file, {PASSPHRASE_ENV} not set, and "
                "no terminal to prompt on",
            )
        return self.prompt(what, confirm)


def read_passphrase_file(path: Path) -> bytes:
    """The passphrase held in ``path`` (its line end stripped), read bounded: ``/dev/zero`` does not read
    forever, a pipe (``<(…)``) is read. Raises ``NotFoundError``/``InputError``."""
    from provenance.fsio import read_input

    return read_input(path, MAX_PASSPHRASE_BYTES, "passphrase file").rstrip(b"\r\n")


def choose_signer(
    archive: Archive,
    event_type: EventType,
    *,
    key: str | None = None,
    role: Role | str | None = None,
    passphrase: Passphrase | None = None,
    now: datetime | None = None,
) -> Signer:
    """The signer of an ``event_type`` event: the key ``key`` (id, shortened id or name), else the archive's
    ``default_key``, else the only private key present (where several are, the only one whose role may sign
    it); in ``role``, else its first role the archive's policy allows.

    Role and validity are checked here, before any passphrase is asked for; the key is unlocked when it
    first signs (:meth:`KeyOnFirstUse.unlock_now` unlocks it at once). A running agent holding the key signs
    instead, unless a passphrase file or value is given. Raises ``NotFoundError`` (key.not-found,
    key.none-usable), ``UsageError`` (key.ambiguous, role.unknown), ``PolicyError`` (role.not-allowed,
    key.revoked, key.expired), ``KeyStoreError`` (key.file-unsafe).
    """
    from provenance import keys
    from provenance.history import Signer, check_key_usable, choose_role
    from provenance.model.choices import parse_role
    from provenance.model.timefmt import utc_now_or

    passphrase = passphrase or Passphrase()
    policy = archive.config().policy
    card = keys.select_card(archive, key, allowed=policy.get(event_type, frozenset()))
    wanted = parse_role(role) if isinstance(role, str) else role
    chosen = choose_role(card, event_type, policy, wanted)
    check_key_usable(card, utc_now_or(now))
    from provenance.agent import agent_key_for  # i11-collections: a running agent signs without a passphrase

    held = agent_key_for(card) if passphrase.file is None and passphrase.value is None else None
    if held is not None:  # the log key then needs $PROVENANCE_LOG_PASSPHRASE (issue 10)
        return Signer(card=card, key=cast("SigningKey", held), role=chosen, log_key=log_key(archive, None))
    keys.check_private_key(card)  # an unsafe or missing key file is refused before the passphrase prompt
    # issue 14: the passphrase is asked when the first event is signed, after the command checked its input;
    # the log key (issue 10), unlocked with that passphrase, is set on the signer then (before any commit)
    lazy = KeyOnFirstUse(card, passphrase, archive)
    signer = Signer(card=card, key=cast("SigningKey", lazy), role=chosen)
    lazy.signer = signer
    return signer


def unlock_now(signer: Signer) -> None:
    """Ask for the signer's passphrase and unlock its key now (a no-op for a key already unlocked or held
    by an agent): for a caller that must know the passphrase is right before it writes anything."""
    if isinstance(signer.key, KeyOnFirstUse):
        signer.key.unlock_now()


class KeyOnFirstUse:
    """A signing key that asks for its passphrase and unlocks when it first signs (then stays unlocked).

    Unlocking also unlocks a logged archive's log key and sets it on the signer: every writer signs its
    event before it commits, so the log key is there when the commit needs it.
    """

    def __init__(self, card: KeyCard, passphrase: Passphrase, archive: Archive) -> None:
        self.card = card
        self.passphrase = passphrase
        self.archive = archive
        self.signer: Signer | None = None
        self.unlocked: SigningKey | None = None

    @property
    def key_id(self) -> str:
        return self.card.id

    def unlock_now(self) -> SigningKey:
        from provenance import keys

        if self.unlocked is None:
            secret = self.passphrase.read(f"key of {self.card.name}")
            unlocked = keys.unlock(self.card, secret)
            unlocked_log = log_key(self.archive, secret)
            if self.signer is not None:
                object.__setattr__(self.signer, "log_key", unlocked_log)  # the signer is frozen; set once, here
            self.unlocked = unlocked
        return self.unlocked

    def sign(self, message: bytes) -> bytes:
        return self.unlock_now().sign(message)


def log_key(archive: Archive, passphrase: bytes | None) -> SigningKey | None:
    """A logged archive's log key, unlocked ($PROVENANCE_LOG_PASSPHRASE, else the signer's passphrase)."""
    from provenance.archive_log import unlock_log_key

    try:
        return unlock_log_key(archive, passphrase)
    except InputError as exc:  # a damaged log: an event's commit then refuses it (log.damaged), other
        if exc.code is not ErrorCode.LOG_DAMAGED:  # signers (an audit report's) are not held up by it
            raise
        return None
