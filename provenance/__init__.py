"""provenance: signed, hash-chained provenance records for historical transcriptions.

The public API is what ``__all__`` lists, documented in ``docs/api.md``: open or create an archive, choose
a signer, register a transcription and record its history, verify a record or bundle against your own trust
store, export it, manage key cards; every failure a :class:`ProvenanceError` with a stable
:class:`ErrorCode`, every verdict a :class:`VerificationReport` of coded problems (:class:`ProblemCode`).
Anything else in the package is internal and may change.

``import provenance`` stays light: each name is imported when first used (module ``__getattr__``), so a
command line built on it starts as fast as before.
"""

TYPE_CHECKING = False  # typing is not imported at run time: `import provenance` costs next to nothing

__version__ = "0.1.0"

# public name → module holding it (the name is the same there unless given as "module:attr")
_EXPORTS: dict[str, str] = {
    # archives
    "Archive": "provenance.archive",
    "init_archive": "provenance.api",
    "open_archive": "provenance.api",
    # verifying
    "verify_path": "provenance.api",
    "verifier_context": "provenance.trust",
    "VerifyContext": "provenance.verify.record",
    "VerificationReport": "provenance.model.problems",
    "TrustState": "provenance.model.problems",
    "Problem": "provenance.model.problems",
    "ProblemCode": "provenance.model.problems",
    # the verifier's building blocks (what `verify` and `audit` are made of; issue 15: the CLI uses only these)
    "verify_target": "provenance.verify.target:verify_path",
    "target_kind": "provenance.verify.target:kind_of",
    "verify_batch": "provenance.verify.batch",
    "VerifyOutcome": "provenance.verify.batch:Outcome",
    "TargetKind": "provenance.verify.batch",
    "worst_state": "provenance.model.problems",
    "LogOptions": "provenance.verify.record",
    "Prefetch": "provenance.verify.prefetch",
    "parse_size": "provenance.bundle.entries",
    "audit_log": "provenance.log_audit",
    "is_remote": "provenance.audit.source",
    "remote_url": "provenance.audit.source",
    "fetch_for_verify": "provenance.audit.source",
    "read_limited": "provenance.fsio",
    # registering and history
    "ingest_file": "provenance.api",
    "note": "provenance.api",
    "custody": "provenance.api",
    "revise": "provenance.api",
    "review": "provenance.api",
    "release": "provenance.api",
    "change_catalogue": "provenance.api",
    "attach": "provenance.api",
    "translate": "provenance.api",
    "import_notes": "provenance.api",
    "read_annotations": "provenance.api",
    # reading a record
    "read_record": "provenance.api",
    # searching
    "search_filters": "provenance.services",
    "search_records": "provenance.services",
    "index_status": "provenance.services",
    "list_records": "provenance.search",
    "catalogue_rows": "provenance.search",
    "SearchFilters": "provenance.search:Filters",
    "SearchResults": "provenance.search:Found",
    "record_at": "provenance.api",
    "diff_versions": "provenance.diff",
    "prov_document": "provenance.api",
    # exporting, reading bundles
    "export": "provenance.publish",
    "edition": "provenance.publish",
    "Edition": "provenance.publish",
    "unpack": "provenance.publish",
    "import_ocfl": "provenance.publish",
    "EXPORTERS": "provenance.publish",
    "EDITIONS": "provenance.publish",
    # collections (ingest-batch) and audit at scale
    "plan_batch": "provenance.batch.plan:make_plan",
    "run_batch": "provenance.batch.plan:run_plan",
    "BatchPlan": "provenance.batch.plan",
    "BatchResult": "provenance.batch.plan",
    "SheetProblem": "provenance.batch.problems",
    "plan_audit": "provenance.audit.run:make_plan",
    "open_audit": "provenance.audit.run:prepare",
    "check_audit_plan": "provenance.audit.run:check_plan",
    "run_audit": "provenance.audit.run",
    "check_audit_report": "provenance.audit.check:check_report",
    "resolve_jobs": "provenance.verify.workers",
    "provenance_home": "provenance.keys",
    # the signing agent
    "start_agent": "provenance.services",
    "AgentStarted": "provenance.services",
    "agent_status": "provenance.services",
    "stop_agent": "provenance.services",
    # the transparency log and a partner's witness
    "enable_log": "provenance.log_admin",
    "log_checkpoint": "provenance.log_admin",
    "consistency_proof": "provenance.log_admin",
    "add_cosignatures": "provenance.log_admin",
    "timestamp_checkpoint": "provenance.log_admin",
    "witness_init": "provenance.log_admin",
    "witness_cosign": "provenance.log_admin",
    # signers and keys
    "Signer": "provenance.history",
    "Passphrase": "provenance.signers",
    "PASSPHRASE_ENV": "provenance.signers",
    "choose_signer": "provenance.signers",
    "unlock_now": "provenance.signers",
    "parse_role": "provenance.model.choices",
    "parse_copies": "provenance.model.copies",
    "Profile": "provenance.model.choices",
    "WrittenNoteKind": "provenance.model.choices",
    "AttachRole": "provenance.model.choices",
    "TrustStore": "provenance.keys",
    "KeyCard": "provenance.model.keycard",
    "create_key": "provenance.key_admin",
    "set_default_key": "provenance.key_admin",
    "list_keys": "provenance.key_admin",
    "KeyListing": "provenance.key_admin",
    "import_key_cards": "provenance.key_admin",
    "ImportResult": "provenance.key_admin",
    "key_card_bytes": "provenance.key_admin",
    "export_key_card": "provenance.key_admin",
    "export_key_cards": "provenance.key_admin",
    "revoke_key": "provenance.keys:revoke",
    "parse_when": "provenance.keys",
    "private_key_path": "provenance.keys",
    # the model
    "Manifest": "provenance.model.manifest",
    "State": "provenance.model.manifest",
    "Event": "provenance.model.manifest",
    "Note": "provenance.model.manifest",
    "FileEntry": "provenance.model.manifest",
    "Catalogue": "provenance.model.catalogue",
    "CATALOGUE_FIELDS": "provenance.model.catalogue",
    "EventType": "provenance.model.events",
    "Role": "provenance.model.events",
    "utc_now": "provenance.model.timefmt",
    "parse_utc": "provenance.model.timefmt",
    "format_utc": "provenance.model.timefmt",
    # errors
    "ErrorCode": "provenance.errors",
    "ProvenanceError": "provenance.errors",
    "UsageError": "provenance.errors",
    "NotFoundError": "provenance.errors",
    "ConflictError": "provenance.errors",
    "InputError": "provenance.errors",
    "KeyStoreError": "provenance.errors",
    "PolicyError": "provenance.errors",
    "StorageError": "provenance.errors",
    "UnavailableError": "provenance.errors",
    "UnverifiedError": "provenance.errors",
    "WorkerDiedError": "provenance.errors",
    "ERROR_CLASS": "provenance.errors",
    "error": "provenance.errors",
}

