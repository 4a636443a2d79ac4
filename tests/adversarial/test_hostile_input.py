"""Hostile bytes where JSON, names and text are expected: each a named case with its state or error code.

Duplicate keys, non-canonical numbers, huge strings and deep nesting in the manifest, a key card and a
catalogue sidecar; over-long values on the command line; Unicode look-alikes (NFC/NFD, full-width letters,
right-to-left marks, zero-width characters) and case collisions in file names; and record content that
tries to act on the terminal of whoever reads it (escape sequences, rich markup).
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from pathlib import Path

import pytest

from provenance.model.events import Role
from tests.adversarial.forge import (
    RID,
    Doc,
    commit_state,
    keys_of,
    load,
    outsider,
    rechain,
    record_dir,
    run_in_process,
    save,
    verify,
    write_card,
)
from tests.conftest import World
from tests.helpers import tree_snapshot


def manifest_path(world: World) -> Path:
    return record_dir(world) / "manifest.json"


def replace_bytes(world: World, old: bytes, new: bytes, count: int = 1) -> None:
    path = manifest_path(world)
    data = path.read_bytes()
    assert old in data, old
    path.write_bytes(data.replace(old, new, count))


# --- duplicate keys ----------------------------------------------------------------------------------------

DUPLICATES = {
    # a second "format" at the top: the last one would win in most parsers
    "top-level": (
        b'"format": "provenance-manifest/1",',
        b'"format": "provenance-manifest/1", "format": "x",',
    ),
    # the signed summary said once, and differently a second time (which one was signed?)
    "inside-a-signed-event": (b'"summary": "Registered', b'"summary": "Forged", "summary": "Registered'),
    "inside-the-state": (b'"catalogue": {', b'"catalogue": {"title": "A", "title": "B", '),
}


@pytest.mark.parametrize("where", DUPLICATES)
def test_duplicate_json_keys_in_the_manifest(lived: World, where: str) -> None:
    replace_bytes(lived, *DUPLICATES[where])
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (1, "invalid", {"manifest.duplicate-key"})


def test_duplicate_json_keys_in_a_key_card(lived: World) -> None:
    path = next(lived.archive.keys_dir.glob("r-reviewer-*.json"))
    text = path.read_text("utf-8")
    path.write_text(text.replace('"roles": [', '"roles": ["publisher"], "roles": [', 1), "utf-8")
    code, report, found = verify(lived, record_dir(lived))
    assert (code, found) == (3, {"signer.unknown"})  # the card is refused, never half-read
    assert any("duplicate key" in warning for warning in report["warnings"])


def test_duplicate_json_keys_in_a_catalogue_sidecar(world: World, tmp_path: Path) -> None:
    from tests.conftest import REFERENCE

    sidecar = tmp_path / "meta.json"
    sidecar.write_text('{"title": "A", "title": "B"}', "utf-8")
    result = run_in_process(world, "ingest", str(REFERENCE), "--metadata", str(sidecar), "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "metadata.invalid")


# --- non-canonical numbers -----------------------------------------------------------------------------------

REFUSED_NUMBERS = {
    "fraction": b"1.0",
    "exponent": b"1e0",
    "upper-exponent": b"1E+0",
    "negative-zero-fraction": b"-0.0",
    "beyond-2^53": b"9007199254740992",
    "huge": b"1" + b"0" * 400,
    "nan": b"NaN",
    "infinity": b"Infinity",
    "leading-zero": b"01",
    "plus-sign": b"+1",
    "hex": b"0x1",
}


@pytest.mark.parametrize("name", REFUSED_NUMBERS)
def test_non_canonical_numbers_are_refused(lived: World, name: str) -> None:
    replace_bytes(lived, b'"seq": 1,', b'"seq": ' + REFUSED_NUMBERS[name] + b",")
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (1, "invalid", {"manifest.malformed"})


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b'"seq": 1,', b'"seq": 1    ,'),  # white space outside strings
        (b'"type": "registration"', b'"type": "\\u0072egistration"'),  # an escape for a plain letter
    ],
    ids=["white-space", "escaped-letter"],
)
def test_other_spellings_of_the_same_value_are_reported(lived: World, old: bytes, new: bytes) -> None:
    """The signature covers RFC 8785 bytes of the parsed value, and these spellings parse to the same value;
    but any byte changed in a manifest must be caught (tests/test_properties.py), so the verifier also
    requires the layout the tool writes. (A bundle's tag manifest covers manifest.json byte for byte too.)"""
    replace_bytes(lived, old, new)
    code, report, found = verify(lived, record_dir(lived))
    assert (code, report["state"], found) == (1, "invalid", {"manifest.malformed"})


def test_negative_zero_is_the_same_integer_as_zero() -> None:
    """-0 is the one other spelling of an integer JSON allows; it parses (and so is signed) as 0."""
    from provenance.canonical import canonical_bytes, loads_strict

    assert canonical_bytes(loads_strict(b'{"n": -0}')) == canonical_bytes(loads_strict(b'{"n": 0}'))


# --- huge strings and deep nesting -------------------------------------------------------------------------


def test_huge_string_in_a_signed_field(lived: World) -> None:
    doc = load(lived)
    doc["events"][1]["summary"] = "x" * 100_000
    save(lived, doc)
    code, _report, found = verify(lived, record_dir(lived))
    assert (code, found) == (1, {"manifest.schema"})


def test_manifest_beyond_the_size_bound(lived: World) -> None:
    path = manifest_path(lived)
    with path.open("ab") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: costs no disk
    code, _report, found = verify(lived, record_dir(lived))
    assert (code, found) == (1, {"manifest.malformed"})


@pytest.mark.parametrize("depth", [65, 10_000, 1_000_000])
def test_deeply_nested_json_in_the_manifest(lived: World, depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    replace_bytes(lived, b'"details": {', b'"details": {"deep": ' + nested + b", ")
    code, report, found = verify(lived, record_dir(lived))
    assert (code, found) == (1, {"manifest.malformed"})
    assert report["problems"][0]["found"] == "too-deep"


def test_deeply_nested_json_in_a_key_card_and_a_sidecar(lived: World, tmp_path: Path) -> None:
    deep = "[" * 5000 + "]" * 5000
    card = tmp_path / "card.json"
    card.write_text('{"id": ' + deep + "}", "utf-8")
    result = run_in_process(lived, "keys", "import", str(card), "--json")
    assert (result.returncode, result.json()["error"]["code"]) == (2, "key.malformed")
    sidecar = tmp_path / "meta.json"
    sidecar.write_text('{"title": ' + deep + "}", "utf-8")
    result = run_in_process(lived, "ingest", str(tmp_path / "x.txt"), "--metadata", str(sidecar), "--json")
    assert result.returncode == 2  # the missing transcription or the sidecar: refused either way, one line


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (["note", RID, "--quote", "Kaeseong", "--text", "y" * 70_000, "--key", "T. Translator"], "text"),
        (
            [
                "custody",
                RID,
                "--from",
                "Wilson Center Digital Archive",
                "--to",
                "x" * 5000,
                "--key",
                "A. Archivist",
            ],
            "custodian",
        ),
        (["keys", "generate", "--name", "n" * 5000, "--role", "archivist", "--kdf-rounds", "1"], "name"),
        (["catalogue", RID, "--set", "title=" + "t" * 70_000, "--key", "A. Archivist"], "title"),
    ],
    ids=["note-text", "custodian", "key-name", "catalogue-title"],
)
def test_huge_strings_on_the_command_line_are_refused_and_nothing_is_written(
    lived: World, command: list[str], field: str
) -> None:
    """Before the fix a 5,000-character custodian was signed and written, and the record could no longer
    be read by any command; a 70,000-character note was an internal error."""
    before = tree_snapshot(lived.root)
    result = run_in_process(lived, *command, "--json")
    error = result.json()["error"]
    assert result.returncode == 2 and error["code"] in ("usage.invalid", "metadata.invalid"), error
    assert field in error["message"]
    assert len(result.stderr.strip().splitlines()) == 1
    after = tree_snapshot(lived.root)
    assert {k: v for k, v in after.items() if "/locks/" not in k and not k.endswith("/locks")} == {
        k: v for k, v in before.items() if "/locks/" not in k and not k.endswith("/locks")
    }
    assert verify(lived, record_dir(lived))[0] == 0


