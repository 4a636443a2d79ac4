"""What changed between two versions of a record: text (unified diff with line numbers), catalogue, notes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from provenance.archive import Archive
from provenance.history import file_bytes_at, state_at
from provenance.model.manifest import State


@dataclass
class RecordDiff:
    """The differences between versions ``a`` and ``b`` of a record."""

    record: str
    a: int
    b: int
    files: list[dict[str, Any]] = field(default_factory=list)
    catalogue: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "from": self.a,
            "to": self.b,
            "files": self.files,
            "catalogue": self.catalogue,
            "notes": self.notes,
        }


def unified(old: str, new: str, name: str, a: int, b: int) -> list[str]:
    """A unified diff (difflib), hunk headers carrying line numbers."""
    return list(
        difflib.unified_diff(
            old.splitlines(),
            new.splitlines(),
            fromfile=f"{name}@v{a}",
            tofile=f"{name}@v{b}",
            lineterm="",
            n=1,
        )
    )


def patch_text(old: str, new: str, name: str) -> str:
    """A unified diff that ``patch`` applies (issue 14): line ends kept as they are (CR LF stays CR LF) and
    ``\\ No newline at end of file`` where a version ends without one; paths ``a/NAME`` and ``b/NAME``."""
    lines: list[str] = []
    for line in difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=f"a/{name}", tofile=f"b/{name}", n=3
    ):
        if line.endswith("\n"):
            lines.append(line)
        else:
            lines.append(line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _decode(data: bytes, media_type: str = "") -> str | None:
    """The text of a file version in the charset its entry names (UTF-8 unless told), or None."""
    charset = media_type.partition("charset=")[2].split(";")[0].strip() or "utf-8"
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return None


def diff_versions(archive: Archive, record_id: str, a: int | None = None, b: int | None = None) -> RecordDiff:
    """Compare version ``a`` with ``b`` (defaults: the one before the last, and the last).

    Raises ``NotFoundError(version.not-found)`` for a version that does not exist.
    """
    from provenance.manifest_io import read_manifest

    count = len(read_manifest(archive.require_record(record_id)).events)
    b = count if b is None else b
    a = max(1, b - 1) if a is None else a
    _, old, _ = state_at(archive, record_id, a)
    _, new, _ = state_at(archive, record_id, b)
    result = RecordDiff(record=record_id, a=a, b=b)
    _diff_files(archive, record_id, old, new, result)
    _diff_catalogue(old, new, result)
    _diff_notes(old, new, result)
    return result


def _diff_files(archive: Archive, record_id: str, old: State, new: State, result: RecordDiff) -> None:
    old_files = {f.path: f for f in old.files}
    new_files = {f.path: f for f in new.files}
    for path in sorted(set(old_files) | set(new_files)):
        before, after = old_files.get(path), new_files.get(path)
        if before and after and before.sha256 == after.sha256:
            continue
        entry: dict[str, Any] = {
            "path": path,
            "change": "added" if not before else "removed" if not after else "modified",
        }
        if before and after:
            old_text = _decode(file_bytes_at(archive, record_id, before.sha256, path), before.media_type)
            new_text = _decode(file_bytes_at(archive, record_id, after.sha256, path), after.media_type)
            if old_text is not None and new_text is not None:
                entry["diff"] = unified(old_text, new_text, path, result.a, result.b)
                entry["patch"] = patch_text(old_text, new_text, path)  # issue 14: what `patch` applies
            entry["from_sha256"], entry["to_sha256"] = before.sha256, after.sha256
        result.files.append(entry)


def _diff_catalogue(old: State, new: State, result: RecordDiff) -> None:
    before, after = old.catalogue.as_json(), new.catalogue.as_json()
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            result.catalogue.append({"field": name, "from": before.get(name), "to": after.get(name)})


def _diff_notes(old: State, new: State, result: RecordDiff) -> None:
    before = {n.id: n for n in old.notes}
    after = {n.id: n for n in new.notes}
    for note_id in sorted(set(before) | set(after), key=lambda i: int(i.split("-")[1])):
        x, y = before.get(note_id), after.get(note_id)
        if x == y:
            continue
        entry: dict[str, Any] = {"id": note_id}
        if x is None and y is not None:
            entry.update(change="added", quote=y.target.quote.exact, text=y.text)
        elif y is None and x is not None:
            entry.update(change="removed", quote=x.target.quote.exact)
        elif x is not None and y is not None:
            start_x = x.target.position.start if x.target.position else None
            start_y = y.target.position.start if y.target.position else None
            if x.status != y.status:
                entry.update(change=y.status, quote=y.target.quote.exact)
            elif start_x != start_y:
                entry.update(
                    change="moved", quote=y.target.quote.exact, from_position=start_x, to_position=start_y
                )
            elif (x.text, x.kind, x.target.quote.exact) == (y.text, y.kind, y.target.quote.exact):
                continue  # only the context around the quote changed: the text diff shows it
            else:
                entry.update(change="changed", quote=y.target.quote.exact)
        result.notes.append(entry)
