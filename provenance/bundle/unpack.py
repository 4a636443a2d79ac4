"""``unpack``: a bundle archive's bag on disk, only after it verified trusted, and only the bytes verified.

The archive is read once (:func:`provenance.bundle.verify.verify_archive` with a staging folder): each
member is streamed through its digests and, in the same pass, into a new staging folder created next to
the destination (``.<name>.unpack-*`` in the destination's parent, so the final step is a rename on one
file system). The bag and record checks then run on what was read. Only when the report's state is
``trusted`` is the staged bag renamed into place, without replacing anything (``renameat2`` with
``RENAME_NOREPLACE`` where available); otherwise, or on any error, the staging folder is removed and the
destination never appears. What lands on disk is therefore exactly what was hashed: no second reader,
no second read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from provenance.bundle.entries import DEFAULT_LIMITS, Limits
from provenance.model.problems import TrustState, VerificationReport
from provenance.verify.record import VerifyContext


@dataclass
class UnpackResult:
    """The verification report, and where the bag was written (None unless the state is ``trusted``)."""

    report: VerificationReport
    out: Path | None


def _sync_tree(root: Path) -> None:
    """fsync every staged folder (the files were synced as they were closed), deepest first."""
    from provenance.fsio import fsync_dir

    for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda entry: -entry[0].count(os.sep)):
        fsync_dir(Path(dirpath))


def unpack_bundle(
    path: Path, out: Path, ctx: VerifyContext, limits: Limits = DEFAULT_LIMITS
) -> UnpackResult:
    """Verify the bundle archive ``path``; when it is trusted, leave its bag (the folder holding
    ``bagit.txt``) at ``out``, which must not exist.

    Raises ``ConflictError(output.exists)`` when ``out`` exists, ``UsageError`` when ``path`` is not a
    ``.zip``/``.tar.gz``/``.tar`` file, ``NotFoundError(input.not-found)`` when ``out``'s parent folder
    does not exist, ``InputError(bundle.unreadable)`` when the archive cannot be opened, and
    ``StorageError(io.write-failed)`` when the staging folder cannot be written (nothing is left behind).
    """
    from provenance.bundle.readers import archive_form
    from provenance.bundle.verify import verify_archive
    from provenance.errors import ConflictError, ErrorCode, NotFoundError, UsageError
    from provenance.fsio import fsync_dir, rename_noreplace, storage_error

    if path.is_dir() or archive_form(path) is None:
        raise UsageError(
            ErrorCode.USAGE,
            f"{path}: unpack reads a .zip, .tar.gz or .tar bundle (a bag folder is verified with verify)",
            path=str(path),
        )
    if os.path.lexists(out):
        raise ConflictError(ErrorCode.OUTPUT_EXISTS, f"{out} already exists", path=str(out))
    parent = out.absolute().parent
    if not parent.is_dir():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{parent}: no such folder to write into", path=str(parent))
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.unpack-", dir=parent))
    except OSError as exc:
        raise storage_error("create a staging folder in", parent, exc) from exc
    try:
        try:
            report, top = verify_archive(path, ctx, limits, staging=staging)
        except OSError as exc:
            raise storage_error("write the bundle's files into", staging, exc) from exc
        if report.state is not TrustState.TRUSTED or top is None:
            return UnpackResult(report, None)
        bag = staging / top.rstrip("/") if top else staging
        try:
            if not top:  # the staging folder itself becomes the bag: the permissions of a new folder
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(bag, 0o777 & ~umask)
            _sync_tree(bag)
            if os.path.lexists(out):  # it appeared while the bundle was read
                raise ConflictError(
                    ErrorCode.OUTPUT_EXISTS, f"{out} already exists", path=str(out)
                )
            rename_noreplace(bag, out)
            fsync_dir(parent)
        except FileExistsError as exc:
            raise ConflictError(
                ErrorCode.OUTPUT_EXISTS, f"{out} already exists", path=str(out)
            ) from exc
        except OSError as exc:
            raise storage_error("move the verified bag to", out, exc) from exc
        return UnpackResult(report, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
