"""The parts :func:`provenance.verify_path` (and the ``verify`` and ``audit`` commands) are made of, for a
verifier of your own: the context (trust store, roles policy, clock, limits), one target verified with a
context you made, many targets over several processes with outcomes as they come, the transparency-log
options, hashing a record's files in a forked process meanwhile, and objects in S3. See ``docs/api.md``,
"Verifying, part by part".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.trust": "verifier_context",
    "provenance.verify.record": "VerifyContext LogOptions",
    "provenance.verify.target": "verify_target=verify_path target_kind=kind_of",
    "provenance.verify.batch": "verify_batch VerifyOutcome=Outcome TargetKind",
    "provenance.model.problems": "worst_state",
    "provenance.verify.prefetch": "Prefetch",
    "provenance.bundle.entries": "parse_size",
    "provenance.verify.workers": "resolve_jobs",
    "provenance.audit.source": "is_remote remote_url fetch_for_verify",
    "provenance.fsio": "read_limited",
}

__all__ = [
    "LogOptions",
    "Prefetch",
    "TargetKind",
    "VerifyContext",
    "VerifyOutcome",
    "fetch_for_verify",
    "is_remote",
    "parse_size",
    "read_limited",
    "remote_url",
    "resolve_jobs",
    "target_kind",
    "verifier_context",
    "verify_batch",
    "verify_target",
    "worst_state",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.audit.source import fetch_for_verify, is_remote, remote_url
    from provenance.bundle.entries import parse_size
    from provenance.fsio import read_limited
    from provenance.model.problems import worst_state
    from provenance.trust import verifier_context
    from provenance.verify.batch import Outcome as VerifyOutcome
    from provenance.verify.batch import TargetKind, verify_batch
    from provenance.verify.prefetch import Prefetch
    from provenance.verify.record import LogOptions, VerifyContext
    from provenance.verify.target import kind_of as target_kind
    from provenance.verify.target import verify_path as verify_target
    from provenance.verify.workers import resolve_jobs
