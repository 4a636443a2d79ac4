"""The archive-wide transparency log end to end: logging every write, export, verify, audit, witnesses,
and the named attacks of issue 10 (rollback, frozen checkpoint, dropped events, history rewrite, unknown
witness, revoked log key, another origin, leaf without event and event without leaf)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import pytest

from provenance import archive_log, log_audit
from provenance.history import Signer
from provenance.keys import TrustStore, generate_key, unlock
from provenance.manifest_io import read_manifest
from provenance.model.events import Role
from provenance.tlog import merkle, note
from provenance.tlog.checkpoint import leaf_data, parse_body
from tests.bundle_helpers import rebag
from tests.conftest import PASSPHRASE, REFERENCE, World
from tests.helpers import RID, TRANSLATOR, tree_snapshot

ORIGIN = "archive.example.org/korea"


def enable_log(world: World, origin: str = ORIGIN) -> None:
    """Give ``world`` a log (cheap key) and hand every signer the unlocked log key."""
    card = archive_log.generate_log_key(world.archive, origin, PASSPHRASE.encode(), world.tick(), rounds=1)
    key = unlock(card, PASSPHRASE.encode(), world.home)
    archive_log.init_log(world.archive, key, origin)
    for name, signer in list(world.signers.items()):
        world.signers[name] = dataclasses.replace(signer, log_key=key)


@pytest.fixture
def logged(world: World) -> World:
    enable_log(world)
    result = world.run("ingest", str(REFERENCE))
    assert result.returncode == 0, result.stderr
    return world


def _note(world: World, text: str) -> None:
    result = world.run("note", RID, "--quote", "Kaeseong", "--text", text, "--key", TRANSLATOR)
    assert result.returncode == 0, result.stderr


def _checkpoint(world: World) -> tuple[str, int]:
    text = (world.root / "log" / "checkpoint").read_text("utf-8")
    return text, parse_body(note.parse(text).text).size


def _export(world: World, out: Path, *extra: str) -> Path:
    result = world.run("export", RID, "--out", str(out), *extra)
    assert result.returncode == 0, result.stderr
    return out


def _verify(world: World, bag: Path, *extra: str) -> tuple[int, list[str], dict[str, object]]:
    result = world.run("verify", str(bag), "--json", *extra)
    doc = result.json()
    return result.returncode, [p["code"] for p in doc["problems"]], doc


# -- logging every write ------------------------------------------------------------------------------


def test_init_with_log_origin_makes_the_log_key(tmp_path: Path, world: World) -> None:
    folder = tmp_path / "new"
    result = world.run("init", str(folder), "--log-origin", "example.org/new", "--json")
    assert result.returncode == 0, result.stderr
    doc = result.json()["log"]
    assert doc["size"] == 0 and doc["origin"] == "example.org/new"
    verifier = note.parse_verifier_key(doc["note_verifier_key"])
    cards = TrustStore.load(folder / "keys").cards.values()
    (card,) = [c for c in cards if Role.LOG in c.roles]
    assert card.note_verifier_key == doc["note_verifier_key"] and verifier.name == card.name
    text = (folder / "log" / "checkpoint").read_text("utf-8")
    assert note.verify(note.parse(text), [verifier]) == [verifier]
    assert parse_body(note.parse(text).text).root == merkle.EMPTY_ROOT
    bad = world.run("init", str(tmp_path / "other"), "--log-origin", "has space")
    assert bad.returncode == 2 and "usage.invalid" in bad.stderr


def test_every_write_is_one_leaf_in_the_same_commit(logged: World) -> None:
    _, size = _checkpoint(logged)
    assert size == 1
    _note(logged, "first")
    _note(logged, "second")
    text, size = _checkpoint(logged)
    assert size == 3
    printed = logged.run("tlog", "checkpoint")
    assert printed.returncode == 0 and printed.stdout == text
    leaves = archive_log.store(logged.archive).tree(3).leaves(0, 3)
    assert [leaf.split(b" ")[2] for leaf in leaves] == [b"1", b"2", b"3"]
    audit = logged.run("audit", "--json")
    assert audit.returncode == 0, audit.stdout
    assert audit.json()["log"]["state"] == "trusted"


def test_a_writer_without_the_log_key_changes_nothing(logged: World) -> None:
    from provenance import actions
    from provenance.errors import KeyStoreError

    before = tree_snapshot(logged.root)
    signer = dataclasses.replace(logged.signers["translator"], log_key=None)
    with pytest.raises(KeyStoreError) as caught:
        actions.add_note(logged.archive, RID, signer, quote="Kaeseong", text="x", now=logged.tick())
    assert caught.value.code.value == "log.key-missing"
    assert tree_snapshot(logged.root) == before
    wrong = logged.run(
        "note", RID, "--quote", "Kaeseong", "--text", "x", "--key", TRANSLATOR,
        env={"PROVENANCE_LOG_PASSPHRASE": "not it"},
    )
    assert wrong.returncode == 2 and "key.passphrase-wrong" in wrong.stderr
    assert tree_snapshot(logged.root) == before


def test_unlogged_archives_keep_working_and_say_not_logged(ingested: World, tmp_path: Path) -> None:
    _note(ingested, "plain")
    assert not (ingested.root / "log").exists()
    code, problems, doc = _verify(ingested, _export(ingested, tmp_path / "bag"))
    assert code == 0 and problems == [] and doc["log"] == "not logged"
    result = ingested.run("tlog", "checkpoint")
    assert result.returncode == 2 and "log.not-enabled" in result.stderr


def test_tlog_init_backfills_deterministically(ingested: World, tmp_path: Path) -> None:
    from provenance.ingest.service import ingest, read_transcription

    ingest(
        ingested.archive, read_transcription(REFERENCE), ingested.signers["archivist"],
        now=ingested.tick(), record_id="second",
    )
    _note(ingested, "before the log")
    twin = tmp_path / "twin"
    shutil.copytree(ingested.root, twin)
    result = ingested.run("tlog", "init", "--origin", ORIGIN, "--json", "--kdf-rounds", "1")
    assert result.returncode == 0, result.stderr
    assert result.json()["size"] == 3
    again = ingested.run("tlog", "init", "--json")
    assert again.json()["created"] is False
    result = ingested.run("tlog", "init", "--origin", ORIGIN, "--archive", str(twin), "--kdf-rounds", "1")
    assert result.returncode == 0, result.stderr
    roots = [parse_body(note.parse((r / "log" / "checkpoint").read_text()).text).root for r in (ingested.root, twin)]
    assert roots[0] == roots[1]  # same events, same order, same tree (different log keys)
    leaves = archive_log.store(ingested.archive).tree(3).leaves(0, 3)
    assert [leaf.split(b" ")[1:3] for leaf in leaves] == [[RID.encode(), b"1"], [b"second", b"1"], [RID.encode(), b"2"]]
    assert ingested.run("audit").returncode == 0


# -- bundles and verify -------------------------------------------------------------------------------


def test_bundle_carries_checkpoint_and_proofs(logged: World, tmp_path: Path) -> None:
    _note(logged, "one")
    bag = _export(logged, tmp_path / "bag")
    names = sorted(p.name for p in (bag / "provenance" / "log").iterdir())
    assert names == ["1.tlog-proof", "2.tlog-proof", "checkpoint"]
    tagmanifest = (bag / "tagmanifest-sha256.txt").read_text()
    assert "provenance/log/1.tlog-proof" in tagmanifest and "provenance/log/checkpoint" in tagmanifest
    proof = (bag / "provenance" / "log" / "2.tlog-proof").read_text()
    assert proof.startswith("c2sp.org/tlog-proof@v1\nindex 1\n")
    assert proof.endswith("\n\n" + (bag / "provenance" / "log" / "checkpoint").read_text())
    code, problems, doc = _verify(logged, bag)
    assert (code, problems, doc["log"]) == (0, [], "logged")
    zipped = _export(logged, tmp_path / "bag.zip", "--log-tiles")
    assert _verify(logged, zipped)[:2] == (0, [])


def _tamper_drop_proof(bag: Path) -> None:
    (bag / "provenance" / "log" / "2.tlog-proof").unlink()


def _tamper_drop_checkpoint(bag: Path) -> None:
    for p in (bag / "provenance" / "log").iterdir():
        p.unlink()


def _tamper_proof_hash(bag: Path) -> None:
    path = bag / "provenance" / "log" / "1.tlog-proof"
    lines = path.read_text().split("\n")
    lines[2] = note.b64encode(b"\x07" * 32)
    path.write_text("\n".join(lines))


def _tamper_index(bag: Path) -> None:
    path = bag / "provenance" / "log" / "1.tlog-proof"
    path.write_text(path.read_text().replace("index 0", "index 1"))


def _tamper_checkpoint_signature(bag: Path) -> None:
    for p in (bag / "provenance" / "log").iterdir():
        p.write_text(p.read_text().replace("\n2\n", "\n3\n", 1))


TAMPER = {
    "no-proof": (_tamper_drop_proof, "log.proof-missing"),
    "no-checkpoint": (_tamper_drop_checkpoint, "log.proof-missing"),
    "proof-hash": (_tamper_proof_hash, "log.inclusion-invalid"),
    "proof-index": (_tamper_index, "log.inclusion-invalid"),
    "checkpoint-size": (_tamper_checkpoint_signature, "log.checkpoint-invalid"),
}


def test_tampered_log_evidence(logged: World, tmp_path: Path) -> None:
    """Each row of TAMPER on its own copy of one bundle gives exactly its code (one world for the table)."""
    _note(logged, "one")
    bag = _export(logged, tmp_path / "bag")
    for case, (change, code) in TAMPER.items():
        copy = tmp_path / case
        shutil.copytree(bag, copy)
        change(copy)
        rebag(copy)
        rc, problems, _ = _verify(logged, copy)
        assert rc == 1 and code in problems, (case, problems)


def test_checkpoint_signed_by_a_revoked_log_key(logged: World, tmp_path: Path) -> None:
    bag = _export(logged, tmp_path / "bag")
    result = logged.run("keys", "revoke", ORIGIN, "--reason", "stolen")
    assert result.returncode == 0, result.stderr
    rc, problems, _ = _verify(logged, bag)
    assert rc == 1 and problems == ["log.checkpoint-invalid"]


def test_proof_against_another_origin(logged: World, tmp_path: Path) -> None:
    """A second log (another origin, its key also trusted) cannot vouch for this bundle's events."""
    other = tmp_path / "other"
    shutil.copytree(logged.root, other)
    shutil.rmtree(other / "log")
    for card in (other / "keys").glob("archive-example*"):
        card.unlink()
    env = {"PROVENANCE_ARCHIVE": str(other)}
    assert logged.run("tlog", "init", "--origin", "other.example/log", "--kdf-rounds", "1", env=env).returncode == 0
    bag = _export(logged, tmp_path / "bag")
    foreign = tmp_path / "foreign"
    result = logged.run("export", RID, "--out", str(foreign), env=env)
    assert result.returncode == 0, result.stderr
    shutil.rmtree(bag / "provenance" / "log")
    shutil.copytree(foreign / "provenance" / "log", bag / "provenance" / "log")
    rebag(bag)
    for card in (other / "keys").glob("other-example*"):
        shutil.copy(card, logged.archive.keys_dir)
    rc, problems, _ = _verify(logged, bag)
    assert rc == 0, problems  # same events, logged by the other log: fine when that log is trusted too
    (logged.archive.keys_dir / next((other / "keys").glob("other-example*")).name).unlink()
    rc, problems, _ = _verify(logged, bag)
    assert rc == 1 and problems == ["log.checkpoint-invalid"]


