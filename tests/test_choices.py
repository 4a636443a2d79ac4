"""The library checks its own inputs (issue 15 item 7): a role, a file role, a note kind or a profile that is
not one of its enum is refused with a coded error, never a raw pydantic ValidationError; the enums, the
models' literals and the published schemas name the same values; the CLI's --help lists the choices."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, get_args

import pytest

from provenance import actions
from provenance.errors import ErrorCode, ProvenanceError
from provenance.history import choose_role
from provenance.ingest.service import ingest, prepare_record, read_transcription
from provenance.keys import generate_key
from provenance.model import choices, manifest
from provenance.model.events import EventType, Role
from tests.conftest import PASSPHRASE, REFERENCE, T0, World

SCHEMAS = Path(__file__).parent.parent / "provenance" / "schemas"


def _schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return document


def test_the_enums_the_model_literals_and_the_schemas_name_the_same_values() -> None:
    defs = _schema("manifest")["$defs"]
    assert list(get_args(manifest.FileRole)) == defs["file"]["properties"]["role"]["enum"]
    assert list(get_args(manifest.NoteKind)) == defs["note"]["properties"]["kind"]["enum"]
    assert [r.value for r in Role] == _schema("key-card")["properties"]["roles"]["items"]["enum"]
    assert {m.value for m in choices.AttachRole} == set(get_args(manifest.FileRole)) - {"transcription"}
    assert {m.value for m in choices.WrittenNoteKind} == set(get_args(manifest.NoteKind)) - {"editorial-insertion"}


@pytest.mark.parametrize("value", ["wizard", "", "ARCHIVIST", 3, None, ["archivist"]])
def test_a_value_outside_a_choice_is_a_coded_usage_error(value: object) -> None:
    with pytest.raises(ProvenanceError) as caught:
        choices.choose(choices.Profile, value, "profile")
    assert caught.value.code is ErrorCode.USAGE
    with pytest.raises(ProvenanceError) as role:
        choices.parse_role(value)
    assert role.value.code is ErrorCode.ROLE_UNKNOWN


def test_a_member_or_its_value_is_accepted() -> None:
    assert choices.choose(choices.AttachRole, "scan", "file role") is choices.AttachRole.SCAN
    assert choices.choose(choices.AttachRole, choices.AttachRole.SCAN, "file role") is choices.AttachRole.SCAN
    assert choices.parse_role("auditor") is Role.AUDITOR


Call = Callable[[World], object]


def _attach(role: object) -> Call:
    def call(world: World) -> object:
        path = world.root.parent / "scan.txt"
        path.write_text("a scan\n", "utf-8")
        return actions.attach(world.archive, "telegram-23256", world.signers["archivist"], source=path,
                              role=role, now=world.tick())  # type: ignore[arg-type]
    return call


def _note(kind: object) -> Call:
    def call(world: World) -> object:
        return actions.add_note(world.archive, "telegram-23256", world.signers["translator"], quote="Kaesong",
                                text="x", kind=kind, occurrence=1, now=world.tick())  # type: ignore[arg-type]
    return call


def _ingest(profile: object) -> Call:
    def call(world: World) -> object:
        return ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick(),
                      profile=profile, record_id="other")  # type: ignore[arg-type]
    return call


def _prepare(profile: object) -> Call:
    def call(world: World) -> object:
        return prepare_record(read_transcription(REFERENCE), profile=profile, sidecar=None,  # type: ignore[arg-type]
                              overrides={}, record_id=None)
    return call


def _generate(roles: list[object]) -> Call:
    def call(world: World) -> object:
        return generate_key(world.archive, name="New Name", roles=roles, passphrase=PASSPHRASE.encode(),  # type: ignore[arg-type]
                            now=T0, rounds=1, home=world.root.parent / "home")
    return call


def _signer_role(role: object) -> Call:
    def call(world: World) -> object:
        signer = replace(world.signers["translator"], role=role)
        return actions.add_note(world.archive, "telegram-23256", signer, quote="Kaesong", text="x", occurrence=1,
                                now=world.tick())
    return call


def _choose_role(role: object) -> Call:
    def call(world: World) -> object:
        card = world.signers["archivist"].card
        return choose_role(card, EventType.ATTACHMENT, world.archive.config().policy, role)  # type: ignore[arg-type]
    return call


REFUSED: dict[str, tuple[Call, ErrorCode]] = {
    "attach-unknown-role": (_attach("wizard"), ErrorCode.USAGE),
    "attach-a-second-transcription": (_attach("transcription"), ErrorCode.USAGE),
    "attach-role-not-a-string": (_attach(7), ErrorCode.USAGE),
    "note-unknown-kind": (_note("gossip"), ErrorCode.USAGE),
    "note-editorial-insertion-by-hand": (_note("editorial-insertion"), ErrorCode.USAGE),
    "ingest-unknown-profile": (_ingest("memo"), ErrorCode.USAGE),
    "prepare-profile-in-capitals": (_prepare("TELEGRAM"), ErrorCode.USAGE),
    "generate-unknown-role": (_generate(["archivist", "wizard"]), ErrorCode.ROLE_UNKNOWN),
    "generate-no-role": (_generate([]), ErrorCode.USAGE),
    "signer-with-an-unknown-role": (_signer_role("wizard"), ErrorCode.ROLE_UNKNOWN),
    "choose-an-unknown-role": (_choose_role("wizard"), ErrorCode.ROLE_UNKNOWN),
}


@pytest.mark.parametrize(("call", "code"), list(REFUSED.values()), ids=list(REFUSED))
def test_a_library_caller_passing_a_bad_choice_gets_a_coded_error(
    ingested: World, call: Call, code: ErrorCode
) -> None:
    before = (ingested.archive.record_dir("telegram-23256") / "manifest.json").read_bytes()
    with pytest.raises(ProvenanceError) as caught:
        call(ingested)
    assert caught.value.code is code
    assert (ingested.archive.record_dir("telegram-23256") / "manifest.json").read_bytes() == before
    assert not ingested.archive.record_dir("other").exists()


def test_good_choices_given_as_strings_still_work(ingested: World) -> None:
    _attach("scan")(ingested)
    _note("comment")(ingested)
    state = ingested.archive  # the record holds both
    from provenance.manifest_io import read_manifest

    record = read_manifest(state.record_dir("telegram-23256"))
    assert record.state.files[-1].role == "scan" and record.state.notes[-1].kind == "comment"
    assert record.events[-1].details["kind"] == "comment" and type(record.events[-2].details["role"]) is str


@pytest.mark.parametrize(
    ("command", "option", "choice"),
    [("attach", "--as", "original|scan|translation|attachment"),
     ("note", "--kind", "translation|editorial|comment|correction"),
     ("ingest", "--profile", "auto|telegram|generic")],
)
def test_the_help_lists_the_choices(world: World, command: str, option: str, choice: str) -> None:
    from tests.helpers import run_in_process

    result = run_in_process(world, command, "--help")
    assert f"{option} <{choice}>" in result.stdout


def test_a_bad_choice_on_the_command_line_is_usage_invalid(ingested: World) -> None:
    from tests.helpers import json_error, run_in_process

    result = run_in_process(ingested, "attach", "telegram-23256", str(REFERENCE), "--as", "wizard", "--json")
    assert result.returncode == 2 and json_error(result)["code"] == "usage.invalid"
