"""provenance.ingest.service: reading a transcription byte for byte, the catalogue layers, the record id,
and registering a record (the telegram profile's parsing is in tests/test_ingest_telegram.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.errors import ErrorCode
from provenance.ingest.service import (
    build_catalogue,
    default_record_id,
    ingest,
    load_sidecar,
    media_type,
    read_transcription,
)
from provenance.manifest_io import read_manifest
from tests.coded import raises_code
from tests.conftest import REFERENCE, World
from tests.helpers import tree_snapshot


def test_read_transcription_keeps_the_bytes_and_decodes(tmp_path: Path) -> None:
    crlf = tmp_path / "t.txt"
    crlf.write_bytes("Сталину\r\nтов. Филиппову\r\n".encode())
    read = read_transcription(crlf)
    assert read.data == crlf.read_bytes() and read.text == "Сталину\r\nтов. Филиппову\r\n"
    assert (read.name, read.encoding) == ("t.txt", "utf-8")
    legacy = tmp_path / "cp.txt"
    legacy.write_bytes("Сталину".encode("cp1251"))
    assert read_transcription(legacy, "cp1251").text == "Сталину"
    nfd = tmp_path / "Kaesong\u0306.txt"  # a name in NFD (macOS) is stored in NFC
    nfd.write_text("x")
    assert read_transcription(nfd).name == "Kaeson\u011f.txt"  # g + combining breve composed


@pytest.mark.parametrize(
    ("make", "encoding", "code", "words"),
    [
        (lambda p: None, None, ErrorCode.INPUT_NOT_FOUND, "no such file"),
        (lambda p: p.mkdir(), None, ErrorCode.INPUT_NOT_FOUND, "is a folder"),
        (lambda p: p.write_bytes(b""), None, ErrorCode.INPUT_EMPTY, "empty"),
        (lambda p: p.write_bytes(b" \n\t\n"), None, ErrorCode.INPUT_EMPTY, "empty"),
        (lambda p: p.write_bytes("ok\nСталину".encode("cp1251")), None, ErrorCode.INPUT_ENCODING,
         "line 2"),
        (lambda p: p.write_bytes(b"a\x00b"), None, ErrorCode.INPUT_ENCODING, "NUL"),
        (lambda p: p.write_bytes(b"text"), "klingon", ErrorCode.USAGE, "unknown encoding"),
    ],
    ids=["missing", "folder", "empty", "blank", "not utf-8", "nul", "unknown encoding"],
)
def test_read_transcription_refusals(tmp_path: Path, make: object, encoding: str | None, code: ErrorCode,
                                     words: str) -> None:
    path = tmp_path / "t.txt"
    make(path)  # type: ignore[operator]
    with raises_code(code, words):
        read_transcription(path, encoding)


def test_catalogue_layers_later_wins_and_none_is_no_value() -> None:
    catalogue = build_catalogue({"title": "A", "origin": "Beijing"}, {"title": "B", "origin": None})
    assert catalogue.as_json()["title"] == "B" and catalogue.as_json()["origin"] == "Beijing"


@pytest.mark.parametrize(("layer", "field"), [({"sent": "1951-13-40"}, "sent"), ({"title": 3}, "title"),
                                              ({"nonsense": "x"}, "nonsense")])
def test_a_bad_catalogue_field_is_named(layer: dict[str, object], field: str) -> None:
    with raises_code(ErrorCode.METADATA_INVALID, field) as raised:
        build_catalogue(layer)
    assert raised.details["field"] == field


def test_load_sidecar_checks_the_schema(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"title": "A telegram", "language": "ru"}))
    assert load_sidecar(good) == {"title": "A telegram", "language": "ru"}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sent": "1951-13-40"}))
    with raises_code(ErrorCode.METADATA_INVALID, "field sent", "month 13"):
        load_sidecar(bad)
    duplicated = tmp_path / "dup.json"
    duplicated.write_text('{"title": "a", "title": "b"}')
    with raises_code(ErrorCode.METADATA_INVALID, str(duplicated)):
        load_sidecar(duplicated)
    with raises_code(ErrorCode.INPUT_NOT_FOUND):
        load_sidecar(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("fields", "file_name", "record_id"),
    [
        ({"telegram_number": "23256"}, "x.txt", "telegram-23256"),
        ({"telegram_number": "A-12"}, "x.txt", "telegram-a-12"),
        ({"telegram_number": "12/34"}, "Letter from Moscow.TXT", "letter-from-moscow"),
        ({}, "__.txt", "record"),
        ({}, "Письмо.txt", "record"),
    ],
)
def test_default_record_id(fields: dict[str, object], file_name: str, record_id: str) -> None:
    assert default_record_id(build_catalogue(fields), file_name) == record_id


@pytest.mark.parametrize(("encoding", "media"), [("utf-8", "text/plain; charset=utf-8"),
                                                 ("UTF_8", "text/plain; charset=utf-8"),
                                                 ("cp1251", "text/plain; charset=cp1251")])
def test_media_type(encoding: str, media: str) -> None:
    assert media_type(encoding) == media


def test_ingest_registers_once(world: World) -> None:
    source = read_transcription(REFERENCE)
    manifest = ingest(world.archive, source, world.signers["archivist"], now=world.tick(),
                      overrides={"title": "Mao to Filippov"})
    rid = manifest.record
    assert rid == "telegram-23256" and manifest.state.catalogue.as_json()["title"] == "Mao to Filippov"
    assert read_manifest(world.archive.record_dir(rid)) == manifest
    assert (world.archive.record_dir(rid) / "files" / REFERENCE.name).read_bytes() == REFERENCE.read_bytes()
    before = tree_snapshot(world.root)
    with raises_code(ErrorCode.RECORD_EXISTS, "already exists"):
        ingest(world.archive, source, world.signers["archivist"], now=world.tick())
    with raises_code(ErrorCode.RECORD_ID_INVALID):
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id="Bad Id")
    assert tree_snapshot(world.root) == before