# -- freshness: --state -------------------------------------------------------------------------------


def test_rollback_to_an_older_bundle_is_caught_with_state(logged: World, tmp_path: Path) -> None:
    state = tmp_path / "state"
    old = _export(logged, tmp_path / "old")
    _note(logged, "newer")
    new = _export(logged, tmp_path / "new", "--log-tiles")
    assert _verify(logged, old, "--state", str(state))[:2] == (0, [])
    assert _verify(logged, new, "--state", str(state))[:2] == (0, [])
    rc, problems, _ = _verify(logged, old, "--state", str(state))
    assert rc == 1 and problems == ["log.rollback"]


def test_dropped_trailing_events_are_caught_with_state(logged: World, tmp_path: Path) -> None:
    """A bundle whose last events were cut off (each left signature still holds) is a rollback."""
    state = tmp_path / "state"
    _note(logged, "two")
    _note(logged, "three")
    full = _export(logged, tmp_path / "full", "--history")
    assert _verify(logged, full, "--state", str(state))[:2] == (0, [])
    cut = tmp_path / "cut"
    shutil.copytree(full, cut)
    doc = json.loads((cut / "provenance" / "manifest.json").read_text())
    doc["events"] = doc["events"][:1]
    from provenance.canonical import loads_strict
    from provenance.model.manifest import State

    first_state = doc["events"][0]["state_digest"].split(":")[1]
    doc["state"] = State.model_validate(loads_strict((cut / "data" / "objects" / "sha256" / first_state).read_bytes())).as_json()
    (cut / "provenance" / "manifest.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    for seq in (2, 3):
        (cut / "provenance" / "log" / f"{seq}.tlog-proof").unlink()
    rebag(cut)
    rc, problems, _ = _verify(logged, cut, "--state", str(state))
    assert rc == 1 and "log.rollback" in problems, problems


def test_frozen_checkpoint_needs_a_proof(logged: World, tmp_path: Path) -> None:
    """A newer checkpoint must be proven consistent with the remembered one: without a proof it is not
    accepted (log.fork); with 'tlog prove' output it is."""
    state = tmp_path / "state"
    assert _verify(logged, _export(logged, tmp_path / "a"), "--state", str(state))[:2] == (0, [])
    _note(logged, "newer")
    bag = _export(logged, tmp_path / "b")
    rc, problems, _ = _verify(logged, bag, "--state", str(state))
    assert rc == 1 and problems == ["log.fork"]
    proof = tmp_path / "proof.txt"
    result = logged.run("tlog", "prove", "--from", "1")
    assert result.returncode == 0 and len(result.stdout.split()) == 1
    proof.write_text(result.stdout)
    assert _verify(logged, bag, "--state", str(state), "--consistency", str(proof))[:2] == (0, [])
    saved = json.loads((state / "state.json").read_text())
    assert saved["origins"][ORIGIN]["size"] == 2 and saved["records"][RID]["seq"] == 2
    bad = logged.run("tlog", "prove", "--from", "3")
    assert bad.returncode == 2


def _rewrite_history(world: World, tmp_path: Path) -> Path:
    """A holder of every key rewrites the archive: new events, and a new log from scratch signed by the
    same log key. Returns a bundle of the rewritten record."""
    from provenance.ingest.service import ingest, read_transcription

    shutil.rmtree(world.root / "log")
    shutil.rmtree(world.archive.record_dir(RID))
    key = world.signers["archivist"].log_key
    assert key is not None
    archive_log.init_log(world.archive, key, ORIGIN)
    ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
    _note(world, "rewritten")
    return _export(world, tmp_path / "rewritten", "--log-tiles")


def test_history_rewrite_by_a_holder_of_every_key_is_caught_by_state(logged: World, tmp_path: Path) -> None:
    state = tmp_path / "state"
    _note(logged, "honest")
    assert _verify(logged, _export(logged, tmp_path / "honest"), "--state", str(state))[:2] == (0, [])
    forged = _rewrite_history(logged, tmp_path)
    assert _verify(logged, forged)[:2] == (0, [])  # alone, it looks fine
    rc, problems, _ = _verify(logged, forged, "--state", str(state))
    assert rc == 1 and "log.fork" in problems, problems


# -- witnesses ---------------------------------------------------------------------------------------


def _witness(world: World, tmp_path: Path, name: str = "witness.example") -> Path:
    folder = tmp_path / name
    log_key = next(c for c in TrustStore.load(world.archive.keys_dir).cards.values() if Role.LOG in c.roles)
    result = world.run("witness", "init", "--state", str(folder), "--name", name, "--log", str(log_key.note_verifier_key),
        "--kdf-rounds", "1",
    )
    assert result.returncode == 0, result.stderr
    return folder


def _request(world: World, old: int) -> str:
    proof = world.run("tlog", "prove", "--from", str(old)).stdout if old else ""
    return f"old {old}\n{proof}\n" + (world.root / "log" / "checkpoint").read_text()


def test_witness_cosigns_and_verify_counts_the_quorum(logged: World, tmp_path: Path) -> None:
    folder = _witness(logged, tmp_path)
    request = tmp_path / "req"
    request.write_text(_request(logged, 0))
    result = logged.run("witness", "cosign", str(request), "--state", str(folder))
    assert result.returncode == 0, result.stderr
    line = result.stdout
    assert line.startswith("\u2014 witness.example ") and len(line.split()[-1]) == 104
    state = json.loads((folder / "state.json").read_text())
    assert state[ORIGIN]["size"] == 1
    cosig = tmp_path / "cosig"
    cosig.write_text(line)
    # the archive must know the witness to accept its line
    refused = logged.run("tlog", "cosign", "--add", str(cosig))
    assert refused.returncode == 2 and "log.input-invalid" in refused.stderr
    card = next((folder / "keys").glob("*.json"))
    assert logged.run("keys", "import", str(card)).returncode == 0
    added = logged.run("tlog", "cosign", "--add", str(cosig))
    assert added.returncode == 0, added.stderr
    bag = _export(logged, tmp_path / "bag")
    assert _verify(logged, bag, "--witnesses", "1")[:2] == (0, [])
    rc, problems, _ = _verify(logged, bag, "--witnesses", "2")
    assert rc == 1 and problems == ["log.witness-quorum"]
    (logged.archive.keys_dir / "log-policy.toml").write_text("witnesses = 1\n")
    assert _verify(logged, bag)[:2] == (0, [])
    # a conflicting request: the same old size again after the witness moved on is refused (409)
    _note(logged, "more")
    request.write_text(_request(logged, 0))
    again = logged.run("witness", "cosign", str(request), "--state", str(folder), "--json")
    assert again.returncode == 2 and again.json()["error"]["code"] == "witness.conflict"
    assert again.json()["error"]["size"] == 1
    request.write_text(_request(logged, 1))
    assert logged.run("witness", "cosign", str(request), "--state", str(folder)).returncode == 0


def test_cosignature_by_an_unknown_witness_does_not_count(logged: World, tmp_path: Path) -> None:
    stranger = _witness(logged, tmp_path, "stranger.example")
    request = tmp_path / "req"
    request.write_text(_request(logged, 0))
    line = logged.run("witness", "cosign", str(request), "--state", str(stranger)).stdout
    checkpoint = logged.root / "log" / "checkpoint"
    checkpoint.write_text(checkpoint.read_text() + line)  # attached by hand, bypassing tlog cosign
    bag = _export(logged, tmp_path / "bag")
    rc, problems, _ = _verify(logged, bag, "--witnesses", "1")
    assert rc == 1 and problems == ["log.witness-quorum"]


def test_witness_catches_a_history_rewrite(logged: World, tmp_path: Path) -> None:
    folder = _witness(logged, tmp_path)
    _note(logged, "honest")
    request = tmp_path / "req"
    request.write_text(_request(logged, 0))
    assert logged.run("witness", "cosign", str(request), "--state", str(folder)).returncode == 0
    _rewrite_history(logged, tmp_path)
    _note(logged, "more lies")
    request.write_text(_request(logged, 2))
    result = logged.run("witness", "cosign", str(request), "--state", str(folder), "--json")
    assert result.returncode == 2 and result.json()["error"]["code"] == "witness.bad-proof"
    assert json.loads((folder / "state.json").read_text())[ORIGIN]["size"] == 2  # unchanged


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (lambda cp: "old 0\n\n" + cp.replace(ORIGIN, "elsewhere.example", 1), "witness.unknown-log"),
        (lambda cp: "old 0\n\n" + cp.replace("\n1\n", "\n2\n", 1), "witness.bad-signature"),
        (lambda cp: "old 5\n\n" + cp, "log.input-invalid"),
        (lambda cp: "garbage", "log.input-invalid"),
        (lambda cp: "old 0\n" + note.b64encode(b"\x00" * 32) + "\n\n" + cp, "witness.bad-proof"),
    ],
    ids=["unknown-origin", "bad-signature", "old-larger", "malformed", "proof-for-old-0"],
)
def test_witness_refusals(logged: World, tmp_path: Path, body: object, code: str) -> None:
    folder = _witness(logged, tmp_path)
    request = tmp_path / "req"
    request.write_text(body((logged.root / "log" / "checkpoint").read_text()))  # type: ignore[operator]
    result = logged.run("witness", "cosign", str(request), "--state", str(folder), "--json")
    assert result.returncode == 2 and result.json()["error"]["code"] == code
    assert not (folder / "state.json").exists()


