"""The first end-to-end path through the installed ``provenance`` command: real keys, real files.

Setup goes through the library where it is only setup; what is asserted is what the CLI prints and writes.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from provenance.ingest.insertions import find_editorial_insertions
from provenance.model.problems import ProblemCode
from tests.conftest import CORPUS, REFERENCE, World
from tests.helpers import ARCHIVIST, RID, TRANSLATOR

SHOW_KEYS = {"record", "catalogue", "files", "notes", "events"}


def expected_metadata(stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CORPUS / f"{stem}.expected.json").read_text("utf-8"))
    return data


def assert_catalogue(catalogue: dict[str, Any], expected: dict[str, Any]) -> None:
    """The catalogue holds every expected value; ``sent`` compares as an ISO 8601 date-time."""
    for name, value in expected.items():
        if name == "editorial_insertions":
            continue
        assert name in catalogue, name
        if name == "sent":
            assert dt.datetime.fromisoformat(catalogue[name]) == dt.datetime.fromisoformat(value)
        else:
            assert catalogue[name] == value, name


def verify_json(world: World, record: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = world.run("verify", str(world.archive.record_dir(record)), "--json", *extra)
    return result.returncode, result.json()


# --- both corpus telegrams through ingest, end to end -----------------------------------------------------


@pytest.mark.parametrize(
    ("stem", "record"), [("telegram-23256", RID), ("synthetic-telegram-4471", "telegram-4471")]
)
def test_corpus_telegram_through_ingest(world: World, stem: str, record: str) -> None:
    source = CORPUS / f"{stem}.txt"
    expected = expected_metadata(stem)

    ingested = world.run("ingest", str(source), "--key", ARCHIVIST, "--json")
    assert ingested.returncode == 0, ingested.stderr
    document = ingested.json()
    assert document["record"] == record
    assert_catalogue(document["catalogue"], expected)
    assert document["notes"] == len(expected["editorial_insertions"])
    assert document["event"]["type"] == "registration"

    shown = world.run("show", record, "--json")
    assert shown.returncode == 0, shown.stderr
    show = shown.json()
    assert set(show) >= SHOW_KEYS
    assert show["record"] == record
    assert_catalogue(show["catalogue"], expected)
    # every editorial insertion is a note, in order, anchored to its exact place in the stored text
    text = (world.archive.record_dir(record) / "files" / source.name).read_bytes().decode("utf-8")
    notes = show["notes"]
    assert [n["target"]["quote"]["exact"] for n in notes] == expected["editorial_insertions"]
    assert {n["kind"] for n in notes} == {"editorial-insertion"}
    assert [n["id"] for n in notes] == [f"note-{i}" for i in range(1, len(notes) + 1)]
    for note in notes:
        position = note["target"]["position"]
        assert text[position["start"] : position["end"]] == note["target"]["quote"]["exact"]
        assert note["status"] == "anchored"
        assert note["event"] == 1
    assert [e["type"] for e in show["events"]] == ["registration"]
    assert (world.archive.record_dir(record) / "files" / source.name).read_bytes() == source.read_bytes()

    code, report = verify_json(world, record)
    assert (code, report["state"], report["verified"], report["problems"]) == (0, "trusted", True, [])
    assert report["record"] == record


def test_ingest_prints_the_record_id(world: World) -> None:
    result = world.run("ingest", str(REFERENCE), "--key", ARCHIVIST)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == RID


def test_catalogue_options_override_the_profile(world: World) -> None:
    result = world.run(
        "ingest",
        str(REFERENCE),
        "--key",
        ARCHIVIST,
        "--json",
        "--title",
        "Mao Zedong to Filippov [Stalin]",
        "--source",
        "APRF, f. 45, op. 1, d. 340, ll. 84-87",
        "--copies",
        "Stalin (3), Beria",
        "--series",
        "X",
    )
    assert result.returncode == 0, result.stderr
    catalogue = result.json()["catalogue"]
    assert catalogue["title"] == "Mao Zedong to Filippov [Stalin]"
    assert catalogue["source"] == "APRF, f. 45, op. 1, d. 340, ll. 84-87"
    assert catalogue["copies"] == [{"recipient": "Stalin", "count": 3}, {"recipient": "Beria", "count": 1}]
    assert catalogue["series"] == "X"
    assert catalogue["telegram_number"] == "23256"  # what the options do not name comes from the profile


def test_metadata_sidecar_is_used(world: World, tmp_path: Path) -> None:
    sidecar = tmp_path / "meta.json"
    sidecar.write_text(json.dumps({"rights": "Public domain", "title": "From the sidecar"}), "utf-8")
    result = world.run(
        "ingest",
        str(REFERENCE),
        "--key",
        ARCHIVIST,
        "--metadata",
        str(sidecar),
        "--title",
        "From the option",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    catalogue = result.json()["catalogue"]
    assert catalogue["rights"] == "Public domain"
    assert catalogue["title"] == "From the option"  # options win over the sidecar


# --- bytes are kept exactly ------------------------------------------------------------------------------


def test_crlf_stays_crlf_with_the_generic_profile(world: World) -> None:
    source = CORPUS / "synthetic-memo-crlf.txt"
    result = world.run(
        "ingest",
        str(source),
        "--profile",
        "generic",
        "--key",
        ARCHIVIST,
        "--json",
        "--title",
        "Memorandum of conversation",
        "--document-type",
        "memorandum",
        "--origin",
        "Moscow",
        "--sent",
        "1950-02-14",
        "--language",
        "en",
        "--original-language",
        "ru",
    )
    assert result.returncode == 0, result.stderr
    document = result.json()
    record = document["record"]
    assert record == "synthetic-memo-crlf"
    assert document["catalogue"] == {
        "document_type": "memorandum",
        "origin": "Moscow",
        "sent": "1950-02-14",
        "title": "Memorandum of conversation",
        "language": "en",
        "original_language": "ru",
    }
    stored = world.archive.record_dir(record) / "files" / source.name
    assert stored.read_bytes() == source.read_bytes()
    assert stored.read_bytes().count(b"\r\n") == source.read_bytes().count(b"\n")
    (entry,) = document["files"]
    assert entry["size"] == len(source.read_bytes())

    show = world.run("show", record, "--json").json()
    text = source.read_bytes().decode("utf-8")
    expected = [i.exact for i in find_editorial_insertions(text)]
    assert [n["target"]["quote"]["exact"] for n in show["notes"]] == expected
    for note in show["notes"]:  # positions count each CR as a code point
        position = note["target"]["position"]
        assert text[position["start"] : position["end"]] == note["target"]["quote"]["exact"]
    assert verify_json(world, record)[0] == 0


def test_generic_profile_with_an_explicit_id(world: World) -> None:
    result = world.run(
        "ingest",
        str(REFERENCE),
        "--profile",
        "generic",
        "--id",
        "mao-1951",
        "--key",
        ARCHIVIST,
        "--title",
        "A telegram read as a plain text",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["record"] == "mao-1951"
    assert document["catalogue"] == {"title": "A telegram read as a plain text"}  # no header parsing


def test_cp1251_is_accepted_and_its_bytes_kept(world: World, tmp_path: Path) -> None:
    text = (CORPUS / "synthetic-telegram-7702-ru.txt").read_text("utf-8")
    source = tmp_path / "telegram-7702-cp1251.txt"
    source.write_bytes(text.encode("cp1251"))

    refused = world.run("ingest", str(source), "--key", ARCHIVIST)
    assert refused.returncode == 2  # not UTF-8, and no --encoding given
    assert refused.stderr.rstrip().endswith("[input.not-utf8]")

    result = world.run("ingest", str(source), "--encoding", "cp1251", "--key", ARCHIVIST, "--json")
    assert result.returncode == 0, result.stderr
    document = result.json()
    record = document["record"]
    assert record == "telegram-7702"
    assert document["catalogue"]["telegram_number"] == "7702"
    (entry,) = document["files"]
    assert "cp1251" in entry["media_type"]
    stored = world.archive.record_dir(record) / "files" / source.name
    assert stored.read_bytes() == source.read_bytes()
    assert entry["size"] == len(source.read_bytes())

    show = world.run("show", record, "--json").json()
    assert [n["target"]["quote"]["exact"] for n in show["notes"]] == [
        i.exact for i in find_editorial_insertions(text)
    ]

    # the stored encoding is honoured by later commands too: a note on a Cyrillic quote
    noted = world.run(
        "note", record, "--quote", "Кесоне", "--text", "Kaesong.", "--key", TRANSLATOR, "--json"
    )
    assert noted.returncode == 0, noted.stderr
    assert verify_json(world, record)[0] == 0


# --- what the read commands print ------------------------------------------------------------------------


def test_show_json_has_the_contract_keys(ingested: World) -> None:
    result = ingested.run("show", RID, "--json")
    assert result.returncode == 0
    document = result.json()
    assert set(document) >= SHOW_KEYS
    assert isinstance(document["catalogue"], dict)
    assert isinstance(document["files"], list) and document["files"]
    assert isinstance(document["notes"], list)
    assert isinstance(document["events"], list)
    (file,) = document["files"]
    assert set(file) >= {"path", "size", "sha256"}


def test_show_and_log_without_json_do_not_fail(ingested: World) -> None:
    for args in (("show", RID), ("log", RID), ("keys", "list"), ("verify", f"records/{RID}")):
        result = ingested.run(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout.strip()


def test_verify_json_report_shape(ingested: World) -> None:
    code, report = verify_json(ingested, RID)
    assert code == 0
    assert {"state", "verified", "record", "problems"} <= set(report)
    assert report["record"] == RID
    assert report["events"] == 1


def test_every_report_command_prints_one_json_document(ingested: World) -> None:
    for args in (
        ("show", RID),
        ("log", RID),
        ("diff", RID),
        ("keys", "list"),
        ("audit",),
        ("verify", f"records/{RID}"),
    ):
        result = ingested.run(*args, "--json")
        assert result.returncode == 0, (args, result.stderr)
        json.loads(result.stdout)  # exactly one document: anything around it would not parse


def test_key_by_shortened_id(ingested: World) -> None:
    key = ingested.signers["translator"].card.id
    result = ingested.run(
        "note", RID, "--quote", "Syngmann Rhee", "--text", "Syngman Rhee.", "--key", key[:16], "--json"
    )
    assert result.returncode == 0, result.stderr
    assert result.json()["event"]["key"] == key


def test_verify_without_the_trust_store_is_valid_not_invalid(ingested: World, tmp_path: Path) -> None:
    empty = tmp_path / "empty-trust"
    empty.mkdir()
    code, report = verify_json(ingested, RID, "--trust", str(empty))
    assert (code, report["state"], report["verified"]) == (3, "valid", False)
    codes = {p["code"] for p in report["problems"]}
    assert codes == {ProblemCode.SIGNER_UNKNOWN, ProblemCode.TRUST_EMPTY}


# --- keys ------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_default_generated_private_key_is_encrypted_0600_with_100_kdf_rounds(world: World) -> None:
    from provenance import signing

    result = world.run("keys", "generate", "--name", "D. Default", "--role", "archivist", "--json")
    assert result.returncode == 0, result.stderr
    document = result.json()
    key_id = document["key"]
    private = Path(document["private_key"])
    assert private.is_relative_to(world.home)
    assert not private.is_relative_to(world.root)  # the private half never enters the archive
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    data = private.read_bytes()
    assert data.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    assert signing.openssh_kdf_rounds(data) == 100
    assert signing.decrypt_private_key(data, b"correct horse battery staple").key_id == key_id
    with pytest.raises(Exception) as caught:
        signing.decrypt_private_key(data, b"not the passphrase")
    assert str(getattr(caught.value, "code", "")) == "key.passphrase-wrong"

    cards = [json.loads(p.read_text("utf-8")) for p in world.archive.keys_dir.glob("*.json")]
    (card,) = [c for c in cards if c["id"] == key_id]
    assert card["roles"] == ["archivist"]
    assert "private" not in json.dumps(card).lower()
