"""Issue 9 item 6: one encoding for one meaning.

Signatures and public keys are canonical base64url (decoding then encoding gives the same text); a manifest
is byte for byte what provenance writes for its content, member order included. So one genuine version has
exactly one ``head`` digest, and any change to a manifest that still parses is refused or changes nothing a
report shows.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.keys import b64url, b64url_decode
from provenance.verify.record import verify_record_folder
from provenance.verify.target import make_context
from tests.conftest import REFERENCE, World, make_world

RID = "telegram-23256"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def sibling(char: str, stray_bits: int) -> str:
    """The same value's character with stray low bits set (a non-canonical spelling of the same bytes)."""
    return ALPHABET[ALPHABET.index(char) | stray_bits]


# -- canonical base64url --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (b64url(bytes(range(64))), True),
        (b64url(bytes(32)), True),
        ("", True),
        ("AA", True),
        ("AB", False),  # 12 bits for one byte: the low 4 must be zero
        ("AAA", True),
        ("AAB", False),  # 18 bits for two bytes: the low 2 must be zero
        ("A", False),  # no byte string encodes to one character
        ("AA==", False),  # padding is not written
        ("AA+/", False),  # the standard alphabet is not base64url
        ("AA AA", False),
    ],
)
def test_b64url_decode_takes_only_the_canonical_text(text: str, ok: bool) -> None:
    if ok:
        assert b64url(b64url_decode(text)) == text
    else:
        with pytest.raises(ValueError, match="base64url"):
            b64url_decode(text)


# -- a record and its variants ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Path]:
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    tmp = tmp_path_factory.mktemp("encoding")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = make_world(tmp)
        ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
        actions.add_note(world.archive, RID, world.signers["translator"], quote="Kim II Sung",
                         text="Read: Kim Il Sung (Ким Ир Сен).", now=world.tick())
    return world, world.archive.record_dir(RID)


def copy_record(record: Path, tmp: Path) -> Path:
    target = tmp / "records" / RID
    shutil.copytree(record, target)
    return target


def edit(change: Callable[[dict[str, Any]], object], *, dump: Callable[[Any], str] | None = None
         ) -> Callable[[Path], None]:
    def step(folder: Path) -> None:
        path = folder / "manifest.json"
        doc = json.loads(path.read_bytes())
        change(doc)
        text = dump(doc) if dump else json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        path.write_bytes(text.encode("utf-8"))

    return step


def last_signature_stray(bits: int) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        signature = doc["events"][-1]["signature"]
        doc["events"][-1]["signature"] = signature[:-1] + sibling(signature[-1], bits)

    return change


