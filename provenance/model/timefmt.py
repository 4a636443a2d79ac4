"""UTC timestamps as they are written in manifests and key cards: ``YYYY-MM-DDTHH:MM:SSZ``.

Timestamps stay strings in the models so that canonical bytes never depend on a re-serialisation;
this module converts between them and aware ``datetime`` values. Time is always a parameter
(``now``) so that tests never patch the clock.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

# Ranges checked in the pattern (the JSON Schemas hold the same one); parse_utc adds the calendar.
UTC_PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$"
)
_UTC_RE = re.compile(UTC_PATTERN)


def format_utc(moment: datetime) -> str:
    """Return ``moment`` (aware) as a UTC timestamp string, seconds precision."""
    if moment.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware")
    utc = moment.astimezone(UTC)  # the year in four digits (strftime's %Y gives "999" for 999, not "0999")
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


@functools.lru_cache(maxsize=4096)
def parse_utc(text: str) -> datetime:
    """Parse a UTC timestamp string; raises ``ValueError`` when it is not of the form above."""
    if not _UTC_RE.fullmatch(text):  # fullmatch: "$" alone would let a final newline through
        raise ValueError(f"not a UTC timestamp of the form YYYY-MM-DDTHH:MM:SSZ: {text!r}")
    # the pattern fixed the form; fromisoformat checks the ranges (month 13, 30 February, second 60) as
    # strptime does, at a tenth of its cost (the verifier parses every event's time)
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def check_utc(text: str) -> str:
    """Validator: return ``text`` when it is a real UTC timestamp, else raise ``ValueError``."""
    parse_utc(text)
    return text


def utc_now() -> datetime:
    """The real clock; callers take ``now`` as a parameter and default to this."""
    return datetime.now(UTC)


def utc_now_or(now: datetime | None) -> datetime:
    """``now`` when a caller gave one, else the real clock (the default of every ``now=`` parameter)."""
    return now or utc_now()