# -- audit: log against records -------------------------------------------------------------------------


def test_audit_finds_an_event_without_a_leaf_and_a_leaf_without_an_event(logged: World, tmp_path: Path) -> None:
    from provenance import actions

    # an event without a leaf: written by a tool that bypassed the log (the log is hidden meanwhile)
    (logged.root / "log").rename(tmp_path / "hidden")
    plain = dataclasses.replace(logged.signers["translator"], log_key=None)
    actions.add_note(logged.archive, RID, plain, quote="Kaeseong", text="unlogged", now=logged.tick())
    (tmp_path / "hidden").rename(logged.root / "log")
    result = logged.run("audit", "--json")
    assert result.returncode == 1
    assert [p["code"] for p in result.json()["log"]["problems"]] == ["log.proof-missing"]
    # a leaf without an event: a leaf logged for an event no record holds
    key = logged.signers["archivist"].log_key
    assert key is not None
    log = archive_log.store(logged.archive)
    with log.locked():
        log.apply(log.prepare([leaf_data("ghost", 1, "sha256:" + "0" * 64), b"not an event\n"], key))
    result = logged.run("audit", "--json")
    codes = [p["code"] for p in result.json()["log"]["problems"]]
    assert codes == ["log.inclusion-invalid", "log.inclusion-invalid", "log.proof-missing"]


