"""provenance.fsio: atomic writes, bounded reads, renames that never replace, folder exchange, hashed copies,
folders built beside their place, and the flock every writer waits on."""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest

from provenance import fsio
from provenance.errors import ErrorCode
from tests.coded import raises_code


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_write_atomic_replaces_whole_with_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    fsio.write_atomic(target, b"one")
    fsio.write_atomic(target, b"two", mode=0o444)
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o444
    fsio.write_atomic(tmp_path / "g", b"unflushed", sync=False)
    assert (tmp_path / "g").read_bytes() == b"unflushed"
    assert _leftovers(tmp_path) == []


def test_write_atomic_into_a_missing_folder_raises_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fsio.write_atomic(tmp_path / "absent" / "f", b"x")
    assert list(tmp_path.iterdir()) == []


def test_write_atomic_over_a_folder_keeps_the_folder_and_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError, match="directory"):
        fsio.write_atomic(tmp_path / "d", b"x")
    assert (tmp_path / "d").is_dir() and _leftovers(tmp_path) == []


def test_removed_on_failure_removes_the_file_and_raises_what_the_block_raised(tmp_path: Path) -> None:
    target = tmp_path / "half"
    with pytest.raises(KeyboardInterrupt), fsio.removed_on_failure(target):
        target.write_bytes(b"half written")
        raise KeyboardInterrupt
    assert not target.exists()
    with fsio.removed_on_failure(target):  # a block that ends well keeps what it wrote
        target.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
    with pytest.raises(ValueError, match="before the file was made"), fsio.removed_on_failure(tmp_path / "never"):
        raise ValueError("before the file was made")


def test_fsync_tree_flushes_every_file_and_folder_below(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for rel in ("top", "a/one", "a/b/two"):
        (tmp_path / rel).write_bytes(rel.encode())
    flushed: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushed.append(fd), real_fsync(fd))[1])
    fsio.fsync_tree(tmp_path)
    assert len(flushed) == 3 + 3  # three files, three folders (the root included)


def test_write_new_refuses_an_existing_file_and_leaves_it(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    fsio.write_new(target, b"first", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        fsio.write_new(target, b"second")
    assert target.read_bytes() == b"first"


@pytest.mark.parametrize(("size", "limit", "ok"), [(0, 0, True), (10, 10, True), (11, 10, False),
                                                  (200_000, 200_000, True), (200_001, 200_000, False)])
def test_read_limited_reads_up_to_the_limit(tmp_path: Path, size: int, limit: int, ok: bool) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(size))
    if ok:
        assert fsio.read_limited(path, limit) == path.read_bytes()
    else:
        with pytest.raises(OSError) as caught:
            fsio.read_limited(path, limit)
        assert caught.value.errno == errno.EFBIG


def test_read_limited_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError) as caught:
        fsio.read_limited(fifo, 100)
    assert caught.value.errno == errno.EINVAL


def test_read_limited_refuses_dev_zero_behind_a_link(tmp_path: Path) -> None:
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(OSError) as caught:
        fsio.read_limited(tmp_path / "zero", 100)
    assert caught.value.errno == errno.EINVAL
    with pytest.raises(OSError) as not_followed:
        fsio.read_limited(tmp_path / "zero", 100, follow=False)
    assert not_followed.value.errno == errno.ELOOP


