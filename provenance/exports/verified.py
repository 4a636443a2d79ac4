"""A record or bundle as the readers' exporters read it: verified first, then read only where the verifier
vouched for the bytes.

:func:`open_verified` verifies a record of an archive (``records/<id>``) or a bundle (a bag folder, a
``.zip`` or ``.tar.gz``) against the caller's trust store and yields a :class:`VerifiedSource`. A bundle
archive is extracted once into a private temporary folder and that very folder is verified and read, so
what is shown is what was verified. Every byte read afterwards is checked again against the signed digests
(the manifest against the verified head, each file and stored version against its SHA-256): a record
folder changed after its verification is refused, never shown.

A source that is not ``trusted`` is refused (:class:`~provenance.errors.UnverifiedError`: source.invalid,
source.not-trusted) unless the caller allows it; the report then travels with the source so that the
output can say so.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.errors import ErrorCode, InputError, ProvenanceError, UnverifiedError, UsageError
from provenance.ingest.decoding import decoded_or_none
from provenance.manifest_io import event_digest, parse_manifest
from provenance.model.manifest import FileEntry, Manifest
from provenance.model.problems import TrustState, VerificationReport
from provenance.model.timefmt import format_utc

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.verify.record import VerifyContext

MAX_CHECKPOINT_BYTES = 64 << 10
MAX_TEXT_BYTES = 64 << 20  # a text shown on a page or written into TEI is read whole: bounded


@dataclass
class VerifiedSource:
    """A verified record: its manifest, the verifier's report, and checked access to its bytes."""

    manifest: Manifest
    report: VerificationReport
    kind: str  # "record" (a folder of an archive) or "bundle"
    label: str  # what was verified, as the user named it
    root: Path  # the folder holding files/ and objects/sha256/
    verified_at: str
    reverify: str  # the one command that verifies it again
    checkpoint: str | None = None

    @property
    def state(self) -> TrustState:
        return self.report.state

    @property
    def trusted(self) -> bool:
        return self.report.state is TrustState.TRUSTED

    def object_bytes(self, sha256_hex: str) -> bytes | None:
        """A stored version (file or state snapshot) whose bytes hash to ``sha256_hex``; None if absent."""
        return _checked(self.root / "objects" / "sha256" / sha256_hex, sha256_hex)

    def file_bytes(self, entry: FileEntry) -> bytes | None:
        """The bytes of ``entry`` (current file, else a stored version), checked; None if not available."""
        data = _checked(self.root / "files" / entry.path, entry.sha256)
        return data if data is not None else self.object_bytes(entry.sha256)

    def text_of(self, entry: FileEntry, version: str | None = None) -> str | None:
        """The text of ``entry`` (or of its earlier ``version``, a SHA-256 hex) in the charset its media type
        names (UTF-8 unless told); None if binary or not available."""
        data = self.file_bytes(entry) if version in (None, entry.sha256) else self.object_bytes(str(version))
        return None if data is None else decoded_or_none(data, entry.media_type)

    def main_text(self) -> FileEntry | None:
        """The transcription: the first file with that role, else the first text file."""
        files = self.manifest.state.files
        for entry in files:
            if entry.role == "transcription":
                return entry
        return next((f for f in files if f.media_type.startswith("text/")), None)


def _checked(path: Path, sha256_hex: str) -> bytes | None:
    from provenance.fsio import read_limited

    try:
        data = read_limited(path, MAX_TEXT_BYTES)
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256_hex else None