def test_audit_since_and_damaged_tiles(logged: World, tmp_path: Path) -> None:
    early = tmp_path / "early"
    early.write_text(logged.run("tlog", "checkpoint").stdout)
    _note(logged, "later")
    assert logged.run("audit", "--since", str(early)).returncode == 0
    forged = _rewrite_history(logged, tmp_path)
    del forged
    result = logged.run("audit", "--since", str(early), "--json")
    assert result.returncode == 1 and "log.fork" in [p["code"] for p in result.json()["log"]["problems"]]
    _, size = _checkpoint(logged)
    # (the kept journal would write the last append's tiles again: damage found later has none to help)
    archive_log.store(logged.archive).journal_path.unlink()
    (logged.root / "log" / "tile" / "0" / f"000.p/{size}").write_bytes(b"\x00" * 32 * size)
    result = logged.run("audit", "--json")
    assert result.returncode == 1 and "log.checkpoint-invalid" in [p["code"] for p in result.json()["log"]["problems"]]
    missing = logged.run("audit", "--since", str(tmp_path / "nope"))
    assert missing.returncode == 2


# -- crash: a writer killed at any moment leaves log and records agreeing ----------------------------------


def test_every_writer_killed_leaves_log_and_records_consistent(lived: World, tmp_path: Path) -> None:
    """The kill harness of tests/adversarial/test_faults.py on a logged archive: every writing command is
    killed once at a random moment; afterwards the records are sound (as there) and the log agrees with
    them, event for leaf (checked by audit_log, which takes the log lock and so finishes or drops what a
    killed writer journalled)."""
    import random

    from tests.adversarial.test_faults import WRITERS, assert_archive_sound, kill_trial

    enable_log(lived)
    rng = random.Random(20261130)
    for n, name in enumerate(WRITERS):
        kill_trial(lived, name, n, tmp_path, rng.uniform(0.0, 0.9))
        report = log_audit.audit_log(lived.archive, list(TrustStore.load(lived.archive.keys_dir).cards.values()))
        assert report.problems == [], (name, [p.to_json() for p in report.problems])
    assert_archive_sound(lived)
    _, size = _checkpoint(lived)
    events = sum(len(read_manifest(lived.archive.record_dir(r)).events) for r in lived.archive.record_ids())
    assert size == events


