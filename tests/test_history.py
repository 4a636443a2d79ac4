"""Custody, notes and history: the reference telegram through a full life, typed as a person would type it.

Then what an auditor reads (``log``, ``show --version``, ``diff``), notes re-anchored after revisions, and
the roles policy of ``provenance.toml`` honoured by the commands and by ``verify``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from provenance.errors import ErrorCode
from provenance.model.problems import ProblemCode
from tests.conftest import CORPUS, REFERENCE, World
from tests.helpers import (
    ARCHIVIST,
    CUSTODIAN,
    PUBLISHER,
    REVIEWER,
    RID,
    TRANSLATOR,
    json_error,
    make_writable,
    read_manifest_json,
    tree_snapshot,
    write_manifest_json,
)

ORIGINAL = REFERENCE.read_bytes()
CORRECTED = ORIGINAL.replace(b"Kim II Sung", b"Kim Il Sung")
INSERTIONS = ["[Stalin]", "[Kaesong]", "[committed by]", "[that it was]", "[plan]", "[himself]"]
LIFE = [
    ("registration", "ingestion", ARCHIVIST, "archivist"),
    ("annotation", "annotation", TRANSLATOR, "translator"),
    ("annotation", "annotation", TRANSLATOR, "translator"),
    ("annotation", "annotation", TRANSLATOR, "translator"),
    ("custody-transfer", "transfer", CUSTODIAN, "custodian"),
    ("revision", "modification", ARCHIVIST, "archivist"),
    ("review", "validation", REVIEWER, "reviewer"),
    ("release", "dissemination", PUBLISHER, "publisher"),
]


def ok(world: World, *args: str) -> dict[str, Any]:
    result = world.run(*args, "--json")
    assert result.returncode == 0, (args, result.stderr)
    document: dict[str, Any] = result.json()
    return document


def live_through_the_cli(world: World, tmp: Path) -> None:
    """The reference telegram's life, each step as a person would type it."""
    corrected = tmp / "telegram-23256-corrected.txt"
    corrected.write_bytes(CORRECTED)
    steps = [
        ["ingest", str(REFERENCE), "--key", ARCHIVIST],
        ["note", RID, "--quote", "Kim II Sung", "--text", "Read: Kim Il Sung (OCR-like error).", "--key", TRANSLATOR],
        ["note", RID, "--quote", "Syngmann Rhee", "--text", "Usually spelled Syngman Rhee.", "--key", TRANSLATOR],
        [
            "note", RID, "--quote", "Gaeseong [Kaesong]", "--text", "Two romanisations of one city.",
            "--key", TRANSLATOR,
        ],
        [
            "custody", RID, "--from", "Archive of the President of the Russian Federation",
            "--to", "Wilson Center Digital Archive", "--key", CUSTODIAN,
        ],
        ["revise", RID, str(corrected), "--reason", "Kim II Sung is Kim Il Sung", "--key", ARCHIVIST],
        ["review", RID, "--note", "Checked against the published translation", "--key", REVIEWER],
        ["release", RID, "--key", PUBLISHER],
    ]  # fmt: skip
    for step in steps:
        result = world.run(*step)
        assert result.returncode == 0, (step, result.stderr)
        assert result.stdout.strip()


@pytest.fixture(scope="module")
def cli_lived(tmp_path_factory: pytest.TempPathFactory) -> World:
    """One life typed through the CLI, shared by the tests that only read it (log, show, diff, verify)."""
    from tests.conftest import make_world

    root = tmp_path_factory.mktemp("cli-life")
    world = make_world(root)
    live_through_the_cli(world, root)
    return world


def test_full_life_through_the_cli_is_trusted(cli_lived: World) -> None:
    result = cli_lived.run("verify", f"records/{RID}", "--json")
    report = result.json()
    assert (result.returncode, report["state"], report["problems"]) == (0, "trusted", [])
    assert report["events"] == 8
    signers = {s["name"]: [e["type"] for e in s["events"]] for s in report["signers"]}
    assert signers == {
        ARCHIVIST: ["registration", "revision"],
        TRANSLATOR: ["annotation"] * 3,
        CUSTODIAN: ["custody-transfer"],
        REVIEWER: ["review"],
        PUBLISHER: ["release"],
    }
    audit = cli_lived.run("audit", "--json")
    assert (audit.returncode, audit.json()["state"]) == (0, "trusted")


