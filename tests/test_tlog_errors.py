"""Failure paths of the transparency log, fast (library level, a few CLI runs): each refusal names its code
and leaves things as they were."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance import archive_log, log_audit
from provenance.errors import InputError, KeyStoreError, ProvenanceError, UsageError
from provenance.keys import generate_key, parse_card
from provenance.model.events import Role
from provenance.signing import SigningKey
from provenance.tlog import note
from provenance.tlog.checkpoint import leaf_data
from provenance.tlog.store import LogStore
from provenance.tlog.witness import Request, WitnessError, WitnessState, check, parse_request
from tests.conftest import PASSPHRASE, World
from tests.helpers import tree_snapshot
from tests.test_tlog_archive import ORIGIN, enable_log


def test_origin_and_key_rules(world: World) -> None:
    assert archive_log.default_origin(world.archive) == "provenance.local/archive"
    for bad in ("", "a b", "a+b", "x" * 256):
        with pytest.raises(UsageError):
            archive_log.check_origin(bad)
    with pytest.raises(UsageError):  # a log key holds no other role
        generate_key(world.archive, name="x.example/log", roles=[Role.LOG, Role.ARCHIVIST],
                     passphrase=b"p", now=world.tick(), rounds=1, home=world.home)
    with pytest.raises(UsageError):  # its name is a note key name
        generate_key(world.archive, name="has space", roles=[Role.WITNESS], passphrase=b"p", now=world.tick(),
                     rounds=1, home=world.home)


def test_key_cards_must_carry_a_matching_verifier_key(world: World) -> None:
    card = archive_log.generate_log_key(world.archive, ORIGIN, PASSPHRASE.encode(), world.tick(), rounds=1)
    doc = card.as_json()
    other = note.verifier_for(ORIGIN, SigningKey.generate().public_bytes()).encode()
    cases = {
        "other key": {**doc, "note_verifier_key": other},
        "other name": {**doc, "note_verifier_key": note.verifier_for("else", b"\x01" * 32).encode()},
        "not a log card": {**doc, "roles": ["archivist"]},
        "bad hash": {**doc, "note_verifier_key": doc["note_verifier_key"][:-50] + "0" * 8 + doc["note_verifier_key"][-44:]},
    }
    for name, changed in cases.items():
        with pytest.raises(KeyStoreError):
            parse_card(json.dumps(changed).encode(), source=name)


def test_log_key_unlock_failures(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    assert archive_log.unlock_log_key(world.archive, b"x") is None  # not logged
    enable_log(world)
    monkeypatch.delenv(archive_log.LOG_PASSPHRASE_ENV, raising=False)
    with pytest.raises(KeyStoreError) as caught:
        archive_log.unlock_log_key(world.archive, None)
    assert caught.value.code.value == "key.passphrase-missing"
    with pytest.raises(KeyStoreError) as caught:
        archive_log.unlock_log_key(world.archive, b"wrong")
    assert caught.value.code.value == "key.passphrase-wrong"
    monkeypatch.setenv(archive_log.LOG_PASSPHRASE_ENV, PASSPHRASE)
    assert archive_log.unlock_log_key(world.archive, b"ignored") is not None
    for card in world.archive.keys_dir.glob("archive-example*"):
        card.unlink()
    with pytest.raises(KeyStoreError) as caught:
        archive_log.unlock_log_key(world.archive, b"x")
    assert caught.value.code.value == "log.key-missing"


def test_a_wrong_log_key_is_refused_before_anything_is_written(ingested: World) -> None:
    enable_log(ingested)
    from provenance import actions

    before = tree_snapshot(ingested.root)
    signer = ingested.signers["translator"]
    import dataclasses

    stranger = dataclasses.replace(signer, log_key=SigningKey.generate())
    with pytest.raises(KeyStoreError) as caught:
        actions.add_note(ingested.archive, "telegram-23256", stranger, quote="Kaeseong", text="x", now=ingested.tick())
    assert caught.value.code.value == "log.key-missing"
    assert tree_snapshot(ingested.root) == before


def test_damaged_logs_are_reported_not_used(ingested: World, tmp_path: Path) -> None:
    enable_log(ingested)
    from provenance import actions
    from provenance.bundle.export import export_record

    (ingested.root / "log" / "checkpoint").write_text("not a note")
    with pytest.raises(InputError) as caught:
        actions.add_note(ingested.archive, "telegram-23256", ingested.signers["translator"], quote="Kaeseong",
                         text="x", now=ingested.tick())
    assert caught.value.code.value == "log.damaged"
    with pytest.raises(ProvenanceError):
        export_record(ingested.archive, "telegram-23256", tmp_path / "bag")
    report = log_audit.audit_log(ingested.archive, [])
    assert [p.code.value for p in report.problems] == ["log.checkpoint-invalid"]


def test_export_refuses_a_record_whose_events_are_not_logged(ingested: World, tmp_path: Path) -> None:
    from provenance.bundle.export import export_record

    key = SigningKey.generate()
    log = archive_log.store(ingested.archive)
    with log.locked():
        log.apply(log.prepare([leaf_data("other", 1, "sha256:" + "0" * 64)], key, origin=ORIGIN))
    with pytest.raises(InputError) as caught:
        export_record(ingested.archive, "telegram-23256", tmp_path / "bag")
    assert caught.value.code.value == "log.damaged"


def test_store_without_a_log(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "log", tmp_path / "work")
    from provenance.tlog.store import LogDamagedError

    with pytest.raises(LogDamagedError):
        store.prepare([b"x"], SigningKey.generate())
    with pytest.raises(LogDamagedError):
        store.checkpoint_text()
    assert store.recover(lambda *_: True) is None
    assert store.cosigned_sizes() == []


def test_witness_pure_rules(tmp_path: Path) -> None:
    key = SigningKey.generate()
    log = note.verifier_for("o.example", key.public_bytes())
    from provenance.tlog.checkpoint import Checkpoint
    from provenance.tlog.merkle import EMPTY_ROOT

    body = Checkpoint("o.example", 2, b"\x05" * 32).body()
    signed = note.Note(body, (note.sign(body, "o.example", key),)).encode()
    for bad in (b"\xff", b"old 1\n", b"new 1\n\nx", b"old 01\n\nx", ("old 1\n" + "AAAA\n" * 64 + "\n").encode()):
        with pytest.raises(WitnessError) as caught:
            parse_request(bad)
        assert caught.value.status == 400
    with pytest.raises(WitnessError) as caught:
        check(Request(0, (), "no note"), [log], {})
    assert caught.value.status == 400
    with pytest.raises(WitnessError) as caught:  # same size, other root
        check(Request(2, (), signed), [log], {"o.example": (2, b"\x06" * 32)})
    assert caught.value.status == 422
    assert check(Request(2, (), signed), [log], {"o.example": (2, b"\x05" * 32)}).size == 2
    with pytest.raises(WitnessError) as caught:
        check(Request(1, (), signed), [log], {"o.example": (1, EMPTY_ROOT)})
    assert caught.value.status == 422
    state = WitnessState(tmp_path / "w")
    assert state.load() == {} and state.logs() == []
    state.add_log(log)
    state.add_log(log)
    assert state.logs() == [log]
    state.store({"o.example": (2, b"\x05" * 32)})
    assert state.load() == {"o.example": (2, b"\x05" * 32)}


def test_cli_refusals(ingested: World, tmp_path: Path) -> None:
    enable_log(ingested)
    bad = tmp_path / "bad"
    bad.write_text("nothing here\n")
    result = ingested.run("tlog", "cosign", "--add", str(bad))
    assert result.returncode == 2 and "log.input-invalid" in result.stderr
    result = ingested.run("tlog", "prove", "--from", "5", "--to", "2")
    assert result.returncode == 2 and "usage.invalid" in result.stderr
    assert ingested.run("tlog", "prove", "--from", "0", "--json").json()["proof"] == []
    assert ingested.run("tlog", "checkpoint", "--json").json()["origin"] == ORIGIN
    result = ingested.run("witness", "cosign", str(bad), "--state", str(tmp_path / "nowitness"))
    assert result.returncode == 2 and "key.not-found" in result.stderr
    result = ingested.run("witness", "init", "--state", str(tmp_path / "w"))
    assert result.returncode == 2 and "usage.invalid" in result.stderr
    result = ingested.run("witness", "init", "--state", str(tmp_path / "w"), "--name", "w.example", "--log", "junk",
                          "--kdf-rounds", "1")
    assert result.returncode == 2 and "usage.invalid" in result.stderr
    witness_key = note.verifier_for("x", b"\x01" * 32, note.TYPE_COSIGNATURE).encode()
    result = ingested.run("witness", "init", "--state", str(tmp_path / "w"), "--log", witness_key)
    assert result.returncode == 2 and "usage.invalid" in result.stderr
    result = ingested.run("witness", "cosign", str(tmp_path / "missing"), "--state", str(tmp_path / "w"))
    assert result.returncode == 2 and "input.unreadable" in result.stderr


def test_verify_state_and_policy_edge_cases(ingested: World, tmp_path: Path) -> None:
    enable_log(ingested)
    bag = tmp_path / "bag"
    assert ingested.run("export", "telegram-23256", "--out", str(bag)).returncode == 0
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text("[]")
    result = ingested.run("verify", str(bag), "--state", str(state), "--json")
    assert result.returncode == 1 and [p["code"] for p in result.json()["problems"]] == ["log.fork"]
    (ingested.archive.keys_dir / "log-policy.toml").write_text("witnesses = [")
    result = ingested.run("verify", str(bag), "--json")
    assert result.returncode == 1 and [p["code"] for p in result.json()["problems"]] == ["log.witness-quorum"]
    (ingested.archive.keys_dir / "log-policy.toml").unlink()
    # a reader without the log key: nothing required, --state not applied, and said so
    trust = tmp_path / "trust"
    trust.mkdir()
    for card in ingested.archive.keys_dir.glob("*.json"):
        if not card.name.startswith("archive-example"):
            (trust / card.name).write_bytes(card.read_bytes())
    result = ingested.run("verify", str(bag), "--trust", str(trust), "--state", str(tmp_path / "s2"), "--json")
    doc = result.json()
    assert result.returncode == 0 and doc["log"].startswith("logged (no log key") and doc["warnings"]
