"""provenance.manifest_io: the signed and digested bytes, checked against an independent computation
(the ``rfc8785`` package and ``cryptography`` directly, over the raw JSON of a real record), and the strict
reading of manifest.json with its coded refusals."""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import ErrorCode
from provenance.manifest_io import (
    event_digest,
    event_signing_bytes,
    manifest_bytes,
    parse_manifest,
    read_manifest,
    state_canonical,
    state_digest,
)
from provenance.model.manifest import Manifest
from tests.coded import raises_code
from tests.conftest import World
from tests.helpers import RID
from tests.shared_worlds import full_life, shared_world

CONTEXT = b"provenance/event/v1\x00"  # docs/architecture.md "Signed bytes"


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with shared_world(tmp_path_factory, "manifest-io", full_life) as world:
        yield world


def _raw(world: World) -> dict[str, Any]:
    return json.loads((world.archive.record_dir(RID) / "manifest.json").read_bytes())  # type: ignore[no-any-return]


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_every_signature_verifies_over_the_bytes_the_contract_names(lived: World) -> None:
    cards = {json.loads(p.read_bytes())["id"]: json.loads(p.read_bytes()) for p in lived.archive.keys_dir.glob("*.json")}
    for event in _raw(lived)["events"]:
        fields = {k: v for k, v in event.items() if k != "signature"}
        independent = CONTEXT + rfc8785.dumps(fields)
        assert event_signing_bytes(fields) == independent
        card = cards[event["key"]]  # the signer's card, by the key id the event names
        Ed25519PublicKey.from_public_bytes(_b64(card["public_key"])).verify(_b64(event["signature"]), independent)


def test_digests_chain_the_events_and_commit_to_each_state(lived: World) -> None:
    raw = _raw(lived)
    events = raw["events"]
    for before, after in itertools.pairwise(events):
        expected = "sha256:" + hashlib.sha256(rfc8785.dumps(before)).hexdigest()
        assert event_digest(before) == expected == after["previous_digest"]
    assert events[0]["previous_digest"] is None
    state = raw["state"]
    assert state_canonical(state) == rfc8785.dumps(state)
    assert state_digest(state) == "sha256:" + hashlib.sha256(rfc8785.dumps(state)).hexdigest()
    assert state_digest(state) == events[-1]["state_digest"]
    manifest = read_manifest(lived.archive.record_dir(RID))
    assert state_digest(manifest.state) == state_digest(state)
    assert event_digest(manifest.events[0]) == event_digest(events[0])


# manifest_bytes is written by pydantic-core's serializer; it must stay byte for byte what json writes with
# indent 2 (the layout records already on disk were written in), whatever the text holds.
_texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | _texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    summary=_texts,
    media_type=_texts,
    custodian=st.none() | _texts,
    language=st.none() | st.sampled_from(["en", "ru", "de-CH"]),
    details=st.dictionaries(_texts, _json, max_size=4),
)
def test_manifest_bytes_equal_json_dumps_indent_2(
    lived: World, summary: str, media_type: str, custodian: str | None, language: str | None,
    details: dict[str, Any],
) -> None:
    raw = copy.deepcopy(_raw(lived))
    raw["state"].pop("custodian", None)
    if custodian is not None:
        raw["state"]["custodian"] = custodian
    entry = raw["state"]["files"][0]
    entry["media_type"] = media_type
    entry.pop("language", None)
    if language is not None:
        entry["language"] = language
    raw["events"][-1]["summary"] = summary
    raw["events"][-1]["details"] = details
    manifest = Manifest.model_validate(raw)
    expected = json.dumps(manifest.as_json(), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    assert manifest_bytes(manifest) == expected


def test_manifest_bytes_of_empty_lists(lived: World) -> None:
    raw = _raw(lived)
    manifest = Manifest.model_validate({**raw, "state": {**raw["state"], "files": [], "notes": []}, "events": []})
    expected = json.dumps(manifest.as_json(), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    assert manifest_bytes(manifest) == expected


def test_manifest_bytes_are_what_is_on_disk(lived: World) -> None:
    path = lived.archive.record_dir(RID) / "manifest.json"
    manifest = parse_manifest(path.read_bytes(), source=str(path))
    assert manifest_bytes(manifest) == path.read_bytes()
    assert manifest_bytes(manifest).endswith(b"}\n")


def _edited(world: World, change: Any) -> bytes:
    raw = _raw(world)
    change(raw)
    return json.dumps(raw).encode()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda w: b"{not json", "m.json"),
        (lambda w: b'{"record": "a", "record": "b"}', "m.json"),
        (lambda w: _edited(w, lambda raw: raw.pop("events")), "events"),
        (lambda w: _edited(w, lambda raw: raw.update(record="Not An Id")), "record"),
        (lambda w: _edited(w, lambda raw: raw["events"][0].update(seq=1.5)), "m.json"),
        (lambda w: _edited(w, lambda raw: raw.update(extra=True)), "extra"),
    ],
    ids=["not json", "duplicate member", "no events", "bad record id", "float", "unknown member"],
)
def test_parse_manifest_refusals_are_record_corrupt(lived: World, make: Any, words: str) -> None:
    with raises_code(ErrorCode.RECORD_CORRUPT, words, "m.json"):
        parse_manifest(make(lived), source="m.json")


def test_read_manifest_of_a_folder_without_one(tmp_path: Path) -> None:
    with raises_code(ErrorCode.RECORD_CORRUPT, "cannot read"):
        read_manifest(tmp_path)