def test_log_tells_who_did_what_when(cli_lived: World) -> None:
    events = ok(cli_lived, "log", RID)["events"]
    assert [(e["type"], e["premis_type"], e["agent"], e["role"]) for e in events] == LIFE
    assert [e["seq"] for e in events] == list(range(1, 9))
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    keys = {role: cli_lived.signers[role].card.id for role in cli_lived.signers}
    assert [e["key"] for e in events] == [keys[role] for *_, role in LIFE]
    assert events[0]["previous_digest"] is None
    assert all(e["previous_digest"] for e in events[1:])
    assert events[4]["details"] == {
        "from": "Archive of the President of the Russian Federation",
        "to": "Wilson Center Digital Archive",
    }
    assert events[5]["details"]["reason"] == "Kim II Sung is Kim Il Sung"
    assert events[5]["details"]["orphaned_notes"] == ["note-7"]
    assert events[6]["details"]["outcome"] == "approved"

    text = cli_lived.run("log", RID)
    assert text.returncode == 0
    for name in (ARCHIVIST, TRANSLATOR, CUSTODIAN, REVIEWER, PUBLISHER):
        assert name in text.stdout


def test_show_version_gives_each_earlier_state(cli_lived: World) -> None:
    original = hashlib.sha256(ORIGINAL).hexdigest()
    corrected = hashlib.sha256(CORRECTED).hexdigest()

    first = ok(cli_lived, "show", RID, "--version", "1")
    assert first["version"] == 1
    assert [f["sha256"] for f in first["files"]] == [original]
    assert [n["target"]["quote"]["exact"] for n in first["notes"]] == INSERTIONS
    assert first["custodian"] is None
    assert len(first["events"]) == 1

    noted = ok(cli_lived, "show", RID, "--version", "4")
    quotes = [n["target"]["quote"]["exact"] for n in noted["notes"]]
    assert quotes == [*INSERTIONS, "Kim II Sung", "Syngmann Rhee", "Gaeseong [Kaesong]"]
    assert [n["kind"] for n in noted["notes"][6:]] == ["translation"] * 3
    assert [n["event"] for n in noted["notes"][6:]] == [2, 3, 4]
    assert {n["status"] for n in noted["notes"]} == {"anchored"}

    transferred = ok(cli_lived, "show", RID, "--version", "5")
    assert transferred["custodian"] == "Wilson Center Digital Archive"
    assert [f["sha256"] for f in transferred["files"]] == [original]

    current = ok(cli_lived, "show", RID)
    assert current["version"] == 8
    assert [f["sha256"] for f in current["files"]] == [corrected]
    assert ok(cli_lived, "show", RID, "--version", "8")["files"] == current["files"]
    by_id = {n["id"]: n for n in current["notes"]}
    assert by_id["note-7"]["status"] == "orphaned"  # "Kim II Sung" is gone: the note is kept, flagged
    assert by_id["note-7"]["text"] == "Read: Kim Il Sung (OCR-like error)."
    assert {n["status"] for i, n in by_id.items() if i != "note-7"} == {"anchored"}
    text = CORRECTED.decode("utf-8")
    for note in current["notes"]:
        if note["status"] == "anchored":
            position = note["target"]["position"]
            assert text[position["start"] : position["end"]] == note["target"]["quote"]["exact"]


def test_diff_shows_what_the_revision_changed(cli_lived: World) -> None:
    result = ok(cli_lived, "diff", RID, "5", "6")
    assert (result["from"], result["to"]) == (5, 6)
    (change,) = result["files"]
    assert change["path"] == "telegram-23256.txt"
    assert change["change"] == "modified"
    removed = [line for line in change["diff"] if line.startswith("-") and not line.startswith("---")]
    added = [line for line in change["diff"] if line.startswith("+") and not line.startswith("+++")]
    assert len(removed) == len(added) == 1
    assert "Kim II Sung" in removed[0] and "Kim Il Sung" in added[0]
    assert any(line.startswith("@@") for line in change["diff"])
    assert result["notes"] == [{"id": "note-7", "change": "orphaned", "quote": "Kim II Sung"}]
    assert result["catalogue"] == []

    whole = ok(cli_lived, "diff", RID, "1", "8")
    assert [n["id"] for n in whole["notes"]] == ["note-7", "note-8", "note-9"]
    assert {n["change"] for n in whole["notes"]} == {"added"}

    last = ok(cli_lived, "diff", RID)  # default: the last two versions (review → release)
    assert (last["from"], last["to"], last["files"], last["notes"], last["catalogue"]) == (7, 8, [], [], [])

    text = cli_lived.run("diff", RID, "5", "6")
    assert text.returncode == 0
    assert "Kim Il Sung" in text.stdout and "Kim II Sung" in text.stdout


