"""Who signed it, item 1: names a person can tell apart (issue 17).

A victim archive trusts its signers' cards; an outsider makes keys in an archive of its own and hands the
victim cards whose names look like trusted ones. ``keys import`` and ``keys generate`` refuse them
(``key.name-confusable``, naming the trusted key); names holding invisible or format characters are refused
outright; catalogue values carrying controls or bidi overrides are refused at input with the field named.
The confusable rules are tested against Unicode's own TR #39 data, and by a property over random names.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.archive import Archive
from provenance.canonical import dumps_pretty
from provenance.confusables import confusable, name_keys, prototypes, skeleton
from provenance.errors import ProvenanceError
from provenance.keys import TrustStore, b64url, card_bytes, generate_key, import_cards
from provenance.model.events import Role
from provenance.model.identity import identity_problem
from provenance.signing import SigningKey
from tests.conftest import PASSPHRASE, REFERENCE, T0, World, bare_world, make_world
from tests.helpers import assert_one_clear_line, json_error, tree_snapshot
from tests.signers_helpers import cli


def card_doc(name: str, roles: tuple[str, ...] = ("archivist",), key: SigningKey | None = None) -> dict[str, object]:
    """A well-formed card for a fresh key, ``name`` as given (even one the model would refuse)."""
    key = key or SigningKey.generate()
    return {
        "format": "provenance-key-card/1",
        "id": key.key_id,
        "algorithm": "ed25519",
        "public_key": b64url(key.public_bytes()),
        "name": name,
        "roles": list(roles),
        "valid_from": "2026-01-01T00:00:00Z",
    }


@pytest.fixture(scope="module")
def victim(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The victim's archive, shared by the refusal tables (each asserts that nothing changed)."""
    world = make_world(tmp_path_factory.mktemp("victim"))
    for extra in ("Cope", "rnary"):
        generate_key(world.archive, name=extra, roles=[Role.ARCHIVIST], passphrase=b"x", now=T0, rounds=1, home=world.home)
    return world


@pytest.fixture(scope="module")
def outsider(tmp_path_factory: pytest.TempPathFactory) -> World:
    """A second archive, the outsider's, with a key home of its own and no keys yet."""
    return bare_world(tmp_path_factory.mktemp("outsider"))


def outsider_card(outsider: World, name: str) -> Path:
    """The outsider makes a real key named ``name`` in an archive of its own and hands over its card."""
    import uuid

    archive, _ = Archive.init(outsider.root.parent / uuid.uuid4().hex[:12])
    card = generate_key(
        archive, name=name, roles=[Role.ARCHIVIST], passphrase=PASSPHRASE.encode(), now=T0, rounds=1,
        home=outsider.home,
    )
    path = outsider.root.parent / f"{card.id[8:20]}.json"
    path.write_bytes(card_bytes(card))
    return path


# --- keys import: look-alike names of trusted signers ------------------------------------------------------

LOOK_ALIKES = {
    "exact-copy": "A. Archivist",
    "cyrillic-a-mixed-script": "A. \u0410rchivist",
    "ukrainian-i-mixed-script": "A. Archiv\u0456st",
    "greek-alpha-capital": "\u0391. Archivist",
    "full-width-a": "\uff21. Archivist",
    "case-and-spaces": "a.  ARCHIVIST",
    "rn-for-m": "Mary",  # against the victim's "rnary"
    "digit-one-for-l": "T. Trans1ator",
    "whole-script-cyrillic": "\u0421\u043e\u0440\u0435",  # Cyrillic "Соре" against the Latin "Cope"
    "decomposed-accent-look-alike": "R. Revi\u0435wer",
}


@pytest.mark.parametrize("name", list(LOOK_ALIKES.values()), ids=list(LOOK_ALIKES))
def test_import_of_a_card_whose_name_looks_like_a_trusted_one_is_refused(
    victim: World, outsider: World, name: str, request: pytest.FixtureRequest
) -> None:
    world = victim
    card = outsider_card(outsider, name)
    before = tree_snapshot(world.archive.keys_dir)
    result = cli(world, request)("keys", "import", str(card), "--json")
    error = json_error(result)
    assert (result.returncode, error["code"]) == (2, "key.name-confusable")
    trusted = TrustStore.load(world.archive.keys_dir)
    assert error["existing"] in trusted.cards and confusable(name, trusted.cards[error["existing"]].name)
    assert error["existing"] in error["message"]
    assert tree_snapshot(world.archive.keys_dir) == before


