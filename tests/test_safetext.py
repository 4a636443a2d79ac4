"""provenance.safetext: every character a terminal acts on becomes a visible escape; JSON stays the same
JSON with C1 and bidi controls escaped."""

from __future__ import annotations

import json

import pytest

from provenance.safetext import json_safe, printable

CASES = [
    ("plain Сталину ё", "plain Сталину ё", "plain Сталину ё"),
    ("\x1b[2J clear", "\\x1b[2J clear", "\\x1b[2J clear"),
    ("carriage\rreturn", "carriage\\x0dreturn", "carriage\\x0dreturn"),
    ("DEL\x7f", "DEL\\x7f", "DEL\\x7f"),
    ("C1 CSI \x9b", "C1 CSI \\x9b", "C1 CSI \\x9b"),
    ("txt.\u202eexe", "txt.\\u202eexe", "txt.\\u202eexe"),
    ("isolate \u2066x\u2069", "isolate \\u2066x\\u2069", "isolate \\u2066x\\u2069"),
    ("mark \u200e\u200f\u061c", "mark \\u200e\\u200f\\u061c", "mark \\u200e\\u200f\\u061c"),
    ("line\u2028sep", "line\\u2028sep", "line\\u2028sep"),
    ("lone \udcff", "lone \\udcff", "lone \\udcff"),
    ("two\nlines\tand tab", "two\nlines\tand tab", "two\\x0alines\\x09and tab"),
    ("NUL\x00", "NUL\\x00", "NUL\\x00"),
]


@pytest.mark.parametrize(("text", "shown", "one_line"), CASES, ids=[repr(c[0])[:24] for c in CASES])
def test_printable(text: str, shown: str, one_line: str) -> None:
    assert printable(text) == shown
    assert printable(text, one_line=True) == one_line


@pytest.mark.parametrize("text", ["txt.\u202eexe", "C1 \x85 \x9b", "sep\u2029", "plain", "ESC \x1b"])
def test_json_safe_is_the_same_json(text: str) -> None:
    document = json.dumps({"name": text}, ensure_ascii=False)
    safe = json_safe(document)
    assert json.loads(safe) == {"name": text}
    assert all(not (0x80 <= ord(c) <= 0x9f) and c not in "\u202e\u2029\x1b" for c in safe)
