"""Catalogue values refused in words (issue 14): ``'1951-13-40' is not a date (month 13)``, never the
regular expression that refused it."""

from __future__ import annotations

import calendar
import re

_DATE = re.compile(
    r"^(?P<sign>-?)(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2}))?(?P<zone>.*?))?)?)?(?P<rest>.*)$",
    re.S,
)
_ZONE = re.compile(r"^(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$")
DATE_FORM = "ISO 8601, e.g. 1951-08-27 or 1951-08-27T01:30, optionally ending in ? ~ or %"


def date_in_words(value: str) -> str:
    """Why ``value`` is not an ISO 8601 / EDTF date, in words."""
    match = _DATE.match(value)
    if match is None:
        return f"{value!r} is not a date ({DATE_FORM})"
    year, month, day = match["year"], match["month"], match["day"]
    reason: str | None = None
    if month is not None and not 1 <= int(month) <= 12:
        reason = f"month {int(month)}"
    elif day is not None and not 1 <= int(day) <= 31:
        reason = f"day {int(day)}"
    elif day is not None and month is not None:
        length = calendar.monthrange(2000 if calendar.isleap(int(year)) else 2001, int(month))[1]
        if int(day) > length:
            reason = f"{calendar.month_name[int(month)]} has {length} days"
    if reason is None and match["hour"] is not None and int(match["hour"]) > 23:
        reason = f"hour {int(match['hour'])}"
    if reason is None and match["minute"] is not None and int(match["minute"]) > 59:
        reason = f"minute {int(match['minute'])}"
    if reason is None and match["second"] is not None and int(match["second"]) > 59:
        reason = f"second {int(match['second'])}"
    if reason is None and match["zone"] and not _ZONE.match(match["zone"].rstrip("?~%")):
        reason = f"time zone {match['zone']!r}"
    if reason is None and match["rest"] not in ("", "?", "~", "%"):
        reason = f"unexpected {match['rest']!r} at the end"
    if reason is None:
        return f"{value!r} is not a date ({DATE_FORM})"
    return f"{value!r} is not a date ({reason})"


def in_words(field: str, value: object, message: str) -> str:
    """``message`` (a validator's) for ``field``, replaced by words where this module knows the field."""
    name = field.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    if not isinstance(value, str):
        return message
    if name == "sent":
        return date_in_words(value)
    if name in ("language", "original_language"):
        return f"{value!r} is not a language tag (BCP 47, e.g. en, ru or zh-Hans)"
    return message
