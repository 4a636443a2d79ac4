"""A table of tampered histories: each named case changes the reference record after its full life and
states exactly what a verifier must conclude (its state and the set of problem codes).

Cases follow python-tuf's invalid-metadata sets and TUF's attack list: removing, reordering, inserting and
editing events; rewriting history so that every digest is consistent again; damaging stored earlier
versions; swapping keys and roles. The record folder is verified by the library
(``verify_record_folder``); a few cases also go through ``provenance verify --json``.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from provenance.canonical import canonical_bytes
from provenance.cli.exits import exit_for_state
from provenance.history import Signer, sign_event
from provenance.keys import b64url
from provenance.manifest_io import event_digest, state_digest
from provenance.model.events import EventType, Role
from provenance.model.keycard import KeyCard
from provenance.model.problems import ProblemCode as P
from provenance.model.problems import TrustState
from provenance.model.timefmt import format_utc, parse_utc
from provenance.signing import SigningKey
from tests.conftest import T0, World
from tests.helpers import RID, make_writable, read_manifest_json, write_manifest_json

Doc = dict[str, Any]


@dataclass(frozen=True)
class Tamper:
    """One way to alter the lived record, and what a verifier must say about it."""

    apply: Callable[[World, Path, Doc], Doc | None]  # returns the manifest to write back, or None
    state: TrustState
    codes: frozenset[P]
    at_events: frozenset[tuple[P, int]] = field(default_factory=frozenset)  # (code, event) that must be there


def case(
    apply: Callable[[World, Path, Doc], Doc | None],
    state: TrustState,
    *codes: P,
    at: set[tuple[P, int]] | None = None,
) -> Tamper:
    return Tamper(apply, state, frozenset(codes), frozenset(at or set()))


INVALID, VALID, TRUSTED = TrustState.INVALID, TrustState.VALID, TrustState.TRUSTED


# --- tools for rewriting history -------------------------------------------------------------------------


def rechain(doc: Doc, start: int = 1) -> Doc:
    """Recompute every ``previous_digest`` from event ``start`` (0-based) on: a consistent-looking chain."""
    events = doc["events"]
    for i in range(max(start, 1), len(events)):
        events[i]["previous_digest"] = event_digest(events[i - 1])
    if start == 0 and events:
        events[0]["previous_digest"] = None
    return doc


def store_snapshot(record: Path, state: Doc) -> str:
    """Store a state snapshot object as the tool does; returns its digest."""
    data = canonical_bytes(state)
    digest = hashlib.sha256(data).hexdigest()
    path = record / "objects" / "sha256" / digest
    path.write_bytes(data)
    return "sha256:" + digest


def objects(record: Path) -> Path:
    return record / "objects" / "sha256"


def snapshot_of(record: Path, doc: Doc, seq: int) -> Path:
    return objects(record) / doc["events"][seq - 1]["state_digest"].split(":", 1)[1]


def original_text_object(record: Path, doc: Doc) -> Path:
    """The stored earlier version of the transcription (before the revision, event 6)."""
    return objects(record) / doc["events"][5]["details"]["previous_sha256"]


def outsider_signer(role: Role) -> Signer:
    """A key nobody put in the trust store."""
    key = SigningKey.from_seed(bytes(range(32)))
    card = KeyCard(
        id=key.key_id, public_key=b64url(key.public_bytes()), name="M. Mallory", roles=[role],
        valid_from=format_utc(T0),
    )  # fmt: skip
    return Signer(card=card, key=key, role=role)


def forged(doc: Doc, signer: Signer, event_type: EventType, *, after: int, summary: str = "Forged") -> Doc:
    """A well-formed event signed by ``signer`` that chains to event ``after`` and keeps its state."""
    previous = doc["events"][after - 1]
    event = sign_event(
        record=RID,
        seq=after + 1,
        event_type=event_type,
        signer=signer,
        now=parse_utc(previous["time"]) + timedelta(seconds=30),
        summary=summary,
        details={},
        new_state_digest=previous["state_digest"],
        previous_digest=event_digest(previous),
    )
    out: Doc = event.model_dump(mode="json")
    return out


# --- the cases -------------------------------------------------------------------------------------------


def edit_event(index: int, name: str, value: object) -> Callable[[World, Path, Doc], Doc]:
    def apply(w: World, record: Path, doc: Doc) -> Doc:
        doc["events"][index][name] = value
        return doc

    return apply


def remove_event(index: int) -> Callable[[World, Path, Doc], Doc]:
    def apply(w: World, record: Path, doc: Doc) -> Doc:
        del doc["events"][index]
        return doc

    return apply


def swap_events(i: int, j: int) -> Callable[[World, Path, Doc], Doc]:
    def apply(w: World, record: Path, doc: Doc) -> Doc:
        events = doc["events"]
        events[i], events[j] = events[j], events[i]
        return doc

    return apply


def duplicate_event(index: int) -> Callable[[World, Path, Doc], Doc]:
    def apply(w: World, record: Path, doc: Doc) -> Doc:
        doc["events"].insert(index + 1, copy.deepcopy(doc["events"][index]))
        return doc

    return apply


def rewrite_summary_and_rechain(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][1]["summary"] = "Translation note on 'Kim Il Sung'"
    return rechain(doc, 2)


def rewrite_note_detail_and_rechain(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][4]["details"]["to"] = "Mallory's Private Collection"
    return rechain(doc, 5)


def rewrite_agent_and_rechain(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][0]["agent"] = "M. Mallory"
    return rechain(doc, 1)


def rewrite_time_and_rechain(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][7]["time"] = "2026-01-05T09:30:00Z"  # backdate nothing, just move the release later
    return doc


def rewrite_state_with_consistent_digests(w: World, record: Path, doc: Doc) -> Doc:
    """Change the current catalogue, store its snapshot, point the last event at it: only the signature fails."""
    old = snapshot_of(record, doc, 8)
    doc["state"]["catalogue"]["author"] = "Kim Il Sung"
    digest = store_snapshot(record, doc["state"])
    for event in doc["events"][5:]:  # revision, review and release all committed to the same state
        event["state_digest"] = digest
    old.unlink()
    return rechain(doc, 6)


def rewrite_revision_text_consistently(w: World, record: Path, doc: Doc) -> Doc:
    """Swap in other text bytes and make files/, objects/ and every digest agree with them."""
    data = (record / "files" / "telegram-23256.txt").read_bytes().replace(b"decisive", b"measured")
    (record / "files" / "telegram-23256.txt").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    old = snapshot_of(record, doc, 8)
    doc["state"]["files"][0].update(sha256=sha, size=len(data))
    digest = store_snapshot(record, doc["state"])
    for event in doc["events"][5:]:
        event["state_digest"] = digest
    doc["events"][5]["details"]["sha256"] = sha
    old.unlink()
    return rechain(doc, 6)


def swap_key_to_another_trusted_one(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][1]["key"] = w.signers["archivist"].card.id
    doc["events"][1]["agent"] = w.signers["archivist"].card.name
    doc["events"][1]["role"] = "archivist"
    return rechain(doc, 2)


def resign_with_an_outsider_key(w: World, record: Path, doc: Doc) -> Doc:
    """Mallory re-signs the whole history with her own key: intact and signed, but nobody trusts her."""
    mallory = outsider_signer(Role.ARCHIVIST)
    for i, event in enumerate(doc["events"]):
        event.update(key=mallory.card.id, agent=mallory.card.name, role="archivist")
        if i:
            event["previous_digest"] = event_digest(doc["events"][i - 1])
        fields = {k: v for k, v in event.items() if k != "signature"}
        from provenance.manifest_io import event_signing_bytes

        event["signature"] = b64url(mallory.key.sign(event_signing_bytes(fields)))
    return doc


def append_outsider_release(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"].append(forged(doc, outsider_signer(Role.PUBLISHER), EventType.RELEASE, after=8))
    return doc


def append_release_by_trusted_translator(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"].append(forged(doc, w.signers["translator"], EventType.RELEASE, after=8))
    return doc


def insert_outsider_event_in_the_middle(w: World, record: Path, doc: Doc) -> Doc:
    event = forged(doc, outsider_signer(Role.REVIEWER), EventType.REVIEW, after=4)
    event["time"] = doc["events"][3]["time"]  # keep time order; the signature no longer matters here
    doc["events"].insert(4, event)
    return doc


def steal_signature_of_another_event(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][2]["signature"] = doc["events"][3]["signature"]
    return doc


def flip_signature_character(w: World, record: Path, doc: Doc) -> Doc:
    signature = doc["events"][6]["signature"]
    doc["events"][6]["signature"] = ("B" if signature[10] != "B" else "C").join(
        [signature[:10], signature[11:]]
    )
    return doc


def drop_signature(w: World, record: Path, doc: Doc) -> Doc:
    del doc["events"][3]["signature"]
    return doc


def empty_signature(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][3]["signature"] = ""
    return doc


def truncate_after_revision_start(w: World, record: Path, doc: Doc) -> Doc:
    """Roll back to before the revision: the manifest keeps the revised state but loses its events."""
    del doc["events"][5:]
    return doc


def roll_back_whole_record(w: World, record: Path, doc: Doc) -> Doc:
    """Roll the state back too (to version 5), as an attacker hiding the correction would."""
    import json

    del doc["events"][5:]
    from provenance.model.manifest import State

    # written in the order provenance writes (a snapshot is canonical JSON, its members sorted)
    doc["state"] = State.model_validate(json.loads(snapshot_of(record, doc, 5).read_bytes())).as_json()
    original = original_text_object(record, {"events": read_manifest_json(w)["events"]})
    (record / "files" / "telegram-23256.txt").write_bytes(original.read_bytes())
    return doc


def no_events(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"] = []
    return doc


def edit_current_title(w: World, record: Path, doc: Doc) -> Doc:
    doc["state"]["catalogue"]["title"] = "Forged title"
    return doc


def edit_note_text(w: World, record: Path, doc: Doc) -> Doc:
    doc["state"]["notes"][7]["text"] = "Syngman Rhee, a fine fellow."
    return doc


def unorphan_a_note(w: World, record: Path, doc: Doc) -> Doc:
    (note,) = [n for n in doc["state"]["notes"] if n["status"] == "orphaned"]
    note["status"] = "anchored"
    return doc


def change_custodian(w: World, record: Path, doc: Doc) -> Doc:
    doc["state"]["custodian"] = "Mallory's Private Collection"
    return doc


def edit_stored_earlier_text(w: World, record: Path, doc: Doc) -> None:
    path = original_text_object(record, doc)
    path.write_bytes(path.read_bytes().replace(b"Kim II Sung", b"Kim XI Sung"))


def delete_stored_earlier_text(w: World, record: Path, doc: Doc) -> None:
    original_text_object(record, doc).unlink()


def edit_snapshot(seq: int) -> Callable[[World, Path, Doc], None]:
    def apply(w: World, record: Path, doc: Doc) -> None:
        path = snapshot_of(record, doc, seq)
        path.write_bytes(path.read_bytes().replace(b"Syngman", b"Syngmun").replace(b"ciphered", b"cyphered"))

    return apply


def delete_snapshot(seq: int) -> Callable[[World, Path, Doc], None]:
    def apply(w: World, record: Path, doc: Doc) -> None:
        snapshot_of(record, doc, seq).unlink()

    return apply


def replace_snapshot_with_a_valid_other_state(w: World, record: Path, doc: Doc) -> None:
    """Snapshot 1 replaced by snapshot 2's bytes (a valid state, the wrong one)."""
    snapshot_of(record, doc, 1).write_bytes(snapshot_of(record, doc, 2).read_bytes())