# --- Unicode look-alikes and case collisions in names and paths ----------------------------------------------


def attach(world: World, tmp_path: Path, name: str, *, data: bytes = b"attached\n") -> tuple[int, Doc]:
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    result = run_in_process(
        world,
        "attach",
        RID,
        str(source),
        "--as",
        "attachment",
        "--name",
        name,
        "--key",
        "A. Archivist",
        "--json",
    )
    return result.returncode, result.json()


NAME = "r\u00e9sum\u00e9.txt"  # NFC: é is one code point


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        (NAME, unicodedata.normalize("NFD", NAME), "NFC and NFD spellings of one name"),
        ("notes.txt", "NOTES.TXT", "names that differ by case"),
        ("notes.txt", "\uff4eotes.txt", "a full-width letter (NFKC folds it)"),
        ("stra\u00dfe.txt", "STRASSE.TXT", "ß and SS fold to the same name"),
    ],
    ids=["nfc-nfd", "case", "full-width", "sharp-s"],
)
def test_look_alike_file_names_collide(
    lived: World, tmp_path: Path, first: str, second: str, why: str
) -> None:
    code, _doc = attach(lived, tmp_path, first)
    assert code == 0, why
    code, doc = attach(lived, tmp_path, second, data=b"another\n")
    if unicodedata.normalize("NFC", second) == first:
        assert (code, doc["error"]["code"]) == (2, "record.exists"), why  # stored as NFC: the same name
    else:
        assert (code, doc["error"]["code"]) == (2, "input.path-unsafe"), why
    assert verify(lived, record_dir(lived))[0] == 0


