"""Issue 14 item 2: an explanation is a hypothesis tested against the signed digest, or it is absent."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest

from provenance.verify.explain import explain_mismatch
from tests.conftest import REFERENCE, World

TEXT = REFERENCE.read_bytes()  # LF, no final newline


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lf_to_crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


CASES = [
    ("unix2dos", lf_to_crlf, "only line endings changed: LF became CR LF"),
    ("sed-cr", lambda d: re.sub(rb"(?m)$", b"\r", d.replace(b"\n", b"\n")).replace(b"\r\n\r", b"\r\n"), None),
    ("sed-s-$-cr", lambda d: lf_to_crlf(d) + b"\r", "LF became CR LF, and a CR was added at the very end"),
    ("final-newline", lambda d: d + b"\n", "only a final newline was added"),
    ("bom", lambda d: b"\xef\xbb\xbf" + d, "only a byte-order mark was added at the start"),
    ("nfd", lambda d: unicodedata.normalize("NFD", d.decode()).encode(), None),
    ("crlf-and-newline", lambda d: lf_to_crlf(d) + b"\r\n", "LF became CR LF, and a final newline was added"),
    ("a-word", lambda d: d.replace(b"Kim II Sung", b"Kim Il Sung"), None),
    ("word-and-crlf", lambda d: lf_to_crlf(d.replace(b"Kim II Sung", b"Kim Il Sung")), None),
]


@pytest.mark.parametrize(("name", "change", "sentence"), CASES, ids=[c[0] for c in CASES])
def test_hypothesis_or_nothing(name: str, change: object, sentence: str | None) -> None:
    found = change(TEXT)  # type: ignore[operator]
    why = explain_mismatch(found, sha(TEXT))
    if found == TEXT:
        return
    if sentence is None:
        # whatever is said must be true: undoing it gives the signed bytes (checked by the hash inside)
        assert why is None or "only" in why
        return
    assert why is not None and sentence in why


def test_never_a_wrong_only() -> None:
    """A word changed as well as line endings: no 'only line endings changed'."""
    found = lf_to_crlf(TEXT.replace(b"Kim II Sung", b"Kim Il Sung"))
    assert explain_mismatch(found, sha(TEXT)) is None


def test_after_a_revision_crlf_is_named_not_the_revision(lived: World) -> None:
    """The issue's case: the current text converted to CR LF after a revision (sed adds a CR at the end)."""
    path = lived.root / "records" / "telegram-23256" / "files" / "telegram-23256.txt"
    path.write_bytes(lf_to_crlf(path.read_bytes()) + b"\r")
    r = lived.run("verify", "records/telegram-23256", "--json")
    assert r.returncode == 1
    problem = next(p for p in r.json()["problems"] if p["code"].startswith("file."))
    assert "only line endings changed: LF became CR LF" in problem["message"]
    assert "Kim" not in problem["message"] and "earlier version" not in problem["message"]


def test_a_comparison_is_labelled_and_names_line_endings(lived: World) -> None:
    path = lived.root / "records" / "telegram-23256" / "files" / "telegram-23256.txt"
    path.write_bytes(lf_to_crlf(path.read_bytes().replace(b"Kaeseong", b"Kaesong")))
    r = lived.run("verify", "records/telegram-23256", "--json")
    message = next(p for p in r.json()["problems"] if p["code"].startswith("file."))["message"]
    assert "only line endings" not in message and "changed: " not in message.split(";")[1]
    assert "for orientation only" in message and "not what changed" in message
    assert "line endings differ too: CR LF where that version has LF" in message