def extra_object(w: World, record: Path, doc: Doc) -> None:
    data = b"smuggled\n"
    (objects(record) / hashlib.sha256(data).hexdigest()).write_bytes(data)


def edit_current_text(w: World, record: Path, doc: Doc) -> None:
    path = record / "files" / "telegram-23256.txt"
    path.write_bytes(path.read_bytes().replace(b"decisive", b"derisive"))


def truncate_current_text(w: World, record: Path, doc: Doc) -> None:
    path = record / "files" / "telegram-23256.txt"
    path.write_bytes(path.read_bytes()[:-1])


def delete_current_text(w: World, record: Path, doc: Doc) -> None:
    (record / "files" / "telegram-23256.txt").unlink()


def extra_payload_file(w: World, record: Path, doc: Doc) -> None:
    (record / "files" / "extra.txt").write_bytes(b"not in the manifest\n")


def symlinked_payload(w: World, record: Path, doc: Doc) -> None:
    path = record / "files" / "telegram-23256.txt"
    target = record.parent.parent / "outside.txt"
    target.write_bytes(path.read_bytes())
    path.unlink()
    os.symlink(target, path)


def extra_top_level_file(w: World, record: Path, doc: Doc) -> None:
    (record / "notes.txt").write_bytes(b"stray\n")