def test_journal_recovery_both_ways(logged: World) -> None:
    """The two sides of a crash between journal and log: record committed (roll forward) or not (drop)."""
    from provenance.manifest_io import event_digest, read_manifest

    log = archive_log.store(logged.archive)
    key = logged.signers["archivist"].log_key
    assert key is not None
    present = archive_log.event_present(logged.archive)
    with log.locked():
        pending = log.prepare([leaf_data(RID, 2, "sha256:" + "1" * 64)], key)
        log.write_journal(pending)
        assert log.recover(present) == "dropped"
    _, size = _checkpoint(logged)
    # record committed, log not yet written: roll forward
    manifest = read_manifest(logged.archive.record_dir(RID))
    leaf = leaf_data(RID, 1, event_digest(manifest.events[0]))
    with log.locked():
        pending = log.prepare([leaf], key)
        log.write_journal(pending)
        assert log.recover(present) == "rolled-forward"
        assert log.recover(present) == "done"
        # a power cut took back the tiles (never flushed on their own): written again from the journal
        (logged.root / "log" / "tile" / "0" / f"000.p/{size + 1}").unlink()
        assert log.recover(present) == "rolled-forward"
        assert log.recover(present) == "done"
    assert _checkpoint(logged)[1] == size + 1
    assert log.tree().root() == log.checkpoint().root  # (event 1 is now logged twice: audit would say so)
    log.journal_path.write_text("{cut")
    with log.locked(present):
        assert not log.journal_path.exists()
    assert Signer  # imported for type users
    assert generate_key


