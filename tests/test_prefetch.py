"""The helper that hashes a record's large files while ``verify`` starts gives hashlib's digests, and a
verification with it reports exactly what one without it reports (an altered large file included)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from provenance.verify import prefetch as prefetch_module
from provenance.verify.prefetch import Prefetch
from tests.conftest import World
from tests.helpers import RID


def test_helper_hashes_large_regular_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch_module, "MIN_SIZE", 1000)
    (tmp_path / "sub").mkdir()
    big = os.urandom(5000)
    (tmp_path / "big.bin").write_bytes(big)
    (tmp_path / "sub" / "big2.bin").write_bytes(big[::-1])
    (tmp_path / "small.txt").write_bytes(b"x" * 10)
    (tmp_path / "link.bin").symlink_to(tmp_path / "big.bin")
    helper = Prefetch.start(tmp_path)
    assert helper is not None
    results = helper.results()
    assert results == {
        str(tmp_path / "big.bin"): (5000, {"sha256": hashlib.sha256(big).hexdigest()}),
        str(tmp_path / "sub" / "big2.bin"): (5000, {"sha256": hashlib.sha256(big[::-1]).hexdigest()}),
    }
    assert helper.results() is results  # asked twice: the same answer, the helper is gone


def test_a_helper_whose_results_are_not_asked_for_is_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A verification that stops before it hashes (a refused trust store, say) leaves no process behind."""
    monkeypatch.setattr(prefetch_module, "MIN_SIZE", 1000)
    (tmp_path / "big.bin").write_bytes(os.urandom(5000))
    helper = Prefetch.start(tmp_path)
    assert helper is not None
    pid = helper._pid
    helper.close()
    with pytest.raises(ChildProcessError):  # reaped: no child of that id is left
        os.waitpid(pid, os.WNOHANG)
    assert helper.results() == {}  # asked afterwards: nothing, and the verification hashes itself
    helper.close()  # twice: nothing more to do


def test_a_folder_of_many_entries_is_left_to_step_6(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch_module, "MAX_ENTRIES", 3)
    monkeypatch.setattr(prefetch_module, "MIN_SIZE", 1)
    for index in range(5):
        (tmp_path / f"f{index}").write_bytes(b"data")
    helper = Prefetch.start(tmp_path)
    assert helper is not None and helper.results() == {}


@pytest.mark.parametrize("altered", [False, True])
def test_verification_with_the_helper_reports_the_same(
    lived: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, altered: bool
) -> None:
    from dataclasses import replace

    from provenance.actions import attach
    from provenance.verify.record import verify_record_folder
    from provenance.verify.target import make_context

    monkeypatch.setattr(prefetch_module, "MIN_SIZE", 1 << 16)
    scan = tmp_path / "scan.tif"
    scan.write_bytes(os.urandom(300_000))
    attach(lived.archive, RID, lived.signers["archivist"], source=scan, role="scan", now=lived.tick())
    folder = lived.archive.record_dir(RID)
    if altered:
        target = folder / "files" / "scan.tif"
        data = bytearray(target.read_bytes())
        data[1234] ^= 1
        target.write_bytes(bytes(data))
    ctx = make_context(lived.archive.keys_dir, lived.tick())
    plain = verify_record_folder(folder, ctx).to_json()
    helper = Prefetch.start(folder / "files")
    assert helper is not None
    helped = verify_record_folder(folder, replace(ctx, prefetch=helper)).to_json()
    assert helped == plain
    assert str(folder / "files" / "scan.tif") in helper.results()
    assert [p["code"] for p in plain["problems"]] == (["file.digest-mismatch"] if altered else [])


def test_for_a_bag_the_helper_hashes_every_regular_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.txt").write_bytes(b"a")
    (tmp_path / "files" / "empty").write_bytes(b"")
    (tmp_path / "files" / "new\nline").write_bytes(b"n")  # not reported: the bag check hashes it itself
    (tmp_path / "link").symlink_to(tmp_path / "files" / "a.txt")
    helper = Prefetch.start(tmp_path, every=True)
    assert helper is not None
    assert helper.results() == {
        str(tmp_path / "files" / "a.txt"): (1, {"sha256": hashlib.sha256(b"a").hexdigest()}),
        str(tmp_path / "files" / "empty"): (0, {"sha256": hashlib.sha256(b"").hexdigest()}),
    }
    monkeypatch.setattr(prefetch_module, "MAX_PAYLOAD_ENTRIES", 2)  # past the bound: nothing, the check hashes
    helper = Prefetch.start(tmp_path, every=True)
    assert helper is not None and helper.results() == {}
    monkeypatch.setattr(prefetch_module, "MAX_PAYLOAD_ENTRIES", 100)
    monkeypatch.setattr(prefetch_module, "MIN_SIZE", 4)  # large files: 4 bytes or more …
    monkeypatch.setattr(prefetch_module, "PARALLEL_MIN_BYTES", 8)  # … holding 8: the check spreads them
    (tmp_path / "files" / "b.bin").write_bytes(b"1234")
    (tmp_path / "files" / "c.bin").write_bytes(b"5678")
    helper = Prefetch.start(tmp_path, every=True)
    assert helper is not None
    assert set(helper.results()) == {str(tmp_path / "files" / "a.txt"), str(tmp_path / "files" / "empty")}
    (tmp_path / "files" / "c.bin").unlink()  # one large file of 4 bytes: below the bound, hashed here
    helper = Prefetch.start(tmp_path, every=True)
    assert helper is not None and str(tmp_path / "files" / "b.bin") in helper.results()
    empty = tmp_path / "nothing"
    empty.mkdir()
    helper = Prefetch.start(empty, every=True)
    assert helper is not None and helper.results() == {}


@pytest.mark.parametrize("change", ["none", "payload", "added"])
def test_a_bag_verified_with_the_helper_reports_the_same(lived: World, tmp_path: Path, change: str) -> None:
    from dataclasses import replace

    from provenance.bundle.export import export_record
    from provenance.verify.target import make_context, verify_path

    bag = tmp_path / "bag"
    export_record(lived.archive, RID, bag, history=True)
    target = bag / "data" / "files" / f"{RID}.txt"
    if change == "payload":
        data = bytearray(target.read_bytes())
        data[10] ^= 1
        target.write_bytes(bytes(data))
    elif change == "added":
        (bag / "data" / "files" / "extra.txt").write_bytes(b"added after the export")
    ctx = make_context(lived.archive.keys_dir, lived.tick())
    plain = verify_path(bag, ctx).to_json()
    helper = Prefetch.start(bag / "data", every=True)
    assert helper is not None
    helped = verify_path(bag, replace(ctx, prefetch=helper)).to_json()
    assert helped == plain
    assert str(target) in helper.results()
    codes = {p["code"] for p in plain["problems"]}
    assert ("bag.digest-mismatch" in codes) == (change == "payload")
    assert ("bag.file-unexpected" in codes) == (change == "added")
