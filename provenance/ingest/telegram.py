"""The telegram profile: catalogue fields from the header of a translated Soviet ciphered telegram.

The layout, in English translation or in the Russian original, is a run of short header lines, usually with
blank lines between them (English left, Russian right)::

    SECOND MAIN ADMINISTRATION OF THE ...      ВТОРОЕ ГЛАВНОЕ УПРАВЛЕНИЕ ...      issuing body
    CIPHERED TELEGRAM No. 23256                ШИФРОТЕЛЕГРАММА № 7702             type and number
    Copies: Stalin (2), Molotov, Malenkov      Копии: Сталину (2), Молотову       copies
    From BEIJING 01:30 27.8.1951               Из ПЕКИНА 14:05 2.9.1951           origin and time sent
    SERIES "G"                                 СЕРИЯ «Г»                          series
    To Comrade FILIPPOV [Stalin]               Товарищу ФИЛИППОВУ [Сталину]       addressee

then the body, which ends with the signature line (``Mao Zedong.``). The regular expressions describe this
layout, not particular values. Only the header region is scanned for header fields: at most the first
:data:`_MAX_HEADER_LINES` lines, stopping after the addressee line or at the first line that is not a header
line. The author is looked for in the last few non-empty lines after the header. Every pattern is applied to
one line of at most :data:`_MAX_LINE` characters, so there is no catastrophic backtracking on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from provenance.model.copies import parse_copies

_MAX_HEADER_LINES = 60
_MAX_HEADER_CHARS = 20_000
_MAX_LINE = 300
_MAX_PRE_NUMBER_LINES = 6
_TAIL_CHARS = 4_000
_AUTHOR_LINES = 3
_MAX_AUTHOR_WORDS = 6

_SMALL_WORDS = frozenset(
    {"of", "the", "and", "for", "in", "on", "at", "to", "a", "an"}
    | {"и", "в", "во", "на", "о", "об", "при", "по", "для", "с", "со", "к", "ко", "у", "из", "от", "до"}
)
_CLOSINGS = frozenset({"greetings", "regards", "respectfully", "sincerely", "приветом", "привет"})

_LETTERS = r"[^\W\d_]"
_NUMBER_LINE = re.compile(
    rf"(?P<type>(?:{_LETTERS}+[ \-])*?{_LETTERS}*(?P<kw>telegram|телеграмма){_LETTERS}*)"
    r" ?(?:№|#|N[or]?\.?|N[°º])\s*(?P<number>[0-9](?:[\w/\-]*\w)?)[.,;:]?",
    re.IGNORECASE,
)
_COPIES_LINE = re.compile(r"(?P<kw>cop(?:ies|y)(?: to)?|копи[ия]|рассылка) ?: ?(?P<list>.*)", re.IGNORECASE)
_FROM_LINE = re.compile(r"(?P<kw>from|из)(?: ?:)? (?P<rest>.+)", re.IGNORECASE)
_FIRST_DIGIT = re.compile(r"[0-9]")
_TIME = r"(?P<hour>[0-9]{1,2})[:.](?P<minute>[0-9]{2})"
_DATE = r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{4})(?![0-9])"
_WHEN_PATTERNS = (
    re.compile(rf"(?<![0-9.]){_TIME},? {_DATE}"),
    re.compile(rf"(?<![0-9.]){_DATE},? {_TIME}(?![0-9])"),
    re.compile(rf"(?<![0-9.]){_DATE}"),
)
_SERIES_LINE = re.compile(r"(?P<kw>series|серия) ?:? ?(?P<value>.+?)[.]?", re.IGNORECASE)
_QUOTES = "\"'«»“”„‘’‹›"
_SERIES_VALUE = re.compile(r"[\w\-]{1,8}")
_ADDRESSEE_TAIL = r"(?P<name>[^\[\]0-9]+?) ?(?P<bracket>\[[^\[\]]*\])? ?[.,!]?"
_ADDRESSEE_EN = re.compile(
    rf"(?P<kw>to) ?:? (?P<honorific>(?:comrades?|comr?\.|tov\.) )?{_ADDRESSEE_TAIL}", re.IGNORECASE
)
_ADDRESSEE_RU = re.compile(rf"(?P<kw>(?P<honorific>товарищ(?:у|ам)|тов\.)) ?{_ADDRESSEE_TAIL}", re.IGNORECASE)
_IDENTIFICATION_PREFIX = re.compile(r"(?:i\. ?e\.|т\. ?е\.),? ?", re.IGNORECASE)
_BRACKETED_LINE = re.compile(r"\[[^\[\]]*\]")
_BRACKETED_PART = re.compile(r" ?\[[^\[\]]*\]")
_MARKING = re.compile(
    r"(?:top secret|strictly secret|secret|of special importance|совершенно секретно|сов\. ?секретно"
    r"|секретно|особой важности)[.!]?",
    re.IGNORECASE,
)
_NAME_CHAR = r"(?:[^\W\d_]|[\u0300-\u036f])"
_NAME_WORD = re.compile(rf"{_LETTERS}{_NAME_CHAR}*(?:['’.\-]{_NAME_CHAR}*)*")
_FIELD_ORDER = (
    "document_type",
    "issuing_body",
    "telegram_number",
    "series",
    "copies",
    "origin",
    "sent",
    "sent_as_written",
    "addressee",
    "addressee_identified_as",
    "author",
    "language",
)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _is_combining(char: str) -> bool:
    """Return True for a combining diacritical mark (which continues the letter before it)."""
    code = ord(char)
    return (
        0x0300 <= code <= 0x036F
        or 0x1AB0 <= code <= 0x1AFF
        or 0x1DC0 <= code <= 0x1DFF
        or 0x20D0 <= code <= 0x20FF
        or 0xFE20 <= code <= 0xFE2F
    )


def _capitalise(word: str) -> str:
    """Return ``word`` with the first letter of each part upper case and the other letters lower case.

    Parts are separated by anything that is not a letter, digit or combining mark (hyphens, the periods of
    initials, brackets). After an apostrophe that follows a single letter (O'BRIEN, D'ESTAING) a new part
    starts; after any other apostrophe it does not (MAO'S -> Mao's).
    """
    out: list[str] = []
    at_start = True
    letters = 0
    for char in word:
        if char.isalpha():
            out.append(char.upper() if at_start else char.lower())
            at_start = False
            letters += 1
        elif char.isdigit():
            out.append(char)
            at_start = False
            letters += 1
        elif _is_combining(char):
            out.append(char)
        elif char in "'’":
            out.append(char)
            at_start = letters == 1
        else:
            out.append(char)
            at_start = True
            letters = 0
    return "".join(out)


def _normalise_name(name: str) -> str:
    """Return a name written in capitals in title case ("FYN SI" -> "Fyn Si"); any other name as written."""
    if not name.isupper():
        return name
    return " ".join(_capitalise(word) for word in name.split(" "))


def _normalise_body(name: str) -> str:
    """Return an issuing body written in capitals in title case, with small words (of, the, ...) lower case.

    The first word is always capitalised. A name not written all in capitals is returned as written.
    """
    if not name.isupper():
        return name
    return " ".join(
        word.lower() if index and word.lower() in _SMALL_WORDS else _capitalise(word)
        for index, word in enumerate(name.split(" "))
    )


def _has_letter(text: str) -> bool:
    """Return True if ``text`` contains at least one letter."""
    return any(char.isalpha() for char in text)


def _days_in_month(year: int, month: int) -> int:
    """Return the number of days in ``month`` of ``year`` (proleptic Gregorian calendar)."""
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _parse_when(when: str) -> tuple[str | None, str | None]:
    """Return ``(sent, sent_as_written)`` from the date-and-time part of an origin line.

    ``sent`` is ISO 8601 local time to the precision written (``1951-08-27T01:30``, or ``1951-08-27`` when
    only a date is given; no seconds are invented), or None when the values are not a real date and time.
    ``sent_as_written`` is the recognised date and time exactly as written, or the whole part when no date is
    recognised (None when that is empty).
    """
    for pattern in _WHEN_PATTERNS:
        match = pattern.search(when)
        if match is None:
            continue
        values = match.groupdict()
        year, month, day = int(values["year"]), int(values["month"]), int(values["day"])
        if not (year >= 1 and 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)):
            return None, match.group()
        date = f"{year:04d}-{month:02d}-{day:02d}"
        if values.get("hour") is None:
            return date, match.group()
        hour, minute = int(values["hour"]), int(values["minute"])
        if hour > 23 or minute > 59:
            return None, match.group()
        return f"{date}T{hour:02d}:{minute:02d}", match.group()
    return None, (when or None)


def _recipient_name(name: str) -> str:
    """A recipient as the header writes it: a bracketed note dropped (it is recorded as an editorial insertion
    elsewhere), a name written in capitals title-cased."""
    return _normalise_name(" ".join(_BRACKETED_PART.sub("", name).split()))


def _language_of(match: re.Match[str]) -> str:
    """Return ``ru`` if the keyword a header pattern matched (group ``kw``) is Cyrillic, else ``en``."""
    return "ru" if _CYRILLIC.search(match.group("kw")) else "en"


@dataclass
class _Header:
    """What the header scan found, and the offset where the body starts."""

    fields: dict[str, object] = field(default_factory=dict)
    copies: str | None = None
    languages: list[str] = field(default_factory=list)
    body_start: int = 0

    def language(self) -> str | None:
        """Return the BCP 47 tag of most header keywords (ties go to the first keyword), or None if none."""
        if not self.languages:
            return None
        english, russian = self.languages.count("en"), self.languages.count("ru")
        if english == russian:
            return self.languages[0]
        return "en" if english > russian else "ru"


def _number_line(header: _Header, line: str) -> bool:
    """Record document type and number from a telegram-number line; return whether ``line`` is one."""
    match = _NUMBER_LINE.fullmatch(line)
    if match is None:
        return False
    header.languages.append(_language_of(match))
    if "telegram_number" not in header.fields:
        header.fields["document_type"] = match.group("type").lower()
        header.fields["telegram_number"] = match.group("number")
    return True


def _copies_line(header: _Header, line: str) -> bool:
    """Keep the list on a copies line (parsed once continuation lines are joined); return whether it is."""
    match = _COPIES_LINE.fullmatch(line)
    if match is None:
        return False
    header.languages.append(_language_of(match))
    if header.copies is None:
        header.copies = match.group("list")
    return True


def _from_line(header: _Header, line: str) -> bool:
    """Record origin and sending time from an origin line; return whether ``line`` is one.

    A line starting with the keyword is only taken as the origin line if it has a valid date or its place
    name is written in capitals, so prose that starts with "From" or "Из" is not.
    """
    match = _FROM_LINE.fullmatch(line)
    if match is None:
        return False
    rest = match.group("rest")
    digit = _FIRST_DIGIT.search(rest)
    origin = (rest[: digit.start()] if digit else rest).strip(" ,;:")
    when = rest[digit.start() :].strip().rstrip(".") if digit else ""
    sent, as_written = _parse_when(when)
    if sent is None and not origin.isupper():
        return False
    header.languages.append(_language_of(match))
    if "origin" not in header.fields and "sent_as_written" not in header.fields:
        if _has_letter(origin):
            header.fields["origin"] = _normalise_name(origin)
        if sent is not None:
            header.fields["sent"] = sent
        if as_written is not None:
            header.fields["sent_as_written"] = as_written
    return True


def _series_line(header: _Header, line: str) -> bool:
    """Record the series letter(s) without their quotation marks; return whether ``line`` is a series line."""
    match = _SERIES_LINE.fullmatch(line)
    if match is None:
        return False
    value = match.group("value").strip(_QUOTES + " ")
    if not _SERIES_VALUE.fullmatch(value):
        return False
    header.languages.append(_language_of(match))
    header.fields.setdefault("series", value)
    return True


def _addressee_line(header: _Header, line: str) -> bool:
    """Record the addressee and its bracketed identification; return whether ``line`` is an addressee line.

    A leading "i.e." or "т. е." in the identification is dropped. Without an honorific (Comrade, Товарищу)
    the name must be in capitals and follow the number line.
    """
    match = _ADDRESSEE_EN.fullmatch(line) or _ADDRESSEE_RU.fullmatch(line)
    if match is None:
        return False
    name = match.group("name").strip()
    if not _has_letter(name):
        return False
    if match.group("honorific") is None and not (name.isupper() and "telegram_number" in header.fields):
        return False
    header.languages.append(_language_of(match))
    if "addressee" not in header.fields:
        header.fields["addressee"] = _normalise_name(name)
        bracket = match.group("bracket")
        if bracket:
            identified = bracket[1:-1].strip()
            prefix = _IDENTIFICATION_PREFIX.match(identified)
            if prefix is not None:
                identified = identified[prefix.end() :].strip()
            if _has_letter(identified):
                header.fields["addressee_identified_as"] = _normalise_name(identified)
    return True


def _issuing_body(blocks: list[list[str]]) -> str | None:
    """Return the issuing body from the blocks of unrecognised lines above the number line, or None.

    It is the first block that still has lines after dropping security markings (TOP SECRET), bracketed
    notes and lines with digits (copy numbers, dates), joined with spaces and title-cased if in capitals.
    """
    for block in blocks:
        kept = [
            line
            for line in block
            if _has_letter(line)
            and not _MARKING.fullmatch(line)
            and not _BRACKETED_LINE.fullmatch(line)
            and not any(char.isdigit() for char in line)
        ]
        if kept:
            return _normalise_body(" ".join(kept))
    return None


def _scan_header(text: str) -> _Header:
    """Scan the header region of ``text`` for header fields and find the offset where the body starts.

    The header ends after the addressee line, at the first line that is neither a header field, a
    continuation of the copies list, a line in capitals or a bracketed note (above the number line any short
    line is allowed, up to a few, as the issuing body may be in mixed case), or after the first lines.
    """
    header = _Header()
    blocks: list[list[str]] = [[]]  # unrecognised lines above the number line, split at blank lines
    pre_number = 0
    previous = ""  # what the previous non-blank line in this paragraph was
    offset = 0
    for raw in text[:_MAX_HEADER_CHARS].splitlines(keepends=True)[:_MAX_HEADER_LINES]:
        start, offset = offset, offset + len(raw)
        line = " ".join(raw.replace("\ufeff", "").split())
        if not line:
            previous = ""
            if blocks[-1]:
                blocks.append([])
            continue
        if len(line) > _MAX_LINE:
            offset = start
            break
        had_copies = header.copies is not None
        if _copies_line(header, line):
            previous = "field" if had_copies else "copies"
            continue
        if _number_line(header, line) or _from_line(header, line) or _series_line(header, line):
            previous = "field"
            continue
        if _addressee_line(header, line):
            break
        if previous == "copies":
            header.copies = f"{header.copies} {line}"
            continue
        if "telegram_number" not in header.fields and pre_number < _MAX_PRE_NUMBER_LINES:
            pre_number += 1
            blocks[-1].append(line)
            previous = "other"
            continue
        if "telegram_number" in header.fields and (line.isupper() or _BRACKETED_LINE.fullmatch(line)):
            previous = "other"
            continue
        offset = start
        break
    header.body_start = offset
    if "telegram_number" in header.fields:
        body = _issuing_body(blocks)
        if body is not None:
            header.fields["issuing_body"] = body
    return header


def _author_name(line: str) -> str | None:
    """Return the signature on ``line`` without its final period if the line is a name, else None.

    A name is one to six words, each starting with a capital letter (initials and hyphens allowed), and not
    a closing formula such as "Greetings." Names written in capitals are title-cased.
    """
    name = line[:-1] if line.endswith(".") else line
    words = name.split(" ")
    if not name or len(name) > 80 or len(words) > _MAX_AUTHOR_WORDS:
        return None
    if not all(_NAME_WORD.fullmatch(word) and word[0].isupper() for word in words):
        return None
    if len(words) == 1 and name.lower() in _CLOSINGS:
        return None
    return _normalise_name(name)


def _author(text: str, body_start: int) -> str | None:
    """Return the author from the closing signature: the last non-empty line after the header that is a name.

    Up to :data:`_AUTHOR_LINES` lines are looked at from the end; lines that are only a bracketed note or that
    contain digits (registration numbers, dates) are passed over; the first other line decides. A body of a
    single line has no signature.
    """
    tail_start = max(body_start, len(text) - _TAIL_CHARS)
    lines = text[tail_start:].splitlines()
    if tail_start > body_start:
        lines = lines[1:]  # the tail may start in the middle of a line
    looked_at = 0
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index].strip():
            continue
        looked_at += 1
        if looked_at > _AUTHOR_LINES:
            break
        line = " ".join(_BRACKETED_PART.sub("", lines[index]).split())
        if not line or any(char.isdigit() for char in line):
            continue
        has_text_above = tail_start > body_start or any(earlier.strip() for earlier in lines[:index])
        return _author_name(line) if has_text_above else None
    return None


def parse_telegram(text: str) -> dict[str, object]:
    """Return the catalogue fields found in the telegram header of ``text``; fields not found are omitted.

    Keys, in this order: ``document_type`` (lower case, e.g. "ciphered telegram"), ``issuing_body``,
    ``telegram_number`` (str), ``series`` (str, without quotes), ``copies`` (list of
    ``{"recipient": str, "count": int}``), ``origin``, ``sent`` (ISO 8601 local date-time to the minute as
    written, e.g. "1951-08-27T01:30", or a date alone), ``sent_as_written``, ``addressee``,
    ``addressee_identified_as`` (the bracketed identification after the addressee), ``author`` (from the
    closing signature) and ``language`` ("en" or "ru", from the header keywords). Names written in capitals
    are title-cased. Any string is accepted: text without a telegram header gives an empty dict.
    """
    header = _scan_header(text)
    found = dict(header.fields)
    if header.copies is not None:
        copies = parse_copies(header.copies, name=_recipient_name)
        if copies:
            found["copies"] = copies
    if found:
        author = _author(text, header.body_start)
        if author is not None:
            found["author"] = author
        language = header.language()
        if language is not None:
            found["language"] = language
    return {key: found[key] for key in _FIELD_ORDER if key in found}


def looks_like_telegram(text: str) -> bool:
    """Return True if the header of ``text`` has a telegram-number line ("CIPHERED TELEGRAM No. 23256")."""
    return "telegram_number" in _scan_header(text).fields
