"""One exception hierarchy for every failure a command reports.

Each error carries a stable dotted ``code`` (documented in the README). Each code belongs to exactly one
class, by :data:`ERROR_CLASS` (a ``UsageError`` never carries ``record.exists``); ``tests/test_error_model.py``
checks every raise site against it. Exit codes are the command line's business (``provenance.cli.exits``),
not the library's. Messages are one line a person can act on and name no command-line option (the CLI adds
its hints by code); tests assert codes, never messages.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class ErrorCode(StrEnum):
    """Stable codes for failures that stop a command; :data:`ERROR_CLASS` gives each its class."""

    USAGE = "usage.invalid"
    ARCHIVE_NOT_FOUND = "archive.not-found"
    ARCHIVE_EXISTS = "archive.exists"
    ARCHIVE_LOCKED = "archive.locked"
    ARCHIVE_CONFIG = "archive.config-invalid"
    RECORD_NOT_FOUND = "record.not-found"
    RECORD_EXISTS = "record.exists"
    RECORD_ID_INVALID = "record.id-invalid"
    RECORD_CORRUPT = "record.corrupt"
    INPUT_NOT_FOUND = "input.not-found"
    INPUT_UNREADABLE = "input.unreadable"
    INPUT_EMPTY = "input.empty"
    INPUT_ENCODING = "input.not-utf8"
    INPUT_PATH_UNSAFE = "input.path-unsafe"
    METADATA_INVALID = "metadata.invalid"
    PROFILE_NO_MATCH = "profile.no-match"
    KEY_NOT_FOUND = "key.not-found"
    KEY_AMBIGUOUS = "key.ambiguous"
    KEY_NO_DEFAULT = "key.none-usable"
    KEY_PASSPHRASE_MISSING = "key.passphrase-missing"
    KEY_PASSPHRASE_WRONG = "key.passphrase-wrong"
    KEY_WEAK = "key.weak"
    KEY_MALFORMED = "key.malformed"
    KEY_REVOKED = "key.revoked"
    KEY_EXPIRED = "key.expired"
    KEY_CONFLICT = "key.conflict"
    ROLE_NOT_ALLOWED = "role.not-allowed"
    ROLE_UNKNOWN = "role.unknown"
    EVENT_UNKNOWN = "event.unknown-type"
    NOTE_QUOTE_NOT_FOUND = "note.quote-not-found"
    NOTE_QUOTE_AMBIGUOUS = "note.quote-ambiguous"
    REVISION_UNCHANGED = "revision.unchanged"
    VERSION_NOT_FOUND = "version.not-found"
    FILE_NOT_IN_RECORD = "file.not-in-record"
    OUTPUT_EXISTS = "output.exists"
    WRITE_FAILED = "io.write-failed"
    BUNDLE_UNREADABLE = "bundle.unreadable"
    # transparency log (issue 10)
    LOG_KEY_MISSING = "log.key-missing"
    LOG_DAMAGED = "log.damaged"
    LOG_NOT_ENABLED = "log.not-enabled"
    LOG_INPUT_INVALID = "log.input-invalid"
    WITNESS_UNKNOWN_LOG = "witness.unknown-log"
    WITNESS_BAD_SIGNATURE = "witness.bad-signature"
    WITNESS_CONFLICT = "witness.conflict"
    WITNESS_BAD_PROOF = "witness.bad-proof"
    # audit at scale (issue 16)
    STORAGE_UNAVAILABLE = "storage.unavailable"
    SCHEDULER_UNREACHABLE = "audit.scheduler-unreachable"
    EXTRA_MISSING = "dependency.missing"
    # issue 9 (i9-rules): no link followed in an archive; bounded work on hostile input (README "Limits")
    ARCHIVE_PATH_UNSAFE = "archive.path-unsafe"
    INPUT_TOO_MANY_NOTES = "input.too-many-notes"
    ARCHIVE_TOO_MANY_RECORDS = "archive.too-many-records"
    RECORD_TOO_MANY_FILES = "record.too-many-files"
    KEYS_TOO_MANY = "keys.too-many"
    RECORD_TOO_LARGE = "record.too-large"
    # readers (page, export --format tei|annotations, note --from-annotations): a source that does not
    # verify as trusted is refused (exit 1 invalid, 3 valid), and a Web Annotation collection that cannot be read
    SOURCE_INVALID = "source.invalid"
    SOURCE_NOT_TRUSTED = "source.not-trusted"
    ANNOTATIONS_INVALID = "annotations.invalid"
    # issue 14 (newcomer): `verify notes.txt`, a file that is neither a record nor a bundle (exit 2)
    INPUT_NOT_VERIFIABLE = "input.not-verifiable"
    # i11-collections: ingest-batch, the signing agent, the search index
    SHEET_INVALID = "batch.sheet-invalid"
    BATCH_REFUSED = "batch.refused"
    DEPENDENCY_MISSING = "dependency.missing"
    AGENT_UNAVAILABLE = "agent.unavailable"
    AGENT_SOCKET_UNSAFE = "agent.socket-unsafe"
    AGENT_RUNNING = "agent.running"
    AGENT_REFUSED = "agent.refused"
    INDEX_UNAVAILABLE = "index.unavailable"
    # signer identity (issue 17): names, rotation statements, private key files
    KEY_NAME_CONFUSABLE = "key.name-confusable"
    KEY_ROTATION_UNPROVEN = "key.rotation-unproven"
    KEY_ROTATION_WIDENS = "key.rotation-widens"
    KEY_FILE_UNSAFE = "key.file-unsafe"


# Bounded messages (issue 17): no error line or JSON error carries more than a few hundred characters of
# user input, whatever a field held (a 900,000-character title gives a short line naming the field and the
# value's length). Every ProvenanceError and every line main() writes passes through bound_message.
MAX_MESSAGE = 600
MAX_DETAIL = 200


def clip(text: str, limit: int = MAX_DETAIL) -> str:
    """``text`` if short, else its start, an ellipsis and its length: ``'aaaa…' (900,000 characters)``."""
    if len(text) <= limit:
        return text
    return f"{text[: max(limit - 40, 16)]}… ({len(text):,} characters)"


def bound_message(message: str, limit: int = MAX_MESSAGE) -> str:
    """A message of at most about ``limit`` characters: a long middle (quoted user input) is cut, its length
    said, and the start (what failed, the field) and the end (what to do) are kept."""
    if len(message) <= limit:
        return message
    head, tail = message[: limit * 2 // 3], message[-(limit // 4) :]
    return f"{head} … [{len(message) - len(head) - len(tail):,} characters cut] … {tail}"


def bound_details(details: dict[str, object]) -> dict[str, object]:
    """Details for JSON with every string (and every string in a list) clipped."""
    out: dict[str, object] = {}
    for key, value in details.items():
        if isinstance(value, str):
            out[key] = clip(value)
        elif isinstance(value, list) and len(value) > 50:
            out[key] = [clip(v) if isinstance(v, str) else v for v in value[:50]] + [f"… {len(value) - 50} more"]
        elif isinstance(value, list):
            out[key] = [clip(v) if isinstance(v, str) else v for v in value]
        else:
            out[key] = value
    return out


class ProvenanceError(Exception):
    """Base of every error a command reports to a person: a stable ``code``, a one-line ``message``, and
    structured ``details`` (``path``, ``record``, ``key``, ``param`` naming the caller's parameter, …)."""

    def __init__(self, code: ErrorCode, message: str, **details: object) -> None:
        message = bound_message(message)
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = bound_details(details)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"code": str(self.code), "message": self.message}
        out.update({k: v for k, v in self.details.items() if v is not None})
        return out


