"""provenance.keys: making, unlocking, finding, revoking and importing key cards, with real Ed25519 keys in
temporary archives and homes; every refusal asserted by its code."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from provenance.archive import Archive
from provenance.errors import ErrorCode
from provenance.keys import (
    TrustStore,
    card_bytes,
    card_filename,
    card_status,
    generate_key,
    import_cards,
    parse_card,
    parse_when,
    private_key_path,
    read_private_key_file,
    revoke,
    select_card,
    unlock,
)
from provenance.model.events import Role
from provenance.model.keycard import KeyCard
from tests.coded import raises_code
from tests.conftest import T0

PASS = b"correct horse battery staple"


def _archive(tmp: Path, name: str = "a") -> tuple[Archive, Path]:
    archive, _ = Archive.init(tmp / name)
    return archive, tmp / f"{name}-home"


def _key(archive: Archive, home: Path, name: str, *roles: Role, **kwargs: object) -> KeyCard:
    return generate_key(archive, name=name, roles=list(roles) or [Role.ARCHIVIST], passphrase=PASS, now=T0,
                        rounds=1, home=home, **kwargs)  # type: ignore[arg-type]


def test_generate_writes_a_card_and_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    archive, home = _archive(tmp_path)
    card = _key(archive, home, "A. Archivist", Role.REVIEWER, Role.ARCHIVIST)
    assert card.roles == [Role.ARCHIVIST, Role.REVIEWER]  # in the order of the roles
    assert card.id.startswith("ed25519:") and card.valid_from == "2026-01-05T09:00:00Z"
    assert (archive.keys_dir / card_filename(card)).read_bytes() == card_bytes(card)
    private = private_key_path(card.id, home)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.parent.stat().st_mode) == 0o700
    key = unlock(card, PASS, home)
    assert key.key_id == card.id
    assert parse_card(card_bytes(card), source="card") == card


def test_unlock_refuses_a_wrong_passphrase_and_a_missing_key(tmp_path: Path) -> None:
    archive, home = _archive(tmp_path)
    card = _key(archive, home, "A. Archivist")
    with raises_code(ErrorCode.KEY_PASSPHRASE_WRONG):
        unlock(card, b"wrong", home)
    with raises_code(ErrorCode.KEY_NOT_FOUND, "only its card is here"):
        unlock(card, PASS, tmp_path / "elsewhere")


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"passphrase": b""}, ErrorCode.KEY_PASSPHRASE_MISSING, "non-empty"),
        ({"rounds": 0}, ErrorCode.USAGE, "bcrypt rounds"),
        ({"valid_until": T0 - timedelta(days=1)}, ErrorCode.USAGE, "in the future"),
        ({"name": ""}, ErrorCode.USAGE, "1 to 4096"),
        ({"name": "A. Arch\u202eivist"}, ErrorCode.USAGE, "U+202E"),
        ({"name": "A. Archivist"}, ErrorCode.KEY_NAME_CONFUSABLE, "the same name as"),
        ({"name": "A. \u0410rchivist"}, ErrorCode.KEY_NAME_CONFUSABLE, "cannot tell"),  # a Cyrillic А
        ({"roles": [Role.LOG, Role.ARCHIVIST], "name": "log.example/x"}, ErrorCode.USAGE, "that role only"),
        ({"supersedes": "ed25519:" + "0" * 64, "name": "New"}, ErrorCode.KEY_ROTATION_UNPROVEN, "unlocked"),
    ],
)
def test_generate_refusals_write_nothing(tmp_path: Path, kwargs: dict[str, object], code: ErrorCode,
                                         words: str) -> None:
    archive, home = _archive(tmp_path)
    _key(archive, home, "A. Archivist")
    cards = sorted(p.name for p in archive.keys_dir.iterdir())
    private = sorted(p.name for p in (home / "keys").iterdir())
    arguments: dict[str, object] = {"name": "B. Other", "roles": [Role.ARCHIVIST], "passphrase": PASS, "now": T0,
                                    "rounds": 1, "home": home, **kwargs}
    with raises_code(code, words):
        generate_key(archive, **arguments)  # type: ignore[arg-type]
    assert sorted(p.name for p in archive.keys_dir.iterdir()) == cards
    assert sorted(p.name for p in (home / "keys").iterdir()) == private


def test_a_rotation_signed_by_the_old_key_ends_the_old_card(tmp_path: Path) -> None:
    archive, home = _archive(tmp_path)
    old = _key(archive, home, "A. Archivist")
    new = generate_key(archive, name="A. Archivist", roles=[Role.ARCHIVIST], passphrase=PASS, now=T0 + timedelta(1),
                       rounds=1, home=home, supersedes=old.id, old_key=unlock(old, PASS, home))
    assert new.supersedes == old.id and new.rotation is not None
    store = TrustStore.load(archive.keys_dir)
    assert store.cards[old.id].valid_until == new.valid_from
    assert [(s.old, s.new) for s in store.chain(new.id)] == [(old.id, new.id)]


def test_the_trust_store_keeps_bad_cards_aside_and_follows_no_link(tmp_path: Path) -> None:
    archive, home = _archive(tmp_path)
    card = _key(archive, home, "A. Archivist")
    (archive.keys_dir / "broken.json").write_text("{not json")
    (archive.keys_dir / "linked.json").symlink_to(archive.keys_dir / card_filename(card))
    store = TrustStore.load(archive.keys_dir)
    assert list(store.cards) == [card.id]
    assert any("broken.json" in where for where, _ in store.rejected)
    assert any("linked.json" in link for link in store.links)


def test_resolve_by_id_short_id_and_name(tmp_path: Path) -> None:
    archive, home = _archive(tmp_path)
    card = _key(archive, home, "A. Archivist")
    store = TrustStore.load(archive.keys_dir)
    hex_id = card.id.removeprefix("ed25519:")
    for ref in (card.id, hex_id[:8], "ed25519:" + hex_id[:12], " A. Archivist "):
        assert store.resolve(ref) == card
    with raises_code(ErrorCode.KEY_AMBIGUOUS, "at least 8 hex digits", "it has 4"):
        store.resolve(hex_id[:4])
    with raises_code(ErrorCode.KEY_NOT_FOUND, "no key card matches"):
        store.resolve("Nobody")


def test_select_card_explicit_default_only_and_by_role(tmp_path: Path) -> None:
    archive, home = _archive(tmp_path)
    with raises_code(ErrorCode.KEY_NO_DEFAULT, "no private key here"):
        select_card(archive, None, home)
    archivist = _key(archive, home, "A. Archivist")
    assert select_card(archive, None, home) == archivist  # the only private key here
    translator = _key(archive, home, "T. Translator", Role.TRANSLATOR)
    with raises_code(ErrorCode.KEY_AMBIGUOUS, "several keys could sign"):
        select_card(archive, None, home)
    assert select_card(archive, None, home, allowed=frozenset({Role.TRANSLATOR})) == translator
    assert select_card(archive, "A. Archivist", home) == archivist
    archive.config_path.write_text('default_key = "T. Translator"\n')
    assert select_card(archive, None, home) == translator


def test_revoke_once(tmp_path: Path) -> None:
    archive, home = _archive(tmp_path)
    card = _key(archive, home, "A. Archivist")
    revoked = revoke(archive, card.id, reason="lost laptop", at=T0 + timedelta(days=2))
    assert revoked.revoked is not None and revoked.revoked.reason == "lost laptop"
    assert TrustStore.load(archive.keys_dir).cards[card.id] == revoked
    assert card_status(revoked, T0 + timedelta(days=3)) == "revoked"
    assert card_status(card, T0 + timedelta(days=3)) == "valid"
    with raises_code(ErrorCode.KEY_REVOKED, "already revoked"):
        revoke(archive, card.id, reason="again", at=T0 + timedelta(days=4))


def _unsafe_mode(path: Path) -> None:
    path.chmod(0o644)


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path, 0o600)


def _link(path: Path) -> None:
    target = path.with_name("real")
    path.rename(target)
    path.symlink_to(target)


def _huge(path: Path) -> None:
    path.write_bytes(b"x" * 5000)
    path.chmod(0o600)


def _open_folder(path: Path) -> None:
    path.parent.chmod(0o777)


@pytest.mark.parametrize(("spoil", "words"), [(_unsafe_mode, "others may read"), (_fifo, "not a regular file"),
                                              (_link, "not used as a private key"), (_huge, "larger"),
                                              (_open_folder, "writable by others")],
                         ids=["mode 0644", "fifo", "link", "too large", "folder open to others"])
def test_an_unsafe_private_key_file_is_refused_before_any_passphrase(tmp_path: Path, spoil: object,
                                                                    words: str) -> None:
    archive, home = _archive(tmp_path)
    card = _key(archive, home, "A. Archivist")
    path = private_key_path(card.id, home)
    spoil(path)  # type: ignore[operator]
    with raises_code(ErrorCode.KEY_FILE_UNSAFE, words):
        read_private_key_file(path, card)


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        (lambda doc: doc.update(id="ed25519:" + "1" * 64), ErrorCode.KEY_MALFORMED, "not the SHA-256"),
        (lambda doc: doc.update(roles=["pope"]), ErrorCode.KEY_MALFORMED, "roles"),
        (lambda doc: doc.pop("public_key"), ErrorCode.KEY_MALFORMED, "public_key"),
        (lambda doc: doc.update(extra=1), ErrorCode.KEY_MALFORMED, "extra"),
    ],
)
def test_parse_card_refuses_a_forged_or_malformed_card(tmp_path: Path, change: object, code: ErrorCode,
                                                       words: str) -> None:
    archive, home = _archive(tmp_path)
    doc = json.loads(card_bytes(_key(archive, home, "A. Archivist")))
    change(doc)  # type: ignore[operator]
    with raises_code(code, "card.json", words):
        parse_card(json.dumps(doc).encode(), source="card.json")


def test_parse_card_refuses_what_is_not_json(tmp_path: Path) -> None:
    with raises_code(ErrorCode.KEY_MALFORMED, "not a key card"):
        parse_card(b"{\"a\": 1, \"a\": 2}", source="card.json")  # a duplicate member


def test_import_cards_adds_new_ones_once_and_refuses_widening_or_look_alikes(tmp_path: Path) -> None:
    home_archive, home = _archive(tmp_path, "mine")
    other, other_home = _archive(tmp_path, "theirs")
    mine = _key(home_archive, home, "A. Archivist")
    theirs = _key(other, other_home, "T. Translator", Role.TRANSLATOR)
    path = other.keys_dir / card_filename(theirs)
    assert import_cards(home_archive, [path]) == [(theirs, True)]
    assert import_cards(home_archive, [path]) == [(theirs, False)]  # the same card: nothing to do
    before = sorted(p.name for p in home_archive.keys_dir.iterdir())
    widened = theirs.model_copy(update={"roles": [Role.ARCHIVIST, Role.TRANSLATOR]})
    (tmp_path / "widened.json").write_bytes(card_bytes(widened))
    with raises_code(ErrorCode.KEY_CONFLICT, "roles archivist added"):
        import_cards(home_archive, [tmp_path / "widened.json"])
    impostor = _key(other, other_home, "A. Archivist")  # another key under my archivist's name
    with raises_code(ErrorCode.KEY_NAME_CONFUSABLE, mine.id):
        import_cards(home_archive, [other.keys_dir / card_filename(impostor)])
    with raises_code(ErrorCode.INPUT_NOT_FOUND):
        import_cards(home_archive, [tmp_path / "absent.json"])
    assert sorted(p.name for p in home_archive.keys_dir.iterdir()) == before


@pytest.mark.parametrize("text", ["2026-13-01T00:00:00Z", "yesterday", "2026-01-01", ""])
def test_parse_when_refuses_what_is_not_a_utc_time(text: str) -> None:
    with raises_code(ErrorCode.USAGE):
        parse_when(text)


def test_parse_when_reads_a_utc_time() -> None:
    assert parse_when("2026-01-05T09:00:00Z") == T0


def test_default_key_in_a_configuration_that_is_not_utf8_is_a_coded_refusal(tmp_path: Path) -> None:
    from provenance.key_admin import set_default_key

    archive, _ = Archive.init(tmp_path / "archive")
    garbled = b'# \xff\xfe not UTF-8\ndefault_key = "x"\n'
    archive.config_path.write_bytes(garbled)
    with raises_code(ErrorCode.ARCHIVE_CONFIG, "not valid TOML"):
        set_default_key(archive, "ed25519:" + "0" * 16)
    assert archive.config_path.read_bytes() == garbled  # left as it was