def test_diff_reads_a_text_in_its_own_encoding(world: World, tmp_path: Path) -> None:
    """A cp1251 transcription is diffed as text, line by line, not skipped as binary."""
    russian = (CORPUS / "synthetic-telegram-7702-ru.txt").read_text("utf-8")
    first, second = tmp_path / "v1.txt", tmp_path / "v2.txt"
    first.write_bytes(russian.encode("cp1251"))
    second.write_bytes(russian.replace("Кесоне", "Кэсоне").encode("cp1251"))
    ok(world, "ingest", str(first), "--encoding", "cp1251", "--key", ARCHIVIST)
    ok(
        world,
        "revise",
        "telegram-7702",
        str(second),
        "--encoding",
        "cp1251",
        "--reason",
        "spelling",
        "--key",
        ARCHIVIST,
    )
    (change,) = ok(world, "diff", "telegram-7702")["files"]
    assert any(line.startswith("-") and "Кесоне" in line for line in change["diff"])
    assert any(line.startswith("+") and "Кэсоне" in line for line in change["diff"])


def test_catalogue_change_shows_in_diff(ingested: World) -> None:
    ok(ingested, "catalogue", RID, "--set", "source=APRF, f. 45, op. 1, d. 340", "--key", ARCHIVIST)
    result = ok(ingested, "diff", RID)
    assert result["catalogue"] == [{"field": "source", "from": None, "to": "APRF, f. 45, op. 1, d. 340"}]


def test_earlier_versions_of_the_text_stay_stored(cli_lived: World) -> None:
    objects = cli_lived.archive.record_dir(RID) / "objects" / "sha256"
    assert (objects / hashlib.sha256(ORIGINAL).hexdigest()).read_bytes() == ORIGINAL
    assert (cli_lived.archive.record_dir(RID) / "files" / "telegram-23256.txt").read_bytes() == CORRECTED


@pytest.mark.parametrize("command", [("show", RID, "--version", "2"), ("diff", RID, "1", "2")])
def test_a_damaged_snapshot_is_not_shown_as_history(lived: World, command: tuple[str, ...]) -> None:
    """``show --version`` and ``diff`` read stored versions: a damaged one is refused, never shown."""
    record = lived.archive.record_dir(RID)
    manifest = (record / "manifest.json").read_text("utf-8")
    digest = json.loads(manifest)["events"][1]["state_digest"].split(":", 1)[1]
    snapshot = record / "objects" / "sha256" / digest
    make_writable(record / "objects")
    damaged = snapshot.read_bytes().replace(b"OCR-like", b"OCR-lake")
    assert damaged != snapshot.read_bytes()
    snapshot.write_bytes(damaged)
    result = lived.run(*command, "--json")
    assert result.returncode == 2
    assert json_error(result)["code"] == ErrorCode.RECORD_CORRUPT


def test_a_damaged_earlier_text_is_not_shown_in_diff(lived: World) -> None:
    record = lived.archive.record_dir(RID)
    stored = record / "objects" / "sha256" / hashlib.sha256(ORIGINAL).hexdigest()
    make_writable(record / "objects")
    stored.write_bytes(stored.read_bytes().replace(b"Syngmann", b"Syngmunn"))
    result = lived.run("diff", RID, "5", "6", "--json")
    assert result.returncode == 2
    assert json_error(result)["code"] == ErrorCode.RECORD_CORRUPT


# --- notes re-anchored after a revision ------------------------------------------------------------------


def _revise(world: World, tmp: Path, data: bytes, reason: str) -> dict[str, Any]:
    path = tmp / "revised.txt"
    path.write_bytes(data)
    return ok(world, "revise", RID, str(path), "--reason", reason, "--key", ARCHIVIST)