def test_backdating_is_judged_against_when_the_event_was_logged(logged: World, tmp_path: Path) -> None:
    """A thief holding a key revoked since dates a new event before the revocation: cosigned checkpoints
    show it was logged after the revocation (signer.revoked) and that its claimed time is implausible."""
    from datetime import timedelta

    from provenance import actions
    from provenance.manifest_io import read_manifest
    from provenance.model.timefmt import format_utc, parse_utc

    folder = _witness(logged, tmp_path)
    card = next((folder / "keys").glob("*.json"))
    assert logged.run("keys", "import", str(card)).returncode == 0

    def cosign(old: int) -> None:
        request = tmp_path / "req"
        request.write_text(_request(logged, old))
        line = logged.run("witness", "cosign", str(request), "--state", str(folder))
        assert line.returncode == 0, line.stderr
        (tmp_path / "cosig").write_text(line.stdout)
        assert logged.run("tlog", "cosign", "--add", str(tmp_path / "cosig")).returncode == 0

    first = parse_utc(read_manifest(logged.archive.record_dir(RID)).events[0].time)
    logged.tick(20)
    cosign(0)  # checkpoint of size 1, cosigned at T1 ≈ first + 20 min
    revoked_at = first + timedelta(minutes=10)
    result = logged.run("keys", "revoke", TRANSLATOR, "--reason", "stolen", "--at", format_utc(revoked_at))
    assert result.returncode == 0, result.stderr
    thief = logged.signers["translator"]
    actions.add_note(logged.archive, RID, thief, quote="Kaeseong", text="backdated",
                     now=first + timedelta(seconds=30))
    logged.tick(5)
    cosign(1)
    bag = _export(logged, tmp_path / "bag")
    assert sorted(p.name for p in (bag / "provenance" / "log" / "cosigned").iterdir()) == ["1", "1.proof", "2", "2.proof"]
    rc, problems, doc = _verify(logged, bag)
    assert rc == 3 and sorted(problems) == ["event.time-implausible", "signer.revoked"], problems
    intervals = {e["seq"]: e for e in doc["logged"]}  # type: ignore[attr-defined]
    assert intervals[2]["after"] is not None and intervals[2]["before"] is not None
    assert intervals[1]["after"] is None


