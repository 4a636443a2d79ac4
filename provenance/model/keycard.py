"""The public half of a key: a key card, as kept in an archive's ``keys/`` and in trust stores."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from provenance.model.events import Role
from provenance.model.manifest import KeyId, UtcTime
from provenance.model.timefmt import parse_utc

KEY_CARD_FORMAT: Final = "provenance-key-card/1"
# 32 bytes, base64url without padding, canonical: 43 characters carry 258 bits, the last 2 must be zero
PUBLIC_KEY_PATTERN = r"^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$"
# C2SP signed-note verifier key <name>+<hex key hash>+<base64(type || key)>, type 0x01 (A…) or 0x04 (B…)
NOTE_VERIFIER_KEY_PATTERN = r"^[^\s+]{1,255}\+[0-9a-f]{8}\+[AB][A-Za-z0-9+/]{43}$"


# defer_build: each validator is built on first use, so that a command builds only what it uses (verify
# validates a Manifest and key cards: two validators instead of twelve at start-up).
class Revocation(BaseModel):
    """When and why a key stopped being trusted; events signed at or after ``time`` are not trusted."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    time: UtcTime
    reason: Annotated[str, Field(min_length=1, max_length=4096)]


class KeyCard(BaseModel):
    """Id, public key, name, roles, validity window and revocation of one agent's Ed25519 key."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    format: Literal["provenance-key-card/1"] = KEY_CARD_FORMAT
    id: KeyId
    algorithm: Literal["ed25519"] = "ed25519"
    public_key: Annotated[str, Field(pattern=PUBLIC_KEY_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=4096)]
    roles: Annotated[list[Role], Field(min_length=1)]
    valid_from: UtcTime
    valid_until: UtcTime | None = None
    revoked: Revocation | None = None
    supersedes: KeyId | None = None
    # keys with role log or witness (transparency log): checked against public_key when a card is read
    note_verifier_key: Annotated[str, Field(pattern=NOTE_VERIFIER_KEY_PATTERN)] | None = None

    def as_json(self) -> dict[str, object]:
        """The card as JSON, unset optional fields left out."""
        return self.model_dump(mode="json", exclude_none=True)

    def status_at(self, moment: datetime) -> Literal["valid", "not-yet-valid", "expired", "revoked"]:
        """Whether the key may sign at ``moment`` (time is a parameter)."""
        if self.revoked is not None and moment >= parse_utc(self.revoked.time):
            return "revoked"
        if moment < parse_utc(self.valid_from):
            return "not-yet-valid"
        if self.valid_until is not None and moment > parse_utc(self.valid_until):
            return "expired"
        return "valid"
