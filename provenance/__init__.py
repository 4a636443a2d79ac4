"""provenance: signed, hash-chained provenance records for historical transcriptions.

The public API, documented in ``docs/api.md``, is a small core in ``__all__`` and a few namespaces:

- the core (below): open or create an archive, register a transcription and record its history, read a
  record, verify a record or bundle against your own trust store (a :class:`VerificationReport` of coded
  problems, :class:`ProblemCode`), export or unpack it, choose a signer; every failure a
  :class:`ProvenanceError` with a stable :class:`ErrorCode`;
- :mod:`provenance.records`: the record model, its choices, reading a version, diffs, PROV, search;
- :mod:`provenance.verifying`: the parts ``verify`` is made of (contexts, batches over processes, …);
- :mod:`provenance.collections`: many records at once (``ingest-batch`` plans, audits at scale);
- :mod:`provenance.publishing`: the other export formats, readers' editions, OCFL import;
- :mod:`provenance.keyring`: key cards, private keys, passphrases, the signing agent;
- :mod:`provenance.transparency`: the transparency log and a partner's witness;
- :mod:`provenance.rendering`: showing library output safely (escaping, bounded error lines);
- :mod:`provenance.exceptions`: the exception classes, one per kind of failure, and code → class.

Each namespace lists its names in its own ``__all__``; anything else in the package is internal and may
change. ``import provenance`` stays light: each name (and each namespace) is imported when first used
(module ``__getattr__``), so a command line built on it starts as fast as before.
"""

TYPE_CHECKING = False  # typing is not imported at run time: `import provenance` costs next to nothing

__version__ = "0.1.0"

# module → its public names here ("public=internal" where the module calls it otherwise); the same names
# as __all__ and as the imports for type checkers below (tests/test_public_api.py compares the three)
_EXPORTS = {
    "provenance.archive": "Archive",
    "provenance.api": "init_archive open_archive verify_path ingest_file note custody revise review release "
    "change_catalogue attach translate import_notes read_record",
    "provenance.model.problems": "VerificationReport TrustState Problem ProblemCode",
    "provenance.publish": "export unpack",
    "provenance.keys": "TrustStore",
    "provenance.history": "Signer",
    "provenance.signers": "Passphrase choose_signer",
    "provenance.model.events": "EventType Role",
    "provenance.model.manifest": "Manifest",
    "provenance.errors": "ErrorCode ProvenanceError",
}
# the public namespaces, each a module of this package with its own __all__ (imported on first use too)
_GROUPS = (
    "records", "verifying", "collections", "publishing", "keyring", "transparency", "rendering", "exceptions"
)

__all__ = [
    "Archive",
    "ErrorCode",
    "EventType",
    "Manifest",
    "Passphrase",
    "Problem",
    "ProblemCode",
    "ProvenanceError",
    "Role",
    "Signer",
    "TrustState",
    "TrustStore",
    "VerificationReport",
    "__version__",
    "attach",
    "change_catalogue",
    "choose_signer",
    "custody",
    "export",
    "import_notes",
    "ingest_file",
    "init_archive",
    "note",
    "open_archive",
    "read_record",
    "release",
    "review",
    "revise",
    "translate",
    "unpack",
    "verify_path",
]


def _exports(table: "dict[str, str]") -> "dict[str, tuple[str, str]]":
    """public name → (module, name there), from a table of module → its public names."""
    found: dict[str, tuple[str, str]] = {}
    for module, names in table.items():
        for item in names.split():
            public, _, internal = item.partition("=")
            found[public] = (module, internal or public)
    return found


def _lazy(
    namespace: "dict[str, Any]", table: "dict[str, str]", groups: "tuple[str, ...]" = ()
) -> "tuple[Callable[[str], Any], Callable[[], list[str]]]":
    """The module ``__getattr__`` and ``__dir__`` of a public namespace: a name of ``table`` (or a submodule
    named in ``groups``) is imported on first use, then kept in the module (the next access costs nothing)."""
    exports = _exports(table)

    def get(name: str) -> "Any":
        from importlib import import_module

        if name in groups:
            return import_module(f"{namespace['__name__']}.{name}")
        if name not in exports:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        module, attr = exports[name]
        value = getattr(import_module(module), attr)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted({*namespace, *exports, *groups})

    return get, names


if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS, _GROUPS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from collections.abc import Callable
    from typing import Any

    from provenance import collections as collections
    from provenance import exceptions as exceptions
    from provenance import keyring as keyring
    from provenance import publishing as publishing
    from provenance import records as records
    from provenance import rendering as rendering
    from provenance import transparency as transparency
    from provenance import verifying as verifying
    from provenance.api import (
        attach,
        change_catalogue,
        custody,
        import_notes,
        ingest_file,
        init_archive,
        note,
        open_archive,
        read_record,
        release,
        review,
        revise,
        translate,
        verify_path,
    )
    from provenance.archive import Archive
    from provenance.errors import ErrorCode, ProvenanceError
    from provenance.history import Signer
    from provenance.keys import TrustStore
    from provenance.model.events import EventType, Role
    from provenance.model.manifest import Manifest
    from provenance.model.problems import Problem, ProblemCode, TrustState, VerificationReport
    from provenance.publish import export, unpack
    from provenance.signers import Passphrase, choose_signer