def test_an_existing_archive_gains_its_log_on_its_next_write(ingested: World) -> None:
    """keys generate --role log, then any write: every earlier event is backfilled, the new one follows."""
    made = ingested.run("keys", "generate", "--name", ORIGIN, "--role", "log", "--kdf-rounds", "1", "--json")
    assert made.returncode == 0, made.stderr
    assert made.json()["card"]["note_verifier_key"].startswith(ORIGIN + "+")
    assert not (ingested.root / "log").exists()
    _note(ingested, "first logged write")
    text, size = _checkpoint(ingested)
    assert size == 2 and text.startswith(ORIGIN + "\n")
    audit = ingested.run("audit", "--json")
    assert audit.returncode == 0 and audit.json()["log"]["state"] == "trusted"


def test_killed_log_writers_leave_witness_state_and_checkpoint_whole(logged: World, tmp_path: Path) -> None:
    """witness cosign and tlog cosign --add killed at random moments: the witness's state is the old one or
    the new one (never torn, never ahead of an answer it could not give), the checkpoint still verifies."""
    import random
    import subprocess

    from tests.conftest import provenance_bin

    folder = _witness(logged, tmp_path)
    card = next((folder / "keys").glob("*.json"))
    assert logged.run("keys", "import", str(card)).returncode == 0
    rng = random.Random(7)
    for trial in range(2):
        _note(logged, f"k{trial}")
        state = json.loads((folder / "state.json").read_text()) if (folder / "state.json").exists() else {}
        old = state.get(ORIGIN, {}).get("size", 0)
        request = tmp_path / "req"
        request.write_text(_request(logged, old))
        for args in (["witness", "cosign", str(request), "--state", str(folder)], None):
            if args is None:
                line = logged.run("witness", "cosign", str(request), "--state", str(folder))
                if line.returncode != 0:
                    continue  # the killed run already moved the witness on: this request is stale
                (tmp_path / "cosig").write_text(line.stdout)
                args = ["tlog", "cosign", "--add", str(tmp_path / "cosig")]
            env = dict(logged.env, PROVENANCE_NOW=logged.tick().strftime("%Y-%m-%dT%H:%M:%SZ"))
            proc = subprocess.Popen([provenance_bin(), *args], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.1, 1.2))
            proc.kill()
            proc.wait()
            saved = json.loads((folder / "state.json").read_text()) if (folder / "state.json").exists() else {}
            assert saved.get(ORIGIN, {}).get("size", 0) in (old, _checkpoint(logged)[1])
        report = log_audit.audit_log(logged.archive, list(TrustStore.load(logged.archive.keys_dir).cards.values()))
        assert report.problems == [], [p.to_json() for p in report.problems]