def test_nfd_name_is_stored_in_nfc(lived: World, tmp_path: Path) -> None:
    code, _doc = attach(lived, tmp_path, unicodedata.normalize("NFD", NAME))
    assert code == 0
    assert (record_dir(lived) / "files" / NAME).is_file()
    assert load(lived)["state"]["files"][-1]["path"] == NAME


@pytest.mark.parametrize(
    "name",
    [
        "invoice\u202etxt.exe",  # RIGHT-TO-LEFT OVERRIDE: shows as "invoiceexe.txt"
        "a\u200bb.txt",  # ZERO WIDTH SPACE
        "a\u2066b\u2069.txt",  # LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE
        "line\u2028break.txt",  # LINE SEPARATOR
        "c1\u009bcontrol.txt",  # a C1 control (a one-character CSI on some terminals)
        "trailing-space.txt ",
    ],
    ids=["rlo", "zero-width-space", "bidi-isolate", "line-separator", "c1-control", "trailing-space"],
)
def test_invisible_and_direction_changing_characters_in_names_are_refused(
    lived: World, tmp_path: Path, name: str
) -> None:
    code, doc = attach(lived, tmp_path, name)
    assert (code, doc["error"]["code"]) == (2, "input.path-unsafe")


def forge_file_entry(world: World, path: str, *, second: str | None = None) -> None:
    """An insider (holding the keys) lists ``path`` in the signed state, with a consistent history."""
    doc = load(world)
    entry = dict(doc["state"]["files"][0], path=path)
    files = [entry] if second is None else [entry, dict(doc["state"]["files"][0], path=second)]
    doc["state"]["files"] = files
    commit_state(world, doc)
    save(world, rechain(doc, keys=keys_of(world), start=len(doc["events"]) - 1))


@pytest.mark.parametrize(
    ("path", "second"),
    [
        (unicodedata.normalize("NFD", NAME), None),
        ("invoice\u202etxt.exe", None),
        ("notes.txt", "Notes.txt"),
        ("notes.txt", "\uff4eotes.txt"),
    ],
    ids=["nfd-path", "rlo-path", "case-collision", "full-width-collision"],
)
def test_signed_manifest_with_look_alike_paths_is_refused(
    lived: World, path: str, second: str | None
) -> None:
    forge_file_entry(lived, path, second=second)
    code, _report, found = verify(lived, record_dir(lived))
    assert (code, found) == (1, {"manifest.schema"})


