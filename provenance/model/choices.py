"""The closed sets a caller chooses from, as enums: the library checks every value it is given against them
(a coded :class:`~provenance.errors.UsageError`, never a raw ``ValidationError``), and the CLI's options are
typed with them, so ``--help`` lists the choices.

The on-disk models keep ``Literal`` types for every value a record may hold (``FileEntry.role``,
``Note.kind`` in :mod:`provenance.model.manifest`; pydantic validates a literal faster over a dossier of
many files); the enums here are what a caller may choose, each a subset of those literals, which
``tests/test_choices.py`` checks, with the published JSON Schemas.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from provenance.errors import ErrorCode, error
from provenance.model.events import Role


class AttachRole(StrEnum):
    """The roles ``attach`` gives a file: a ``FileRole`` but the transcription (registered by ingest,
    replaced by revise)."""

    ORIGINAL = "original"
    SCAN = "scan"
    TRANSLATION = "translation"
    ATTACHMENT = "attachment"


class WrittenNoteKind(StrEnum):
    """The kinds of note a person adds: a ``NoteKind`` but editorial-insertion (made by ingest from the
    brackets of the text)."""

    TRANSLATION = "translation"
    EDITORIAL = "editorial"
    COMMENT = "comment"
    CORRECTION = "correction"


class Profile(StrEnum):
    """How ingest reads catalogue fields from a transcription: ``auto`` is telegram when the header is found."""

    AUTO = "auto"
    TELEGRAM = "telegram"
    GENERIC = "generic"


E = TypeVar("E", bound=StrEnum)


def choose(choices: type[E], value: object, what: str, code: ErrorCode = ErrorCode.USAGE) -> E:
    """``value`` as a member of ``choices``; raises ``UsageError(code)`` naming ``what`` and the choices
    otherwise (any type is checked: a library caller may pass anything)."""
    if isinstance(value, str):
        try:
            return choices(value)
        except ValueError:
            pass
    known = ", ".join(member.value for member in choices)
    raise error(code, f"unknown {what} {value!r} (known: {known})", field=what)  # usage.invalid, role.unknown


def parse_role(value: object) -> Role:
    """``value`` as a :class:`Role`; raises ``UsageError(role.unknown)`` listing the roles otherwise."""
    return choose(Role, value, "role", ErrorCode.ROLE_UNKNOWN)
