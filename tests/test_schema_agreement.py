"""The published JSON Schemas (``schemas/``) and the pydantic models agree.

1. Every manifest, state snapshot and key card the tool writes validates against the schemas.
2. A table of invalid documents is refused by both the models and the schemas.
3. Each schema object has exactly the properties (and required names) of its model, and shares its
   patterns.
4. Where one is stricter than the other can be, the difference is listed here on purpose.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from provenance import actions
from provenance.contract import schema, validation_errors
from provenance.keys import generate_key, revoke
from provenance.model.catalogue import SENT_PATTERN, Catalogue, Copy
from provenance.model.events import Role
from provenance.model.identity import CATALOGUE_LINE_PATTERN, CATALOGUE_TEXT_PATTERN, IDENTITY_PATTERN
from provenance.model.keycard import PUBLIC_KEY_PATTERN, KeyCard, Revocation, Rotation
from provenance.model.manifest import (
    DIGEST_PATTERN,
    KEY_ID_PATTERN,
    RECORD_ID_PATTERN,
    SIGNATURE_PATTERN,
    Event,
    FileEntry,
    Manifest,
    Note,
    NoteTarget,
    State,
    TextPositionSelector,
    TextQuoteSelector,
)
from provenance.model.timefmt import UTC_PATTERN
from tests.conftest import CORPUS, PASSPHRASE, T0, World
from tests.helpers import RID

Doc = dict[str, Any]


@cache
def _sub_validator(pointer: str) -> Any:
    """A validator for one definition of a schema, e.g. ``manifest.schema.json#/$defs/state``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    from provenance.contract import SCHEMA_NAMES

    registry: Registry[Any] = Registry().with_resources(
        (schema(n)["$id"], Resource.from_contents(schema(n))) for n in SCHEMA_NAMES
    )
    return Draft202012Validator({"$ref": pointer}, registry=registry)


def sub_errors(definition: str, document: object) -> list[str]:
    pointer = f"{schema('manifest')['$id']}#/$defs/{definition}"
    return [e.message for e in _sub_validator(pointer).iter_errors(document)]


# --- 1. what we write validates ---------------------------------------------------------------------------


@pytest.fixture
def busy_archive(lived: World) -> World:
    """The lived reference record plus a generic CR LF memo with an attachment and a translation, and key
    cards with every optional field (validity end, supersedes, revocation)."""
    from provenance.ingest.service import ingest, read_transcription

    a = lived.archive
    memo = ingest(
        a, read_transcription(CORPUS / "synthetic-memo-crlf.txt"), lived.signers["archivist"], now=lived.tick(),
        profile="generic", overrides={"title": "Memorandum", "sent": "1950-02-14", "language": "en",
                                      "copies": [{"recipient": "Molotov", "count": 2}]},
    )  # fmt: skip
    actions.attach(a, memo.record, lived.signers["archivist"], source=CORPUS / "synthetic-telegram-7702-ru.txt",
                   role="original", language="ru", now=lived.tick())  # fmt: skip
    actions.attach(a, memo.record, lived.signers["archivist"], source=CORPUS / "telegram-23256.txt",
                   name="translations/en.txt", language="en", now=lived.tick(), translation_of="")  # fmt: skip
    actions.change_metadata(a, memo.record, lived.signers["archivist"], changes={"rights": "CC0"}, reason="r",
                            now=lived.tick())  # fmt: skip
    old = lived.signers["publisher"].card
    generate_key(a, name="P. Publisher (2027)", roles=[Role.PUBLISHER, Role.REVIEWER], passphrase=PASSPHRASE.encode(),
                 now=T0, rounds=1, valid_until=T0 + timedelta(days=365), supersedes=old.id, home=lived.home,
                 old_key=lived.signers["publisher"].key, allow_new_roles=True)  # fmt: skip
    revoke(a, old.id, reason="rotated", at=lived.tick())
    return lived