def test_import_of_a_card_with_a_name_nobody_else_has_is_accepted(world: World, outsider: World) -> None:
    result = world.run("keys", "import", str(outsider_card(outsider, "M. Mallory")))
    assert result.returncode == 0, result.stderr


def test_generate_refuses_a_name_confusable_with_a_trusted_key(world: World) -> None:
    result = world.run("keys", "generate", "--name", "A. \u0410rchivist", "--role", "archivist", "--kdf-rounds", "1")
    assert_one_clear_line(result, 2, "key.name-confusable")
    assert world.signers["archivist"].card.id in result.stderr


INVISIBLE = {
    "zero-width-space": "A. Arch\u200bivist",
    "right-to-left-override": "A. \u202eTSIVIHCRA",
    "soft-hyphen": "A. Archi\u00advist",
    "tag-character": "A. Archivist\U000e0041",
    "variation-selector": "A. Archivist\ufe0f",
    "word-joiner": "A.\u2060 Archivist",
    "line-separator": "A.\u2028Archivist",
    "private-use": "A. Archivist\ue000",
    "unassigned": "A. Archivist\u0378",
    "escape": "A. Archivist\x1b[2J",
    "c1-csi": "A. Archivist\x9b",
    "not-nfc": "Zoe\u0301",
    "trailing-space": "Zed ",
    "hangul-filler": "Zed\u3164",
}


@pytest.mark.parametrize("name", list(INVISIBLE.values()), ids=list(INVISIBLE))
def test_names_with_invisible_or_format_characters_are_refused(
    victim: World, outsider: World, name: str, request: pytest.FixtureRequest
) -> None:
    world = victim
    run = cli(world, request)
    generate = run("keys", "generate", "--name", name, "--role", "archivist", "--kdf-rounds", "1", "--json")
    assert (generate.returncode, json_error(generate)["code"], json_error(generate)["field"]) == (2, "usage.invalid", "name")
    incoming = outsider.root.parent / "incoming.json"
    incoming.write_bytes(dumps_pretty(card_doc(name)))
    imported = run("keys", "import", str(incoming))
    assert_one_clear_line(imported, 2, "key.malformed")
    assert "name" in imported.stderr


def test_an_event_whose_agent_holds_a_bidi_override_is_not_a_valid_manifest(lived: World) -> None:
    path = lived.archive.record_dir("telegram-23256") / "manifest.json"
    doc = json.loads(path.read_text("utf-8"))
    doc["events"][0]["agent"] = "A. \u202eTSIVIHCRA"
    path.write_text(json.dumps(doc), "utf-8")
    result = lived.run("verify", str(path.parent), "--json")
    assert result.returncode == 1
    assert "manifest.schema" in {p["code"] for p in result.json()["problems"]}


# --- catalogue values that reach a bundle -------------------------------------------------------------------

HOSTILE_VALUES = {
    "title-escape": ("title", "Mao\x1b]0;pwned\x07 to Filippov"),
    "author-bidi-override": ("author", "Mao \u202eGNODEZ"),
    "origin-line-end": ("origin", "Beijing\nBagging-Date: 1900-01-01"),
    "series-nul": ("series", "Series\x00G"),
    "addressee-isolate": ("addressee", "Filippov\u2066"),
    "rights-c1": ("rights", "public\x85domain"),
    "copies-recipient-cr": ("copies", [{"recipient": "Stalin\rMolotov", "count": 1}]),
}


@pytest.mark.parametrize(("field", "value"), list(HOSTILE_VALUES.values()), ids=list(HOSTILE_VALUES))
def test_catalogue_values_with_controls_or_bidi_are_refused_at_input(
    victim: World, field: str, value: object, request: pytest.FixtureRequest
) -> None:
    world = victim
    sidecar = world.root.parent / "meta.json"
    sidecar.write_text(json.dumps({field: value}), "utf-8")
    result = cli(world, request)("ingest", str(REFERENCE), "--metadata", str(sidecar), "--json")
    error = json_error(result)
    assert (result.returncode, error["code"]) == (2, "metadata.invalid")
    assert field in error["message"]
    assert not any(world.archive.records_dir.iterdir())


def test_catalogue_set_refuses_a_bidi_override(ingested: World) -> None:
    result = ingested.run(
        "catalogue", "telegram-23256", "--set", "author=Mao \u202eGNODEZ", "--reason", "x", "--key", "A. Archivist"
    )
    assert result.returncode == 2 and "author" in result.stderr, result.stderr


