"""Who signed it, item 2: rotation proven by the old key (issue 17).

A publisher (its own archive) trusts the victim archive's cards. An outsider hands it a card that claims
to supersede the victim's archivist, hoping to be trusted in the archivist's name and roles (or more).
Only a rotation statement signed by the superseded key is believed; it cannot add roles without
``--allow-new-roles``; the old key's validity ends at the rotation time; verify shows the chain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from provenance.canonical import canonical_bytes, dumps_pretty
from provenance.keys import TrustStore, b64url
from provenance.model.events import Role
from provenance.rotation import sign_rotation
from provenance.signing import SigningKey
from tests.conftest import World, bare_world, make_world
from tests.helpers import json_error, tree_snapshot
from tests.signers_helpers import cli

Doc = dict[str, Any]


def _publisher_of(victim: World, tmp: Path) -> World:
    """The publisher's own archive, trusting every card of the victim by import."""
    world = bare_world(tmp / "publisher")
    cards = tmp / "victim-cards"
    assert victim.run("keys", "export", "--all", "--out", str(cards)).returncode == 0
    assert world.run("keys", "import", str(cards)).returncode == 0
    return world


@pytest.fixture
def publisher(ingested: World, tmp_path: Path) -> World:
    return _publisher_of(ingested, tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, World]:
    """A victim and its publisher shared by the refusal tables (each refusal leaves the store unchanged)."""
    root = tmp_path_factory.mktemp("shared")
    victim = make_world(root / "victim")
    return victim, _publisher_of(victim, root)


def _card(key: SigningKey, name: str, roles: list[str], **extra: object) -> Doc:
    return {
        "format": "provenance-key-card/1",
        "id": key.key_id,
        "algorithm": "ed25519",
        "public_key": b64url(key.public_bytes()),
        "name": name,
        "roles": roles,
        "valid_from": "2026-01-01T00:00:00Z",
        **extra,
    }


def _rotation(signer: SigningKey, old: str, new: str, roles: list[str], time: str = "2026-01-05T10:00:00Z") -> Doc:
    from provenance.model.timefmt import parse_utc

    return sign_rotation(signer, old=old, new=new, roles=[Role(r) for r in roles], time=parse_utc(time)).model_dump()


def no_statement(victim: World, mallory: SigningKey) -> Doc:
    old = victim.signers["archivist"].card
    return _card(mallory, old.name, ["archivist"], supersedes=old.id)


def statement_signed_by_the_outsider(victim: World, mallory: SigningKey) -> Doc:
    old = victim.signers["archivist"].card
    return _card(mallory, old.name, ["archivist"], supersedes=old.id,
                 rotation=_rotation(mallory, old.id, mallory.key_id, ["archivist"]))  # fmt: skip


def statement_replayed_from_another_rotation(victim: World, mallory: SigningKey) -> Doc:
    """A genuine statement by the old key, but for another new key: copied onto Mallory's card."""
    old = victim.signers["archivist"]
    genuine = _rotation(old.key, old.card.id, SigningKey.generate().key_id, ["archivist"])
    return _card(mallory, old.card.name, ["archivist"], supersedes=old.card.id, rotation=genuine)


def statement_with_other_roles_than_the_card(victim: World, mallory: SigningKey) -> Doc:
    old = victim.signers["archivist"]
    return _card(mallory, old.card.name, ["archivist", "publisher"], supersedes=old.card.id,
                 rotation=_rotation(old.key, old.card.id, mallory.key_id, ["archivist"]))  # fmt: skip


def statement_signed_without_the_context_string(victim: World, mallory: SigningKey) -> Doc:
    old = victim.signers["archivist"]
    fields = {"old": old.card.id, "new": mallory.key_id, "roles": ["archivist"], "time": "2026-01-05T10:00:00Z"}
    rotation = fields | {"signature": b64url(old.key.sign(canonical_bytes(fields)))}
    return _card(mallory, old.card.name, ["archivist"], supersedes=old.card.id, rotation=rotation)


def statement_by_an_event_signature_context(victim: World, mallory: SigningKey) -> Doc:
    """Domain separation: the old key's signature under the event context is no rotation statement."""
    old = victim.signers["archivist"]
    fields = {"old": old.card.id, "new": mallory.key_id, "roles": ["archivist"], "time": "2026-01-05T10:00:00Z"}
    rotation = fields | {"signature": b64url(old.key.sign(b"provenance/event/v1\x00" + canonical_bytes(fields)))}
    return _card(mallory, old.card.name, ["archivist"], supersedes=old.card.id, rotation=rotation)