def delete_manifest(w: World, record: Path, doc: Doc) -> None:
    (record / "manifest.json").unlink()


def raw_manifest(data: bytes) -> Callable[[World, Path, Doc], None]:
    def apply(w: World, record: Path, doc: Doc) -> None:
        (record / "manifest.json").write_bytes(data)

    return apply


def manifest_text_edit(old: bytes, new: bytes) -> Callable[[World, Path, Doc], None]:
    def apply(w: World, record: Path, doc: Doc) -> None:
        path = record / "manifest.json"
        data = path.read_bytes()
        assert old in data
        path.write_bytes(data.replace(old, new, 1))

    return apply


def unknown_field(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][2]["comment"] = "harmless?"
    return doc


def newer_format(w: World, record: Path, doc: Doc) -> Doc:
    doc["format"] = "provenance-manifest/2"
    return doc


def other_record_id(w: World, record: Path, doc: Doc) -> Doc:
    doc["record"] = "telegram-99999"
    return doc


def event_of_another_record(w: World, record: Path, doc: Doc) -> Doc:
    doc["events"][2]["record"] = "telegram-4471"
    return doc


def revoke_translator_before_its_notes(w: World, record: Path, doc: Doc) -> None:
    from provenance.keys import revoke

    revoke(w.archive, w.signers["translator"].card.id, reason="compromised", at=T0)


