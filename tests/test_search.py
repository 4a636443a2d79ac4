"""search, list and index: the derived SQLite index, kept current by every write, never believed over the
signed manifests."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from provenance import catalogue_index
from tests.batch_helpers import make_collection
from tests.conftest import World
from tests.helpers import ARCHIVIST, assert_one_clear_line, run_in_process


@pytest.fixture
def collection(world: World) -> World:
    folder, sheet = make_collection(world.root.parent)
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--key", ARCHIVIST)
    assert result.returncode == 0, result.stdout + result.stderr
    return world


def _records(result_stdout: str) -> list[str]:
    return [r["record"] for r in json.loads(result_stdout)["results"]]


def _search(world: World, *args: str) -> list[str]:
    result = run_in_process(world, "search", *args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return _records(result.stdout)


def test_search_end_to_end(collection: World) -> None:
    """Through the installed CLI: Cyrillic prefix, Latin case and diacritics, notes, ranking, snippets."""
    world = collection
    first = world.run("search", "Филиппов*", "--json")
    assert first.returncode == 0, first.stderr
    doc = first.json()
    assert _records(first.stdout) == ["telegram-7702"]
    assert doc["index"]["rebuilt"] is True  # the first search builds the index
    hit = doc["results"][0]
    assert any(hit["snippet"][a:b].casefold().startswith("филиппов") for a, b in hit["highlights"])
    assert (
        next(r["record"] for r in world.run("search", "FILIPPOV", "--json").json()["results"])
        == "telegram-23256"
    )
    # diacritics: the text has "Sinŭiju"; typed without its breve and in capitals it is found
    assert _records(world.run("search", "SINUIJU", "--json").stdout) == ["telegram-4471"]
    # a note is searchable as soon as it is signed: the index is updated in the same commit
    note = world.run(
        "note",
        "memo-crlf",
        "--key",
        "T. Translator",
        "--quote",
        "drafting committee",
        "--text",
        "Compare the Panmunjom minutes",
    )
    assert note.returncode == 0, note.stderr
    found = world.run("search", "panmunjom", "--json").json()
    assert [r["record"] for r in found["results"]] == ["memo-crlf"]
    assert found["index"] == {"rebuilt": False, "reason": None, "refreshed": 0}
    plain = world.run("search", "Kaesong")
    assert plain.returncode == 0 and "*Kaesong*" in plain.stdout and "record(s) found" in plain.stdout
    nothing = world.run("search", "xylophone")
    assert nothing.returncode == 0 and "no record matches" in nothing.stdout


def test_ranking_prefers_the_catalogue(collection: World) -> None:
    # "Stalin" is in every telegram's text; in 23256's catalogue it is the addressee's identification too
    results = json.loads(run_in_process(collection, "search", "Stalin", "--json").stdout)["results"]
    assert results[0]["score"] >= results[-1]["score"]
    assert {r["record"] for r in results} >= {"telegram-23256", "telegram-4471"}


def test_filters(collection: World) -> None:
    world = collection
    assert _search(world, "Stalin", "--field", "origin=beijing") == ["telegram-23256"]
    assert _search(world, "Stalin OR Сталину", "--field", "dc.language=ru") == ["telegram-7702"]
    assert sorted(
        _search(world, "Stalin OR Сталину", "--sent-from", "1951-08-27", "--sent-to", "1951-09")
    ) == [
        "telegram-23256",
        "telegram-7702",
    ]
    assert _search(world, "Stalin OR Сталину", "--sent-to", "1950-12-03") == ["telegram-4471"]
    assert _search(world, "Stalin", "--field", "copies=malenkov") == ["telegram-23256"]
    assert run_in_process(world, "release", "telegram-23256", "--key", "P. Publisher").returncode == 0
    assert _search(world, "Stalin OR Сталину", "--released") == ["telegram-23256"]
    assert (
        run_in_process(
            world,
            "note",
            "telegram-4471",
            "--key",
            "T. Translator",
            "--quote",
            "Sinuiju",
            "--text",
            "Sinŭiju",
        ).returncode
        == 0
    )
    assert _search(world, "Stalin OR Сталину", "--signer", "T. Translator") == ["telegram-4471"]
    assert _search(world, "Stalin OR Сталину", "--signer", "P. Publisher") == ["telegram-23256"]


@pytest.mark.parametrize(
    "args",
    [
        ["search", "x", "--field", "colour=red"],
        ["search", "x", "--field", "noequals"],
        ["search", "x", "--sent-from", "27.8.1951"],
        ["search", "OR"],
        ["search", "  "],
        ["list", "--format", "xml"],
        ["list", "--sort", "colour"],
    ],
)
def test_bad_usage(collection: World, args: list[str]) -> None:
    assert_one_clear_line(run_in_process(collection, *args), 2, "usage.invalid")


def test_list_sorts_filters_and_round_trips_through_ingest_batch(collection: World, tmp_path: Path) -> None:
    world = collection
    listed = json.loads(run_in_process(world, "list", "--sort", "sent", "--json").stdout)
    assert [r["record"] for r in listed["records"]] == [
        "telegram-4471",
        "telegram-23256",
        "telegram-7702",
        "memo-crlf",
    ]
    by_title = json.loads(
        run_in_process(world, "list", "--sort", "dc.title", "--desc", "--format", "json").stdout
    )
    assert by_title["records"][0]["record"] == "telegram-7702"
    table = run_in_process(world, "list", "--field", "language=en")
    assert "3 record(s)" in table.stdout

    sheet_text = run_in_process(world, "list", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(sheet_text)))
    by_id = {row["id"]: row for row in rows}
    assert by_id["telegram-4471"]["copies"] == "Stalin (2)|Molotov (1)"
    assert by_id["telegram-4471"]["filename"] == "telegram-4471/synthetic-telegram-4471.txt"
    sheet = tmp_path / "list.csv"
    sheet.write_text(sheet_text, encoding="utf-8")
    folder = tmp_path / "files"
    for row in rows:
        record = row["id"]
        shutil.copytree(world.archive.record_dir(record) / "files", folder / record)
    # the same archive: every record is already present, identical
    again = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert again.returncode == 0, again.stdout
    assert json.loads(again.stdout)["summary"] == {"registered": 0, "present": 4, "refused": 0}
    # a new archive: the same records registered, with the same catalogues and initial states
    other = tmp_path / "other"
    assert run_in_process(world, "init", str(other)).returncode == 0
    shutil.copytree(world.root / "keys", other / "keys", dirs_exist_ok=True)
    into = run_in_process(
        world,
        "ingest-batch",
        str(folder),
        "--catalogue",
        str(sheet),
        "--archive",
        str(other),
        "--key",
        ARCHIVIST,
    )
    assert into.returncode == 0, into.stdout + into.stderr
    for row in rows:
        ours = json.loads((world.archive.record_dir(row["id"]) / "manifest.json").read_bytes())
        theirs = json.loads((other / "records" / row["id"] / "manifest.json").read_bytes())
        assert theirs["events"][0]["state_digest"] == ours["events"][0]["state_digest"]


def _index(world: World) -> Path:
    return catalogue_index.index_path(world.archive)


def test_a_damaged_or_missing_index_is_rebuilt(collection: World) -> None:
    world = collection
    assert _search(world, "Kaesong") == ["telegram-23256"]
    _index(world).write_bytes(b"this is not a database" * 100)
    result = run_in_process(world, "search", "Kaesong")
    assert result.returncode == 0
    assert "telegram-23256" in result.stdout and "damaged" in result.stderr
    _index(world).unlink()
    assert _search(world, "Kaesong") == ["telegram-23256"]
    rebuilt = json.loads(run_in_process(world, "index", "--rebuild", "--json").stdout)
    assert rebuilt["records"] == 4 and rebuilt["rebuilt"] is True


def test_the_manifests_win_over_the_index(collection: World) -> None:
    """Changes made behind the index's back: never shown from the stale index."""
    world = collection
    assert _search(world, "Kaesong") == ["telegram-23256"]
    # a manifest edited by hand, in place (the records folder does not change): caught by the result's digest
    path = world.archive.record_dir("memo-crlf") / "manifest.json"
    assert _search(world, "observers") == ["memo-crlf"]
    path.write_bytes(path.read_bytes().replace(b"Memorandum on the observers", b"Memorandum on the umpires"))
    assert _search(world, "umpires") == []  # not yet seen: the index still holds the signed title...
    assert (
        _search(world, "Memorandum", "--field", "title=observers") == []
    )  # ...but never shows it as current
    checked = json.loads(run_in_process(world, "index", "--check", "--json").stdout)
    assert checked["reindexed"] == 0  # the result check already re-indexed it
    assert _search(world, "umpires") == ["memo-crlf"]
    # a record removed by hand
    shutil.rmtree(world.archive.record_dir("telegram-4471"))
    assert _search(world, "Sinuiju") == []
    status = json.loads(run_in_process(world, "index", "--json").stdout)
    assert status["records"] == 3


