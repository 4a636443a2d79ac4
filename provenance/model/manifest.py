"""The record manifest: current state (catalogue, files, notes) and the signed, hash-chained event log.

Design record (unknown fields): every model forbids fields it does not know. A manifest written by a
newer tool declares a newer ``format`` and is refused as ``manifest.unsupported-format`` rather than
half-understood; an unknown field under a known format is ``manifest.schema``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from provenance.model.catalogue import LANGUAGE_PATTERN, Catalogue
from provenance.model.events import EventType, Role
from provenance.model.identity import check_identity
from provenance.model.timefmt import UTC_PATTERN, check_utc

MANIFEST_FORMAT: Final = "provenance-manifest/1"
RECORD_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
KEY_ID_PATTERN = r"^ed25519:[0-9a-f]{64}$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
HEX256_PATTERN = r"^[0-9a-f]{64}$"
# 64 bytes, base64url without padding (RFC 4648 section 5), canonical: 86 characters carry 516 bits, so the
# last one must leave its low 4 bits zero (A, Q, g, w). Otherwise one signature has 16 spellings, each
# verifying, each giving the event (and the record's head) another digest.
SIGNATURE_PATTERN = r"^[A-Za-z0-9_-]{85}[AQgw]$"
# Domain separation: the context string is prefixed to the canonical bytes of every signed event, so a
# signature made by this tool can never be replayed as one over another protocol's message.
EVENT_SIGNING_CONTEXT = b"provenance/event/v1\x00"

UtcTime = Annotated[str, Field(pattern=UTC_PATTERN), AfterValidator(check_utc)]
RecordId = Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
KeyId = Annotated[str, Field(pattern=KEY_ID_PATTERN)]
Digest = Annotated[str, Field(pattern=DIGEST_PATTERN)]

_SAFE_SEGMENT = re.compile(r"^[^/\\\x00-\x1f\x7f]+$")
_DRIVE = re.compile(r"^[A-Za-z]:")
# Segments of ASCII letters, digits, '_' and '-' (a '.' inside but never first), each at most 255 bytes:
# such a path has no empty, '.' or '..' segment, no white space, control, backslash or drive letter, and is
# NFC. check_relative_path accepts it at once (with its length at most 1024) and reads any other in full.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}(?:/[A-Za-z0-9_-][A-Za-z0-9._-]{0,254})*")
# Unicode general categories refused in paths: controls (C0, DEL, C1), format characters (bidi controls,
# zero-width characters), surrogates, and line/paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def check_relative_path(path: str) -> str:
    """Validator: a payload path is relative, POSIX, normalised, and never escapes its folder.

    Raises ``ValueError`` for absolute paths, ``..`` or ``.`` segments, empty segments, backslashes,
    control characters, drive letters and over-long names.
    """
    if len(path) <= 1024 and _PLAIN_PATH.fullmatch(path):  # what nearly every path is: passes every check
        return path
    if not path or len(path.encode("utf-8", "surrogatepass")) > 1024:
        raise ValueError("path is empty or longer than 1024 bytes")
    if path.startswith("/") or _DRIVE.match(path):
        raise ValueError(f"absolute path {path!r}")
    for segment in path.split("/"):
        if segment in ("", ".", "..") or not _SAFE_SEGMENT.match(segment):
            raise ValueError(f"unsafe path {path!r}")
        if len(segment.encode("utf-8", "surrogatepass")) > 255:
            raise ValueError(f"path segment longer than 255 bytes in {path!r}")
        if segment != segment.strip():
            raise ValueError(f"path segment with leading or trailing white space in {path!r}")
    if path.isascii():
        # ASCII holds no format, surrogate or separator character, its controls were refused above, and
        # it is always NFC: the checks below cannot fail (and a dossier has thousands of such paths)
        return path
    # Look-alikes: invisible and direction-changing characters (U+202E makes "txt.exe" read "exe.txt"),
    # and a second spelling of the same name (NFD on macOS, NFC elsewhere; UAX #15) are refused.
    for char in path:
        if unicodedata.category(char) in _UNSAFE_CATEGORIES:
            raise ValueError(f"path {path!r} contains the invisible or control character U+{ord(char):04X}")
    if not unicodedata.is_normalized("NFC", path):
        raise ValueError(f"path {path!r} is not in Unicode normalisation form NFC")
    return path


def path_fold(path: str) -> str:
    """The key under which two paths collide: NFKC + case folding (NFD/NFC, "Ａ"/"A" and "A"/"a" meet)."""
    if path.isascii():  # NFKC leaves ASCII as it is, and its case folding is lower()
        return path.lower()
    return unicodedata.normalize("NFKC", path).casefold()


def _fold_all(paths: list[str]) -> list[str]:
    """:func:`path_fold` of each path, in one call of each function over the paths joined by NUL (a
    dossier lists thousands). A valid path holds no NUL; NUL is a starter that composes with nothing and
    that neither NFKC nor case folding produces or changes, and case folding looks at one character at a
    time: so the joined text folds to the folds joined, and splits back into one per path."""
    return path_fold("\x00".join(paths)).split("\x00") if paths else []


RelativePath = Annotated[str, AfterValidator(check_relative_path)]


FileRole = Literal["transcription", "translation", "original", "scan", "attachment"]


# defer_build: each validator is built on first use, so that a command builds only what it uses (verify
# validates a Manifest and key cards: two validators instead of twelve at start-up).
class FileEntry(BaseModel):
    """One file of a record: its path under ``files/``, size and SHA-256 of its exact bytes."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    path: RelativePath
    size: Annotated[int, Field(strict=True, ge=0, le=2**53 - 1)]
    sha256: Annotated[str, Field(pattern=HEX256_PATTERN)]
    media_type: Annotated[str, Field(min_length=1, max_length=255)] = "application/octet-stream"
    role: FileRole = "transcription"
    language: Annotated[str, Field(pattern=LANGUAGE_PATTERN)] | None = None


