"""Keys and who holds them: key cards made, listed, revoked, imported and exported; where private
keys live; passphrases; roles; the signing agent that keeps a key unlocked for a session. See
``docs/api.md``, "Keys".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.model.keycard": "KeyCard",
    "provenance.key_admin": "create_key set_default_key list_keys KeyListing import_key_cards ImportResult key_card_bytes export_key_card export_key_cards",
    "provenance.keys": "revoke_key=revoke parse_when private_key_path provenance_home",
    "provenance.signers": "PASSPHRASE_ENV unlock_now",
    "provenance.model.choices": "parse_role",
    "provenance.services": "start_agent AgentStarted agent_status stop_agent",
}

__all__ = [
    "PASSPHRASE_ENV",
    "AgentStarted",
    "ImportResult",
    "KeyCard",
    "KeyListing",
    "agent_status",
    "create_key",
    "export_key_card",
    "export_key_cards",
    "import_key_cards",
    "key_card_bytes",
    "list_keys",
    "parse_role",
    "parse_when",
    "private_key_path",
    "provenance_home",
    "revoke_key",
    "set_default_key",
    "start_agent",
    "stop_agent",
    "unlock_now",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.key_admin import (
        ImportResult,
        KeyListing,
        create_key,
        export_key_card,
        export_key_cards,
        import_key_cards,
        key_card_bytes,
        list_keys,
        set_default_key,
    )
    from provenance.keys import parse_when, private_key_path, provenance_home
    from provenance.keys import revoke as revoke_key
    from provenance.model.choices import parse_role
    from provenance.model.keycard import KeyCard
    from provenance.services import AgentStarted, agent_status, start_agent, stop_agent
    from provenance.signers import PASSPHRASE_ENV, unlock_now