def reorder(get: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target = get(doc)
        items = list(target.items())
        target.clear()
        target.update(reversed(items))

    return change


def escaped_slash(doc: Any) -> str:
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").replace("ed25519:", "ed25519\\u003a", 1)


MALFORMED = "manifest.malformed"
CASES: list[tuple[str, Callable[[Path], None], set[str]]] = [
    ("untouched", lambda folder: None, set()),
    ("last-signature-stray-bit", edit(last_signature_stray(1)), {"manifest.schema"}),
    ("last-signature-stray-bits", edit(last_signature_stray(15)), {"manifest.schema"}),
    ("first-signature-stray-bit", edit(lambda d: d["events"][0].update(
        signature=d["events"][0]["signature"][:-1] + sibling(d["events"][0]["signature"][-1], 2))),
     {"manifest.schema"}),
    ("event-members-reordered", edit(reorder(lambda d: d["events"][-1])), {MALFORMED}),
    ("top-level-members-reordered", edit(reorder(lambda d: d)), {MALFORMED}),
    ("catalogue-members-reordered", edit(reorder(lambda d: d["state"]["catalogue"])), {MALFORMED}),
    ("note-target-members-reordered", edit(reorder(lambda d: d["state"]["notes"][0]["target"])), {MALFORMED}),
    ("ascii-escapes", edit(lambda d: None, dump=lambda d: json.dumps(d, indent=2) + "\n"), {MALFORMED}),
    ("a-character-escaped", edit(lambda d: None, dump=escaped_slash), {MALFORMED}),
    ("indent-4", edit(lambda d: None, dump=lambda d: json.dumps(d, indent=4, ensure_ascii=False) + "\n"),
     {MALFORMED}),
    ("no-final-newline", edit(lambda d: None, dump=lambda d: json.dumps(d, indent=2, ensure_ascii=False)),
     {MALFORMED}),
    ("compact", edit(lambda d: None, dump=lambda d: json.dumps(d, ensure_ascii=False)), {MALFORMED}),
]


@pytest.mark.parametrize(("name", "change", "codes"), CASES, ids=[c[0] for c in CASES])
def test_one_text_per_manifest(record: tuple[World, Path], tmp_path: Path, name: str,
                               change: Callable[[Path], None], codes: set[str]) -> None:
    world, source = record
    folder = copy_record(source, tmp_path)
    change(folder)
    report = verify_record_folder(folder, make_context(world.archive.keys_dir, world.clock[0]))
    assert {str(p.code) for p in report.problems} == codes, [p.message for p in report.problems]


def test_a_stray_bit_in_the_last_signature_is_refused_through_the_cli(record: tuple[World, Path]) -> None:
    world, source = record
    folder = copy_record(source, world.root.parent / "cli-stray")
    edit(last_signature_stray(1))(folder)
    result = world.run("verify", str(folder), "--trust", str(world.archive.keys_dir), "--json")
    assert result.returncode == 1, result.stderr
    assert {p["code"] for p in result.json()["problems"]} == {"manifest.schema"}


def test_a_key_card_with_a_stray_bit_is_refused_at_import(record: tuple[World, Path], tmp_path: Path) -> None:
    world, _ = record
    card = json.loads(next(world.archive.keys_dir.glob("t-translator-*.json")).read_bytes())
    card["public_key"] = card["public_key"][:-1] + sibling(card["public_key"][-1], 1)
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card, indent=2) + "\n", "utf-8")
    other = make_world(tmp_path / "other")
    result = other.run("keys", "import", str(path), "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "key.malformed"), result.stdout


# -- the property: any change that still parses is refused, or shows nothing new ------------------------

def _shown(report_json: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report_json.items() if k not in ("path",)}


def _mutations() -> st.SearchStrategy[tuple[str, int, int]]:
    kinds = st.sampled_from(["space", "newline", "escape", "reorder", "stray", "ascii", "drop-space"])
    return st.tuples(kinds, st.integers(0, 1 << 30), st.integers(1, 15))


def _scan(text: str) -> tuple[list[int], list[int]]:
    """(positions of , : [ { outside strings, positions of letters and digits inside strings)."""
    structural: list[int] = []
    inside: list[int] = []
    in_string = escaped = False
    for i, c in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
            elif c.isalnum():
                inside.append(i)
        elif c == '"':
            in_string = True
        elif c in ",:[{":
            structural.append(i)
    return structural, inside


def _structural(text: str) -> list[int]:
    return _scan(text)[0]


def _in_strings(text: str) -> list[int]:
    return _scan(text)[1]


def _mutate(data: bytes, kind: str, where: int, bits: int) -> bytes:
    text = data.decode("utf-8")
    if kind in ("space", "newline", "drop-space"):
        spots = _structural(text)
        at = spots[where % len(spots)] + 1
        if kind == "drop-space":
            return (text[:at] + text[at:].lstrip(" \n")).encode("utf-8")
        return (text[:at] + (" " if kind == "space" else "\n") + text[at:]).encode("utf-8")
    if kind == "escape":  # one letter or digit of a string written as \\uXXXX
        spots = _in_strings(text)
        at = spots[where % len(spots)]
        return (text[:at] + f"\\u{ord(text[at]):04x}" + text[at + 1:]).encode("utf-8")
    doc = json.loads(text)
    if kind == "reorder":
        objects: list[dict[str, Any]] = []

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                if len(value) > 1:
                    objects.append(value)
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(doc)
        reorder(lambda _d: objects[where % len(objects)])(doc)
    elif kind == "stray":
        event = doc["events"][where % len(doc["events"])]
        event["signature"] = event["signature"][:-1] + sibling(event["signature"][-1], bits)
    return (json.dumps(doc, indent=2, ensure_ascii=kind == "ascii") + "\n").encode("utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=_mutations())
def test_a_manifest_change_that_still_parses_is_refused_or_shows_nothing_new(
    record: tuple[World, Path], tmp_path_factory: pytest.TempPathFactory, mutation: tuple[str, int, int]
) -> None:
    world, source = record
    ctx = make_context(world.archive.keys_dir, world.clock[0])
    original = verify_record_folder(source, ctx)
    assert str(original.state) == "trusted"
    folder = copy_record(source, tmp_path_factory.mktemp("prop"))
    data = (folder / "manifest.json").read_bytes()
    changed = _mutate(data, *mutation)
    json.loads(changed)  # it still parses
    (folder / "manifest.json").write_bytes(changed)
    report = verify_record_folder(folder, ctx)
    if str(report.state) == "trusted":
        assert changed == data or _shown(report.to_json()) == _shown(original.to_json())
        assert report.head == original.head
    else:
        assert changed != data
