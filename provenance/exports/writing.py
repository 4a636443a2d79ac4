"""Writing an export: one file, atomically, never over an existing one."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from provenance.errors import ConflictError, ErrorCode, NotFoundError


def write_output(out: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``out`` through a temporary file (fsync, rename without replacing).

    Raises ``ConflictError(output.exists)``, ``NotFoundError(input.not-found)`` when its folder does not
    exist, ``StorageError(io.write-failed)``; nothing is left behind on failure.
    """
    from provenance.fsio import rename_noreplace, storage_error

    if out.exists() or out.is_symlink():
        raise ConflictError(
            ErrorCode.OUTPUT_EXISTS, f"{out} already exists", path=str(out)
        )
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{folder}: no such folder to write into", path=str(out))
    tmp = folder / f".{out.name}.tmp-{os.urandom(6).hex()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        rename_noreplace(tmp, out)
    except FileExistsError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise ConflictError(ErrorCode.OUTPUT_EXISTS, f"{out} already exists") from exc
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise storage_error("write", out, exc) from exc
