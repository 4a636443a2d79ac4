"""Attacks on record folders, each a named case run through the real ``provenance verify --json``.

TUF's attack list and C2PA-style laundering, applied to what an attacker can reach: the record folder (mix
and match, replay, moved events), a stolen, revoked or expired key, a key used outside its role, the clock
of a signer, and the archive folder itself (its key cards and roles policy). Each case asserts the exit
code, the state and the problem code(s) that name the attack. docs/security.md maps every case to the
threat it tests. (The broad tamper table of single edits is tests/test_history_tamper.py.)
"""

from __future__ import annotations

import copy
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from provenance.model.events import Role
from provenance.model.timefmt import format_utc, parse_utc
from tests.adversarial.forge import (
    RID,
    Doc,
    commit_state,
    keys_of,
    load,
    make_writable,
    outsider,
    rechain,
    record_dir,
    run_in_process,
    save,
    second_record,
    sign,
    verify,
    write_card,
)
from tests.conftest import World
from tests.helpers import tree_snapshot

EXIT = {"trusted": 0, "invalid": 1, "valid": 3}


def assert_state(result: tuple[int, Doc, set[str]], state: str, *codes: str) -> set[str]:
    code, report, found = result
    assert (code, report["state"]) == (EXIT[state], state), report["problems"]
    assert set(codes) <= found, (codes, found)
    return found


# --- mix and match (TUF): parts of two genuine records combined ------------------------------------------


def test_mix_and_match_manifest_of_one_record_with_the_files_of_another(lived: World) -> None:
    other = second_record(lived)
    shutil.copy(record_dir(lived, other) / "manifest.json", record_dir(lived) / "manifest.json")
    found = assert_state(
        verify(lived, record_dir(lived)), "invalid", "manifest.record-mismatch", "file.missing"
    )
    assert "file.unexpected" in found  # the first record's own file is not the second's


def test_mix_and_match_files_of_one_record_under_the_manifest_of_another(lived: World) -> None:
    other = second_record(lived)
    make_writable(record_dir(lived, other))
    shutil.rmtree(record_dir(lived, other) / "files")
    shutil.copytree(record_dir(lived) / "files", record_dir(lived, other) / "files")
    assert_state(verify(lived, record_dir(lived, other)), "invalid", "file.missing", "file.unexpected")


def test_mix_and_match_whole_record_moved_under_another_id(lived: World) -> None:
    other = second_record(lived)
    shutil.rmtree(record_dir(lived, other))
    shutil.copytree(record_dir(lived), record_dir(lived, other))
    found = assert_state(verify(lived, record_dir(lived, other)), "invalid", "manifest.record-mismatch")
    assert found == {"manifest.record-mismatch"}


def test_mix_and_match_event_moved_from_another_records_chain(lived: World) -> None:
    other = second_record(lived)
    doc = load(lived)
    doc["events"].append(load(lived, other)["events"][1])
    save(lived, doc)
    assert_state(
        verify(lived, record_dir(lived)), "invalid", "chain.record-mismatch", "chain.broken", "chain.sequence"
    )


def test_mix_and_match_moved_event_relabelled_and_relinked_without_the_key(lived: World) -> None:
    """The thief re-labels the moved event and fixes its link; only a signer's key could make it hold."""
    other = second_record(lived)
    doc = load(lived)
    moved = dict(load(lived, other)["events"][1], record=RID, seq=len(doc["events"]) + 1)
    doc["events"].append(moved)
    save(lived, rechain(doc, keys={}))
    found = assert_state(verify(lived, record_dir(lived)), "invalid", "event.signature-invalid")
    assert "chain.broken" not in found and "chain.record-mismatch" not in found


# --- replay: a genuine signature used where it was not given -----------------------------------------------


def test_signature_replay_across_records(lived: World) -> None:
    """Both records hold a note by the same translator key: the other record's signature does not fit."""
    other = second_record(lived)
    doc = load(lived)
    doc["events"][1]["signature"] = load(lived, other)["events"][1]["signature"]
    save(lived, doc)
    found = assert_state(verify(lived, record_dir(lived)), "invalid", "event.signature-invalid")
    assert "chain.broken" in found  # and the event after it no longer chains to it