def test_notes_follow_a_paragraph_inserted_before_them(ingested: World, tmp_path: Path) -> None:
    ok(ingested, "note", RID, "--quote", "Syngmann Rhee", "--text", "Syngman Rhee.", "--key", TRANSLATOR)
    ok(ingested, "note", RID, "--quote", "Kim II Sung", "--text", "Kim Il Sung.", "--key", TRANSLATOR)
    before = {n["id"]: n for n in ok(ingested, "show", RID)["notes"]}

    paragraph = "[Translator's preface: this paragraph was added in the second edition.]\n\n"
    head, sep, body = ORIGINAL.decode("utf-8").partition("Comrade Filippov!")
    revised = head + paragraph + sep + body
    event = _revise(ingested, tmp_path, revised.encode("utf-8"), "Preface added")["event"]
    assert event["details"]["orphaned_notes"] == []

    after = {n["id"]: n for n in ok(ingested, "show", RID)["notes"]}
    assert set(after) == set(before)  # no note dropped; the new bracket is not a note by itself
    shift = len(paragraph)
    for note_id, old in before.items():
        new = after[note_id]
        assert new["status"] == "anchored"
        assert new["target"]["quote"]["exact"] == old["target"]["quote"]["exact"]
        old_start = old["target"]["position"]["start"]
        expected = old_start + shift if old_start > len(head) else old_start
        assert new["target"]["position"]["start"] == expected, note_id
        position = new["target"]["position"]
        assert revised[position["start"] : position["end"]] == new["target"]["quote"]["exact"]

    diff = ok(ingested, "diff", RID)
    moved = {n["id"] for n in diff["notes"] if n["change"] == "moved"}
    assert moved == {i for i, n in before.items() if n["target"]["position"]["start"] > len(head)}
    assert ok(ingested, "verify", f"records/{RID}")["state"] == "trusted"


def test_a_note_whose_quote_disappears_is_kept_and_orphaned(ingested: World, tmp_path: Path) -> None:
    ok(ingested, "note", RID, "--quote", "Syngmann Rhee", "--text", "Syngman Rhee.", "--key", TRANSLATOR)
    revised = ORIGINAL.replace(b"Syngmann Rhee", b"Syngman Rhee").replace(b" [himself]", b"")
    event = _revise(ingested, tmp_path, revised, "Spelling; a needless insertion removed")["event"]
    assert event["details"]["orphaned_notes"] == ["note-6", "note-7"]
    notes = {n["id"]: n for n in ok(ingested, "show", RID)["notes"]}
    assert len(notes) == 7
    assert notes["note-7"]["status"] == notes["note-6"]["status"] == "orphaned"
    assert notes["note-7"]["target"]["quote"]["exact"] == "Syngmann Rhee"  # old selectors kept
    assert notes["note-6"]["target"]["quote"]["exact"] == "[himself]"

    # a later revision that brings the quote back re-anchors the note
    _revise(ingested, tmp_path, ORIGINAL, "Back to the published text")
    notes = {n["id"]: n for n in ok(ingested, "show", RID)["notes"]}
    assert {n["status"] for n in notes.values()} == {"anchored"}
    assert ok(ingested, "verify", f"records/{RID}")["state"] == "trusted"


def test_a_repeated_quote_is_re_anchored_by_its_context(ingested: World, tmp_path: Path) -> None:
    """After a revision a quote may occur more than once: the note keeps to its own context."""
    text = ORIGINAL.decode("utf-8")
    ok(
        ingested,
        "note",
        RID,
        "--quote",
        "Kaesong",
        "--occurrence",
        "3",
        "--text",
        "Third mention.",
        "--key",
        TRANSLATOR,
    )
    third = [i for i in range(len(text)) if text.startswith("Kaesong", i)][2]
    # a new sentence that mentions Kaesong again, placed before every other mention
    revised = text.replace("Comrade Filippov!", "Comrade Filippov! Kaesong is meant throughout.", 1)
    _revise(ingested, tmp_path, revised.encode("utf-8"), "Clarification")
    (note,) = [n for n in ok(ingested, "show", RID)["notes"] if n["id"] == "note-7"]
    start = note["target"]["position"]["start"]
    assert start == third + len(" Kaesong is meant throughout.")
    assert revised[start - 20 : start] == text[third - 20 : third]


