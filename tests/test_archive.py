"""provenance.archive: creating and finding an archive, its configuration, record ids and folders, the
refusal of links where writers go, and a staged record swapped into place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provenance.archive import CONFIG_NAME, Archive, StagedRecord, check_record_id, load_config
from provenance.errors import ErrorCode
from provenance.model.events import EventType, Role
from tests.coded import raises_code
from tests.conftest import World


@pytest.mark.parametrize("record_id", ["telegram-23256", "a", "0", "a.b_c-d", "x" * 64])
def test_good_record_ids(record_id: str) -> None:
    assert check_record_id(record_id) == record_id


@pytest.mark.parametrize("record_id", ["", "-a", ".a", "_a", "A", "a/b", "a..b", "x" * 65, "a b", "é", "a\n", "\na"])
def test_bad_record_ids_are_coded(record_id: str) -> None:
    with raises_code(ErrorCode.RECORD_ID_INVALID, "not valid"):
        check_record_id(record_id)


def test_init_creates_once_and_locate_finds_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive, created = Archive.init(tmp_path / "a")
    assert created and archive.records_dir.is_dir() and archive.keys_dir.is_dir()
    assert archive.config_path.name == CONFIG_NAME and archive.config_path.is_file()
    config = archive.config_path.read_bytes()
    again, created_again = Archive.init(tmp_path / "a")
    assert not created_again and again == archive and archive.config_path.read_bytes() == config
    assert Archive.locate(tmp_path / "a") == archive
    monkeypatch.setenv("PROVENANCE_ARCHIVE", str(tmp_path / "a"))
    assert Archive.locate() == archive
    monkeypatch.delenv("PROVENANCE_ARCHIVE")
    monkeypatch.chdir(tmp_path / "a")
    assert Archive.locate() == archive


def test_locate_refuses_a_folder_that_is_no_archive(tmp_path: Path) -> None:
    with raises_code(ErrorCode.ARCHIVE_NOT_FOUND, "not a provenance archive", "no records/ folder"):
        Archive.locate(tmp_path)


def test_init_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("a file, not a folder")
    with raises_code(ErrorCode.WRITE_FAILED):
        Archive.init(tmp_path / "a")


def test_the_default_config_is_the_default_policy(tmp_path: Path) -> None:
    archive, _ = Archive.init(tmp_path / "a")
    config = archive.config()
    assert config.default_key is None
    assert config.policy == load_config(tmp_path / "absent.toml").policy


def test_a_config_narrows_the_roles_of_an_event_type(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_text('default_key = "A. Archivist"\n[roles]\nannotation = ["archivist"]\n', "utf-8")
    config = load_config(path)
    assert config.default_key == "A. Archivist"
    assert config.policy[EventType.ANNOTATION] == frozenset({Role.ARCHIVIST})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("default_key = [", "not valid TOML"),
        ("default_key = 3", "default_key must be a string"),
        ("roles = 3", "[roles] must be a table"),
        ('[roles]\nburial = ["archivist"]', "unknown event type 'burial'"),
        ('[roles]\nannotation = "archivist"', "must be a list of role names"),
        ('[roles]\nannotation = ["archivist", 3]', "must be a list of role names"),
        ('[roles]\nannotation = ["pope"]', "known: "),
    ],
)
def test_a_bad_config_names_the_file_and_the_entry(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_text(text + "\n", "utf-8")
    with raises_code(ErrorCode.ARCHIVE_CONFIG, str(path), words):
        load_config(path)


def test_a_config_that_is_not_utf8_is_coded(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_bytes(b"default_key = \"\xff\"\n")
    with raises_code(ErrorCode.ARCHIVE_CONFIG, "not valid TOML"):
        load_config(path)


def test_records_are_listed_and_required(ingested: World) -> None:
    archive = ingested.archive
    (archive.records_dir / "half-made").mkdir()  # no manifest: not a record
    (archive.records_dir / "Bad Name").mkdir()
    assert archive.record_ids() == ["telegram-23256"]
    assert archive.has_record("telegram-23256") and not archive.has_record("half-made")
    assert archive.require_record("telegram-23256") == archive.records_dir / "telegram-23256"
    with raises_code(ErrorCode.RECORD_NOT_FOUND, "'nope'", "records here: telegram-23256"):
        archive.require_record("nope")
    with raises_code(ErrorCode.RECORD_ID_INVALID):
        archive.record_dir("../keys")


def test_an_empty_archive_has_no_records(tmp_path: Path) -> None:
    archive, _ = Archive.init(tmp_path / "a")
    assert archive.record_ids() == [] and archive.linked_records() == []
    with raises_code(ErrorCode.RECORD_NOT_FOUND) as raised:
        archive.require_record("x")
    assert "records here" not in raised.message


@pytest.mark.parametrize("where", ["keys/planted.json", "records/evil", ".provenance/locks",
                                   "records/telegram-23256/files/extra.txt", CONFIG_NAME])
def test_a_link_where_writers_go_is_refused(ingested: World, tmp_path: Path, where: str) -> None:
    path = ingested.root / where
    if path.is_dir() and not path.is_symlink():
        os.rename(path, tmp_path / "moved")
    elif path.exists():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(tmp_path)
    record = "evil" if where == "records/evil" else "telegram-23256"
    with raises_code(ErrorCode.ARCHIVE_PATH_UNSAFE, where.split("/")[-1]):
        ingested.archive.refuse_links(record)
    if where == "records/evil":
        assert ingested.archive.linked_records() == ["evil"]  # audit names it; never followed
        ingested.archive.refuse_links("telegram-23256")  # the writers of other records go on


def test_locked_takes_the_record_lock(ingested: World) -> None:
    with ingested.archive.locked("telegram-23256"):
        assert (ingested.archive.work_dir / "locks" / "telegram-23256.lock").exists()


def _write_manifest(stage: StagedRecord, text: str) -> None:
    stage.write("manifest.json", text.encode())


def test_a_new_staged_record_appears_whole_on_commit(tmp_path: Path) -> None:
    archive, _ = Archive.init(tmp_path / "a")
    stage = StagedRecord(archive, "r1", new=True)
    _write_manifest(stage, "{}")
    source = tmp_path / "in.bin"
    source.write_bytes(b"payload")
    size, digest = stage.add_file("files/in.bin", source)
    assert size == 7 and digest == "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5"
    stage.put_object("ab" * 32, b"object")
    assert not archive.has_record("r1")
    stage.commit()
    assert archive.record_ids() == ["r1"]
    folder = archive.record_dir("r1")
    assert (folder / "files" / "in.bin").read_bytes() == b"payload"
    assert (folder / "objects" / "sha256").is_dir()
    assert list((archive.work_dir / "tmp").iterdir()) == []


def test_a_second_new_record_of_the_same_id_is_refused(tmp_path: Path) -> None:
    archive, _ = Archive.init(tmp_path / "a")
    first, second = StagedRecord(archive, "r1", new=True), StagedRecord(archive, "r1", new=True)
    _write_manifest(first, "{}")
    _write_manifest(second, "{\"second\": true}")
    first.commit()
    with raises_code(ErrorCode.RECORD_EXISTS, "'r1'"):
        second.commit()
    second.discard()
    assert (archive.record_dir("r1") / "manifest.json").read_text() == "{}"


def test_a_change_is_swapped_in_and_the_old_file_kept_as_an_object(tmp_path: Path) -> None:
    archive, _ = Archive.init(tmp_path / "a")
    stage = StagedRecord(archive, "r1", new=True)
    stage.write("files/t.txt", b"one")
    _write_manifest(stage, "{}")
    stage.commit()
    change = StagedRecord(archive, "r1", new=False)
    change.move_to_objects("files/t.txt", "cd" * 32)
    change.write("files/t.txt", b"two")
    assert (archive.record_dir("r1") / "files" / "t.txt").read_bytes() == b"one"  # untouched until commit
    change.commit()
    folder = archive.record_dir("r1")
    assert (folder / "files" / "t.txt").read_bytes() == b"two"
    assert (folder / "objects" / "sha256" / ("cd" * 32)).read_bytes() == b"one"


def test_a_discarded_change_leaves_the_record_as_it_was(tmp_path: Path) -> None:
    archive, _ = Archive.init(tmp_path / "a")
    stage = StagedRecord(archive, "r1", new=True)
    _write_manifest(stage, "{}")
    stage.commit()
    change = StagedRecord(archive, "r1", new=False)
    _write_manifest(change, "{\"changed\": true}")
    change.discard()
    assert (archive.record_dir("r1") / "manifest.json").read_text() == "{}"
    assert list((archive.work_dir / "tmp").iterdir()) == []


def test_staging_over_a_record_holding_a_link_is_refused(tmp_path: Path) -> None:
    archive, _ = Archive.init(tmp_path / "a")
    stage = StagedRecord(archive, "r1", new=True)
    _write_manifest(stage, "{}")
    stage.commit()
    (archive.record_dir("r1") / "planted").symlink_to("/etc/hostname")
    with raises_code(ErrorCode.RECORD_CORRUPT, "planted", "refusing to sign on top of it"):
        StagedRecord(archive, "r1", new=False)
    assert list((archive.work_dir / "tmp").iterdir()) == []
