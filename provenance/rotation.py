"""Key rotation proven by the old key: rotation statements, their checks, and the chain a verifier shows.

A card that ``supersedes`` another carries a ``rotation`` statement signed by the superseded key over
``ROTATION_SIGNING_CONTEXT`` + RFC 8785 canonical JSON of ``{"old", "new", "roles", "time"}``. The claim is
believed only on that signature, never on the new card's word; the old key must have been valid at the
rotation time; the new key may not hold roles the old one lacked unless the archive decides so after
review (``keys import --allow-new-roles``); and the old key's validity ends at the rotation time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from provenance.errors import ErrorCode, KeyStoreError
from provenance.model.keycard import ROTATION_SIGNING_CONTEXT, KeyCard, Rotation
from provenance.model.timefmt import format_utc, parse_utc

if TYPE_CHECKING:
    from provenance.model.events import Role
    from provenance.signing import SigningKey


def rotation_bytes(rotation: Rotation | dict[str, object]) -> bytes:
    """The bytes the old key signs: the context string + canonical JSON of old, new, roles, time."""
    from provenance.canonical import canonical_bytes

    fields = rotation.signed_fields() if isinstance(rotation, Rotation) else rotation
    return ROTATION_SIGNING_CONTEXT + canonical_bytes(fields)


def sign_rotation(old_key: SigningKey, *, old: str, new: str, roles: list[Role], time: datetime) -> Rotation:
    """The old key's statement that ``new`` replaces it from ``time`` on, in ``roles``."""
    from provenance.keys import b64url

    fields: dict[str, object] = {"old": old, "new": new, "roles": [r.value for r in roles], "time": format_utc(time)}
    return Rotation.model_validate({**fields, "signature": b64url(old_key.sign(rotation_bytes(fields)))})


def rotation_problem(card: KeyCard, old: KeyCard | None) -> str | None:
    """Why ``card``'s claim to supersede another key is not proven (``old``: that key's trusted card), or None."""
    from provenance import signing
    from provenance.keys import b64url_decode, card_public_key

    rotation = card.rotation
    if card.supersedes is None:
        return "carries a rotation statement but supersedes no key" if rotation is not None else None
    if rotation is None:
        return (
            f"claims to supersede {card.supersedes} but carries no rotation statement signed by that key; "
            "a rotation is believed only on the old key's signature"
        )
    if rotation.old != card.supersedes or rotation.new != card.id:
        return "its rotation statement names other keys than the card (old and new ids must be the card's)"
    if sorted(rotation.roles) != sorted(card.roles):
        return "its rotation statement names other roles than the card holds"
    if old is None:
        return f"the key it supersedes ({card.supersedes}) is not in this trust store; import that card first"
    if not signing.verify_signature(card_public_key(old), rotation_bytes(rotation), b64url_decode(rotation.signature)):
        return f"its rotation statement is not signed by the superseded key {old.id} ({old.name!r})"
    status = old.status_at(parse_utc(rotation.time))
    if status != "valid":
        return f"the superseded key {old.id} ({old.name!r}) was {status} at the rotation time {rotation.time}"
    return None


def added_roles(card: KeyCard, old: KeyCard) -> list[str]:
    """Roles the new key holds that the old key lacked (sorted)."""
    return sorted(r.value for r in set(card.roles) - set(old.roles))


def check_rotation(card: KeyCard, old: KeyCard | None, *, source: str, allow_new_roles: bool) -> list[str]:
    """Refuse an unproven or widening rotation; return the roles added (allowed after review).

    Raises ``KeyStoreError(key.rotation-unproven)`` or ``KeyStoreError(key.rotation-widens)``.
    """
    problem = rotation_problem(card, old)
    if problem is not None:
        raise KeyStoreError(
            ErrorCode.KEY_ROTATION_UNPROVEN, f"{source}: key {card.id[:20]}… {problem}", key=card.id
        )
    if old is None:
        return []
    added = added_roles(card, old)
    if added and not allow_new_roles:
        raise KeyStoreError(
            ErrorCode.KEY_ROTATION_WIDENS,
            f"{source}: key {card.id[:20]}… supersedes {old.id[:20]}… ({old.name!r}) and adds the role(s) "
            f"{', '.join(added)} the old key lacked; review it, then allow the new roles if meant",
            key=card.id,
            added=added,
        )
    return added


def ended_at_rotation(old: KeyCard, rotation: Rotation) -> KeyCard:
    """The old card, its validity ended at the rotation time (kept when it already ends earlier)."""
    end = parse_utc(rotation.time)
    if old.valid_until is not None and parse_utc(old.valid_until) <= end:
        return old
    return old.model_copy(update={"valid_until": rotation.time})


@dataclass(frozen=True)
class Step:
    """One link of a rotation chain: ``new`` replaced ``old`` at ``time``."""

    old: str
    new: str
    time: str

    def as_json(self) -> dict[str, str]:
        return {"old": self.old, "new": self.new, "time": self.time}


def prove_rotations(cards: dict[str, KeyCard], rejected: list[tuple[str, str]], sources: dict[str, str]) -> list[Step]:
    """Check every rotation of a loaded trust store in place: a card whose rotation is not proven by the
    superseded key in the same store is moved to ``rejected`` (never trusted); each superseded key's
    validity is ended at its rotation time. Returns the proven steps."""
    claims = [c for c in cards.values() if c.supersedes is not None or c.rotation is not None]
    if not claims:
        return []
    changed = True
    while changed:  # a chain A → B → C stands only as long as each link does
        changed = False
        for card in list(claims):
            if card.id not in cards:
                continue
            problem = rotation_problem(card, cards.get(card.supersedes or ""))
            if problem is not None:
                del cards[card.id]
                rejected.append((sources.pop(card.id, card.id), f"key {card.id[:20]}… {problem}"))
                changed = True
    steps: list[Step] = []
    for card in claims:
        if card.id in cards and card.rotation is not None and card.supersedes in cards:
            cards[card.supersedes] = ended_at_rotation(cards[card.supersedes], card.rotation)
            steps.append(Step(old=card.supersedes, new=card.id, time=card.rotation.time))
    return steps


def chain_of(key_id: str, steps: list[Step]) -> list[Step]:
    """The rotation steps a key is part of, oldest first: the keys before it and the keys after it."""
    by_new = {s.new: s for s in steps}
    by_old: dict[str, Step] = {}
    for s in sorted(steps, key=lambda s: s.time):
        by_old.setdefault(s.old, s)
    before = _follow(key_id, by_new, lambda s: s.old)
    after = _follow(key_id, by_old, lambda s: s.new)
    return [*reversed(before), *after]


def _follow(key_id: str, links: dict[str, Step], next_key: Callable[[Step], str]) -> list[Step]:
    """The steps met going from ``key_id`` along ``links`` (key → its step; ``next_key`` the key that step
    leads to), at most 64: forged cards that supersede each other in a circle end there."""
    steps: list[Step] = []
    cursor = key_id
    while cursor in links and len(steps) < 64:
        steps.append(links[cursor])
        cursor = next_key(links[cursor])
    return steps