# --- the roles policy of provenance.toml -----------------------------------------------------------------


def test_policy_in_the_config_lets_a_reviewer_release(ingested: World) -> None:
    ingested.archive.config_path.write_text('[roles]\nrelease = ["publisher", "reviewer"]\n', "utf-8")
    released = ok(ingested, "release", RID, "--key", REVIEWER)
    assert (released["event"]["type"], released["event"]["role"]) == ("release", "reviewer")
    report = ingested.run("verify", f"records/{RID}", "--json")
    assert (report.returncode, report.json()["state"]) == (0, "trusted")  # verify honours the same policy


def test_policy_in_the_config_can_forbid_what_the_default_allows(ingested: World) -> None:
    ingested.archive.config_path.write_text('[roles]\nannotation = ["reviewer"]\n', "utf-8")
    refused = ingested.run("note", RID, "--quote", "Kaeseong", "--text", "x", "--key", TRANSLATOR, "--json")
    assert (refused.returncode, json_error(refused)["code"]) == (2, ErrorCode.ROLE_NOT_ALLOWED)
    ok(ingested, "note", RID, "--quote", "Kaeseong", "--text", "x", "--key", REVIEWER)


def test_events_signed_before_a_policy_change_are_valid_not_trusted(lived: World) -> None:
    lived.archive.config_path.write_text('[roles]\nrelease = ["archivist"]\n', "utf-8")
    result = lived.run("verify", f"records/{RID}", "--json")
    report = result.json()
    assert (result.returncode, report["state"]) == (3, "valid")
    assert {(p["code"], p["event"]) for p in report["problems"]} == {(ProblemCode.SIGNER_ROLE_NOT_ALLOWED, 8)}


def test_revise_stores_the_revision_byte_for_byte(lived: World) -> None:
    """Re-anchoring changes notes only: the stored file is the revision's bytes, exactly."""
    assert (lived.archive.record_dir(RID) / "files" / "telegram-23256.txt").read_bytes() == CORRECTED


# ---- provenance.history called from Python: roles, the signer's key, append_event, past versions ----

def _signer_card(world: World, role: str) -> Any:
    return world.signers[role].card


@pytest.mark.parametrize(
    ("role", "event", "wanted", "result"),
    [
        ("translator", "annotation", None, "translator"),
        ("archivist", "revision", None, "archivist"),
        ("archivist", "revision", "archivist", "archivist"),
        ("translator", "review", None, "role.not-allowed"),
        ("reviewer", "metadata-change", None, "role.not-allowed"),
        ("translator", "annotation", "reviewer", "role.not-allowed"),  # a role the key does not hold
        ("publisher", "custody-transfer", None, "role.not-allowed"),
    ],
)
def test_choose_role(world: World, role: str, event: str, wanted: str | None, result: str) -> None:
    from provenance.history import choose_role
    from provenance.model.events import EventType, Role
    from tests.coded import raises_code

    policy = world.archive.config().policy
    card = _signer_card(world, role)
    if "." in result:
        with raises_code(result):
            choose_role(card, EventType(event), policy, Role(wanted) if wanted else None)
    else:
        assert choose_role(card, EventType(event), policy, Role(wanted) if wanted else None) == Role(result)


def test_check_key_usable_refuses_revoked_expired_and_future_keys(world: World) -> None:
    from datetime import timedelta

    from provenance.history import check_key_usable
    from provenance.model.keycard import Revocation
    from tests.coded import raises_code
    from tests.conftest import T0

    card = _signer_card(world, "archivist")
    check_key_usable(card, T0 + timedelta(days=1))
    revoked = card.model_copy(update={"revoked": Revocation(time="2026-01-06T00:00:00Z", reason="lost")})
    with raises_code(ErrorCode.KEY_REVOKED, "lost"):
        check_key_usable(revoked, T0 + timedelta(days=2))
    expired = card.model_copy(update={"valid_until": "2026-01-06T00:00:00Z"})
    with raises_code(ErrorCode.KEY_EXPIRED, "expired"):
        check_key_usable(expired, T0 + timedelta(days=2))
    with raises_code(ErrorCode.KEY_EXPIRED, "not-yet-valid"):
        check_key_usable(card, T0 - timedelta(days=1))