def forget_the_reviewer_card(w: World, record: Path, doc: Doc) -> None:
    for path in w.archive.keys_dir.glob("*.json"):
        if w.signers["reviewer"].card.id.split(":")[1][:12] in path.name:
            path.unlink()


def expire_the_publisher_before_its_release(w: World, record: Path, doc: Doc) -> None:
    from provenance.keys import TrustStore, write_card

    store = TrustStore.load(w.archive.keys_dir)
    card = w.signers["publisher"].card
    expired = card.model_copy(update={"valid_until": format_utc(T0 + timedelta(minutes=2))})
    write_card(w.archive, expired, replace=store.sources[card.id])


SIG, CHAIN, SEQ = P.EVENT_SIGNATURE_INVALID, P.CHAIN_BROKEN, P.CHAIN_SEQUENCE

CASES: dict[str, Tamper] = {
    # removing events
    "remove-first-event": case(
        remove_event(0), INVALID, SEQ, CHAIN, P.FILE_UNEXPECTED, at={(CHAIN, 2), (SEQ, 2)}
    ),
    "remove-a-middle-event": case(remove_event(2), INVALID, SEQ, CHAIN, P.FILE_UNEXPECTED, at={(CHAIN, 4)}),
    "remove-the-revision": case(remove_event(5), INVALID, SEQ, CHAIN, at={(CHAIN, 7)}),
    "truncate-from-the-revision-on": case(
        truncate_after_revision_start, INVALID, P.STATE_MISMATCH, P.FILE_UNEXPECTED
    ),
    "roll-back-state-and-text-too": case(roll_back_whole_record, INVALID, P.FILE_UNEXPECTED),
    "no-events-at-all": case(no_events, INVALID, P.CHAIN_EMPTY, P.FILE_UNEXPECTED),
    # reordering
    "swap-two-notes": case(swap_events(1, 2), INVALID, SEQ, CHAIN, P.CHAIN_TIME_ORDER),
    "swap-review-and-release": case(swap_events(6, 7), INVALID, SEQ, CHAIN, P.CHAIN_TIME_ORDER),
    "registration-moved-to-the-end": case(
        swap_events(0, 7), INVALID, SEQ, CHAIN, P.CHAIN_TIME_ORDER, P.STATE_MISMATCH
    ),
    # inserting
    # the copy sits at position 8 and claims seq 7; the release after it chains to its identical twin
    "duplicate-an-event": case(duplicate_event(6), INVALID, SEQ, CHAIN, at={(SEQ, 8), (SEQ, 9), (CHAIN, 7)}),
    "insert-outsider-event-mid-chain": case(
        insert_outsider_event_in_the_middle, INVALID, SEQ, CHAIN, P.SIGNER_UNKNOWN, at={(CHAIN, 5)}
    ),
    "append-release-by-outsider": case(
        append_outsider_release, VALID, P.SIGNER_UNKNOWN, at={(P.SIGNER_UNKNOWN, 9)}
    ),
    "append-release-by-translator": case(
        append_release_by_trusted_translator,
        VALID,
        P.SIGNER_ROLE_NOT_ALLOWED,
        at={(P.SIGNER_ROLE_NOT_ALLOWED, 9)},
    ),
    # editing an event in place
    "edit-summary": case(
        edit_event(1, "summary", "Nothing to see"), INVALID, SIG, CHAIN, at={(SIG, 2), (CHAIN, 3)}
    ),
    "edit-time": case(edit_event(3, "time", "2026-01-05T09:04:30Z"), INVALID, SIG, CHAIN, at={(SIG, 4)}),
    "backdate-before-previous": case(
        edit_event(3, "time", "2025-12-31T00:00:00Z"), INVALID, SIG, CHAIN, P.CHAIN_TIME_ORDER
    ),
    "edit-seq": case(edit_event(4, "seq", 9), INVALID, SIG, CHAIN, SEQ),
    "edit-type-and-premis": case(
        lambda w, r, d: edit_event(6, "premis_type", "dissemination")(
            w, r, edit_event(6, "type", "release")(w, r, d)
        ),
        INVALID,
        SIG,
        CHAIN,
    ),
    "edit-type-only": case(edit_event(6, "type", "release"), INVALID, SIG, CHAIN, P.EVENT_PREMIS_MISMATCH),
    "edit-role-claimed": case(edit_event(1, "role", "archivist"), INVALID, SIG, CHAIN, at={(SIG, 2)}),
    "edit-first-previous-digest": case(
        edit_event(0, "previous_digest", "sha256:" + "0" * 64), INVALID, SIG, CHAIN, at={(CHAIN, 1)}
    ),
    "edit-state-digest": case(
        edit_event(7, "state_digest", "sha256:" + "1" * 64),
        INVALID,
        SIG,
        P.STATE_MISMATCH,
        P.OBJECT_MISSING,
    ),
    "edit-event-record": case(event_of_another_record, INVALID, SIG, CHAIN, P.CHAIN_RECORD_MISMATCH),
    "edit-details": case(
        lambda w, r, d: edit_event(4, "details", {"from": "A", "to": "Mallory"})(w, r, d), INVALID, SIG, CHAIN
    ),
    # signatures
    "signature-of-another-event": case(steal_signature_of_another_event, INVALID, SIG, CHAIN, at={(SIG, 3)}),
    "signature-one-character-changed": case(flip_signature_character, INVALID, SIG, CHAIN, at={(SIG, 7)}),
    "signature-removed": case(drop_signature, INVALID, P.EVENT_SIGNATURE_MISSING, CHAIN),
    "signature-empty": case(empty_signature, INVALID, P.EVENT_SIGNATURE_MISSING, CHAIN),
    # rewriting history with every digest consistent again: only the signatures can tell
    "rewrite-summary-rechained": case(
        rewrite_summary_and_rechain, INVALID, SIG, at={(SIG, n) for n in range(2, 9)}
    ),
    "rewrite-custody-details-rechained": case(
        rewrite_note_detail_and_rechain, INVALID, SIG, at={(SIG, n) for n in range(5, 9)}
    ),
    "rewrite-agent-rechained": case(
        rewrite_agent_and_rechain, INVALID, SIG, at={(SIG, n) for n in range(1, 9)}
    ),
    "rewrite-release-time": case(rewrite_time_and_rechain, INVALID, SIG, at={(SIG, 8)}),
    "rewrite-state-consistently": case(rewrite_state_with_consistent_digests, INVALID, SIG),
    "rewrite-text-consistently": case(rewrite_revision_text_consistently, INVALID, SIG),
    "claim-another-trusted-key": case(swap_key_to_another_trusted_one, INVALID, SIG, at={(SIG, 2)}),
    "resigned-by-outsider": case(resign_with_an_outsider_key, VALID, P.SIGNER_UNKNOWN),
    # the current state
    # the record has no title: one added at the end of the catalogue is also out of the order provenance writes
    "edit-current-title": case(edit_current_title, INVALID, P.STATE_MISMATCH, P.MANIFEST_MALFORMED),
    "edit-a-note": case(edit_note_text, INVALID, P.STATE_MISMATCH),
    "hide-an-orphaned-note": case(unorphan_a_note, INVALID, P.STATE_MISMATCH),
    "change-custodian": case(change_custodian, INVALID, P.STATE_MISMATCH),
    # stored earlier versions
    "edit-stored-earlier-text": case(edit_stored_earlier_text, INVALID, P.OBJECT_DIGEST_MISMATCH),
    "delete-stored-earlier-text": case(delete_stored_earlier_text, INVALID, P.OBJECT_MISSING),
    "edit-first-snapshot": case(edit_snapshot(1), INVALID, P.OBJECT_DIGEST_MISMATCH),
    "edit-a-middle-snapshot": case(edit_snapshot(3), INVALID, P.OBJECT_DIGEST_MISMATCH),
    "delete-a-snapshot": case(delete_snapshot(4), INVALID, P.OBJECT_MISSING, at={(P.OBJECT_MISSING, 4)}),
    "snapshot-replaced-by-another-state": case(
        replace_snapshot_with_a_valid_other_state, INVALID, P.OBJECT_DIGEST_MISMATCH
    ),
    "extra-object": case(extra_object, INVALID, P.FILE_UNEXPECTED),
    # the current files and the folder
    "edit-current-text": case(edit_current_text, INVALID, P.FILE_DIGEST_MISMATCH),
    "truncate-current-text": case(truncate_current_text, INVALID, P.FILE_SIZE_MISMATCH),
    "delete-current-text": case(delete_current_text, INVALID, P.FILE_MISSING),
    "extra-payload-file": case(extra_payload_file, INVALID, P.FILE_UNEXPECTED),
    "payload-is-a-symlink": case(symlinked_payload, INVALID, P.FILE_PATH_UNSAFE, P.FILE_MISSING),
    "extra-file-in-record-folder": case(extra_top_level_file, INVALID, P.FILE_UNEXPECTED),
    # the manifest itself
    "manifest-missing": case(delete_manifest, INVALID, P.MANIFEST_MISSING),
    "manifest-not-json": case(raw_manifest(b"{not json"), INVALID, P.MANIFEST_MALFORMED),
    "manifest-not-an-object": case(raw_manifest(b"[]\n"), INVALID, P.MANIFEST_MALFORMED),
    "manifest-duplicate-key": case(
        manifest_text_edit(b'"record": "telegram-23256",', b'"record": "telegram-23256", "record": "x",'),
        INVALID,
        P.MANIFEST_DUPLICATE_KEY,
    ),
    "manifest-float": case(manifest_text_edit(b'"seq": 2,', b'"seq": 2.0,'), INVALID, P.MANIFEST_MALFORMED),
    "manifest-huge-integer": case(
        manifest_text_edit(b'"seq": 2,', b'"seq": 99999999999999999999,'), INVALID, P.MANIFEST_MALFORMED
    ),
    "manifest-unknown-field": case(unknown_field, INVALID, P.MANIFEST_SCHEMA),
    "manifest-newer-format": case(newer_format, INVALID, P.MANIFEST_UNSUPPORTED_FORMAT),
    "manifest-of-another-record": case(
        other_record_id, INVALID, P.MANIFEST_RECORD_MISMATCH, P.CHAIN_RECORD_MISMATCH
    ),
    # trust, not tampering: intact and signed, but not trusted (state valid, never invalid)
    "signer-revoked-before-signing": case(
        revoke_translator_before_its_notes,
        VALID,
        P.SIGNER_REVOKED,
        at={(P.SIGNER_REVOKED, n) for n in (2, 3, 4)},
    ),
    "signer-unknown-to-trust-store": case(
        forget_the_reviewer_card, VALID, P.SIGNER_UNKNOWN, at={(P.SIGNER_UNKNOWN, 7)}
    ),
    "signer-expired-before-signing": case(
        expire_the_publisher_before_its_release, VALID, P.SIGNER_EXPIRED, at={(P.SIGNER_EXPIRED, 8)}
    ),
}


