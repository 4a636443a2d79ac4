"""Explaining a digest mismatch: which common transformation of the expected bytes gives what we found.

Given the bytes found and the digest expected, try the usual pipeline damage in reverse (line endings,
Unicode normalisation, trailing whitespace, the final newline, a byte-order mark); if one of them turns the
found bytes back into the expected digest, that is the explanation. Only small text files are tried.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provenance.model.manifest import Manifest
    from provenance.model.problems import VerificationReport

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


def _drop_final_cr(data: bytes) -> bytes:
    return data[:-1] if data.endswith(b"\r") else data


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
# Undone only together with another (issue 14): `sed 's/$/\r/'` also puts a CR after a last line that has
# no newline, so "LF became CR LF" holds only once that lone CR is undone as well.
_SECOND: list[tuple[str, Callable[[bytes], bytes]]] = [
    *_CANDIDATES,
    ("a CR was added at the very end", _drop_final_cr),
]


def explain_mismatch(found: bytes, expected_sha256: str) -> str | None:
    """A sentence saying how ``found`` differs from the bytes with ``expected_sha256``, if it can be known.

    Each explanation is a hypothesis tested against the signed digest (issue 14): the found bytes are
    normalised the candidate way (one transformation, else two in turn) and the sentence is given only when
    the result hashes to ``expected_sha256``. Otherwise nothing is said: an explanation is right or absent.
    """
    if len(found) > MAX_EXPLAIN_BYTES or b"\x00" in found[:8192]:
        return None
    singles: list[tuple[str, bytes]] = []
    for sentence, undo in _CANDIDATES:
        try:
            candidate = undo(found)
        except UnicodeDecodeError:
            continue
        if candidate == found:
            continue
        if hashlib.sha256(candidate).hexdigest() == expected_sha256:
            return sentence
        singles.append((sentence, candidate))
    for sentence, once in singles:
        for second, undo in _SECOND:
            if second == sentence:
                continue
            try:
                twice = undo(once)
            except UnicodeDecodeError:
                continue
            if twice != once and hashlib.sha256(twice).hexdigest() == expected_sha256:
                also = second.removeprefix("only ")
                return f"{sentence}, and {also}"
    return None


def line_endings(data: bytes) -> str:
    """``CR LF``, ``LF``, ``mixed CR LF and LF`` or ``none`` (a text of one line)."""
    crlf = data.count(b"\r\n")
    lf = data.count(b"\n") - crlf
    if crlf and lf:
        return "mixed CR LF and LF"
    return "CR LF" if crlf else ("LF" if lf else "none")


def _line_ending_note(old: bytes, found: bytes) -> str:
    """Line ends are invisible to a line-by-line comparison: name them when they differ."""
    was, now = line_endings(old), line_endings(found)
    return f"; line endings differ too: {now} where that version has {was}" if was != now else ""


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


MAX_DIFF_LINES = 5000


def first_differences(old: bytes, new: bytes, *, limit: int = 3) -> str | None:
    """The first ``limit`` places where the found bytes differ from another version, line by line.

    ``line 12: 'Kim II Sung' → 'Kim Il Sung'; line 40 added: '…'``; None for binary (non-UTF-8) content
    or when the texts have the same lines. Long texts fall back to :func:`first_difference`.
    """
    import difflib

    try:
        old_lines = old.decode("utf-8").splitlines()
        new_lines = new.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    if max(len(old_lines), len(new_lines)) > MAX_DIFF_LINES:
        return first_difference(old, new)
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        more = max(i2 - i1, j2 - j1) - 1
        tail = f" (and {more} more line{'s' if more != 1 else ''})" if more > 0 else ""
        if tag == "replace":
            column, was, now = _excerpts(old_lines[i1], new_lines[j1])
            parts.append(f"line {j1 + 1}, column {column}: {was!r} → {now!r}{tail}")
        elif tag == "delete":
            parts.append(f"line {i1 + 1} removed: {old_lines[i1][:80]!r}{tail}")
        else:
            parts.append(f"line {j1 + 1} added: {new_lines[j1][:80]!r}{tail}")
        if len(parts) == limit:
            break
    return "; ".join(parts) or None


def _excerpts(old: str, new: str, *, before: int = 20, width: int = 60) -> tuple[int, str, str]:
    """(1-based column of the first differing character, the old and new text around it)."""
    same = 0
    for a, b in zip(old, new, strict=False):
        if a != b:
            break
        same += 1
    start = max(same - before, 0)
    lead = "…" if start else ""

    def cut(text: str) -> str:
        piece = text[start : start + width]
        return lead + piece + ("…" if start + width < len(text) else "")

    return same + 1, cut(old), cut(new)


def _load_verified(hex_digest: str, places: Sequence[Path]) -> bytes | None:
    """The bytes with this SHA-256 from the first place that holds them intact (small files only)."""
    for folder in places:
        path = folder / hex_digest
        try:
            if not path.is_file() or path.stat().st_size > MAX_EXPLAIN_BYTES:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(data).hexdigest() == hex_digest:
            return data
    return None


def explain_against_versions(
    found: bytes,
    path: str,
    expected_sha256: str,
    manifest: Manifest,
    object_dirs: Sequence[Path],
    file_dirs: Sequence[Path] = (),
) -> str | None:
    """Explain a mismatch from another version of the file, when one is at hand.

    1. The signed bytes themselves (an object, or the same file in another copy of the record, e.g. the
       verifier's archive): the first lines that differ from them.
    2. Else an earlier version recorded in the history: the file *is* that version (rolled back), or the
       first lines that differ from the latest earlier version stored.

    Every candidate is checked against its digest before it is used; None when nothing is at hand.
    """
    from provenance.snapshots import SnapshotError, read_snapshot

    found_digest = hashlib.sha256(found).hexdigest()
    signed = _load_verified(expected_sha256, object_dirs)
    for folder in file_dirs if signed is None else ():
        candidate = folder / path
        try:
            if candidate.is_file() and candidate.stat().st_size <= MAX_EXPLAIN_BYTES:
                data = candidate.read_bytes()
                if hashlib.sha256(data).hexdigest() == expected_sha256:
                    signed = data
                    break
        except OSError:
            continue
    if signed is not None:
        diff = first_differences(signed, found)
        note = _line_ending_note(signed, found)
        if not diff and not note:
            return None
        return f"compared with the signed version: {diff or 'the same lines'}{note}"
    earlier: list[tuple[int, str]] = []  # (event, sha256) of earlier versions of this path, latest first
    for event in reversed(manifest.events[:-1]):
        try:
            state = read_snapshot(object_dirs, event, max_bytes=MAX_EXPLAIN_BYTES).state
        except SnapshotError:
            continue
        entry = state.file(path)
        if (
            entry is not None
            and entry.sha256 != expected_sha256
            and entry.sha256 not in (h for _, h in earlier)
        ):
            earlier.append((event.seq, entry.sha256))
    for seq, hex_digest in earlier:
        if hex_digest == found_digest:
            return f"the file is the earlier version of event {seq}: it was rolled back"
    for seq, hex_digest in earlier:
        old = _load_verified(hex_digest, object_dirs)
        if old is not None:
            diff = first_differences(old, found)
            if diff:
                # a comparison, labelled as one: that version is not what was signed, so the differences
                # are not the cause of the mismatch (issue 14)
                return (
                    f"compared with the earlier version of event {seq}, for orientation only (the signed "
                    f"version is not at hand, so this is not what changed): {diff}{_line_ending_note(old, found)}"
                )
    return None


def explain_report(
    report: VerificationReport,
    manifest: Manifest,
    files_root: Path,
    object_dirs: Sequence[Path],
    file_dirs: Sequence[Path] = (),
) -> None:
    """Add a version-based explanation to every file mismatch of ``report`` that has none yet."""
    from dataclasses import replace

    from provenance.model.problems import ProblemCode

    codes = (ProblemCode.FILE_DIGEST_MISMATCH, ProblemCode.FILE_SIZE_MISMATCH)
    for index, problem in enumerate(report.problems):
        if problem.code not in codes or problem.fields.get("explanation"):
            continue
        path = problem.fields.get("path")
        expected = problem.fields.get("expected")
        if (
            not isinstance(path, str)
            or not isinstance(expected, dict)
            or not isinstance(expected.get("sha256"), str)
        ):
            continue
        try:
            where = files_root / path
            if where.stat().st_size > MAX_EXPLAIN_BYTES:
                continue
            found = where.read_bytes()
        except OSError:
            continue
        why = explain_against_versions(found, path, expected["sha256"], manifest, object_dirs, file_dirs)
        if why:
            report.problems[index] = replace(
                problem, message=f"{problem.message}; {why}", fields={**problem.fields, "explanation": why}
            )