def _no_change(stage: Any, manifest: Any) -> tuple[Any, str, dict[str, Any]]:
    return manifest.state, "Nothing but an event", {}


def test_append_event_appends_one_signed_event_and_state_at_reads_each_version(ingested: World) -> None:
    from provenance.history import append_event, file_bytes_at, state_at
    from provenance.model.events import EventType

    before = read_manifest_json(ingested)
    manifest = append_event(ingested.archive, RID, EventType.REVIEW, ingested.signers["reviewer"], _no_change,
                            now=ingested.tick())
    assert len(manifest.events) == len(before["events"]) + 1
    assert manifest.events[-1].summary == "Nothing but an event" and manifest.events[-1].seq == 2
    first, state, event = state_at(ingested.archive, RID, 1)
    assert event.seq == 1 and state == manifest.state and len(first.events) == 2
    entry = state.files[0]
    assert file_bytes_at(ingested.archive, RID, entry.sha256, entry.path) == REFERENCE.read_bytes()


@pytest.mark.parametrize("problem", ["mutation raises", "dated before the last event", "key revoked meanwhile",
                                     "card removed meanwhile", "manifest state altered"])
def test_append_event_refusals_leave_the_record_as_it_was(ingested: World, problem: str) -> None:
    from datetime import timedelta

    from provenance.history import append_event
    from provenance.keys import card_filename, revoke
    from provenance.model.events import EventType
    from tests.coded import raises_code
    from tests.conftest import T0

    signer = ingested.signers["reviewer"]
    mutate = _no_change
    now = ingested.tick()
    code: str = ErrorCode.USAGE
    if problem == "mutation raises":
        def mutate(stage: Any, manifest: Any) -> tuple[Any, str, dict[str, Any]]:
            stage.write("files/half.txt", b"half a change")
            raise ValueError("abandoned")
    elif problem == "dated before the last event":
        now = T0 - timedelta(days=1)
    elif problem == "key revoked meanwhile":
        revoke(ingested.archive, signer.card.id, reason="stolen", at=T0)
        code = ErrorCode.KEY_REVOKED
    elif problem == "card removed meanwhile":
        (ingested.archive.keys_dir / card_filename(signer.card)).unlink()
        code = ErrorCode.KEY_NOT_FOUND
    else:
        document = read_manifest_json(ingested)
        document["state"]["custodian"] = "Somebody else"
        write_manifest_json(ingested, document)
        code = ErrorCode.RECORD_CORRUPT
    snapshot = tree_snapshot(ingested.archive.record_dir(RID))
    if problem == "mutation raises":
        with pytest.raises(ValueError, match="abandoned"):
            append_event(ingested.archive, RID, EventType.REVIEW, signer, mutate, now=now)
    else:
        with raises_code(code):
            append_event(ingested.archive, RID, EventType.REVIEW, signer, mutate, now=now)
    assert tree_snapshot(ingested.archive.record_dir(RID)) == snapshot
    assert list((ingested.archive.work_dir / "tmp").iterdir()) == []


def test_past_versions_that_are_missing_or_altered_are_refused(ingested: World) -> None:
    from provenance.history import file_bytes_at, state_at
    from tests.coded import raises_code

    with raises_code(ErrorCode.VERSION_NOT_FOUND, "versions 1 to 1"):
        state_at(ingested.archive, RID, 2)
    objects = ingested.archive.record_dir(RID) / "objects" / "sha256"
    snapshot = next(objects.iterdir())
    snapshot.chmod(0o644)
    snapshot.write_bytes(snapshot.read_bytes() + b" ")
    with raises_code(ErrorCode.RECORD_CORRUPT, "missing or damaged"):
        state_at(ingested.archive, RID, 1)
    with raises_code(ErrorCode.RECORD_CORRUPT, "is not stored"):
        file_bytes_at(ingested.archive, RID, "0" * 64, f"{RID}.txt")
    (objects / ("1" * 64)).write_bytes(b"not those bytes")
    with raises_code(ErrorCode.RECORD_CORRUPT, "was altered"):
        file_bytes_at(ingested.archive, RID, "1" * 64, f"{RID}.txt")