def test_signature_replay_of_the_same_event_in_a_copy_of_the_record_under_another_id(lived: World) -> None:
    """The record id is in the signed bytes: a copied history cannot be re-labelled as another record."""
    copy_id = "telegram-99999"
    shutil.copytree(record_dir(lived), record_dir(lived, copy_id))
    doc = load(lived, copy_id)
    doc["record"] = copy_id
    for event in doc["events"]:
        event["record"] = copy_id
    save(lived, rechain(doc, keys={}), copy_id)
    code, report, _found = verify(lived, record_dir(lived, copy_id))
    assert (code, report["state"]) == (1, "invalid")
    assert {p["event"] for p in report["problems"] if p["code"] == "event.signature-invalid"} == set(
        range(1, len(doc["events"]) + 1)
    )


def test_signature_without_the_context_prefix_is_refused(lived: World) -> None:
    """A signature by the right key over the bare canonical bytes (another protocol's message) fails."""
    from provenance.canonical import canonical_bytes
    from provenance.keys import b64url
    from provenance.model.manifest import SIGNED_EVENT_FIELDS

    doc = load(lived)
    event = doc["events"][1]
    key = keys_of(lived)[event["key"]]
    event["signature"] = b64url(key.sign(canonical_bytes({n: event[n] for n in SIGNED_EVENT_FIELDS})))
    save(lived, doc)
    assert_state(verify(lived, record_dir(lived)), "invalid", "event.signature-invalid")


# --- key substitution ----------------------------------------------------------------------------------------


def test_key_substitution_history_resigned_by_a_forged_key_with_the_same_name(lived: World) -> None:
    """Mallory makes a key named "A. Archivist" and re-signs every event with it: intact, not trusted."""
    key, card = outsider("A. Archivist", list(Role))
    doc = load(lived)
    for event in doc["events"]:
        event["key"] = card.id
        event["agent"] = card.name
    save(lived, rechain(doc, keys={card.id: key}))
    found = assert_state(verify(lived, record_dir(lived)), "valid", "signer.unknown")
    assert found == {"signer.unknown"}


def test_key_substitution_forged_card_with_the_real_id_is_refused_by_the_trust_store(lived: World) -> None:
    """A planted card claims the archivist's key id with Mallory's public key: the id is the key's hash."""
    archivist = lived.signers["archivist"].card
    key, forged = outsider(archivist.name, [Role.ARCHIVIST])
    planted = forged.as_json() | {"id": archivist.id}
    trust = lived.root.parent / "trust"
    shutil.copytree(lived.archive.keys_dir, trust)
    for path in trust.glob("a-archivist-*.json"):
        path.unlink()
    write_card(trust, planted, "a-archivist-forged.json")
    doc = load(lived)
    doc["events"][0] = sign(doc["events"][0], key)  # signed by Mallory under the archivist's id
    save(lived, rechain(doc, keys={}, start=1))
    code, report, found = verify(lived, record_dir(lived), "--trust", str(trust))
    assert (code, report["state"]) == (1, "invalid")
    assert "signer.unknown" in found and any("a-archivist-forged.json" in w for w in report["warnings"])


def test_key_substitution_import_of_a_second_key_with_a_trusted_name_is_refused(lived: World) -> None:
    _key, card = outsider("a.  ARCHIVIST", [Role.ARCHIVIST])  # same name once case and spaces are folded
    path = write_card(lived.root.parent / "incoming", card)
    before = tree_snapshot(lived.archive.keys_dir)
    result = run_in_process(lived, "keys", "import", str(path), "--json")
    assert result.returncode == 2
    assert result.json()["error"]["code"] == "key.name-confusable"
    assert tree_snapshot(lived.archive.keys_dir) == before


def test_key_rotation_may_reuse_the_name_when_the_new_card_supersedes_the_old(lived: World) -> None:
    from provenance.rotation import sign_rotation

    key, card = outsider("A. Archivist", [Role.ARCHIVIST])
    old = lived.signers["archivist"]
    rotation = sign_rotation(old.key, old=old.card.id, new=key.key_id, roles=[Role.ARCHIVIST], time=lived.tick())
    card = card.model_copy(update={"supersedes": old.card.id, "rotation": rotation})  # proven by the old key
    result = run_in_process(lived, "keys", "import", str(write_card(lived.root.parent / "incoming", card)))
    assert result.returncode == 0, result.stderr