class UsageError(ProvenanceError):
    """Bad usage: an option, value or combination that cannot be acted on."""


class NotFoundError(ProvenanceError):
    """A path, archive, record, key or version that does not exist."""


class ConflictError(ProvenanceError):
    """Something already exists or is locked."""


class InputError(ProvenanceError):
    """An input file or sidecar that cannot be accepted as it is."""


class KeyStoreError(ProvenanceError):
    """A key that cannot be found, unlocked or accepted."""


class PolicyError(ProvenanceError):
    """An action the roles policy or a key's validity does not allow."""


class StorageError(ProvenanceError):
    """A write that failed (disk full, read-only archive); the archive is left as it was."""


class UnavailableError(ProvenanceError):
    """Something outside the archive is not there: an optional extra, the signing agent, a scheduler, the
    search index."""


class UnverifiedError(ProvenanceError):
    """A record or bundle a reader's format is made from does not verify as ``trusted`` (its ``state`` is in
    the details: ``invalid`` or ``valid``)."""

    def __init__(self, code: ErrorCode, message: str, *, state: object = None, **details: object) -> None:
        super().__init__(code, message, state=str(state) if state is not None else None, **details)


E = ErrorCode
# The one table from code to class. A code raised with another class is a bug (tests/test_error_model.py).
ERROR_CLASS: dict[ErrorCode, type[ProvenanceError]] = {
    **dict.fromkeys(
        (E.USAGE, E.ROLE_UNKNOWN, E.EVENT_UNKNOWN, E.RECORD_ID_INVALID, E.INPUT_NOT_VERIFIABLE, E.KEY_AMBIGUOUS),
        UsageError,
    ),
    **dict.fromkeys(
        (E.ARCHIVE_NOT_FOUND, E.RECORD_NOT_FOUND, E.INPUT_NOT_FOUND, E.KEY_NOT_FOUND, E.KEY_NO_DEFAULT,
         E.VERSION_NOT_FOUND, E.FILE_NOT_IN_RECORD, E.LOG_NOT_ENABLED),
        NotFoundError,
    ),
    **dict.fromkeys(
        (E.ARCHIVE_EXISTS, E.ARCHIVE_LOCKED, E.RECORD_EXISTS, E.OUTPUT_EXISTS, E.KEY_CONFLICT,
         E.KEY_NAME_CONFUSABLE, E.WITNESS_CONFLICT, E.AGENT_RUNNING),
        ConflictError,
    ),
    **dict.fromkeys(
        (E.ARCHIVE_CONFIG, E.RECORD_CORRUPT, E.INPUT_UNREADABLE, E.INPUT_EMPTY, E.INPUT_ENCODING,
         E.INPUT_PATH_UNSAFE, E.METADATA_INVALID, E.PROFILE_NO_MATCH, E.NOTE_QUOTE_NOT_FOUND,
         E.NOTE_QUOTE_AMBIGUOUS, E.REVISION_UNCHANGED, E.BUNDLE_UNREADABLE, E.LOG_DAMAGED, E.LOG_INPUT_INVALID,
         E.WITNESS_UNKNOWN_LOG, E.WITNESS_BAD_SIGNATURE, E.WITNESS_BAD_PROOF, E.ARCHIVE_PATH_UNSAFE,
         E.INPUT_TOO_MANY_NOTES, E.ARCHIVE_TOO_MANY_RECORDS, E.RECORD_TOO_MANY_FILES, E.KEYS_TOO_MANY,
         E.RECORD_TOO_LARGE, E.ANNOTATIONS_INVALID, E.SHEET_INVALID, E.BATCH_REFUSED),
        InputError,
    ),
    **dict.fromkeys(
        (E.KEY_PASSPHRASE_MISSING, E.KEY_PASSPHRASE_WRONG, E.KEY_WEAK, E.KEY_MALFORMED, E.KEY_FILE_UNSAFE,
         E.KEY_ROTATION_UNPROVEN, E.KEY_ROTATION_WIDENS, E.LOG_KEY_MISSING, E.AGENT_SOCKET_UNSAFE,
         E.AGENT_REFUSED),
        KeyStoreError,
    ),
    **dict.fromkeys((E.ROLE_NOT_ALLOWED, E.KEY_REVOKED, E.KEY_EXPIRED), PolicyError),
    **dict.fromkeys((E.WRITE_FAILED, E.STORAGE_UNAVAILABLE), StorageError),
    **dict.fromkeys(
        (E.EXTRA_MISSING, E.AGENT_UNAVAILABLE, E.SCHEDULER_UNREACHABLE, E.INDEX_UNAVAILABLE), UnavailableError
    ),
    **dict.fromkeys((E.SOURCE_INVALID, E.SOURCE_NOT_TRUSTED), UnverifiedError),
}
del E


def error(code: ErrorCode, message: str, **details: object) -> ProvenanceError:
    """The error of ``code``, of the class :data:`ERROR_CLASS` gives it (for callers that pick a code at run
    time: ``raise error(code, message)``)."""
    return ERROR_CLASS[code](code, message, **details)


def validation_detail(exc: ValidationError) -> tuple[str, str]:
    """The first problem of a pydantic ``ValidationError`` as (dotted field path, message)."""
    from provenance.model.locations import field_name

    first = exc.errors()[0]
    where = field_name(first["loc"])
    return clip(where), bound_message(first["msg"], 300)
