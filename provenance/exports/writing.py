"""Writing an export: never over an existing path, one file atomically, and what was written.

Every export (the readers' page, TEI and annotations; PREMIS, METS, the Archivematica transfer, OCFL) refuses
an existing output and a missing folder through :func:`check_new_output`, writes a single file through
:func:`write_output`, and the preservation exports report what they wrote as an :class:`Exported`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import ConflictError, ErrorCode, NotFoundError


def check_new_output(out: Path) -> None:
    """Refuse an existing ``out`` (never overwritten, a dangling link included) or a missing parent folder.

    Raises ``ConflictError(output.exists)`` (the command line adds what to do), ``NotFoundError(input.not-found)``.
    """
    if os.path.lexists(out):
        raise ConflictError(ErrorCode.OUTPUT_EXISTS, f"{out} already exists", path=str(out))
    if not out.parent.is_dir():
        raise NotFoundError(
            ErrorCode.INPUT_NOT_FOUND, f"folder {out.parent} does not exist", path=str(out.parent)
        )


def write_output(out: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``out`` through a temporary file (fsync, rename without replacing).

    Raises ``ConflictError(output.exists)``, ``NotFoundError(input.not-found)`` when its folder does not
    exist, ``StorageError(io.write-failed)``; nothing is left behind on failure.
    """
    from provenance.fsio import removed_on_failure, rename_noreplace, storage_error

    check_new_output(out)
    tmp = out.parent / f".{out.name}.tmp-{os.urandom(6).hex()}"
    try:
        with removed_on_failure(tmp):
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            rename_noreplace(tmp, out)
    except FileExistsError as exc:
        raise ConflictError(ErrorCode.OUTPUT_EXISTS, f"{out} already exists") from exc
    except OSError as exc:
        raise storage_error("write", out, exc) from exc


@dataclass
class Exported:
    """What a preservation export wrote from a verified record: the record, the head event's digest, the
    verified state and its warnings; each export adds what it wrote (``to_json`` and ``line``)."""

    record: str
    head: str
    state: str
    warnings: list[str]

    def json_with(self, written: dict[str, object]) -> dict[str, object]:
        """The JSON document: ``record``, then what was written, then ``head``, ``state`` and ``warnings``."""
        return {"record": self.record, **written, "head": self.head, "state": self.state, "warnings": self.warnings}