def apply_tamper(world: World, tamper: Tamper) -> None:
    record = world.archive.record_dir(RID)
    make_writable(record / "objects")
    doc = read_manifest_json(world)
    changed = tamper.apply(world, record, doc)
    if changed is not None:
        write_manifest_json(world, changed)


@pytest.mark.parametrize("tamper", list(CASES.values()), ids=list(CASES))
def test_tampered_history_is_caught(lived: World, verify_folder: Any, tamper: Tamper) -> None:
    assert verify_folder(lived).state is TRUSTED  # the untouched record is trusted
    apply_tamper(lived, tamper)
    report = verify_folder(lived)
    codes = {p.code for p in report.problems}
    assert (report.state, codes) == (tamper.state, set(tamper.codes)), [p.to_json() for p in report.problems]
    found = {(p.code, p.fields.get("event")) for p in report.problems}
    assert tamper.at_events <= found, sorted(found, key=str)


@pytest.mark.parametrize(
    "name",
    [
        "remove-a-middle-event",
        "rewrite-summary-rechained",
        "edit-stored-earlier-text",
        "resigned-by-outsider",
    ],
)
def test_tampered_history_through_the_cli(lived: World, name: str) -> None:
    tamper = CASES[name]
    apply_tamper(lived, tamper)
    result = lived.run("verify", f"records/{RID}", "--json")
    report = result.json()
    assert result.returncode == exit_for_state(tamper.state)
    assert report["state"] == tamper.state
    assert report["verified"] is False
    assert {p["code"] for p in report["problems"]} == set(tamper.codes)
    audit = lived.run("audit", "--json")
    assert (audit.returncode, audit.json()["state"]) == (exit_for_state(tamper.state), tamper.state)