def test_payload_file_renamed_to_its_nfd_spelling(lived: World, tmp_path: Path) -> None:
    assert attach(lived, tmp_path, NAME)[0] == 0
    files = record_dir(lived) / "files"
    os.rename(files / NAME, files / unicodedata.normalize("NFD", NAME))
    code, _report, found = verify(lived, record_dir(lived))
    assert (code, found) == (1, {"file.missing", "file.unexpected"})


def test_case_colliding_payload_file_beside_the_signed_one(lived: World) -> None:
    files = record_dir(lived) / "files"
    (files / "TELEGRAM-23256.TXT").write_bytes(b"a look-alike")
    code, _report, found = verify(lived, record_dir(lived))
    assert (code, found) == (1, {"file.unexpected"})


# --- content that acts on the terminal of whoever reads it ---------------------------------------------------

ESCAPES = "\x1b[2J\x1b[1A\x1b[2K\x1b]0;owned\x07\r\u202e\u009b31m"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_escape_sequences_in_record_content_never_reach_the_terminal(lived: World, tmp_path: Path) -> None:
    result = run_in_process(
        lived,
        "custody",
        RID,
        "--from",
        "Wilson Center Digital Archive",
        "--to",
        "Mallory" + ESCAPES,
        "--key",
        "A. Archivist",
    )
    assert result.returncode == 0
    _key, plain = outsider("Eve", [Role.AUDITOR])
    card = plain.as_json() | {"name": "Eve" + ESCAPES}  # refused since issue 17, still never shown raw
    shown = run_in_process(lived, "show", RID)
    outputs = {"show": shown.stdout + shown.stderr}
    doc = load(lived)
    doc["events"][1]["agent"] = "Eve" + ESCAPES  # and an event with a hostile agent name (invalid since 17)
    save(lived, doc)
    for command in (
        ["log", RID],
        ["verify", str(record_dir(lived))],
        ["audit"],
        ["keys", "list"],
    ):
        out = run_in_process(lived, *command)
        outputs[" ".join(command[:1])] = out.stdout + out.stderr
    imported = run_in_process(lived, "keys", "import", str(write_card(tmp_path, card)))
    outputs["keys import"] = imported.stdout + imported.stderr
    for command, text in outputs.items():
        assert not CONTROL.search(text), (command, [m.group() for m in CONTROL.finditer(text)])
    assert "\\x1b[2J" in outputs["show"]  # shown, as a visible escape


def test_escape_sequences_are_escaped_in_json_output_too(lived: World) -> None:
    run_in_process(
        lived,
        "custody",
        RID,
        "--from",
        "Wilson Center Digital Archive",
        "--to",
        "M" + ESCAPES,
        "--key",
        "A. Archivist",
    )
    result = run_in_process(lived, "show", RID, "--json")
    assert not CONTROL.search(result.stdout)
    assert json.loads(result.stdout)["record"] == RID  # still one JSON document
    shown = json.loads(result.stdout)
    assert shown["custodian"] == "M" + ESCAPES  # the value itself is kept intact


@pytest.mark.parametrize(
    "markup", ["[/]", "[bold red]", "[link=https://example.invalid]x[/link]", "[on black]"]
)
def test_rich_markup_in_record_content_is_text(lived: World, markup: str) -> None:
    """Before the fix, "[/]" in a custodian made show and log fail with an internal error."""
    to = f"Archive {markup} room"
    assert (
        run_in_process(
            lived,
            "custody",
            RID,
            "--from",
            "Wilson Center Digital Archive",
            "--to",
            to,
            "--key",
            "A. Archivist",
        ).returncode
        == 0
    )
    for command in (["show", RID], ["log", RID]):
        result = run_in_process(lived, *command)
        assert result.returncode == 0, result.stderr
        assert markup in result.stdout.replace("\n", "") or to[:20] in result.stdout


def test_error_messages_stay_on_one_line(lived: World, tmp_path: Path) -> None:
    hostile = tmp_path / "two\nlines\x1b[2J.txt"
    result = run_in_process(lived, "ingest", str(hostile))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("provenance: error: ") and "\x1b" not in lines[0]
