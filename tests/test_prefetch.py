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
