"""The archive's transparency log (C2SP tlog checkpoints, consistency proofs, witnesses'
cosignatures, RFC 3161 timestamps), the log checked against the records, and a partner's witness. See
``docs/api.md``, "Transparency log".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.log_admin": "enable_log log_checkpoint consistency_proof add_cosignatures timestamp_checkpoint witness_init witness_cosign",
    "provenance.log_audit": "audit_log",
}

__all__ = [
    "add_cosignatures",
    "audit_log",
    "consistency_proof",
    "enable_log",
    "log_checkpoint",
    "timestamp_checkpoint",
    "witness_cosign",
    "witness_init",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.log_admin import (
        add_cosignatures,
        consistency_proof,
        enable_log,
        log_checkpoint,
        timestamp_checkpoint,
        witness_cosign,
        witness_init,
    )
    from provenance.log_audit import audit_log
