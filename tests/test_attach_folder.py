"""Dossiers: ``attach RECORD FOLDER`` adds every file below the folder, relative paths kept, in one event,
streamed (size and SHA-256 of the bytes copied), and the record verifies trusted."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from provenance.errors import ConflictError, ErrorCode, InputError
from tests.conftest import World
from tests.helpers import RID, tree_snapshot


def make_folder(root: Path) -> dict[str, bytes]:
    files = {
        "page-001.tif": os.urandom(3000),
        "page-002.tif": os.urandom(70_000),
        "notes/readme.txt": b"scanned 2026\n",
        "notes/deeper/empty.bin": b"",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def test_attach_folder_one_event_every_file(ingested: World, tmp_path: Path, verify_folder) -> None:  # type: ignore[no-untyped-def]
    from provenance.actions import attach

    folder = tmp_path / "scans"
    files = make_folder(folder)
    manifest = attach(ingested.archive, RID, ingested.signers["archivist"], source=folder, role="scan",
                      now=ingested.tick())
    assert len(manifest.events) == 2
    event = manifest.events[-1]
    assert event.details == {"folder": "scans", "files": 4, "role": "scan", "size": sum(map(len, files.values()))}
    entries = {f.path: f for f in manifest.state.files}
    for rel, data in files.items():
        entry = entries[f"scans/{rel}"]
        assert (entry.size, entry.sha256, entry.role) == (len(data), hashlib.sha256(data).hexdigest(), "scan")
        on_disk = ingested.archive.record_dir(RID) / "files" / "scans" / rel
        assert on_disk.read_bytes() == data
    assert entries["scans/notes/readme.txt"].media_type == "text/plain; charset=utf-8"
    report = verify_folder(ingested)
    assert report.problems == [] and report.files == 5


def test_attach_folder_under_another_name(ingested: World, tmp_path: Path) -> None:
    from provenance.actions import attach

    folder = tmp_path / "scans"
    make_folder(folder)
    manifest = attach(ingested.archive, RID, ingested.signers["archivist"], source=folder, name="dossier/pages",
                      now=ingested.tick())
    assert "dossier/pages/page-001.tif" in {f.path for f in manifest.state.files}


def test_attach_folder_with_a_link_is_refused_and_nothing_written(ingested: World, tmp_path: Path) -> None:
    from provenance.actions import attach

    folder = tmp_path / "scans"
    make_folder(folder)
    (folder / "passwd").symlink_to("/etc/passwd")
    before = tree_snapshot(ingested.archive.record_dir(RID))
    with pytest.raises(InputError) as info:
        attach(ingested.archive, RID, ingested.signers["archivist"], source=folder, now=ingested.tick())
    assert str(info.value.code) == "input.path-unsafe"
    assert tree_snapshot(ingested.archive.record_dir(RID)) == before


def test_attach_folder_twice_is_refused(ingested: World, tmp_path: Path) -> None:
    from provenance.actions import attach

    folder = tmp_path / "scans"
    make_folder(folder)
    attach(ingested.archive, RID, ingested.signers["archivist"], source=folder, now=ingested.tick())
    before = tree_snapshot(ingested.archive.record_dir(RID))
    with pytest.raises(ConflictError) as info:  # record.exists is a ConflictError (errors.ERROR_CLASS)
        attach(ingested.archive, RID, ingested.signers["archivist"], source=folder, now=ingested.tick())
    assert info.value.code is ErrorCode.RECORD_EXISTS
    assert tree_snapshot(ingested.archive.record_dir(RID)) == before


def test_attach_empty_folder_is_refused(ingested: World, tmp_path: Path) -> None:
    from provenance.actions import attach

    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError) as info:
        attach(ingested.archive, RID, ingested.signers["archivist"], source=tmp_path / "empty", now=ingested.tick())
    assert str(info.value.code) == "input.empty"


def test_attach_folder_through_the_cli(ingested: World, tmp_path: Path) -> None:
    folder = tmp_path / "scans"
    make_folder(folder)
    result = ingested.run("attach", RID, str(folder), "--as", "scan", "--key", "A. Archivist")
    assert result.returncode == 0, result.stderr
    assert "attached 4 files under scans/" in result.stdout
    verify = ingested.run("verify", f"records/{RID}", "--json")
    assert (verify.returncode, verify.json()["files"]) == (0, 5)


def test_attach_one_file_still_streams(ingested: World, tmp_path: Path) -> None:
    from provenance.actions import attach

    data = os.urandom(5 << 20)
    source = tmp_path / "original.bin"
    source.write_bytes(data)
    manifest = attach(ingested.archive, RID, ingested.signers["archivist"], source=source, role="original",
                      now=ingested.tick())
    entry = manifest.state.files[-1]
    assert (entry.path, entry.size, entry.sha256) == ("original.bin", len(data), hashlib.sha256(data).hexdigest())
    assert manifest.events[-1].details["sha256"] == entry.sha256
