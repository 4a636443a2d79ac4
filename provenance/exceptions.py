"""The exception classes, one per kind of failure, all subclasses of
:class:`provenance.ProvenanceError` (whose stable :class:`provenance.ErrorCode` says exactly what failed),
``ERROR_CLASS`` (the one table from code to class) and ``error`` (the exception of a code). See
``docs/api.md``, "Errors".
"""

from provenance import _lazy

TYPE_CHECKING = False

# module → its public names here ("public=internal" where the module calls it otherwise)
_EXPORTS = {
    "provenance.errors": "UsageError NotFoundError ConflictError InputError KeyStoreError PolicyError StorageError UnavailableError UnverifiedError WorkerDiedError ERROR_CLASS error",
}

__all__ = [
    "ERROR_CLASS",
    "ConflictError",
    "InputError",
    "KeyStoreError",
    "NotFoundError",
    "PolicyError",
    "StorageError",
    "UnavailableError",
    "UnverifiedError",
    "UsageError",
    "WorkerDiedError",
    "error",
]

if not TYPE_CHECKING:  # for type checkers an unknown name is an error, not Any
    __getattr__, __dir__ = _lazy(globals(), _EXPORTS)

if TYPE_CHECKING:  # what type checkers and editors see; at run time each is imported on first use
    from provenance.errors import (
        ERROR_CLASS,
        ConflictError,
        InputError,
        KeyStoreError,
        NotFoundError,
        PolicyError,
        StorageError,
        UnavailableError,
        UnverifiedError,
        UsageError,
        WorkerDiedError,
        error,
    )