def _read_checkpoint(path: Path) -> str | None:
    """The transparency log's checkpoint (a C2SP signed note), if there is one; shown as text."""
    from provenance.fsio import read_limited

    try:
        return read_limited(path, MAX_CHECKPOINT_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


def _manifest_matching(manifest_path: Path, report: VerificationReport) -> Manifest | None:
    """The manifest as read now, provided its last event is the head the verifier vouched for."""
    from provenance.fsio import read_limited
    from provenance.manifest_io import MAX_MANIFEST_BYTES

    try:
        manifest = parse_manifest(read_limited(manifest_path, MAX_MANIFEST_BYTES), source=str(manifest_path))
    except (OSError, ProvenanceError):
        return None
    if not manifest.events or report.head is None or event_digest(manifest.events[-1]) != report.head:
        return None
    return manifest


def _refuse_unless(report: VerificationReport, label: str, allow_untrusted: bool) -> None:
    state = report.state
    if state is TrustState.TRUSTED or allow_untrusted:
        return
    first = report.problems[0] if report.problems else None
    why = f" ({first.code}: {first.message})" if first is not None else ""
    more = f"; {len(report.problems) - 1} more problem(s)" if len(report.problems) > 1 else ""
    if state is TrustState.INVALID:
        raise UnverifiedError(
            ErrorCode.SOURCE_INVALID,
            f"{label} is INVALID{why}{more}; nothing was written",
            state=state,
        )
    raise UnverifiedError(
        ErrorCode.SOURCE_NOT_TRUSTED,
        f"{label} is valid but NOT TRUSTED{why}{more}; nothing was written",
        state=state,
    )


@contextlib.contextmanager
def open_verified(
    target: str,
    *,
    archive_path: Path | None,
    trust: Path | None,
    now: datetime,
    allow_untrusted: bool = False,
) -> Iterator[VerifiedSource]:
    """Verify ``target`` (a record id of the archive, or the path of a bundle) and yield it.

    Raises ``NotFoundError`` (no such record or path), ``UnverifiedError`` (not trusted and not allowed),
    ``InputError(bundle.unreadable)``; the temporary folder of a bundle archive is removed on exit.
    """
    path = Path(target)
    looks_like_path = (
        os.sep in target
        or path.suffix.lower() in (".zip", ".gz", ".tgz", ".tar")
        or (path.exists() and not _is_record_id(target))
    )
    if looks_like_path:
        with _open_bundle(path, archive_path, trust, now, allow_untrusted) as source:
            yield source
        return
    yield _open_record(target, archive_path, trust, now, allow_untrusted)


def _is_record_id(text: str) -> bool:
    import re

    from provenance.model.manifest import RECORD_ID_PATTERN

    return re.match(RECORD_ID_PATTERN, text) is not None


def _context(
    archive_path: Path | None, trust: Path | None, now: datetime, *, need_archive: bool
) -> tuple[Archive | None, VerifyContext]:
    """The verifier's context: ``--trust``, else the archive's keys/ (and then its roles policy)."""
    from provenance.archive import Archive
    from provenance.trust import archive_context, verifier_context

    if trust is not None:
        # verify's rule: with a trust store named only it decides (its cards, its own roles policy or the
        # defaults); an archive is looked for only to find a record named by its id
        ctx = verifier_context(trust=trust, now=now)  # first: a trust store that is not there is the error
        return (Archive.locate(archive_path) if need_archive else None), ctx
    try:
        arch = Archive.locate(archive_path)
    except ProvenanceError:
        if need_archive:
            raise
        raise UsageError(
            ErrorCode.USAGE,
            "no archive here whose keys/ could be the trust store: name a trust store (the key cards you trust)",
            param="trust",
        ) from None
    return arch, archive_context(arch, now)


def _open_record(
    record_id: str, archive_path: Path | None, trust: Path | None, now: datetime, allow_untrusted: bool
) -> VerifiedSource:
    from provenance.verify.record import verify_record_folder

    arch, ctx = _context(archive_path, trust, now, need_archive=True)
    assert arch is not None
    record_dir = arch.require_record(record_id)
    report = verify_record_folder(record_dir, ctx)
    _refuse_unless(report, f"record {record_id}", allow_untrusted)
    manifest = _manifest_matching(record_dir / "manifest.json", report)
    if manifest is None:
        raise InputError(
            ErrorCode.RECORD_CORRUPT,
            f"record {record_id} cannot be read as it was verified (changed meanwhile, or unreadable)",
        )
    rel = os.path.relpath(record_dir, Path.cwd()) if record_dir.is_absolute() else str(record_dir)
    checkpoint = _read_checkpoint(arch.root / "log" / "checkpoint")
    return VerifiedSource(
        manifest=manifest,
        report=report,
        kind="record",
        label=record_id,
        root=record_dir,
        verified_at=format_utc(now),
        reverify=f"provenance verify {_shell_quote(rel)}"
        + (f" --trust {_shell_quote(str(trust))}" if trust else ""),
        checkpoint=checkpoint,
    )


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


@contextlib.contextmanager
def _open_bundle(
    path: Path, archive_path: Path | None, trust: Path | None, now: datetime, allow_untrusted: bool
) -> Iterator[VerifiedSource]:
    from provenance.bundle.readers import DEFAULT_LIMITS, BundleRejectedError, archive_form, extracted
    from provenance.bundle.verify import verify_bag_folder, verify_bundle
    from provenance.errors import NotFoundError
    from provenance.model.problems import ProblemCode

    if not path.exists():
        raise NotFoundError(
            ErrorCode.RECORD_NOT_FOUND if _is_record_id(str(path)) else ErrorCode.INPUT_NOT_FOUND,
            f"{path}: no such record, file or folder",
            path=str(path),
        )
    _, ctx = _context(archive_path, trust, now, need_archive=False)
    trust_arg = f" --trust {_shell_quote(str(trust))}" if trust else ""
    reverify = f"provenance verify {_shell_quote(path.name if path.is_file() else str(path))}{trust_arg}"

    def build(root: Path, report: VerificationReport) -> VerifiedSource:
        _refuse_unless(report, f"bundle {path.name}", allow_untrusted)
        from provenance.bundle import tagfiles

        manifest = _manifest_matching(root / tagfiles.MANIFEST_TAG, report)
        if manifest is None:
            raise UnverifiedError(
                ErrorCode.SOURCE_INVALID,
                f"bundle {path.name}: its signed manifest cannot be read; nothing was written",
                state=TrustState.INVALID,
            )
        return VerifiedSource(
            manifest=manifest,
            report=report,
            kind="bundle",
            label=path.name,
            root=root / tagfiles.PAYLOAD_DIR,
            verified_at=format_utc(now),
            reverify=reverify,
            checkpoint=_read_checkpoint(root / "provenance" / "log" / "checkpoint"),
        )

    if path.is_dir() and (path / "manifest.json").is_file():  # a record folder named by its path
        from provenance.verify.record import verify_record_folder

        report = verify_record_folder(path, ctx)
        _refuse_unless(report, f"record {path.name}", allow_untrusted)
        manifest = _manifest_matching(path / "manifest.json", report)
        if manifest is None:
            raise InputError(ErrorCode.RECORD_CORRUPT, f"{path} changed while it was read")
        yield VerifiedSource(
            manifest=manifest,
            report=report,
            kind="record",
            label=path.name,
            root=path,
            verified_at=format_utc(now),
            reverify=f"provenance verify {_shell_quote(str(path))}{trust_arg}",
        )
        return
    if path.is_dir():
        report = verify_bundle(path, ctx)
        yield build(path, report)
        return
    if archive_form(path) is None:
        raise UsageError(
            ErrorCode.USAGE, f"{path}: not a record id, a bag folder, a .zip or a .tar.gz", path=str(path)
        )
    report = VerificationReport(path=str(path), kind=archive_form(path) or "bundle")
    with contextlib.ExitStack() as stack:
        try:
            folder = stack.enter_context(extracted(path))
            entries = sorted(os.listdir(folder))
            single = len(entries) == 1 and (folder / entries[0]).is_dir()
            root = folder / entries[0] if single else folder
            verify_bag_folder(root, ctx, report, DEFAULT_LIMITS)
        except BundleRejectedError as exc:
            for finding in exc.findings:
                report.add(finding.code, finding.message, **finding.fields)
            if not report.problems:  # pragma: no cover - a rejection always names its findings
                report.add(ProblemCode.BUNDLE_MALFORMED, f"{path.name} cannot be read safely")
            _refuse_unless(report, f"bundle {path.name}", False)
            raise  # pragma: no cover - refused above: an unreadable bundle has nothing to show
        except OSError as exc:
            raise InputError(
                ErrorCode.BUNDLE_UNREADABLE, f"cannot read bundle {path}: {exc.strerror}", path=str(path)
            ) from exc
        yield build(root, report)