def test_agent_name_spoofed_by_a_trusted_key_with_a_look_alike_name(lived: World) -> None:
    """The translator signs an event as "A. Аrchivist" (Cyrillic А): signed, but not who it claims."""
    doc = load(lived)
    translator = lived.signers["translator"].card
    event = doc["events"][1]
    assert event["key"] == translator.id
    event["agent"] = "A. \u0410rchivist"
    save(lived, rechain(doc, keys=keys_of(lived), start=1))
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (3, "valid", {"signer.agent-mismatch"})
    assert [p["event"] for p in report["problems"]] == [2]


# --- a key used outside its window, after revocation, or with a stolen key ----------------------------------


def test_event_signed_after_revocation_is_not_trusted(lived: World) -> None:
    doc = load(lived)
    at = doc["events"][2]["time"]  # the translator's second note
    result = run_in_process(lived, "keys", "revoke", "T. Translator", "--reason", "laptop stolen", "--at", at)
    assert result.returncode == 0, result.stderr
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (3, "valid", {"signer.revoked"})
    assert sorted(p["event"] for p in report["problems"]) == [3, 4]


def test_revoked_key_cannot_sign_through_the_cli(lived: World) -> None:
    assert run_in_process(lived, "keys", "revoke", "T. Translator", "--reason", "left").returncode == 0
    before = tree_snapshot(record_dir(lived))
    result = run_in_process(
        lived, "note", RID, "--quote", "Kaeseong", "--text", "late", "--key", "T. Translator", "--json"
    )
    assert (result.returncode, result.json()["error"]["code"]) == (2, "key.revoked")
    assert tree_snapshot(record_dir(lived)) == before


def _set_card(world: World, name_prefix: str, **fields: object) -> None:
    import json

    for path in world.archive.keys_dir.glob(f"{name_prefix}-*.json"):
        card = json.loads(path.read_text("utf-8"))
        card.update({k: v for k, v in fields.items() if v is not None})
        path.write_text(json.dumps(card), "utf-8")


def test_event_signed_after_the_key_expired_is_not_trusted(lived: World) -> None:
    doc = load(lived)
    _set_card(lived, "p-publisher", valid_until=doc["events"][6]["time"])  # expires at the review
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (3, "valid", {"signer.expired"})
    assert [p["event"] for p in report["problems"]] == [8]  # the release came later


def test_event_signed_before_the_key_was_valid_is_not_trusted(lived: World) -> None:
    doc = load(lived)
    _set_card(
        lived, "r-reviewer", valid_from=format_utc(parse_utc(doc["events"][6]["time"]) + timedelta(seconds=1))
    )
    code, _report, found = verify(lived, record_dir(lived))
    assert (code, found) == (3, {"signer.expired"})


def test_expired_key_cannot_sign_through_the_cli(lived: World) -> None:
    _set_card(lived, "t-translator", valid_until=format_utc(lived.clock[0]))
    result = run_in_process(
        lived, "note", RID, "--quote", "Kaeseong", "--text", "late", "--key", "T. Translator", "--json"
    )
    assert (result.returncode, result.json()["error"]["code"]) == (2, "key.expired")


@pytest.mark.xfail(
    strict=True,
    reason="open: a stolen key can backdate an event to before its revocation (no trusted timestamp); "
    "see docs/security.md 'Backdating with a stolen key'",
)
def test_open_backdating_with_a_stolen_key_before_its_revocation_time(lived: World) -> None:
    """The thief signs a new event dated before the revocation, and after the last event: time order holds."""
    last = parse_utc(load(lived)["events"][-1]["time"])
    stolen = lived.signers["archivist"]
    revoked_at = last + timedelta(days=30)
    assert (
        run_in_process(lived, "keys", "revoke", stolen.card.name, "--at", format_utc(revoked_at)).returncode
        == 0
    )
    from provenance import actions

    lived.clock[0] = revoked_at + timedelta(days=1)
    backdated = last + timedelta(days=1)  # the thief's clock
    actions.transfer_custody(
        lived.archive, RID, stolen, from_="Wilson Center Digital Archive", to="Mallory", now=backdated
    )
    code, _report, _found = verify(lived, record_dir(lived))
    assert code != 0  # what we would want; today the backdated event is trusted


# --- the clock of a signer: fast-forward and freeze ---------------------------------------------------------


