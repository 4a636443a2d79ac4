"""The closed sets a caller chooses from, as enums: the library checks every value it is given against them
(a coded :class:`~provenance.errors.UsageError`, never a raw ``ValidationError``), and the CLI's options are
typed with them, so ``--help`` lists the choices.

The on-disk models (``FileEntry.role``, ``Note.kind`` in :mod:`provenance.model.manifest`) keep ``Literal``
types, which pydantic validates faster over a dossier of many files; ``tests/test_choices.py`` holds the
enums, those literals and the published JSON Schemas to the same values.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from provenance.errors import ErrorCode, UsageError
from provenance.model.events import Role


class FileRole(StrEnum):
    """What a file of a record is."""

    TRANSCRIPTION = "transcription"
    TRANSLATION = "translation"
    ORIGINAL = "original"
    SCAN = "scan"
    ATTACHMENT = "attachment"


class AttachRole(StrEnum):
    """The roles ``attach`` gives a file (the transcription is registered by ingest and replaced by revise)."""

    ORIGINAL = FileRole.ORIGINAL.value
    SCAN = FileRole.SCAN.value
    TRANSLATION = FileRole.TRANSLATION.value
    ATTACHMENT = FileRole.ATTACHMENT.value


class NoteKind(StrEnum):
    """What a note is."""

    EDITORIAL_INSERTION = "editorial-insertion"
    TRANSLATION = "translation"
    EDITORIAL = "editorial"
    COMMENT = "comment"
    CORRECTION = "correction"


class WrittenNoteKind(StrEnum):
    """The kinds of note a person adds (editorial-insertion notes are made by ingest from the brackets)."""

    TRANSLATION = NoteKind.TRANSLATION.value
    EDITORIAL = NoteKind.EDITORIAL.value
    COMMENT = NoteKind.COMMENT.value
    CORRECTION = NoteKind.CORRECTION.value


class Profile(StrEnum):
    """How ingest reads catalogue fields from a transcription: ``auto`` is telegram when the header is found."""

    AUTO = "auto"
    TELEGRAM = "telegram"
    GENERIC = "generic"


E = TypeVar("E", bound=StrEnum)


def choose(choices: type[E], value: object, what: str) -> E:
    """``value`` as a member of ``choices``; raises ``UsageError(usage.invalid)`` naming ``what`` and the
    choices otherwise (any type is checked: a library caller may pass anything)."""
    if isinstance(value, str):
        try:
            return choices(value)
        except ValueError:
            pass
    known = ", ".join(member.value for member in choices)
    raise UsageError(ErrorCode.USAGE, f"{what} {value!r} is not one of: {known}", field=what)


def parse_role(value: object) -> Role:
    """``value`` as a :class:`Role`; raises ``UsageError(role.unknown)`` listing the roles otherwise."""
    if isinstance(value, str):
        try:
            return Role(value)
        except ValueError:
            pass
    known = ", ".join(r.value for r in Role)
    raise UsageError(ErrorCode.ROLE_UNKNOWN, f"unknown role {value!r} (known: {known})")
