"""A revision is read in the charset the record already gives the text; killed writers' leftovers go."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import World


def test_revise_of_a_cp1251_record_needs_no_encoding_again(world: World, tmp_path: Path) -> None:
    text = "ШИФРОТЕЛЕГРАММА\n\nТоварищу Филиппову [Сталину].\n"
    source = tmp_path / "memo-ru.txt"
    source.write_bytes(text.encode("cp1251"))
    ingest = world.run(
        "ingest", str(source), "--profile", "generic", "--encoding", "cp1251", "--id", "memo-ru"
    )
    assert ingest.returncode == 0, ingest.stderr
    revised = tmp_path / "memo-ru-2.txt"
    revised.write_bytes(text.replace("Филиппову", "Филиппову (Сталину)").encode("cp1251"))
    result = world.run(
        "revise", "memo-ru", str(revised), "--reason", "identification", "--key", "A. Archivist"
    )
    assert result.returncode == 0, result.stderr
    stored = world.archive.record_dir("memo-ru") / "files" / "memo-ru.txt"
    assert stored.read_bytes() == revised.read_bytes()
    assert world.run("verify", str(world.archive.record_dir("memo-ru"))).returncode == 0


def test_a_killed_writers_staging_folder_is_removed_by_the_next_writer(ingested: World) -> None:
    tmp = ingested.archive.work_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    leftover = tmp / "telegram-23256-0123456789ab"
    (leftover / "files").mkdir(parents=True)
    other = tmp / "telegram-23256x-0123456789ab"
    other.mkdir()
    result = ingested.run(
        "note",
        "telegram-23256",
        "--quote",
        "Qingdao",
        "--text",
        "Tsingtao in 1951 usage.",
        "--key",
        "T. Translator",
    )
    assert result.returncode == 0, result.stderr
    assert not leftover.exists()
    assert other.exists()  # another record's folder is not touched