def test_fast_forward_event_dated_in_the_future_is_reported(lived: World) -> None:
    """An insider dates an event years ahead: every honest writer would be refused until then."""
    from provenance import actions

    future = lived.clock[0] + timedelta(days=3650)
    actions.transfer_custody(
        lived.archive,
        RID,
        lived.signers["archivist"],
        from_="Wilson Center Digital Archive",
        to="Somewhere",
        now=future,
    )
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (1, "invalid", {"chain.time-order"})
    # and the honest writer says why it cannot append, in one line
    result = run_in_process(
        lived, "note", RID, "--quote", "Kaeseong", "--text", "x", "--key", "T. Translator"
    )
    assert result.returncode == 2 and "clock" in result.stderr


def test_a_small_clock_skew_is_tolerated(lived: World) -> None:
    from provenance import actions

    ahead = lived.clock[0] + timedelta(minutes=30)
    actions.transfer_custody(
        lived.archive,
        RID,
        lived.signers["archivist"],
        from_="Wilson Center Digital Archive",
        to="Somewhere",
        now=ahead,
    )
    lived.clock[0] = ahead - timedelta(minutes=30)
    assert verify(lived, record_dir(lived))[0] == 0


# --- role escalation -----------------------------------------------------------------------------------------


def test_role_escalation_translator_release_refused_by_the_cli(lived: World) -> None:
    before = tree_snapshot(record_dir(lived))
    result = lived.run("release", RID, "--key", "T. Translator", "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "role.not-allowed")
    result = lived.run("release", RID, "--key", "T. Translator", "--role", "publisher", "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "role.not-allowed")
    assert tree_snapshot(record_dir(lived)) == before


@pytest.mark.parametrize("claimed", ["publisher", "translator"])
def test_role_escalation_translator_key_signs_a_release(lived: World, claimed: str) -> None:
    doc = load(lived)
    translator = lived.signers["translator"]
    release = copy.deepcopy(doc["events"][-1])
    release.update(key=translator.card.id, agent=translator.card.name, role=claimed)
    doc["events"][-1] = sign(release, translator.key)
    save(lived, doc)
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (3, "valid", {"signer.role-not-allowed"})


def test_role_escalation_by_the_policy_of_the_archive_being_verified(lived: World, tmp_path: Path) -> None:
    """The archive's own provenance.toml lets translators release; a verifier with its own trust store
    applies its own (default) policy, not the one shipped with the archive it checks."""
    config = lived.archive.config_path
    config.write_text('[roles]\nrelease = ["translator", "publisher"]\n', "utf-8")
    assert (
        run_in_process(lived, "release", RID, "--key", "T. Translator").returncode == 0
    )  # their archive, their rules
    trust = tmp_path / "my-trust"
    shutil.copytree(lived.archive.keys_dir, trust)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    lived.env["PROVENANCE_ARCHIVE"] = ""
    result = run_in_process(
        lived, "verify", str(record_dir(lived)), "--trust", str(trust), "--json", cwd=outside
    )
    assert result.returncode == 3
    assert {p["code"] for p in result.json()["problems"]} == {"signer.role-not-allowed"}


def test_role_escalation_by_importing_a_wider_card_for_a_trusted_key(lived: World, tmp_path: Path) -> None:
    translator = lived.signers["translator"].card
    wider = translator.as_json() | {"roles": ["translator", "publisher"]}
    result = run_in_process(lived, "keys", "import", str(write_card(tmp_path, wider)), "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "key.conflict")


def test_revocation_cannot_be_lifted_by_importing_the_old_card(lived: World, tmp_path: Path) -> None:
    old = write_card(tmp_path, lived.signers["translator"].card)
    assert run_in_process(lived, "keys", "revoke", "T. Translator", "--reason", "compromised").returncode == 0
    result = run_in_process(lived, "keys", "import", str(old), "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "key.revoked")
    listed = run_in_process(lived, "keys", "list", "--json").json()["keys"]
    assert [k["status"] for k in listed if k["name"] == "T. Translator"] == ["revoked"]


def test_a_revocation_can_be_imported(lived: World, tmp_path: Path) -> None:
    """Narrowing is allowed: a publisher learns of a revocation by importing the revoked card."""
    translator = lived.signers["translator"].card
    at = load(lived)["events"][2]["time"]
    revoked = translator.as_json() | {"revoked": {"time": at, "reason": "compromised"}}
    assert run_in_process(lived, "keys", "import", str(write_card(tmp_path, revoked))).returncode == 0
    assert verify(lived, record_dir(lived))[:3:2] == (3, {"signer.revoked"})


# --- laundering (C2PA): a valid new event over an altered old one --------------------------------------------


def test_laundering_valid_new_event_over_an_altered_old_one(lived: World) -> None:
    """Mallory, a trusted translator, alters event 2 (her own note, re-signed), fixes the chain and adds a
    valid event on top: the archivist's custody event 5 no longer signs what it chains to."""
    doc = load(lived)
    doc["events"][1]["summary"] = "Translation note on nothing in particular"
    keys = {lived.signers["translator"].card.id: lived.signers["translator"].key}
    rechain(doc, keys=keys, start=1)
    new = copy.deepcopy(doc["events"][1])
    new.update(
        seq=len(doc["events"]) + 1,
        time=format_utc(lived.tick()),
        summary="A fresh, valid note",
        state_digest=doc["events"][-1]["state_digest"],
    )
    doc["events"].append(new)
    save(lived, rechain(doc, keys=keys, start=len(doc["events"]) - 1))
    code, report, _found = verify(lived, record_dir(lived))
    assert (code, report["state"]) == (1, "invalid")
    bad = {p["event"] for p in report["problems"] if p["code"] == "event.signature-invalid"}
    assert bad and max(bad) < len(doc["events"])  # the newest event is fine; an older one is not


def test_laundering_honest_writer_refuses_to_sign_on_top_of_an_altered_event(lived: World) -> None:
    doc = load(lived)
    doc["events"][2]["summary"] = "altered"
    save(lived, doc)
    before = tree_snapshot(record_dir(lived))
    result = lived.run("review", RID, "--key", "R. Reviewer", "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "record.corrupt")
    assert tree_snapshot(record_dir(lived)) == before


def test_laundering_honest_writer_refuses_a_current_state_nobody_signed(lived: World) -> None:
    doc = load(lived)
    doc["state"]["catalogue"]["title"] = "Another title"
    save(lived, doc)
    result = run_in_process(
        lived, "custody", RID, "--from", "a", "--to", "b", "--key", "A. Archivist", "--json"
    )
    assert (result.returncode, result.json()["error"]["code"]) == (2, "record.corrupt")


def test_laundering_consistent_forgery_by_an_insider_holding_every_key_is_trusted(lived: World) -> None:
    """Stated plainly (docs/security.md): whoever holds all the signing keys can rewrite history."""
    doc = load(lived)
    doc["state"]["catalogue"]["title"] = "Rewritten by the key holders"
    from provenance.model.manifest import State

    doc["state"] = State.model_validate(doc["state"]).as_json()  # members in the order provenance writes
    commit_state(lived, doc)
    save(lived, rechain(doc, keys=keys_of(lived), start=len(doc["events"]) - 1))
    assert verify(lived, record_dir(lived))[0] == 0


def test_planted_link_in_a_record_is_not_followed_by_a_writer(lived: World, tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("not for the archive")
    (record_dir(lived) / "files" / "leak.txt").symlink_to(secret)
    result = run_in_process(
        lived, "custody", RID, "--from", "a", "--to", "b", "--key", "A. Archivist", "--json"
    )
    assert (result.returncode, result.json()["error"]["code"]) == (2, "archive.path-unsafe")  # issue 9 item 7
    assert_state(verify(lived, record_dir(lived)), "invalid", "file.path-unsafe")
    assert not list((lived.root / ".provenance" / "tmp").glob("*"))  # the stage was cleaned up


# --- rollback (TUF): an older, genuine version of the record -------------------------------------------------


def test_open_rollback_to_an_older_genuine_version_verifies_without_an_outside_reference(
    world: World, tmp_path: Path
) -> None:
    """Stated plainly: a copy of the record taken before later events verifies trusted on its own. The
    head digest in the report is what to compare with a reference kept elsewhere."""
    from provenance.ingest.service import ingest, read_transcription
    from tests.conftest import REFERENCE, full_life

    ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
    old = tmp_path / "old-copy"
    shutil.copytree(record_dir(world), old)
    full_life(world)
    shutil.rmtree(record_dir(world))
    shutil.copytree(old, record_dir(world))
    code, report, _found = verify(world, record_dir(world))
    assert (code, report["events"]) == (0, 1)
