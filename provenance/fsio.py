"""Durable file-system primitives: atomic writes, fsync, directory exchange, and locks.

Every write of the project goes through here, so that "a failed or interrupted command leaves the
archive exactly as it was" is implemented once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from provenance.errors import ConflictError, ErrorCode, StorageError

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2


def storage_error(action: str, path: Path, exc: OSError) -> StorageError:
    """A one-line error for an OS failure while writing, naming the path and the reason."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    hint = ""
    if exc.errno == errno.ENOSPC:
        hint = " (the disk is full)"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = " (the archive is read-only or not writable by you)"
    return StorageError(
        ErrorCode.WRITE_FAILED,
        f"could not {action} {path}: {reason}{hint}; nothing was changed",
        path=str(path),
    )


def _fsync(path: str | Path, flags: int = os.O_RDONLY) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk so that a rename in it survives a crash."""
    _fsync(path, os.O_RDONLY | os.O_DIRECTORY)


@contextlib.contextmanager
def removed_on_failure(path: Path) -> Iterator[None]:
    """Remove ``path`` (a file the block is writing) when the block fails, then raise what it raised."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def fsync_tree(root: Path) -> None:
    """Flush every file below ``root`` and every folder, ``root`` included: a folder written without a flush
    per file (an export being built beside its place) is on disk once this returns. Raises ``OSError``."""
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            _fsync(os.path.join(dirpath, name))
        fsync_dir(Path(dirpath))


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, sync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, fsync, and rename.

    Raises ``OSError`` (callers wrap it with :func:`storage_error`). Readers see the old bytes or the new,
    never a mixture. ``sync=False`` leaves the flush to the caller (one :func:`sync_filesystem` for many
    files, as a staged record of ``ingest-batch`` does before its commit).
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.urandom(6).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with removed_on_failure(tmp):
        with os.fdopen(fd, "wb", closefd=True) as handle:
            handle.write(data)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    if sync:
        fsync_dir(path.parent)


def write_new(path: Path, data: bytes, *, mode: int = 0o644, sync: bool = True) -> None:
    """Create ``path`` with ``data`` directly (no temporary file and rename): for a folder nobody reads
    until it is renamed into place whole (a new record's stage), where a torn file is never seen. Raises
    ``FileExistsError`` when ``path`` exists (nothing is replaced), ``OSError``; a failed write removes it.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with removed_on_failure(path):
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)  # the mode asked for, whatever the umask
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    if sync:
        fsync_dir(path.parent)


def read_input(path: Path, limit: int, what: str) -> bytes:
    """A file the user named (``what``: "passphrase file", "annotation collection"), read bounded; a pipe
    (``<(…)``) is read too. Raises ``NotFoundError(input.not-found)`` or ``InputError(input.unreadable)``."""
    from provenance.errors import InputError, NotFoundError

    try:
        return read_limited(path, limit, regular_only=False)
    except FileNotFoundError as exc:
        raise NotFoundError(
            ErrorCode.INPUT_NOT_FOUND, f"cannot read {what} {path}: no such file", path=str(path)
        ) from exc
    except OSError as exc:
        raise InputError(
            ErrorCode.INPUT_UNREADABLE, f"cannot read {what} {path}: {exc.strerror}", path=str(path)
        ) from exc


def read_limited(
    path: Path | str, limit: int, *, regular_only: bool = True, follow: bool = True
) -> bytes:
    """At most ``limit`` bytes of ``path``; refuses more, and (by default) anything but a regular file.

    A hostile folder can hold a FIFO (a read that never ends) or a link to ``/dev/zero`` (a read that never
    stops growing) where a small file is expected: both are refused without blocking. With
    ``regular_only=False`` pipes are read too (``--passphrase-file <(…)``), still bounded. Raises
    ``OSError``: ``EINVAL`` for a file that is not regular, ``EFBIG`` for one larger than ``limit``, ``ELOOP``
    for a symbolic link when ``follow`` is False.
    """
    flags = os.O_RDONLY | (os.O_NONBLOCK if regular_only else 0) | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if regular_only and not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if regular_only:
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        # the size on record as the first read (a small file in one read without a 1 MiB buffer each time)
        step = min(max(info.st_size + 1, 1 << 16), 1 << 20)
        while size <= limit:
            chunk = os.read(fd, min(step, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise OSError(errno.EFBIG, f"larger than {limit} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux renameat2(2); returns False where the system call or flag is not available."""
    try:
        import ctypes  # here: only writers need it

        libc = ctypes.CDLL(None, use_errno=True)
        func = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = func(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def exchange_dirs(new: Path, current: Path) -> None:
    """Atomically put folder ``new`` in place of folder ``current``; ``new`` then holds the old one.

    Uses renameat2(RENAME_EXCHANGE), a single atomic step. Where the system lacks it, falls back to three
    renames; a crash inside that microsecond gap leaves the committed copy beside the record, named
    ``.<id>.old-*``, and is the one window this fallback cannot close (see docs/security.md).
    """
    if _renameat2(new, current, _RENAME_EXCHANGE):
        fsync_dir(current.parent)
        return
    aside = current.with_name(f".{current.name}.old-{os.urandom(4).hex()}")
    os.rename(current, aside)
    os.rename(new, current)
    os.rename(aside, new)
    fsync_dir(current.parent)


def rename_noreplace(src: Path, dst: Path, *, sync: bool = True) -> None:
    """Move folder ``src`` to ``dst``, failing with ``FileExistsError`` if ``dst`` exists.

    ``sync=False`` leaves flushing the new entry to the caller (a batch flushes once at its end).
    """
    if _renameat2(src, dst, _RENAME_NOREPLACE):
        if sync:
            fsync_dir(dst.parent)
        return
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "exists", str(dst))
    os.rename(src, dst)
    if sync:
        fsync_dir(dst.parent)


