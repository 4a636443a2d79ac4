"""Names a person can tell apart, and catalogue text that carries no hidden instructions.

Identity strings shown as a signer (a key card's name, an event's agent) hold no character a reader cannot
see or that changes how the rest reads: controls, format characters (bidi controls, zero-width characters,
soft hyphen, tag characters), private-use and unassigned code points, line and paragraph separators,
variation selectors, and no leading or trailing white space; they are NFC (UAX #15), so that one name has
one spelling. Look-alikes across scripts are the job of :mod:`provenance.confusables` (UTS #39 skeletons).

Catalogue values that reach a bundle (``bag-info.txt``, tag files) hold no C0 or C1 control but line ends
where the field allows them, and no bidi control. Checks raise ``ValueError`` naming the character by its
code point, never echoing the value (a value may be 900,000 characters long).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

# The same rules as far as a JSON Schema pattern can say them (schemas/*.schema.json hold these; the
# models are stricter: NFC, unassigned, private-use and astral format characters, leading/trailing white
# space, and non-ASCII digits are beyond a pattern of a reasonable size).
IDENTITY_PATTERN: Final = (
    r"^[^\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u180b-\u180f\u200b-\u200f\u2028-\u202e"
    r"\u2060-\u206f\ufe00-\ufe0f\ufeff\ufff9-\ufffb]*$"
)
CATALOGUE_LINE_PATTERN: Final = r"^[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]*$"
CATALOGUE_TEXT_PATTERN: Final = (
    r"^[^\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]*$"
)

# General categories refused in a name: controls, format characters (bidi controls, ZWJ/ZWNJ, soft hyphen,
# tags U+E0000..E007F), surrogates, private use, unassigned, line and paragraph separators.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _invisible_extra(code: int) -> bool:
    """Default-ignorable or invisible characters outside the refused categories (they are marks or letters)."""
    return (
        0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF  # variation selectors supplement
        or 0x180B <= code <= 0x180F  # Mongolian free variation selectors and vowel separator
        or code in (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x3164, 0xFFA0)  # CGJ, Hangul fillers, Khmer vowels
    )


def identity_problem(value: str) -> str | None:
    """Why ``value`` cannot name a signer, or None. The value itself is never quoted."""
    if value != value.strip():
        return "has leading or trailing white space"
    for char in value:
        code = ord(char)
        if unicodedata.category(char) in _REFUSED_CATEGORIES or _invisible_extra(code):
            name = unicodedata.name(char, "unassigned or control")
            return f"holds the invisible or format character U+{code:04X} ({name})"
    if not unicodedata.is_normalized("NFC", value):
        return "is not in Unicode normalisation form NFC"
    return None


def check_identity(value: str) -> str:
    """Validator for names shown as a signer: raises ``ValueError`` (see :func:`identity_problem`)."""
    if value.isascii() and value.isprintable() and value == value.strip():
        return value  # the common case, decided at C speed
    problem = identity_problem(value)
    if problem is not None:
        raise ValueError(f"a name {problem}")
    return value


# C0 controls but LF and CR, DEL, C1 controls, bidi controls (embeddings, overrides, isolates, marks).
_CATALOGUE_UNSAFE: Final = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_ENDS: Final = re.compile("[\r\n\u2028\u2029\x85]")


def catalogue_text_problem(value: str, *, multiline: bool) -> str | None:
    """Why ``value`` cannot be a catalogue value, or None. The value itself is never quoted."""
    found = _CATALOGUE_UNSAFE.search(value)
    if found is not None:
        code = ord(found.group())
        kind = "bidi control" if code > 0x9F else "control character"
        return f"holds the {kind} U+{code:04X} at offset {found.start()}"
    if multiline:
        stray = re.search("\r(?!\n)|[\u2028\u2029\x85]", value)
        if stray is not None:
            return f"holds a line end other than LF or CR LF (U+{ord(stray.group()):04X}) at offset {stray.start()}"
        return None
    end = _LINE_ENDS.search(value)
    if end is not None:
        return f"holds a line end (U+{ord(end.group()):04X}) at offset {end.start()}; this field is one line"
    return None


def _catalogue_value(value: str, *, multiline: bool) -> str:
    """``value`` when :func:`catalogue_text_problem` finds nothing wrong with it; else ``ValueError``."""
    if value.isascii() and value.isprintable():
        return value
    problem = catalogue_text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValueError(f"the value {problem}")
    return value


def check_catalogue_line(value: str) -> str:
    """Validator: a one-line catalogue value (see :func:`catalogue_text_problem`)."""
    return _catalogue_value(value, multiline=False)


def check_catalogue_text(value: str) -> str:
    """Validator: a catalogue value that may hold LF or CR LF line ends."""
    return _catalogue_value(value, multiline=True)


def numeric_problem(value: str) -> str | None:
    """Why ``value`` cannot be a catalogue number (a digit that is not ASCII), or None."""
    for offset, char in enumerate(value):
        if not char.isascii() and unicodedata.category(char) in ("Nd", "Nl", "No"):
            return (
                f"holds the non-ASCII digit U+{ord(char):04X} ({unicodedata.name(char, '?')}) at offset {offset}; "
                "numbers are written in ASCII digits"
            )
    return None


def check_catalogue_number(value: str) -> str:
    """Validator: a one-line catalogue value whose digits are ASCII digits."""
    check_catalogue_line(value)
    if not value.isascii():
        problem = numeric_problem(value)
        if problem is not None:
            raise ValueError(f"the value {problem}")
    return value


class _AsciiDigits(dict[int, str]):
    """A ``str.translate`` table, filled on demand: any Unicode decimal digit to its ASCII digit, and a
    numeric look-alike whose compatibility form (NFKC) is ASCII digits (superscripts, circled digits)."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        value = unicodedata.decimal(char, None)
        if value is not None:
            result = str(value)
        elif unicodedata.category(char) in ("No", "Nl"):
            folded = unicodedata.normalize("NFKC", char)  # "²" → "2", "⑵" → "(2)", "Ⅻ" → "XII"
            result = folded if folded.isascii() and folded.isprintable() else char
        else:
            result = char
        self[code] = result
        return result


_ASCII_DIGITS: Final = _AsciiDigits()
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]+")


def ascii_digits(value: str) -> str:
    """``value`` with every non-ASCII digit (Arabic-Indic, full-width, superscript, …) as its ASCII digit."""
    if value.isascii():
        return value
    # only the text's distinct non-ASCII characters are looked up (a whole text through the table costs
    # a dictionary lookup per character: a transcription is read several times per record)
    found = {code: _ASCII_DIGITS[code] for code in map(ord, set("".join(_NON_ASCII.findall(value))))}
    changed = {code: repl for code, repl in found.items() if repl != chr(code)}
    return value.translate(changed) if changed else value