def statement_dated_after_the_old_key_was_revoked(victim: World, mallory: SigningKey) -> Doc:
    old = victim.signers["archivist"]
    return _card(mallory, old.card.name, ["archivist"], supersedes=old.card.id,
                 rotation=_rotation(old.key, old.card.id, mallory.key_id, ["archivist"], "2031-01-01T00:00:00Z"))  # fmt: skip


def statement_for_a_key_not_in_the_trust_store(victim: World, mallory: SigningKey) -> Doc:
    stranger = SigningKey.generate()
    return _card(mallory, "S. Stranger", ["archivist"], supersedes=stranger.key_id,
                 rotation=_rotation(stranger, stranger.key_id, mallory.key_id, ["archivist"]))  # fmt: skip


UNPROVEN: dict[str, Callable[[World, SigningKey], Doc]] = {
    "no-statement": no_statement,
    "signed-by-the-outsider": statement_signed_by_the_outsider,
    "replayed-from-another-rotation": statement_replayed_from_another_rotation,
    "roles-other-than-the-card": statement_with_other_roles_than_the_card,
    "no-context-string": statement_signed_without_the_context_string,
    "event-context-string": statement_by_an_event_signature_context,
    "old-key-not-trusted": statement_for_a_key_not_in_the_trust_store,
}


@pytest.mark.parametrize("forge", list(UNPROVEN.values()), ids=list(UNPROVEN))
def test_a_rotation_not_proven_by_the_old_key_is_refused(
    shared: tuple[World, World], forge: Callable[[World, SigningKey], Doc], request: pytest.FixtureRequest
) -> None:
    lived, publisher = shared
    path = publisher.root.parent / "mallory.json"
    path.write_bytes(dumps_pretty(forge(lived, SigningKey.generate())))
    before = tree_snapshot(publisher.archive.keys_dir)
    result = cli(publisher, request)("keys", "import", str(path), "--json")
    assert (result.returncode, json_error(result)["code"]) == (2, "key.rotation-unproven")
    assert tree_snapshot(publisher.archive.keys_dir) == before


def test_a_rotation_after_the_old_keys_revocation_is_refused(ingested: World, publisher: World) -> None:
    lived = ingested
    old = lived.signers["archivist"].card
    assert publisher.run("keys", "revoke", old.id, "--at", "2030-01-01T00:00:00Z").returncode == 0
    path = publisher.root.parent / "mallory.json"
    path.write_bytes(dumps_pretty(statement_dated_after_the_old_key_was_revoked(lived, SigningKey.generate())))
    result = publisher.run("keys", "import", str(path), "--json")
    assert (result.returncode, json_error(result)["code"]) == (2, "key.rotation-unproven")


def test_an_unproven_card_planted_in_the_trust_store_is_not_trusted(shared: tuple[World, World]) -> None:
    lived, publisher = shared
    planted = publisher.archive.keys_dir / "planted.json"
    planted.write_bytes(dumps_pretty(no_statement(lived, SigningKey.generate())))
    try:
        store = TrustStore.load(publisher.archive.keys_dir)
        assert any("planted.json" in f and "no rotation statement" in r for f, r in store.rejected)
        listing = publisher.run("keys", "list", "--json").json()
        assert any("planted.json" in r["file"] for r in listing["rejected"])
    finally:
        planted.unlink()