def test_multi_line_fields_keep_their_line_ends_and_bag_info_stays_one_line(world: World) -> None:
    sidecar = world.root.parent / "meta.json"
    sidecar.write_text(json.dumps({"title": "Mao Zedong\r\nto Filippov", "rights": "line one\nline two"}), "utf-8")
    assert world.run("ingest", str(REFERENCE), "--metadata", str(sidecar)).returncode == 0
    out = world.root.parent / "bundle"
    assert world.run("export", "telegram-23256", "--out", str(out)).returncode == 0
    info = (out / "bag-info.txt").read_text("utf-8")
    assert "Rights: line one line two\n" in info


# --- the rules against Unicode's TR #39 data, and as a property ----------------------------------------------


def test_skeleton_follows_the_tr39_data_for_every_letter_mapping() -> None:
    """Every entry of confusables.txt whose source is a letter (and, as UTS #39 maps the NFD form, is its own
    NFD): a name holding the source is confusable with the same name holding the target, whatever script."""
    checked = 0
    for source, target in prototypes().items():
        if len(source) != 1 or not unicodedata.category(source).startswith("L"):
            continue
        if unicodedata.normalize("NFD", source) != source:
            continue
        left, right = f"Ab{source}c", f"Ab{target}c"
        assert skeleton(left) == unicodedata.normalize("NFD", right), hex(ord(source))
        fit = identity_problem(left) is None and identity_problem(right) is None
        if fit and skeleton(right) == skeleton(left):  # the prototype is its own skeleton (most are)
            assert confusable(left, right), hex(ord(source))
        checked += 1
    assert checked > 3000


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("paypal", "\u0440\u0430\u0443\u0440\u0430l", True),  # whole-script (TR #39 section 4 example)
        ("A. Archivist", "A. \u0410rchivist", True),  # mixed-script
        ("A. Archivist", "A. Archivists", False),
        ("T. Translator", "R. Reviewer", False),
        ("\u0398\u03b5\u03bf\u03b4\u03c9\u03c1\u03bf\u03c2", "Theodoros", False),  # a transliteration is another name
    ],
)
def test_confusable_pairs(first: str, second: str, expected: bool) -> None:
    assert confusable(first, second) is expected
    assert bool(name_keys(first) & name_keys(second)) is expected


ALPHABET = [
    "a", "A", "\u0430", "\u0391", "\u03b1", "e", "\u0435", "o", "\u043e", "\u03bf", "0", "l", "I", "1", "r",
    "n", "m", "\u0301", "\u00e1", "\u0300", "\u200b", "\u200d", "\u00ad", "\u2060", "\ufe0f", "\u202e", " ",
]


def _visible(name: str) -> str:
    """What a reader sees: format and default-ignorable characters dropped, NFC, spaces collapsed."""
    kept = "".join(c for c in name if unicodedata.category(c) != "Cf" and not 0xFE00 <= ord(c) <= 0xFE0F)
    return " ".join(unicodedata.normalize("NFC", kept).split())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=5), second=st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=5))
def test_two_names_a_person_cannot_tell_apart_are_never_both_trusted(
    tmp_path_factory: pytest.TempPathFactory, first: list[str], second: list[str]
) -> None:
    root = tmp_path_factory.mktemp("names")
    archive, _ = Archive.init(root / "archive")
    trusted: list[str] = []
    for index, name in enumerate(("".join(first), "".join(second))):
        path = root / f"card-{index}.json"
        path.write_bytes(dumps_pretty(card_doc(name)))
        try:
            import_cards(archive, [path])
        except ProvenanceError:
            continue
        trusted.append(name)
    for name in trusted:
        assert identity_problem(name) is None  # nothing invisible in a trusted name
    if len(trusted) == 2:
        a, b = trusted
        assert _visible(a) != _visible(b)
        assert skeleton(a) != skeleton(b)
        assert skeleton(_visible(a).casefold()) != skeleton(_visible(b).casefold())


def test_keys_list_warns_of_look_alike_names_already_in_a_trust_store(world: World) -> None:
    """A trust store filled before names were checked, or edited by hand: keys list names the pair."""
    planted = world.archive.keys_dir / "planted.json"
    planted.write_bytes(dumps_pretty(card_doc("A. \u0410rchivist")))
    listing = world.run("keys", "list", "--json")
    pairs = listing.json()["confusable"]
    assert [sorted(p) for p in pairs] == [sorted([world.signers["archivist"].card.id, json.loads(planted.read_text())["id"]])]
    text = world.run("keys", "list")
    assert "look alike" in text.stderr
