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
    "PROFILES": "provenance.api",
    "NOTE_KINDS": "provenance.api",
    "FILE_ROLES": "provenance.api",
    "REVIEW_OUTCOMES": "provenance.api",
    # reading a record
    "read_record": "provenance.api",
    "record_at": "provenance.api",
    "diff_versions": "provenance.diff",
    "prov_document": "provenance.api",
    # exporting, reading bundles
    "export": "provenance.api",
    "edition": "provenance.api",
    "Edition": "provenance.api",
    "unpack": "provenance.api",
    "import_ocfl": "provenance.api",
    "EXPORTERS": "provenance.api",
    "EDITIONS": "provenance.api",
    # signers and keys
    "Signer": "provenance.history",
    "Passphrase": "provenance.signers",
    "PASSPHRASE_ENV": "provenance.signers",
    "choose_signer": "provenance.signers",
    "unlock_now": "provenance.signers",
    "parse_role": "provenance.signers",
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
}

# the same names as _EXPORTS, written out so that linters and type checkers read them (a test compares)
__all__ = [
    "CATALOGUE_FIELDS",
    "EDITIONS",
    "EXPORTERS",
    "FILE_ROLES",
    "NOTE_KINDS",
    "PASSPHRASE_ENV",
    "PROFILES",
    "REVIEW_OUTCOMES",
    "Archive",
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
    "Manifest",
    "NotFoundError",
    "Note",
    "Passphrase",
    "PolicyError",
    "Problem",
    "ProblemCode",
    "ProvenanceError",
    "Role",
    "Signer",
    "State",
    "StorageError",
    "TrustState",
    "TrustStore",
    "UsageError",
    "VerificationReport",
    "VerifyContext",
    "__version__",
    "attach",
    "change_catalogue",
    "choose_signer",
    "create_key",
    "custody",
    "diff_versions",
    "edition",
    "export",
    "export_key_card",
    "export_key_cards",
    "format_utc",
    "import_key_cards",
    "import_notes",
    "import_ocfl",
    "ingest_file",
    "init_archive",
    "key_card_bytes",
    "list_keys",
    "note",
    "open_archive",
    "parse_role",
    "parse_utc",
    "parse_when",
    "private_key_path",
    "prov_document",
    "read_annotations",
    "read_record",
    "record_at",
    "release",
    "review",
    "revise",
    "revoke_key",
    "set_default_key",
    "translate",
    "unlock_now",
    "unpack",
    "utc_now",
    "verifier_context",
    "verify_path",
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
        EDITIONS,
        EXPORTERS,
        FILE_ROLES,
        NOTE_KINDS,
        PROFILES,
        REVIEW_OUTCOMES,
        Edition,
        attach,
        change_catalogue,
        custody,
        edition,
        export,
        import_notes,
        import_ocfl,
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
        unpack,
        verify_path,
    )
    from provenance.archive import Archive
    from provenance.diff import diff_versions
    from provenance.errors import (
        ConflictError,
        ErrorCode,
        InputError,
        KeyStoreError,
        NotFoundError,
        PolicyError,
        ProvenanceError,
        StorageError,
        UsageError,
    )
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
    from provenance.keys import TrustStore, parse_when, private_key_path
    from provenance.keys import revoke as revoke_key
    from provenance.model.catalogue import CATALOGUE_FIELDS, Catalogue
    from provenance.model.events import EventType, Role
    from provenance.model.keycard import KeyCard
    from provenance.model.manifest import Event, FileEntry, Manifest, Note, State
    from provenance.model.problems import Problem, ProblemCode, TrustState, VerificationReport
    from provenance.model.timefmt import format_utc, parse_utc, utc_now
    from provenance.signers import PASSPHRASE_ENV, Passphrase, choose_signer, parse_role, unlock_now
    from provenance.trust import verifier_context
    from provenance.verify.record import VerifyContext