def test_a_genuine_rotation_is_accepted_ends_the_old_key_and_verify_shows_the_chain(
    ingested: World, publisher: World
) -> None:
    lived = ingested
    old = lived.signers["archivist"]
    new_key = SigningKey.generate()
    lived.tick(60)
    moment = lived.clock[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    card = _card(new_key, old.card.name, ["archivist"], supersedes=old.card.id,
                 rotation=_rotation(old.key, old.card.id, new_key.key_id, ["archivist"], moment))  # fmt: skip
    path = publisher.root.parent / "rotated.json"
    path.write_bytes(dumps_pretty(card))
    result = publisher.run("keys", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "rotation from" in result.stdout
    store = TrustStore.load(publisher.archive.keys_dir)
    assert store.cards[old.card.id].valid_until == moment  # the old key's validity ends at the rotation
    bundle = publisher.root.parent / "bundle.zip"
    assert lived.run("export", "telegram-23256", "--out", str(bundle)).returncode == 0
    report = publisher.run("verify", str(bundle), "--json").json()
    assert report["state"] == "trusted"  # every event was signed before the rotation
    archivist = next(s for s in report["signers"] if s["key"] == old.card.id)
    assert archivist["rotation"] == [{"old": old.card.id, "new": new_key.key_id, "time": moment}]
    text = publisher.run("verify", str(bundle))
    assert f"rotation: {old.card.id[:20]}… → {new_key.key_id[:20]}…" in text.stdout


def test_the_old_key_signing_after_its_rotation_is_not_trusted(ingested: World) -> None:
    """Rotated through the CLI in the victim's own archive: later events by the old key are signer.expired."""
    lived = ingested
    old = lived.signers["archivist"].card
    result = lived.run("keys", "generate", "--name", old.name, "--role", "archivist", "--supersedes", old.id,
                       "--kdf-rounds", "1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    new_id = result.stdout.strip()
    refused = lived.run("custody", "telegram-23256", "--key", old.id, "--from", "a", "--to", "b")
    assert refused.returncode == 2 and "[key.expired]" in refused.stderr
    assert lived.run("custody", "telegram-23256", "--key", new_id, "--from", "a", "--to", "b").returncode == 0
    report = lived.run("verify", "records/telegram-23256", "--json").json()
    assert report["state"] == "trusted"
    # a thief holding the old key forges a later event: signed, but outside the old key's validity
    from tests.adversarial.forge import load, rechain, save

    doc = load(lived)
    doc["events"][-1]["key"] = old.id
    save(lived, rechain(doc, keys={old.id: lived.signers["archivist"].key}, start=len(doc["events"]) - 1))
    report = lived.run("verify", "records/telegram-23256", "--json").json()
    assert "signer.expired" in {p["code"] for p in report["problems"]}


ROLE_CASES = {
    "same-roles": (["archivist"], [], 0, None),
    "added-role-refused": (["archivist", "publisher"], [], 2, "key.rotation-widens"),
    "added-role-after-review": (["archivist", "publisher"], ["--allow-new-roles"], 0, None),
}


@pytest.mark.parametrize(("roles", "flags", "exit_code", "code"), list(ROLE_CASES.values()), ids=list(ROLE_CASES))
def test_a_rotation_cannot_add_roles_without_the_archives_decision(
    shared: tuple[World, World],
    roles: list[str],
    flags: list[str],
    exit_code: int,
    code: str | None,
    request: pytest.FixtureRequest,
) -> None:
    lived, publisher = shared
    old = lived.signers["archivist"]
    new_key = SigningKey.generate()
    name = f"Archivist key {len(roles)}{len(flags)}"  # a fork of one key under one name is refused: a name each
    card = _card(new_key, name, roles, supersedes=old.card.id,
                 rotation=_rotation(old.key, old.card.id, new_key.key_id, roles))  # fmt: skip
    path = publisher.root.parent / "rotated.json"
    path.write_bytes(dumps_pretty(card))
    result = cli(publisher, request)("keys", "import", str(path), *flags, "--json")
    assert result.returncode == exit_code, result.stdout
    if code:
        assert json_error(result)["code"] == code
    elif "--allow-new-roles" in flags:
        assert result.json()["roles_added"] == ["publisher"]
        shown = publisher.run("keys", "import", str(path), "--allow-new-roles")
        assert shown.returncode == 0


def test_generate_refuses_a_rotation_adding_roles_unless_asked(world: World) -> None:
    lived = world
    old = lived.signers["translator"].card
    args = ["keys", "generate", "--name", old.name, "--role", "publisher", "--supersedes", old.id, "--kdf-rounds", "1"]
    refused = lived.run(*args, "--json")
    assert (refused.returncode, json_error(refused)["code"]) == (2, "key.rotation-widens")
    accepted = lived.run(*args, "--allow-new-roles", "--json")
    assert accepted.returncode == 0, accepted.stderr
    card = accepted.json()["card"]
    assert card["rotation"]["old"] == old.id and card["rotation"]["roles"] == ["publisher"]


def test_a_rotation_chain_of_three_keys_imported_in_any_order(ingested: World, publisher: World) -> None:
    lived = ingested
    old = lived.signers["reviewer"]
    second, third = SigningKey.generate(), SigningKey.generate()
    t1, t2 = (lived.clock[0] + timedelta(hours=h) for h in (1, 2))
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    b = _card(second, old.card.name, ["reviewer"], supersedes=old.card.id,
              rotation=_rotation(old.key, old.card.id, second.key_id, ["reviewer"], t1.strftime(fmt)))  # fmt: skip
    c = _card(third, old.card.name, ["reviewer"], supersedes=second.key_id,
              rotation=_rotation(second, second.key_id, third.key_id, ["reviewer"], t2.strftime(fmt)))  # fmt: skip
    folder = publisher.root.parent / "chain"
    folder.mkdir()
    (folder / "a-third.json").write_bytes(dumps_pretty(c))  # the successor sorts first by name
    (folder / "b-second.json").write_bytes(dumps_pretty(b))
    result = publisher.run("keys", "import", str(folder))
    assert result.returncode == 0, result.stderr
    store = TrustStore.load(publisher.archive.keys_dir)
    assert [s.new for s in store.chain(third.key_id)] == [second.key_id, third.key_id]
