"""Catalogue metadata of a record: the fixed field names of the design, all optional."""

from __future__ import annotations

import calendar
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from provenance.model.identity import check_catalogue_line, check_catalogue_number, check_catalogue_text

# ISO 8601 date or date-time (local time as written when no zone is known), with the EDTF level 1
# qualifiers ? ~ % for uncertain or approximate dates (Library of Congress EDTF specification).
# Months, days, hours, minutes and seconds are range-checked by the pattern itself, so that the JSON Schema
# (schemas/catalogue.schema.json holds the same pattern) refuses what the model refuses; the validator
# below adds the calendar (no 30 February), which no pattern of a reasonable size can say.
SENT_PATTERN = (
    r"^-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?)?)?)?[?~%]?$"
)
# BCP 47 language tag, the practical subset (RFC 5646 section 2.1).
LANGUAGE_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"

# What reaches bag-info.txt and tag files: no C0/C1 or bidi controls; line ends only where a field allows
# them (title, source, rights); numbers in ASCII digits (a look-alike digit never reaches a signature).
LineText = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(check_catalogue_line)]
MultiLineText = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(check_catalogue_text)]
NumberText = Annotated[str, Field(min_length=1, max_length=4096), AfterValidator(check_catalogue_number)]


# defer_build: each validator is built on first use, so that a command builds only what it uses (verify
# validates a Manifest and key cards: two validators instead of twelve at start-up).
class Copy(BaseModel):
    """One entry of a telegram's distribution list: ``Stalin (2)``."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    recipient: NumberText  # "Stalin (٢)": a count in look-alike digits is refused, never read as a name
    count: Annotated[int, Field(strict=True, ge=1, le=10_000)] = 1  # strict: "2" and true are not counts


class Catalogue(BaseModel):
    """Catalogue fields (names fixed by the design). Numbers such as ``telegram_number`` are strings."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    document_type: LineText | None = None
    issuing_body: LineText | None = None
    telegram_number: NumberText | None = None
    series: LineText | None = None
    copies: list[Copy] | None = None
    origin: LineText | None = None
    sent: Annotated[str, Field(pattern=SENT_PATTERN)] | None = None
    sent_as_written: LineText | None = None
    addressee: LineText | None = None
    addressee_identified_as: LineText | None = None
    author: LineText | None = None
    title: MultiLineText | None = None
    language: Annotated[str, Field(pattern=LANGUAGE_PATTERN)] | None = None
    original_language: Annotated[str, Field(pattern=LANGUAGE_PATTERN)] | None = None
    source: MultiLineText | None = None
    rights: MultiLineText | None = None

    @field_validator("sent")
    @classmethod
    def _real_date(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = re.match(r"^(-?[0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}))?)?)?", value)
        if match is None:  # pragma: no cover - the pattern already matched
            raise ValueError("not an ISO 8601 date")
        year, month, day, hour, minute = (int(g) if g else None for g in match.groups())
        if month is not None and not 1 <= month <= 12:
            raise ValueError(f"month {month} out of range in {value!r}")
        if day is not None and not 1 <= day <= 31:
            raise ValueError(f"day {day} out of range in {value!r}")
        if year is not None and month is not None and day is not None:
            # the proleptic Gregorian calendar of ISO 8601 (years before 1 and after 9999 included)
            length = (31, 29 if calendar.isleap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]
            if day > length:
                raise ValueError(f"{value!r} is not a date: month {month} has {length} days")
        if hour is not None and not 0 <= hour <= 23:
            raise ValueError(f"hour {hour} out of range in {value!r}")
        if minute is not None and not 0 <= minute <= 59:
            raise ValueError(f"minute {minute} out of range in {value!r}")
        return value

    def as_json(self) -> dict[str, object]:
        """The catalogue as JSON, fields that are not set left out."""
        return self.model_dump(mode="json", exclude_none=True)


CATALOGUE_FIELDS: tuple[str, ...] = tuple(Catalogue.model_fields)
