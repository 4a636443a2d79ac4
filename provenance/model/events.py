"""The event vocabulary, aligned with PREMIS.

Each event type of ours maps to a term of the Library of Congress PREMIS eventType vocabulary
(https://id.loc.gov/vocabulary/preservation/eventType, 2017 revision). PREMIS has no terms for the
scholarly work on a text, so transcription, translation and annotation form a small local list under
``provenance:``; the README documents both.
"""

from __future__ import annotations

from enum import StrEnum

PREMIS_BASE = "http://id.loc.gov/vocabulary/preservation/eventType/"
LOCAL_BASE = "provenance:eventType/"


class EventType(StrEnum):
    """Event types a record's history can hold."""

    REGISTRATION = "registration"
    TRANSCRIPTION = "transcription"
    TRANSLATION = "translation"
    ANNOTATION = "annotation"
    REVISION = "revision"
    METADATA_CHANGE = "metadata-change"
    ATTACHMENT = "attachment"
    REVIEW = "review"
    CUSTODY_TRANSFER = "custody-transfer"
    RELEASE = "release"
    FIXITY_CHECK = "fixity-check"


# (label, URI) of the PREMIS term, or of our local term where PREMIS has none.
PREMIS_EVENT_TYPES: dict[EventType, tuple[str, str]] = {
    EventType.REGISTRATION: ("ingestion", PREMIS_BASE + "ing"),
    EventType.TRANSCRIPTION: ("transcription", LOCAL_BASE + "transcription"),
    EventType.TRANSLATION: ("translation", LOCAL_BASE + "translation"),
    EventType.ANNOTATION: ("annotation", LOCAL_BASE + "annotation"),
    EventType.REVISION: ("modification", PREMIS_BASE + "mod"),
    EventType.METADATA_CHANGE: ("metadata modification", PREMIS_BASE + "mem"),
    EventType.ATTACHMENT: ("capture", PREMIS_BASE + "cap"),
    EventType.REVIEW: ("validation", PREMIS_BASE + "val"),
    EventType.CUSTODY_TRANSFER: ("transfer", PREMIS_BASE + "tra"),
    EventType.RELEASE: ("dissemination", PREMIS_BASE + "dis"),
    EventType.FIXITY_CHECK: ("fixity check", PREMIS_BASE + "fix"),
}


class Role(StrEnum):
    """Roles a key card may hold."""

    ARCHIVIST = "archivist"
    TRANSCRIBER = "transcriber"
    TRANSLATOR = "translator"
    REVIEWER = "reviewer"
    CUSTODIAN = "custodian"
    PUBLISHER = "publisher"
    AUDITOR = "auditor"
    LOG = "log"  # transparency log: signs the archive's checkpoints, never an event
    WITNESS = "witness"  # a partner's witness: cosigns checkpoints, never an event


_ANY = frozenset(Role) - {Role.LOG, Role.WITNESS}

# The default roles policy: which roles may sign which events. An archive may override it in its
# configuration file (``[roles]`` table of provenance.toml).
DEFAULT_POLICY: dict[EventType, frozenset[Role]] = {
    EventType.REGISTRATION: frozenset({Role.ARCHIVIST}),
    EventType.TRANSCRIPTION: frozenset({Role.ARCHIVIST, Role.TRANSCRIBER}),
    EventType.TRANSLATION: frozenset({Role.ARCHIVIST, Role.TRANSLATOR}),
    EventType.ANNOTATION: frozenset({Role.ARCHIVIST, Role.TRANSLATOR, Role.TRANSCRIBER, Role.REVIEWER}),
    EventType.REVISION: frozenset({Role.ARCHIVIST, Role.TRANSCRIBER, Role.TRANSLATOR}),
    EventType.METADATA_CHANGE: frozenset({Role.ARCHIVIST}),
    EventType.ATTACHMENT: frozenset({Role.ARCHIVIST, Role.TRANSCRIBER, Role.TRANSLATOR}),
    EventType.REVIEW: frozenset({Role.REVIEWER}),
    EventType.CUSTODY_TRANSFER: frozenset({Role.ARCHIVIST, Role.CUSTODIAN}),
    EventType.RELEASE: frozenset({Role.PUBLISHER}),
    EventType.FIXITY_CHECK: _ANY,
}
