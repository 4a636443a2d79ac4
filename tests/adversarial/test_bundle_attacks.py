"""Attacks on bundles, the form a record travels in: the attacker controls every byte of it and may re-bag
(recompute every bag manifest, which nothing signs). Each case is verified through ``provenance verify
--json`` with the publisher's own trust store. (The table of single edits, hostile archive entries and
bombs is tests/test_bundle_tamper.py.)
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from provenance.bundle.export import export_record
from provenance.canonical import dumps_pretty
from provenance.manifest_io import event_digest
from provenance.model.events import Role
from tests.adversarial.forge import RID, outsider, rechain, run_in_process, second_record, sign, verify
from tests.bundle_helpers import rebag
from tests.conftest import World

MANIFEST = Path("provenance") / "manifest.json"


def bag_of(world: World, record: str, out: Path, *, history: bool = False) -> Path:
    export_record(world.archive, record, out, history=history)
    return out


def load(bag: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((bag / MANIFEST).read_bytes())  # type: ignore[no-any-return]


def save(bag: Path, doc: dict) -> None:  # type: ignore[type-arg]
    (bag / MANIFEST).write_bytes(dumps_pretty(doc))


def test_clean_bundle_with_the_publishers_own_trust_store_is_trusted(lived: World, tmp_path: Path) -> None:
    bag = bag_of(lived, RID, tmp_path / "bag")
    trust = tmp_path / "publisher-keys"
    shutil.copytree(lived.archive.keys_dir, trust)
    code, report, _found = verify(lived, bag, "--trust", str(trust))
    assert (code, report["state"]) == (0, "trusted")


def test_mix_and_match_manifest_of_one_bundle_with_the_payload_of_another(
    lived: World, tmp_path: Path
) -> None:
    other = second_record(lived)
    a, b = bag_of(lived, RID, tmp_path / "a"), bag_of(lived, other, tmp_path / "b")
    shutil.copy(b / MANIFEST, a / MANIFEST)
    rebag(a)
    code, report, found = verify(lived, a)
    assert (code, report["state"]) == (1, "invalid")
    assert {"file.missing", "file.unexpected"} <= found


def test_mix_and_match_event_moved_from_another_bundle(lived: World, tmp_path: Path) -> None:
    other = second_record(lived)
    a, b = bag_of(lived, RID, tmp_path / "a"), bag_of(lived, other, tmp_path / "b")
    doc = load(a)
    doc["events"].append(load(b)["events"][1])
    save(a, doc)
    rebag(a)
    code, _report, found = verify(lived, a)
    assert code == 1 and {"chain.record-mismatch", "chain.broken"} <= found


def test_key_cards_in_a_bundle_are_never_trusted(lived: World, tmp_path: Path) -> None:
    """Mallory re-signs the chain with her key named "A. Archivist" and ships her card in the bundle."""
    bag = bag_of(lived, RID, tmp_path / "bag")
    key, card = outsider("A. Archivist", list(Role))
    doc = load(bag)
    for event in doc["events"]:
        event["key"], event["agent"] = card.id, card.name
    save(bag, rechain(doc, keys={card.id: key}))
    for old in (bag / "provenance" / "keys").glob("*.json"):
        old.unlink()
    (bag / "provenance" / "keys" / "a-archivist.json").write_bytes(dumps_pretty(card.as_json()))
    info = bag / "bag-info.txt"  # and bag-info.txt names the new last event, as a careful forger makes it
    head = event_digest(doc["events"][-1])
    info.write_text(
        re.sub(r"(?m)^Provenance-Last-Event: .*$", f"Provenance-Last-Event: {head}", info.read_text())
    )
    rebag(bag)
    code, report, found = verify(lived, bag)
    assert (code, report["state"], found) == (3, "valid", {"signer.unknown"})
    assert [c["in_trust_store"] for c in report["bundle_key_cards"]] == [False]


def test_a_bundle_card_claiming_a_trusted_id_with_another_key_is_refused(
    lived: World, tmp_path: Path
) -> None:
    bag = bag_of(lived, RID, tmp_path / "bag")
    archivist = lived.signers["archivist"].card
    key, forged = outsider(archivist.name, [Role.ARCHIVIST])
    doc = load(bag)
    doc["events"][0] = sign(doc["events"][0], key)
    save(bag, rechain(doc, keys={}, start=1))
    for old in (bag / "provenance" / "keys").glob("a-archivist-*.json"):
        old.write_bytes(dumps_pretty(forged.as_json() | {"id": archivist.id}))
    rebag(bag)
    code, _report, found = verify(lived, bag)
    assert code == 1 and {"bundle.key-card-invalid", "event.signature-invalid"} <= found


def test_signature_replay_across_bundles(lived: World, tmp_path: Path) -> None:
    other = second_record(lived)
    a, b = bag_of(lived, RID, tmp_path / "a"), bag_of(lived, other, tmp_path / "b")
    doc = load(a)
    doc["events"][1]["signature"] = load(b)["events"][1]["signature"]
    save(a, doc)
    rebag(a)
    code, _report, found = verify(lived, a)
    assert code == 1 and "event.signature-invalid" in found


def test_open_rollback_an_older_genuine_bundle_is_trusted_but_its_head_differs(
    ingested: World, tmp_path: Path
) -> None:
    """Stated plainly (TUF rollback and freeze): an older export verifies on its own; only the head digest,
    compared with one published elsewhere, tells that it is not the latest."""
    from tests.conftest import full_life

    old = bag_of(ingested, RID, tmp_path / "old.zip")
    full_life(ingested)
    new = bag_of(ingested, RID, tmp_path / "new.zip")
    code_old, report_old, _ = verify(ingested, old)
    code_new, report_new, _ = verify(ingested, new)
    assert (code_old, code_new) == (0, 0)
    assert report_old["head"] != report_new["head"] and report_old["events"] < report_new["events"]


def test_single_byte_change_in_a_tag_manifest_is_caught(lived: World, tmp_path: Path) -> None:
    """Found by the bundle property: the tag manifest, which no other digest covers, was read leniently;
    an upper-case hex digit, a tab for a space, or CR for LF went unnoticed."""
    bag = bag_of(lived, RID, tmp_path / "bag")
    path = bag / "tagmanifest-sha256.txt"
    original = path.read_bytes()
    edits = [
        re.sub(rb"[a-f]", lambda m: m.group().upper(), original, count=1),
        original.replace(b"  ", b" \t", 1),
        original.replace(b"\n", b"\r", 1),
        original + b"\n",
    ]
    for edited in edits:
        path.write_bytes(edited)
        code, _report, found = verify(lived, bag)
        assert (code, found) == (1, {"bag.invalid"}), edited[:80]
    path.write_bytes(original)
    assert verify(lived, bag)[0] == 0


def test_hostile_names_in_a_bundle_never_reach_the_terminal(lived: World, tmp_path: Path) -> None:
    bag = bag_of(lived, RID, tmp_path / "bag")
    _key, card = outsider("Eve", [Role.AUDITOR])
    hostile = card.as_json() | {"name": "Eve\x1b[2J\x1b]0;x\x07\u202e"}  # a malformed card since issue 17
    (bag / "provenance" / "keys" / "eve.json").write_bytes(dumps_pretty(hostile))
    (bag / "data" / "files" / "x\x1b[1Ay.txt").write_bytes(b"planted")
    rebag(bag)
    result = run_in_process(lived, "verify", str(bag))
    assert result.returncode == 1
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", result.stdout + result.stderr)