# the same names as _EXPORTS, written out so that linters and type checkers read them (a test compares)
__all__ = [
    "CATALOGUE_FIELDS",
    "EDITIONS",
    "ERROR_CLASS",
    "EXPORTERS",
    "PASSPHRASE_ENV",
    "AgentStarted",
    "Archive",
    "AttachRole",
    "BatchPlan",
    "BatchResult",
    "Catalogue",
    "ConflictError",
    "Edition",
    "ErrorCode",
    "Event",
    "EventType",
    "FileEntry",
    "ImportResult",
    "InputError",
    "KeyCard",
    "KeyListing",
    "KeyStoreError",
    "LogOptions",
    "Manifest",
    "NotFoundError",
    "Note",
    "Passphrase",
    "PolicyError",
    "Prefetch",
    "Problem",
    "ProblemCode",
    "Profile",
    "ProvenanceError",
    "Role",
    "SearchFilters",
    "SearchResults",
    "SheetProblem",
    "Signer",
    "State",
    "StorageError",
    "TargetKind",
    "TrustState",
    "TrustStore",
    "UnavailableError",
    "UnverifiedError",
    "UsageError",
    "VerificationReport",
    "VerifyContext",
    "VerifyOutcome",
    "WorkerDiedError",
    "WrittenNoteKind",
    "__version__",
    "add_cosignatures",
    "agent_status",
    "attach",
    "audit_log",
    "catalogue_rows",
    "change_catalogue",
    "check_audit_plan",
    "check_audit_report",
    "choose_signer",
    "consistency_proof",
    "create_key",
    "custody",
    "diff_versions",
    "edition",
    "enable_log",
    "error",
    "export",
    "export_key_card",
    "export_key_cards",
    "fetch_for_verify",
    "format_utc",
    "import_key_cards",
    "import_notes",
    "import_ocfl",
    "index_status",
    "ingest_file",
    "init_archive",
    "is_remote",
    "key_card_bytes",
    "list_keys",
    "list_records",
    "log_checkpoint",
    "note",
    "open_archive",
    "open_audit",
    "parse_copies",
    "parse_role",
    "parse_size",
    "parse_utc",
    "parse_when",
    "plan_audit",
    "plan_batch",
    "private_key_path",
    "prov_document",
    "provenance_home",
    "read_annotations",
    "read_limited",
    "read_record",
    "record_at",
    "release",
    "remote_url",
    "resolve_jobs",
    "review",
    "revise",
    "revoke_key",
    "run_audit",
    "run_batch",
    "search_filters",
    "search_records",
    "set_default_key",
    "start_agent",
    "stop_agent",
    "target_kind",
    "timestamp_checkpoint",
    "translate",
    "unlock_now",
    "unpack",
    "utc_now",
    "verifier_context",
    "verify_batch",
    "verify_path",
    "verify_target",
    "witness_cosign",
    "witness_init",
    "worst_state",
]