def test_read_limited_reads_a_pipe_when_asked_still_bounded(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def feed(data: bytes) -> None:
        with open(fifo, "wb") as pipe:
            pipe.write(data)

    writer = threading.Thread(target=feed, args=(b"secret\n",))
    writer.start()
    assert fsio.read_limited(fifo, 100, regular_only=False) == b"secret\n"
    writer.join(10)
    writer = threading.Thread(target=feed, args=(b"x" * 1000,))
    writer.start()
    with pytest.raises(OSError) as caught:
        fsio.read_limited(fifo, 100, regular_only=False)
    writer.join(10)
    assert caught.value.errno == errno.EFBIG


def test_rename_noreplace_never_replaces(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_text("a")
    fsio.rename_noreplace(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b" / "f").read_text() == "a" and not (tmp_path / "a").exists()
    (tmp_path / "c").mkdir()
    with pytest.raises(FileExistsError):
        fsio.rename_noreplace(tmp_path / "c", tmp_path / "b", sync=False)
    assert (tmp_path / "b" / "f").read_text() == "a" and (tmp_path / "c").is_dir()


def test_exchange_dirs_swaps_two_folders(tmp_path: Path) -> None:
    for name in ("new", "current"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "which").write_text(name)
    fsio.exchange_dirs(tmp_path / "new", tmp_path / "current")
    assert (tmp_path / "current" / "which").read_text() == "new"
    assert (tmp_path / "new" / "which").read_text() == "current"


def test_copy_hashed_gives_size_and_digests_of_the_bytes_copied(tmp_path: Path) -> None:
    data = os.urandom(fsio.COPY_BLOCK + 12345)  # more than one block
    (tmp_path / "src").write_bytes(data)
    size, digests = fsio.copy_hashed(tmp_path / "src", tmp_path / "dst", algorithms=("sha256", "sha512"))
    assert size == len(data) and (tmp_path / "dst").read_bytes() == data
    assert digests == {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()}


@pytest.mark.parametrize(("make", "err"), [("link", errno.ELOOP), ("fifo", errno.EINVAL), ("exists", errno.EEXIST)])
def test_copy_hashed_refuses_links_specials_and_an_existing_target(tmp_path: Path, make: str, err: int) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    if make == "link":
        (tmp_path / "real").write_bytes(b"x")
        src.symlink_to(tmp_path / "real")
    elif make == "fifo":
        os.mkfifo(src)
    else:
        src.write_bytes(b"new")
        dst.write_bytes(b"old")
    with pytest.raises(OSError) as caught:
        fsio.copy_hashed(src, dst)
    assert caught.value.errno == err
    assert not dst.exists() or dst.read_bytes() == b"old"


def test_link_or_copy_shares_the_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"bytes")
    fsio.link_or_copy(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == b"bytes"
    fsio.sync_filesystem(tmp_path)  # one flush for all: does not raise


def test_new_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with fsio.new_folder(out, what="the export") as building:
        building.mkdir()  # the caller makes it (or renames a built tree there)
        (building / "f").write_text("done")
        assert not out.exists()
    assert (out / "f").read_text() == "done"
    with pytest.raises(RuntimeError), fsio.new_folder(tmp_path / "failed", what="the export") as building:
        building.mkdir()
        (building / "half").write_text("x")
        raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_new_folder_refuses_an_existing_output(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with raises_code(ErrorCode.OUTPUT_EXISTS, "already exists"), fsio.new_folder(tmp_path / "out",
                                                                                 what="the export") as b:
        b.mkdir()
        (b / "f").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and list((tmp_path / "out").iterdir()) == []


def test_new_folder_turns_a_write_failure_into_a_coded_error(tmp_path: Path) -> None:
    with raises_code(ErrorCode.WRITE_FAILED, "could not write the export"), fsio.new_folder(
            tmp_path / "out", what="the export") as building:
        building.mkdir()
        (building / "missing" / "f").write_text("x")
    assert list(tmp_path.iterdir()) == []


def test_a_held_lock_makes_a_second_writer_wait_then_give_up(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "r.lock"
    with fsio.exclusive_lock(lock), raises_code(ErrorCode.ARCHIVE_LOCKED, "another command is writing"), \
            fsio.exclusive_lock(lock, timeout=0.1):
        pass  # pragma: no cover - never reached
    with fsio.exclusive_lock(lock, timeout=0.1):  # released: taken at once
        pass


def test_a_lock_planted_as_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("not a lock")
    (tmp_path / "r.lock").symlink_to(tmp_path / "elsewhere")
    with raises_code(ErrorCode.WRITE_FAILED, "could not take the lock"), fsio.exclusive_lock(tmp_path / "r.lock"):
        pass  # pragma: no cover - never reached


def test_a_folder_lock_is_exclusive_and_refuses_a_link(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    with fsio.exclusive_folder_lock(tmp_path / "root", busy="busy root"), raises_code(
            ErrorCode.ARCHIVE_LOCKED, "busy root"), fsio.exclusive_folder_lock(tmp_path / "root", timeout=0.1,
                                                                             busy="busy root"):
        pass  # pragma: no cover - never reached
    (tmp_path / "link").symlink_to(tmp_path / "root")
    with raises_code(ErrorCode.WRITE_FAILED), fsio.exclusive_folder_lock(tmp_path / "link", busy="b"):
        pass  # pragma: no cover - never reached


@pytest.mark.parametrize(
    ("err", "hint"),
    [(errno.ENOSPC, "(the disk is full)"), (errno.EROFS, "read-only or not writable"),
     (errno.EACCES, "read-only or not writable"), (errno.EIO, "")],
)
def test_storage_error_names_the_path_and_the_reason(tmp_path: Path, err: int, hint: str) -> None:
    error = fsio.storage_error("write", tmp_path / "f", OSError(err, os.strerror(err)))
    document = error.to_json()
    assert document["code"] == str(ErrorCode.WRITE_FAILED) and document["path"] == str(tmp_path / "f")
    assert error.message.startswith(f"could not write {tmp_path / 'f'}: {os.strerror(err)}")
    assert hint in error.message and error.message.endswith("; nothing was changed")