class TextQuoteSelector(BaseModel):
    """W3C Web Annotation TextQuoteSelector: the exact quote with some context either side."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    type: Literal["TextQuoteSelector"] = "TextQuoteSelector"
    exact: Annotated[str, Field(min_length=1, max_length=65536)]
    prefix: Annotated[str, Field(max_length=1024)] = ""
    suffix: Annotated[str, Field(max_length=1024)] = ""


class TextPositionSelector(BaseModel):
    """W3C Web Annotation TextPositionSelector: code-point offsets, end exclusive."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    type: Literal["TextPositionSelector"] = "TextPositionSelector"
    start: Annotated[int, Field(strict=True, ge=0, le=2**53 - 1)]
    end: Annotated[int, Field(strict=True, ge=0, le=2**53 - 1)]


class NoteTarget(BaseModel):
    """Where a note is anchored: a file of the record, by quote and by position."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    source: RelativePath
    quote: TextQuoteSelector
    position: TextPositionSelector | None = None


NoteKind = Literal["editorial-insertion", "translation", "editorial", "comment", "correction"]


class Note(BaseModel):
    """A translation or editorial note anchored to the text; ``orphaned`` once its quote is gone."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^note-[0-9]{1,9}$")]
    kind: NoteKind
    text: Annotated[str, Field(min_length=1, max_length=65536)]
    target: NoteTarget
    status: Literal["anchored", "orphaned"] = "anchored"
    event: Annotated[int, Field(strict=True, ge=1, le=2**53 - 1)]


class State(BaseModel):
    """The current state of a record; its canonical digest is what each event commits to."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    catalogue: Catalogue = Field(default_factory=Catalogue)
    files: list[FileEntry]
    notes: list[Note] = Field(default_factory=list)
    custodian: Annotated[str, Field(min_length=1, max_length=4096)] | None = None

    @field_validator("files")
    @classmethod
    def _unique_paths(cls, files: list[FileEntry]) -> list[FileEntry]:
        paths = [entry.path for entry in files]
        if len(set(paths)) == len(paths) and len(set(_fold_all(paths))) == len(paths):
            return files  # every path distinct, folded too: decided without a call a path
        seen: set[str] = set()
        folded: set[str] = set()
        for entry in files:
            if entry.path in seen:
                raise ValueError(f"file {entry.path!r} listed twice")
            if path_fold(entry.path) in folded:
                raise ValueError(
                    f"file {entry.path!r} collides with another path when case and Unicode forms are folded"
                )
            seen.add(entry.path)
            folded.add(path_fold(entry.path))
        return files

    def as_json(self) -> dict[str, Any]:
        """The state as plain JSON, unset optional fields left out (this is what is digested)."""
        return self.model_dump(mode="json", exclude_none=True)

    def file(self, path: str) -> FileEntry | None:
        """The entry for ``path``, or None."""
        return next((f for f in self.files if f.path == path), None)


# The fields an event's signature covers, listed explicitly: adding a field to the model does not
# silently change what is signed.
SIGNED_EVENT_FIELDS: tuple[str, ...] = (
    "seq",
    "record",
    "type",
    "premis_type",
    "time",
    "agent",
    "role",
    "key",
    "summary",
    "details",
    "state_digest",
    "previous_digest",
)


class Event(BaseModel):
    """One signed entry of the chain of custody and edit history."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    seq: Annotated[int, Field(strict=True, ge=1, le=2**53 - 1)]
    record: RecordId
    type: EventType
    premis_type: Annotated[str, Field(min_length=1, max_length=255)]
    time: UtcTime
    agent: Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(check_identity)]
    role: Role
    key: KeyId
    summary: Annotated[str, Field(min_length=1, max_length=65536)]
    details: dict[str, Any] = Field(default_factory=dict)
    state_digest: Digest
    previous_digest: Digest | None
    signature: Annotated[str, Field(pattern=SIGNATURE_PATTERN)]


class Manifest(BaseModel):
    """``records/<id>/manifest.json``: one record's current state and its whole event log."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    format: Literal["provenance-manifest/1"] = MANIFEST_FORMAT
    record: RecordId
    state: State
    events: list[Event]

    def as_json(self) -> dict[str, Any]:
        """The manifest as plain JSON, unset optional fields left out."""
        return {
            "format": self.format,
            "record": self.record,
            "state": self.state.as_json(),
            "events": [e.model_dump(mode="json") for e in self.events],
        }