def __getattr__(name: str) -> "Any":
    """Import a public name on first use, then keep it in the module (the next access costs nothing)."""
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'provenance' has no attribute {name!r}")
    from importlib import import_module

    module, _, attr = target.partition(":")
    value = getattr(import_module(module), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from typing import Any

    from provenance.api import (
        attach,
        change_catalogue,
        custody,
        import_notes,
        ingest_file,
        init_archive,
        note,
        open_archive,
        prov_document,
        read_annotations,
        read_record,
        record_at,
        release,
        review,
        revise,
        translate,
        verify_path,
    )
    from provenance.archive import Archive
    from provenance.audit.check import check_report as check_audit_report
    from provenance.audit.run import check_plan as check_audit_plan
    from provenance.audit.run import make_plan as plan_audit
    from provenance.audit.run import prepare as open_audit
    from provenance.audit.run import run_audit
    from provenance.audit.source import fetch_for_verify, is_remote, remote_url
    from provenance.batch.plan import BatchPlan, BatchResult
    from provenance.batch.plan import make_plan as plan_batch
    from provenance.batch.plan import run_plan as run_batch
    from provenance.batch.problems import SheetProblem
    from provenance.bundle.entries import parse_size
    from provenance.diff import diff_versions
    from provenance.errors import (
        ERROR_CLASS,
        ConflictError,
        ErrorCode,
        InputError,
        KeyStoreError,
        NotFoundError,
        PolicyError,
        ProvenanceError,
        StorageError,
        UnavailableError,
        UnverifiedError,
        UsageError,
        error,
    )
    from provenance.fsio import read_limited
    from provenance.history import Signer
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
    from provenance.keys import TrustStore, parse_when, private_key_path, provenance_home
    from provenance.keys import revoke as revoke_key
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
    from provenance.model.catalogue import CATALOGUE_FIELDS, Catalogue
    from provenance.model.choices import AttachRole, Profile, WrittenNoteKind, parse_role
    from provenance.model.copies import parse_copies
    from provenance.model.events import EventType, Role
    from provenance.model.keycard import KeyCard
    from provenance.model.manifest import Event, FileEntry, Manifest, Note, State
    from provenance.model.problems import Problem, ProblemCode, TrustState, VerificationReport, worst_state
    from provenance.model.timefmt import format_utc, parse_utc, utc_now
    from provenance.publish import EDITIONS, EXPORTERS, Edition, edition, export, import_ocfl, unpack
    from provenance.search import Filters as SearchFilters
    from provenance.search import Found as SearchResults
    from provenance.search import catalogue_rows, list_records
    from provenance.services import (
        AgentStarted,
        agent_status,
        index_status,
        search_filters,
        search_records,
        start_agent,
        stop_agent,
    )
    from provenance.signers import PASSPHRASE_ENV, Passphrase, choose_signer, unlock_now
    from provenance.trust import verifier_context
    from provenance.verify.batch import Outcome as VerifyOutcome
    from provenance.verify.batch import TargetKind, verify_batch
    from provenance.verify.prefetch import Prefetch
    from provenance.verify.record import LogOptions, VerifyContext
    from provenance.verify.target import kind_of as target_kind
    from provenance.verify.target import verify_path as verify_target
    from provenance.verify.workers import resolve_jobs