COPY_BLOCK = 4 << 20  # one reused buffer: memory stays flat whatever the size of the file


def copy_hashed(
    src: Path, dst: Path, *, algorithms: tuple[str, ...] = ("sha256",), mode: int = 0o644
) -> tuple[int, dict[str, str]]:
    """Copy the regular file ``src`` to the new file ``dst`` in large blocks; the size and digests are of
    the bytes written (read once: what is recorded is what was copied, even if ``src`` changes meanwhile).

    No fsync here: the caller flushes a whole folder of copies at once (:func:`sync_filesystem`). Refuses a
    link or special file at ``src`` (``OSError`` ELOOP/EINVAL), never replaces ``dst`` (``FileExistsError``).
    """
    import hashlib

    hashers = [hashlib.new(name) for name in algorithms]
    buffer = bytearray(COPY_BLOCK)
    view = memoryview(buffer)
    size = 0
    fd_in = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd_in).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(src))
        fd_out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        try:
            while count := os.readv(fd_in, [buffer]):
                chunk = view[:count]
                for hasher in hashers:
                    hasher.update(chunk)
                written = 0
                while written < count:
                    written += os.write(fd_out, chunk[written:])
                size += count
        finally:
            os.close(fd_out)
    finally:
        os.close(fd_in)
    return size, {name: h.hexdigest() for name, h in zip(algorithms, hashers, strict=True)}


def sync_filesystem(path: Path) -> None:
    """Flush every write of the file system holding ``path`` (Linux syncfs(2); elsewhere sync(2)).

    One call instead of an fsync per file: a dossier of thousands of page scans is flushed in one step.
    """
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.syncfs(fd) == 0:
                return
        except (OSError, AttributeError):
            pass
        os.sync()
    finally:
        os.close(fd)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (files are never modified in place), copying where links fail."""
    try:
        os.link(src, dst)
    except OSError:
        data = src.read_bytes()
        dst.write_bytes(data)


@contextlib.contextmanager
def new_folder(out: Path, *, what: str) -> Iterator[Path]:
    """A folder built beside ``out`` and renamed into place, without replacing anything, when the block ends
    well; on any failure it is removed and nothing is left at ``out``.

    Raises ``ConflictError(output.exists)`` when ``out`` exists by then, ``StorageError(io.write-failed)``
    (naming ``what``) when a write fails.
    """
    import shutil

    building = out.parent / f".{out.name}.tmp-{os.urandom(6).hex()}"
    try:
        yield building
        rename_noreplace(building, out)
    except FileExistsError:
        shutil.rmtree(building, ignore_errors=True)
        raise ConflictError(ErrorCode.OUTPUT_EXISTS, f"{out} already exists") from None
    except OSError as exc:
        shutil.rmtree(building, ignore_errors=True)
        raise storage_error(f"write {what}", out, exc) from exc
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, *, timeout: float = 120.0, what: str = "record") -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (flock); wait up to ``timeout`` seconds.

    Raises ``ConflictError(archive.locked)`` when another command holds it for longer, and
    ``StorageError(io.write-failed)`` when the lock file cannot be opened (read-only, or a link planted there).
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    # O_NOFOLLOW: a lock planted as a symbolic link must not make us create or open a file elsewhere.
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise storage_error("take the lock", lock_path, exc) from exc
    busy = f"another command is writing to this {what} ({lock_path}); try again when it ends"
    with _flocked(fd, timeout, busy):
        yield


@contextlib.contextmanager
def exclusive_folder_lock(folder: Path, *, timeout: float = 120.0, busy: str) -> Iterator[None]:
    """Hold an exclusive flock on the folder itself (never through a link); ``busy`` is the message of the
    ``ConflictError(archive.locked)`` raised after ``timeout`` seconds of waiting."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        raise storage_error("lock", folder, exc) from exc
    with _flocked(fd, timeout, busy):
        yield


@contextlib.contextmanager
def _flocked(fd: int, timeout: float, busy: str) -> Iterator[None]:
    """Wait (backing off) for an exclusive flock on ``fd``, hold it, then release it and close ``fd``."""
    import fcntl

    try:
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConflictError(ErrorCode.ARCHIVE_LOCKED, busy) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