def test_truncating_events_that_did_not_change_the_state_needs_an_external_anchor(
    lived: World, verify_folder: Any
) -> None:
    """The one change a lone record folder cannot reveal: dropping its last events when they left the state
    as it was (review, release). Nothing later commits to them (TUF's freeze/rollback attack); a bundle's
    tag manifest or a copy elsewhere is what catches it. This test pins that limit down, so that a defence
    added later updates it."""
    doc = read_manifest_json(lived)
    del doc["events"][6:]
    write_manifest_json(lived, doc)
    report = verify_folder(lived)
    assert report.state is TRUSTED
    assert report.events == 6


def test_a_valid_later_signature_never_launders_an_earlier_alteration(
    lived: World, verify_folder: Any
) -> None:
    """Alter event 2, rechain, and append an event correctly signed by a trusted key: still invalid."""
    doc = rewrite_summary_and_rechain(lived, lived.archive.record_dir(RID), read_manifest_json(lived))
    doc["events"].append(
        forged(doc, lived.signers["reviewer"], EventType.REVIEW, after=8, summary="Looks fine")
    )
    write_manifest_json(lived, doc)
    report = verify_folder(lived)
    assert report.state is INVALID
    found = {(p.code, p.fields.get("event")) for p in report.problems}
    assert found == {(SIG, n) for n in range(2, 9)}  # event 9 itself is good, and launders nothing
    assert report.events == 9


def test_state_digest_of_every_event_matches_its_snapshot(lived: World) -> None:
    """The property the snapshot checks rest on: each event's state digest is its stored snapshot's."""
    import json

    record = lived.archive.record_dir(RID)
    doc = read_manifest_json(lived)
    for event in doc["events"]:
        data = snapshot_of(record, doc, event["seq"]).read_bytes()
        assert state_digest(json.loads(data)) == event["state_digest"]