def test_every_manifest_snapshot_and_key_card_we_write_validates(busy_archive: World) -> None:
    records = busy_archive.archive.record_ids()
    assert len(records) == 2
    snapshots = 0
    for rid in records:
        folder = busy_archive.archive.record_dir(rid)
        manifest = json.loads((folder / "manifest.json").read_bytes())
        assert validation_errors("manifest", manifest) == [], rid
        assert validation_errors("catalogue", manifest["state"]["catalogue"]) == []
        Manifest.model_validate(manifest)
        for event in manifest["events"]:
            data = (folder / "objects" / "sha256" / event["state_digest"].split(":")[1]).read_bytes()
            assert sub_errors("state", json.loads(data)) == []
            snapshots += 1
    assert snapshots == 8 + 4
    cards = [json.loads(p.read_bytes()) for p in busy_archive.archive.keys_dir.glob("*.json")]
    assert len(cards) == 6
    assert {"revoked", "valid_until", "supersedes"} <= {name for card in cards for name in card}
    for card in cards:
        assert validation_errors("key-card", card) == [], card["name"]
        KeyCard.model_validate(card)


def test_what_the_cli_writes_validates(world: World, tmp_path: Path) -> None:
    result = world.run("keys", "generate", "--name", "CLI Archivist", "--role", "archivist", "--kdf-rounds", "1",
                       "--valid-until", "2030-01-01T00:00:00Z", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    key = result.json()["key"]
    assert validation_errors("key-card", result.json()["card"]) == []
    sidecar = tmp_path / "meta.json"
    sidecar.write_text(json.dumps({"rights": "Public domain", "copies": [{"recipient": "Stalin"}]}), "utf-8")
    result = world.run(
        "ingest", str(CORPUS / "synthetic-telegram-4471.txt"), "--key", key, "--metadata", str(sidecar)
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((world.archive.record_dir("telegram-4471") / "manifest.json").read_bytes())
    assert validation_errors("manifest", manifest) == []


# --- 2. invalid documents are refused by both -------------------------------------------------------------


def _reference_manifest(world: World) -> Doc:
    doc: Doc = json.loads((world.archive.record_dir(RID) / "manifest.json").read_bytes())
    return doc


def at(path: str, value: object = None, *, delete: bool = False) -> Callable[[Doc], None]:
    """Set (or delete) the value at a slash-separated path, e.g. ``events/1/seq``."""

    def apply(doc: Doc) -> None:
        *parents, last = path.split("/")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) else last
        if delete:
            del node[key]
        else:
            node[key] = value

    return apply


MANIFEST_CASES: dict[str, Callable[[Doc], None]] = {
    "unknown-top-level-field": at("comment", "x"),
    "unknown-event-field": at("events/2/comment", "x"),
    "unknown-state-field": at("state/owner", "x"),
    "unknown-file-field": at("state/files/0/mtime", "x"),
    "unknown-note-field": at("state/notes/0/colour", "red"),
    "unknown-catalogue-field": at("state/catalogue/colour", "red"),
    "wrong-format": at("format", "provenance-manifest/2"),
    "bad-record-id": at("record", "Telegram 23256"),
    "bad-key-id-uppercase": at("events/0/key", "ed25519:" + "A" * 64),
    "bad-key-id-short": at("events/0/key", "ed25519:abcdef"),
    "bad-key-id-other-algorithm": at("events/0/key", "rsa:" + "a" * 64),
    "float-seq": at("events/1/seq", 1.5),
    "float-size": at("state/files/0/size", 19506.5),
    "string-seq": at("events/1/seq", "2"),
    "string-size": at("state/files/0/size", "19506"),
    "boolean-seq": at("events/0/seq", True),
    "seq-zero": at("events/0/seq", 0),
    "seq-beyond-i-json": at("events/0/seq", 2**53),
    "negative-size": at("state/files/0/size", -1),
    "path-dot-dot": at("state/files/0/path", "../x"),
    "path-absolute": at("state/files/0/path", "/etc/passwd"),
    "path-empty-segment": at("state/files/0/path", "a//b"),
    "path-dot-segment": at("state/files/0/path", "./a"),
    "path-backslash": at("state/files/0/path", "a\\b"),
    "path-drive-letter": at("state/files/0/path", "C:x"),
    "path-control-character": at("state/files/0/path", "a\nb"),
    "path-empty": at("state/files/0/path", ""),
    "note-source-dot-dot": at("state/notes/0/target/source", "../../etc/passwd"),
    "bad-file-digest": at("state/files/0/sha256", "sha256:" + "0" * 64),
    "bad-file-role": at("state/files/0/role", "poster"),
    "bad-sent-as-written": at("state/catalogue/sent", "27.8.1951"),
    "sent-month-13": at("state/catalogue/sent", "1951-13-27"),
    "sent-day-32": at("state/catalogue/sent", "1951-08-32"),
    "sent-hour-25": at("state/catalogue/sent", "1951-08-27T25:30"),
    "sent-number": at("state/catalogue/sent", 1951),
    "telegram-number-as-number": at("state/catalogue/telegram_number", 23256),
    "copies-count-zero": at("state/catalogue/copies/0/count", 0),
    "copies-count-string": at("state/catalogue/copies/0/count", "2"),
    "copies-without-recipient": at("state/catalogue/copies/0/recipient", delete=True),
    "empty-title": at("state/catalogue/title", ""),
    "bad-language": at("state/catalogue/language", "en_GB"),
    "missing-signature": at("events/3/signature", delete=True),
    "short-signature": at("events/3/signature", "AAAA"),
    "signature-with-padding": at("events/3/signature", "A" * 84 + "=="),
    "missing-state-digest": at("events/3/state_digest", delete=True),
    "missing-previous-digest": at("events/3/previous_digest", delete=True),
    "bad-previous-digest": at("events/3/previous_digest", "sha1:" + "0" * 40),
    "unknown-event-type": at("events/3/type", "deletion"),
    "unknown-role": at("events/3/role", "wizard"),
    "time-with-offset": at("events/3/time", "2026-01-05T10:04:00+01:00"),
    "time-without-zone": at("events/3/time", "2026-01-05T09:04:00"),
    "time-month-13": at("events/3/time", "2026-13-05T09:04:00Z"),
    "time-with-fraction": at("events/3/time", "2026-01-05T09:04:00.5Z"),
    "details-not-an-object": at("events/3/details", ["x"]),
    "empty-summary": at("events/3/summary", ""),
    "bad-note-id": at("state/notes/0/id", "n1"),
    "bad-note-kind": at("state/notes/0/kind", "gossip"),
    "bad-note-status": at("state/notes/0/status", "lost"),
    "empty-quote": at("state/notes/0/target/quote/exact", ""),
    "bad-quote-type": at("state/notes/0/target/quote/type", "TextPositionSelector"),
    "negative-position": at("state/notes/0/target/position/start", -1),
    "note-event-zero": at("state/notes/0/event", 0),
    "missing-files": at("state/files", delete=True),
    "events-not-a-list": at("events", {"0": {}}),
    "state-not-an-object": at("state", []),
}


@pytest.mark.parametrize("mutate", list(MANIFEST_CASES.values()), ids=list(MANIFEST_CASES))
def test_invalid_manifest_is_refused_by_model_and_schema(lived: World, mutate: Callable[[Doc], None]) -> None:
    doc = _reference_manifest(lived)
    assert validation_errors("manifest", doc) == []
    Manifest.model_validate(doc)
    mutate(doc)
    assert validation_errors("manifest", doc), "the schema accepted it"
    with pytest.raises(ValidationError):
        Manifest.model_validate(doc)


def _card(world: World) -> Doc:
    return world.signers["archivist"].card.as_json()


CARD_CASES: dict[str, Callable[[Doc], None]] = {
    "unknown-field": at("private_key", "x"),
    "wrong-format": at("format", "provenance-key-card/2"),
    "wrong-algorithm": at("algorithm", "rsa"),
    "bad-id": at("id", "ed25519:1234"),
    "public-key-with-padding": at("public_key", "A" * 42 + "="),
    "public-key-too-long": at("public_key", "A" * 44),
    "public-key-standard-base64": at("public_key", "A" * 42 + "+"),
    "no-roles": at("roles", []),
    "unknown-role": at("roles", ["wizard"]),
    "missing-name": at("name", delete=True),
    "missing-valid-from": at("valid_from", delete=True),
    "bad-valid-until": at("valid_until", "2030-01-01"),
    "revocation-without-reason": at("revoked", {"time": "2026-01-01T00:00:00Z"}),
    "revocation-unknown-field": at("revoked", {"time": "2026-01-01T00:00:00Z", "reason": "x", "by": "me"}),
    "bad-supersedes": at("supersedes", "ed25519:xyz"),
}


@pytest.mark.parametrize("mutate", list(CARD_CASES.values()), ids=list(CARD_CASES))
def test_invalid_key_card_is_refused_by_model_and_schema(world: World, mutate: Callable[[Doc], None]) -> None:
    card = _card(world)
    assert validation_errors("key-card", card) == []
    mutate(card)
    assert validation_errors("key-card", card), "the schema accepted it"
    with pytest.raises(ValidationError):
        KeyCard.model_validate(card)


@pytest.mark.parametrize(
    "document",
    [{"sent": "1951-02-30T01:30:61"}, {"copies": [{"recipient": "A", "count": 10_001}]}, {"title": "x" * 4097},
     {"language": "e"}, {"sent": "1951-08-27T01:30+25:00"}, {"sent": "1951-08-27T01:30:60"}],
)  # fmt: skip
def test_invalid_sidecar_is_refused_by_model_and_schema(document: Doc) -> None:
    assert validation_errors("catalogue", document)
    with pytest.raises(ValidationError):
        Catalogue.model_validate(document)


@pytest.mark.parametrize(
    "document",
    [{"sent": "1951"}, {"sent": "1951-08"}, {"sent": "1951-08-27"}, {"sent": "1951-08-27T01:30"},
     {"sent": "1951-08-27T01:30:00Z"}, {"sent": "1951-08-27T01:30+08:00"}, {"sent": "1951-08?"},
     {"sent": "-0044-03-15~"}, {"copies": [{"recipient": "Stalin"}]}, {"language": "zh-Hans"}, {}],
)  # fmt: skip
def test_valid_sidecar_is_accepted_by_model_and_schema(document: Doc) -> None:
    assert validation_errors("catalogue", document) == []
    Catalogue.model_validate(document)


# --- 3. the same fields, the same required names, the same patterns ---------------------------------------


def _manifest_def(name: str) -> Doc:
    definition: Doc = schema("manifest")["$defs"][name]
    return definition


SHAPES: dict[str, tuple[Callable[[], Doc], type[BaseModel]]] = {
    "manifest": (lambda: schema("manifest"), Manifest),
    "state": (lambda: _manifest_def("state"), State),
    "event": (lambda: _manifest_def("event"), Event),
    "file": (lambda: _manifest_def("file"), FileEntry),
    "note": (lambda: _manifest_def("note"), Note),
    "note-target": (lambda: _manifest_def("note")["properties"]["target"], NoteTarget),
    "quote-selector": (
        lambda: _manifest_def("note")["properties"]["target"]["properties"]["quote"],
        TextQuoteSelector,
    ),
    "position-selector": (
        lambda: _manifest_def("note")["properties"]["target"]["properties"]["position"],
        TextPositionSelector,
    ),
    "catalogue": (lambda: schema("catalogue"), Catalogue),
    "copy": (lambda: schema("catalogue")["properties"]["copies"]["items"], Copy),
    "key-card": (lambda: schema("key-card"), KeyCard),
    "revocation": (lambda: schema("key-card")["properties"]["revoked"], Revocation),
    "rotation": (lambda: schema("key-card")["properties"]["rotation"], Rotation),
}


@pytest.mark.parametrize(("get", "model"), list(SHAPES.values()), ids=list(SHAPES))
def test_schema_properties_are_the_model_fields(get: Callable[[], Doc], model: type[BaseModel]) -> None:
    definition = get()
    assert set(definition["properties"]) == set(model.model_fields)
    required = {n for n, f in model.model_fields.items() if f.is_required()}
    # a constant (format, algorithm) is written always: the schema requires it, the model knows its only value
    constants = {n for n, p in definition["properties"].items() if "const" in p and n not in required}
    assert all(model.model_fields[n].default == definition["properties"][n]["const"] for n in constants)
    assert required <= set(definition.get("required", [])) <= required | constants
    assert definition.get("additionalProperties") is False  # both refuse unknown fields


def test_schemas_and_models_share_their_patterns() -> None:
    manifest, card, catalogue = schema("manifest"), schema("key-card"), schema("catalogue")
    defs = manifest["$defs"]
    assert defs["recordId"]["pattern"] == RECORD_ID_PATTERN
    assert defs["keyId"]["pattern"] == card["$defs"]["keyId"]["pattern"] == KEY_ID_PATTERN
    assert defs["digest"]["pattern"] == DIGEST_PATTERN
    assert defs["utc"]["pattern"] == card["$defs"]["utc"]["pattern"] == UTC_PATTERN
    assert defs["event"]["properties"]["signature"]["pattern"] == SIGNATURE_PATTERN
    assert card["properties"]["public_key"]["pattern"] == PUBLIC_KEY_PATTERN
    assert catalogue["properties"]["sent"]["pattern"] == SENT_PATTERN
    assert card["properties"]["name"]["pattern"] == defs["event"]["properties"]["agent"]["pattern"] == IDENTITY_PATTERN
    assert catalogue["$defs"]["text"]["pattern"] == CATALOGUE_LINE_PATTERN
    assert catalogue["$defs"]["multilineText"]["pattern"] == CATALOGUE_TEXT_PATTERN
    enum = defs["event"]["properties"]["role"]["enum"]
    assert enum == card["properties"]["roles"]["items"]["enum"] == [r.value for r in Role]
    assert card["properties"]["rotation"]["properties"]["roles"]["items"]["enum"] == enum
    assert card["properties"]["rotation"]["properties"]["signature"]["pattern"] == SIGNATURE_PATTERN


# --- 4. where the models are stricter than a schema can be -------------------------------------------------


MODEL_ONLY: dict[str, Callable[[Doc], None]] = {
    # JSON Schema counts 2.0 as an integer; the strict JSON reader refuses every float before either sees it
    "integral-float-seq": at("events/1/seq", 2.0),
    # a calendar: no regular expression of a reasonable size knows February has no 30th
    "time-february-30": at("events/3/time", "2026-02-30T09:04:00Z"),
    "sent-february-30": at("state/catalogue/sent", "1951-02-30"),
    # uniqueness of one member across array items is beyond JSON Schema's uniqueItems
    "file-listed-twice": lambda doc: doc["state"]["files"].append(copy.deepcopy(doc["state"]["files"][0])),
    # names a reader can tell apart: NFC, unassigned and astral tag characters, white space at the ends
    "agent-not-nfc": at("events/1/agent", "Zoe\u0301"),
    "agent-tag-character": at("events/1/agent", "A. Archivist\U000e0041"),
    "agent-trailing-space": at("events/1/agent", "A. Archivist "),
    # digits are digits: a Unicode property no portable pattern names
    "telegram-number-arabic-indic": at("state/catalogue/telegram_number", "\u0662\u0663\u0662\u0665\u0666"),
}


@pytest.mark.parametrize("mutate", list(MODEL_ONLY.values()), ids=list(MODEL_ONLY))
def test_documented_cases_where_only_the_model_refuses(lived: World, mutate: Callable[[Doc], None]) -> None:
    doc = _reference_manifest(lived)
    mutate(doc)
    assert validation_errors("manifest", doc) == []
    with pytest.raises(ValidationError):
        Manifest.model_validate(doc)


SCHEMA_ONLY: dict[str, tuple[str, Callable[[World], Doc]]] = {
    # the tool never writes null; the model reads an explicit null of an optional field as "not set"
    "null-title": ("catalogue", lambda w: {"title": None}),
    "null-valid-until": ("key-card", lambda w: {**_card(w), "valid_until": None}),
    # a missing constant: the model knows the only value there is; readers check it on the raw document
    "card-without-format": ("key-card", lambda w: {k: v for k, v in _card(w).items() if k != "format"}),
}


@pytest.mark.parametrize("entry", list(SCHEMA_ONLY.values()), ids=list(SCHEMA_ONLY))
def test_documented_cases_where_only_the_schema_refuses(world: World, entry: tuple[str, Any]) -> None:
    name, build = entry
    document = build(world)
    assert validation_errors(name, document)
    {"catalogue": Catalogue, "key-card": KeyCard}[name].model_validate(document)
