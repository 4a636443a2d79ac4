"""Explaining a digest mismatch: which common transformation of the expected bytes gives what we found.

Given the bytes found and the digest expected, try the usual pipeline damage in reverse (line endings,
Unicode normalisation, trailing whitespace, the final newline, a byte-order mark); if one of them turns the
found bytes back into the expected digest, that is the explanation. Only small text files are tried.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable

MAX_EXPLAIN_BYTES = 32 * 1024 * 1024


def _crlf_to_lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def _lf_to_crlf(data: bytes) -> bytes:
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def _norm(form: str) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        return unicodedata.normalize(form, data.decode("utf-8")).encode("utf-8")  # type: ignore[arg-type]

    return apply


def _strip_trailing_ws(data: bytes) -> bytes:
    return re.sub(rb"[ \t]+(?=\r?\n|$)", b"", data)


def _add_final_newline(data: bytes) -> bytes:
    return data + (b"\r\n" if b"\r\n" in data else b"\n")


def _drop_final_newline(data: bytes) -> bytes:
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data[:-1] if data.endswith(b"\n") else data


def _drop_bom(data: bytes) -> bytes:
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


# (what happened to the file, how to undo it)
_CANDIDATES: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("only line endings changed: LF became CR LF", _crlf_to_lf),
    ("only line endings changed: CR LF became LF", _lf_to_crlf),
    ("only Unicode normalisation changed: the text was converted to NFD", _norm("NFC")),
    ("only Unicode normalisation changed: the text was converted to NFC", _norm("NFD")),
    ("only trailing whitespace was added at line ends", _strip_trailing_ws),
    ("only the final newline was removed", _add_final_newline),
    ("only a final newline was added", _drop_final_newline),
    ("only a byte-order mark was added at the start", _drop_bom),
]


def explain_mismatch(found: bytes, expected_sha256: str) -> str | None:
    """A sentence saying how ``found`` differs from the bytes with ``expected_sha256``, if it can be known."""
    if len(found) > MAX_EXPLAIN_BYTES or b"\x00" in found[:8192]:
        return None
    for sentence, undo in _CANDIDATES:
        try:
            candidate = undo(found)
        except UnicodeDecodeError:
            continue
        if candidate != found and hashlib.sha256(candidate).hexdigest() == expected_sha256:
            return sentence
    return None


def first_difference(old: bytes, new: bytes, *, context: int = 1) -> str | None:
    """The first differing line between an earlier version and the found bytes, as 'line N: a → b'."""
    try:
        old_lines = old.decode("utf-8").splitlines()
        new_lines = new.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        if a != b:
            return f"line {number} differs: {a[:80]!r} → {b[:80]!r}"
    if len(old_lines) != len(new_lines):
        return f"the text has {len(new_lines)} lines where {len(old_lines)} were expected"
    return None