def test_a_write_whose_index_update_did_not_happen_is_caught(collection: World) -> None:
    world = collection
    assert _search(world, "Kaesong") == ["telegram-23256"]
    # as if a command were killed between its commit and the index update: marked pending, never indexed
    catalogue_index.before_commit(world.archive, "telegram-23256")
    path = world.archive.record_dir("telegram-23256") / "manifest.json"
    saved = path.read_bytes()
    path.write_bytes(saved.replace(b"Mao Zedong to Filippov", b"Mao Zedong to Philippoff"))
    result = json.loads(run_in_process(world, "search", "Philippoff", "--json").stdout)
    assert [r["record"] for r in result["results"]] == ["telegram-23256"]
    assert result["index"]["refreshed"] == 1
    path.write_bytes(saved)


def test_a_failing_index_never_fails_a_signed_write(collection: World) -> None:
    world = collection
    assert _search(world, "Kaesong") == ["telegram-23256"]
    _index(world).write_bytes(b"garbage" * 1000)
    note = run_in_process(
        world,
        "note",
        "memo-crlf",
        "--key",
        "T. Translator",
        "--quote",
        "drafting committee",
        "--text",
        "Umpires",
    )
    assert note.returncode == 0, note.stderr
    assert _search(world, "umpires") == ["memo-crlf"]


def test_an_index_change_that_fails_part_way_is_rolled_back_and_never_raised(collection: World) -> None:
    world = collection
    assert _search(world, "Kaesong") == ["telegram-23256"]

    def change(db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM records")
        raise sqlite3.OperationalError("disk I/O error")

    catalogue_index._change_index(world.archive, change)  # the commit hooks' one transaction: best effort
    with closing(sqlite3.connect(_index(world))) as db:
        assert db.execute("SELECT count(*) FROM records").fetchone()[0] == 4
    assert _search(world, "Kaesong") == ["telegram-23256"]


def test_the_fast_path_and_typer_give_the_same_results(collection: World) -> None:
    """Plain arguments skip typer (provenance.cli.search_run); the word '--' is left to typer."""
    fast = json.loads(run_in_process(collection, "search", "Stalin", "--limit", "1", "--json").stdout)
    typer_run = json.loads(run_in_process(collection, "search", "--limit=1", "--json", "--", "Stalin").stdout)
    assert fast["results"] == typer_run["results"] and fast["total"] == typer_run["total"] == 2
    assert len(fast["results"]) == 1
    text = run_in_process(collection, "search", "Stalin", "--limit=2", "--released")
    assert text.returncode == 0 and "no record matches" in text.stdout
