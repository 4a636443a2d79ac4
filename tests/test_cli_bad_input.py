"""Every bad input gets one clear line, exit 2 (or what the design says), no traceback, and nothing written.

Each case runs the installed command on an archive that already holds the reference record, and compares
a full snapshot of the archive and of the key home (every path and every byte) before and after.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from provenance.errors import ErrorCode
from provenance.keys import b64url
from tests.conftest import CORPUS, REFERENCE, World
from tests.helpers import (
    ARCHIVIST,
    PUBLISHER,
    REVIEWER,
    RID,
    TRANSLATOR,
    assert_one_clear_line,
    json_error,
    run_in_process,
    tree_snapshot,
)

Prepare = Callable[[World, Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One refused command: how to build its arguments, and the exit and error code it must give."""

    prepare: Prepare
    code: ErrorCode
    exit: int = 2
    env: dict[str, str] = field(default_factory=dict)
    names: str | None = None  # a field or value the message must name


def write(tmp: Path, name: str, data: bytes) -> str:
    path = tmp / name
    path.write_bytes(data)
    return str(path)


def sidecar(document: object) -> Prepare:
    def prepare(w: World, tmp: Path) -> list[str]:
        raw = document if isinstance(document, str) else json.dumps(document)
        meta = write(tmp, "meta.json", raw.encode("utf-8"))
        return ["ingest", str(CORPUS / "synthetic-telegram-4471.txt"), "--metadata", meta, "--key", ARCHIVIST]

    return prepare


def args(*items: str) -> Prepare:
    return lambda w, tmp: list(items)


def config(text: str, command: Prepare) -> Prepare:
    def prepare(w: World, tmp: Path) -> list[str]:
        w.archive.config_path.write_text(text, "utf-8")
        return command(w, tmp)

    return prepare


def small_order_card(w: World, tmp: Path) -> list[str]:
    # The identity point (y = 1): order 1, so a "signature" under it proves nothing.
    public = (1).to_bytes(32, "little")
    return ["keys", "import", card_file(tmp, public)]


def order_two_card(w: World, tmp: Path) -> list[str]:
    # (0, -1): a point of order 2.
    public = (2**255 - 19 - 1).to_bytes(32, "little")
    return ["keys", "import", card_file(tmp, public)]


def non_canonical_card(w: World, tmp: Path) -> list[str]:
    # y = p + 1 >= p: a non-canonical encoding of the point y = 1 (RFC 8032 section 5.1.3 step 1).
    public = (2**255 - 19 + 1).to_bytes(32, "little")
    return ["keys", "import", card_file(tmp, public)]


def wrong_id_card(w: World, tmp: Path) -> list[str]:
    good = w.signers["translator"].card.as_json()
    good["id"] = "ed25519:" + "0" * 64
    good["name"] = "Mallory"
    return ["keys", "import", write(tmp, "card.json", json.dumps(good).encode())]


def card_file(tmp: Path, public: bytes) -> str:
    card = {
        "format": "provenance-key-card/1",
        "id": "ed25519:" + hashlib.sha256(public).hexdigest(),
        "algorithm": "ed25519",
        "public_key": b64url(public),
        "name": "Mallory",
        "roles": ["publisher"],
        "valid_from": "2026-01-01T00:00:00Z",
    }
    return write(tmp, "weak-card.json", json.dumps(card).encode())


NOT_UTF8 = "CIPHERED TELEGRAM No. 1\n\nCaf\xe9 au lait.\n".encode("latin-1")
MEMO = str(CORPUS / "synthetic-memo-crlf.txt")
T4471 = str(CORPUS / "synthetic-telegram-4471.txt")

CASES: dict[str, Case] = {
    # --- ingest (issue 2) -------------------------------------------------------------------------------
    "ingest-missing-file": Case(
        args("ingest", "no-such-file.txt", "--key", ARCHIVIST), ErrorCode.INPUT_NOT_FOUND
    ),
    "ingest-a-folder": Case(
        lambda w, tmp: ["ingest", str(tmp), "--key", ARCHIVIST], ErrorCode.INPUT_NOT_FOUND
    ),
    "ingest-id-exists": Case(args("ingest", str(REFERENCE), "--key", ARCHIVIST), ErrorCode.RECORD_EXISTS),
    "ingest-explicit-id-exists": Case(
        args("ingest", T4471, "--id", RID, "--key", ARCHIVIST), ErrorCode.RECORD_EXISTS
    ),
    "ingest-bad-id": Case(
        args("ingest", T4471, "--id", "../escape", "--key", ARCHIVIST), ErrorCode.RECORD_ID_INVALID
    ),
    "ingest-wrong-passphrase": Case(
        args("ingest", T4471, "--key", ARCHIVIST),
        ErrorCode.KEY_PASSPHRASE_WRONG,
        env={"PROVENANCE_PASSPHRASE": "not the passphrase"},
    ),
    "ingest-passphrase-file-missing": Case(
        args("ingest", T4471, "--key", ARCHIVIST, "--passphrase-file", "/nonexistent/pass"),
        ErrorCode.INPUT_NOT_FOUND,
    ),
    "ingest-no-passphrase": Case(
        args("ingest", T4471, "--key", ARCHIVIST),
        ErrorCode.KEY_PASSPHRASE_MISSING,
        env={"PROVENANCE_PASSPHRASE": ""},
    ),
    "ingest-no-usable-key": Case(
        lambda w, tmp: ["ingest", T4471],
        ErrorCode.KEY_NO_DEFAULT,
        env={"PROVENANCE_HOME": "/nonexistent-home"},
    ),
    "ingest-no-private-key-for-card": Case(
        args("ingest", T4471, "--key", ARCHIVIST),
        ErrorCode.KEY_NOT_FOUND,
        env={"PROVENANCE_HOME": "/nonexistent-home"},
    ),
    "ingest-unknown-key": Case(args("ingest", T4471, "--key", "Nobody"), ErrorCode.KEY_NOT_FOUND),
    # several keys may annotate (archivist, translator, reviewer): none is chosen for the user
    "note-several-keys-none-chosen": Case(
        args("note", RID, "--quote", "Qingdao", "--text", "x"), ErrorCode.KEY_AMBIGUOUS
    ),
    "ingest-translator-may-not-register": Case(
        args("ingest", T4471, "--key", TRANSLATOR), ErrorCode.ROLE_NOT_ALLOWED
    ),
    "ingest-unknown-role": Case(
        args("ingest", T4471, "--key", ARCHIVIST, "--role", "wizard"), ErrorCode.ROLE_UNKNOWN
    ),
    "ingest-role-the-key-lacks": Case(
        args("ingest", T4471, "--key", ARCHIVIST, "--role", "publisher"), ErrorCode.ROLE_NOT_ALLOWED
    ),
    "ingest-not-utf8": Case(
        lambda w, tmp: ["ingest", write(tmp, "latin1.txt", NOT_UTF8), "--key", ARCHIVIST],
        ErrorCode.INPUT_ENCODING,
    ),
    "ingest-empty": Case(
        lambda w, tmp: ["ingest", write(tmp, "empty.txt", b""), "--key", ARCHIVIST], ErrorCode.INPUT_EMPTY
    ),
    "ingest-only-whitespace": Case(
        lambda w, tmp: ["ingest", write(tmp, "blank.txt", b" \r\n\n\t\n"), "--key", ARCHIVIST],
        ErrorCode.INPUT_EMPTY,
    ),
    "ingest-nul-bytes": Case(
        lambda w, tmp: ["ingest", write(tmp, "nul.txt", b"some\x00text\n"), "--key", ARCHIVIST],
        ErrorCode.INPUT_ENCODING,
    ),
    "ingest-unknown-encoding": Case(
        args("ingest", T4471, "--encoding", "klingon-8", "--key", ARCHIVIST), ErrorCode.USAGE
    ),
    "ingest-unknown-profile": Case(
        args("ingest", T4471, "--profile", "memo", "--key", ARCHIVIST), ErrorCode.USAGE
    ),
    "ingest-telegram-profile-on-a-memo": Case(
        args("ingest", MEMO, "--profile", "telegram", "--key", ARCHIVIST), ErrorCode.PROFILE_NO_MATCH
    ),
    "ingest-bad-sent-option": Case(
        args("ingest", MEMO, "--sent", "14.2.1950", "--key", ARCHIVIST),
        ErrorCode.METADATA_INVALID,
        names="sent",
    ),
    "ingest-bad-language-option": Case(
        args("ingest", MEMO, "--language", "English!", "--key", ARCHIVIST),
        ErrorCode.METADATA_INVALID,
        names="language",
    ),
    "sidecar-number-not-a-string": Case(
        sidecar({"telegram_number": 4471}), ErrorCode.METADATA_INVALID, names="telegram_number"
    ),
    "sidecar-unknown-field": Case(sidecar({"colour": "red"}), ErrorCode.METADATA_INVALID, names="colour"),
    "sidecar-bad-sent": Case(sidecar({"sent": "3.12.1950"}), ErrorCode.METADATA_INVALID, names="sent"),
    "sidecar-impossible-month": Case(
        sidecar({"sent": "1950-13-03"}), ErrorCode.METADATA_INVALID, names="sent"
    ),
    "sidecar-copies-count-zero": Case(
        sidecar({"copies": [{"recipient": "Molotov", "count": 0}]}), ErrorCode.METADATA_INVALID, names="count"
    ),
    "sidecar-float": Case(
        sidecar('{"series": "B", "copies": [{"recipient": "M", "count": 1.5}]}'), ErrorCode.METADATA_INVALID
    ),
    "sidecar-duplicate-key": Case(
        sidecar('{"title": "a", "title": "b"}'), ErrorCode.METADATA_INVALID, names="title"
    ),
    "sidecar-not-json": Case(sidecar("title: not json"), ErrorCode.METADATA_INVALID),
    "sidecar-not-an-object": Case(sidecar(["title"]), ErrorCode.METADATA_INVALID),
    "sidecar-missing": Case(
        args("ingest", T4471, "--metadata", "/nonexistent/meta.json", "--key", ARCHIVIST),
        ErrorCode.INPUT_NOT_FOUND,
    ),
    "no-archive-here": Case(
        args("ingest", T4471, "--archive", "/nonexistent-archive"), ErrorCode.ARCHIVE_NOT_FOUND
    ),
    # --- records that do not exist ---------------------------------------------------------------------
    "note-unknown-record": Case(
        args("note", "telegram-1", "--quote", "x", "--text", "y", "--key", TRANSLATOR),
        ErrorCode.RECORD_NOT_FOUND,
    ),
    "show-unknown-record": Case(args("show", "telegram-1"), ErrorCode.RECORD_NOT_FOUND),
    "log-unknown-record": Case(args("log", "telegram-1"), ErrorCode.RECORD_NOT_FOUND),
    "diff-unknown-record": Case(args("diff", "telegram-1"), ErrorCode.RECORD_NOT_FOUND),
    "show-bad-record-id": Case(args("show", "../keys"), ErrorCode.RECORD_ID_INVALID),
    "show-version-out-of-range": Case(args("show", RID, "--version", "9"), ErrorCode.VERSION_NOT_FOUND),
    "show-version-zero": Case(args("show", RID, "--version", "0"), ErrorCode.VERSION_NOT_FOUND),
    "diff-version-out-of-range": Case(args("diff", RID, "1", "9"), ErrorCode.VERSION_NOT_FOUND),
    "verify-missing-path": Case(args("verify", "records/telegram-1"), ErrorCode.INPUT_NOT_FOUND),
    "verify-missing-trust-store": Case(
        args("verify", f"records/{RID}", "--trust", "/nonexistent-trust"), ErrorCode.INPUT_NOT_FOUND
    ),
    # --- keys ------------------------------------------------------------------------------------------
    "import-small-order-key": Case(small_order_card, ErrorCode.KEY_WEAK),
    "import-order-two-key": Case(order_two_card, ErrorCode.KEY_WEAK),
    "import-non-canonical-key": Case(non_canonical_card, ErrorCode.KEY_WEAK),
    "import-card-id-not-its-key": Case(wrong_id_card, ErrorCode.KEY_MALFORMED),
    "import-not-a-card": Case(
        lambda w, tmp: ["keys", "import", write(tmp, "card.json", b'{"id": 1}')], ErrorCode.KEY_MALFORMED
    ),
    "import-missing-card": Case(args("keys", "import", "/nonexistent/card.json"), ErrorCode.INPUT_NOT_FOUND),
    "generate-unknown-role": Case(
        args("keys", "generate", "--name", "X", "--role", "wizard"), ErrorCode.ROLE_UNKNOWN
    ),
    "revoke-unknown-key": Case(args("keys", "revoke", "Nobody"), ErrorCode.KEY_NOT_FOUND),
    # --- notes, custody, revisions, reviews, releases (issue 3) -----------------------------------------
    "note-quote-does-not-occur": Case(
        args("note", RID, "--quote", "Kim Il Sung", "--text", "x", "--key", TRANSLATOR),
        ErrorCode.NOTE_QUOTE_NOT_FOUND,
    ),
    "note-quote-ambiguous": Case(
        args("note", RID, "--quote", "Kaesong", "--text", "x", "--key", TRANSLATOR),
        ErrorCode.NOTE_QUOTE_AMBIGUOUS,
    ),
    "note-occurrence-out-of-range": Case(
        args("note", RID, "--quote", "Kaesong", "--occurrence", "4", "--text", "x", "--key", TRANSLATOR),
        ErrorCode.NOTE_QUOTE_AMBIGUOUS,
    ),
    "note-empty-text": Case(
        args("note", RID, "--quote", "Kaeseong", "--text", " ", "--key", TRANSLATOR), ErrorCode.USAGE
    ),
    "note-unknown-kind": Case(
        args("note", RID, "--quote", "Kaeseong", "--text", "x", "--kind", "gossip", "--key", TRANSLATOR),
        ErrorCode.USAGE,
    ),
    "note-file-not-in-record": Case(
        args("note", RID, "--quote", "Kaeseong", "--text", "x", "--file", "other.txt", "--key", TRANSLATOR),
        ErrorCode.FILE_NOT_IN_RECORD,
    ),
    "note-by-publisher": Case(
        args("note", RID, "--quote", "Kaeseong", "--text", "x", "--key", PUBLISHER),
        ErrorCode.ROLE_NOT_ALLOWED,
    ),
    "revision-identical": Case(
        args("revise", RID, str(REFERENCE), "--reason", "no change", "--key", ARCHIVIST),
        ErrorCode.REVISION_UNCHANGED,
    ),
    "revision-missing-file": Case(
        args("revise", RID, "nowhere.txt", "--reason", "r", "--key", ARCHIVIST), ErrorCode.INPUT_NOT_FOUND
    ),
    "revision-not-utf8": Case(
        lambda w, tmp: [
            "revise",
            RID,
            write(tmp, "latin1.txt", NOT_UTF8),
            "--reason",
            "r",
            "--key",
            ARCHIVIST,
        ],
        ErrorCode.INPUT_ENCODING,
    ),
    "revision-empty-reason": Case(
        lambda w, tmp: [
            "revise",
            RID,
            write(tmp, "new.txt", b"new text\n"),
            "--reason",
            " ",
            "--key",
            ARCHIVIST,
        ],
        ErrorCode.USAGE,
    ),
    "custody-empty-from": Case(
        args("custody", RID, "--from", "", "--to", "Wilson Center", "--key", ARCHIVIST), ErrorCode.USAGE
    ),
    "custody-same-custodian": Case(
        args("custody", RID, "--from", "Wilson Center", "--to", "Wilson Center", "--key", ARCHIVIST),
        ErrorCode.USAGE,
    ),
    "custody-by-translator": Case(
        args("custody", RID, "--from", "A", "--to", "B", "--key", TRANSLATOR), ErrorCode.ROLE_NOT_ALLOWED
    ),
    "release-by-translator": Case(args("release", RID, "--key", TRANSLATOR), ErrorCode.ROLE_NOT_ALLOWED),
    "review-by-translator": Case(args("review", RID, "--key", TRANSLATOR), ErrorCode.ROLE_NOT_ALLOWED),
    "release-as-a-role-the-key-lacks": Case(
        args("release", RID, "--key", TRANSLATOR, "--role", "publisher"), ErrorCode.ROLE_NOT_ALLOWED
    ),
    "review-unknown-outcome": Case(
        args("review", RID, "--outcome", "maybe", "--key", REVIEWER), ErrorCode.USAGE
    ),
    "command-unknown-role": Case(
        args("review", RID, "--key", REVIEWER, "--role", "wizard"), ErrorCode.ROLE_UNKNOWN
    ),
    "clock-before-the-last-event": Case(
        args("review", RID, "--key", REVIEWER),
        ErrorCode.USAGE,
        env={"PROVENANCE_NOW": "2026-01-05T09:00:30Z"},
    ),
    "clock-malformed": Case(
        args("review", RID, "--key", REVIEWER), ErrorCode.USAGE, env={"PROVENANCE_NOW": "yesterday"}
    ),
    "config-unknown-event-type": Case(
        config('[roles]\nannihilation = ["archivist"]\n', args("review", RID, "--key", REVIEWER)),
        ErrorCode.ARCHIVE_CONFIG,
        names="annihilation",
    ),
    "config-unknown-role": Case(
        config('[roles]\nreview = ["wizard"]\n', args("review", RID, "--key", REVIEWER)),
        ErrorCode.ARCHIVE_CONFIG,
        names="wizard",
    ),
    "config-not-toml": Case(
        config("[roles\n", args("review", RID, "--key", REVIEWER)), ErrorCode.ARCHIVE_CONFIG
    ),
    "config-policy-forbids-the-reviewer": Case(
        config('[roles]\nreview = ["archivist"]\n', args("review", RID, "--key", REVIEWER)),
        ErrorCode.ROLE_NOT_ALLOWED,
    ),
}


def _run_case(
    world: World, tmp_path: Path, case: Case, *extra: str, subprocess: bool = True
) -> tuple[object, list[str]]:
    inputs = tmp_path / "inputs"
    inputs.mkdir(exist_ok=True)
    argv = case.prepare(world, inputs)
    before = (tree_snapshot(world.root), tree_snapshot(world.home))
    run = world.run if subprocess else functools.partial(run_in_process, world)
    result = run(*argv, *extra, env=case.env)
    after = (tree_snapshot(world.root), tree_snapshot(world.home))
    assert after[0] == before[0], "the archive changed"
    assert after[1] == before[1], "the key home changed"
    return result, argv


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_refused_cleanly(ingested: World, tmp_path: Path, case: Case) -> None:
    """The whole table through the CLI's main() in this process (the JSON subset below runs the installed
    command as a subprocess)."""
    result, _ = _run_case(ingested, tmp_path, case, subprocess=False)
    assert_one_clear_line(result, case.exit, str(case.code))  # type: ignore[arg-type]
    if case.names:
        assert case.names in result.stderr  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "name",
    [
        # issue 2, through the installed command
        "ingest-missing-file",
        "note-unknown-record",
        "ingest-wrong-passphrase",
        "ingest-no-usable-key",
        "ingest-id-exists",
        "sidecar-unknown-field",
        "sidecar-bad-sent",
        "ingest-not-utf8",
        "ingest-empty",
        "import-small-order-key",
        # issue 3
        "note-quote-does-not-occur",
        "note-quote-ambiguous",
        "revision-identical",
        "config-unknown-event-type",
        "command-unknown-role",
        "release-by-translator",
        "show-version-out-of-range",
    ],
)
def test_bad_input_as_a_subprocess_under_json(ingested: World, tmp_path: Path, name: str) -> None:
    """The installed command: one error document on stdout, one line on stderr, nothing written."""
    case = CASES[name]
    result, _ = _run_case(ingested, tmp_path, case, "--json")
    assert_one_clear_line(result, case.exit, str(case.code))  # type: ignore[arg-type]
    error = json_error(result)  # type: ignore[arg-type]
    assert error["code"] == case.code
    if case.names:
        assert case.names in json.dumps(error)


def test_quote_not_found_shows_the_closest_passages(ingested: World) -> None:
    result = ingested.run("note", RID, "--quote", "Kim Il Sung", "--text", "x", "--key", TRANSLATOR, "--json")
    assert result.returncode == 2
    error = json_error(result)
    assert error["code"] == ErrorCode.NOTE_QUOTE_NOT_FOUND
    assert "Kim II Sung" in error["closest"]  # the passage as it stands in the text, whole words
    assert "Kim II Sung" in result.stderr


def test_ambiguous_quote_is_accepted_with_an_occurrence(ingested: World) -> None:
    refused = ingested.run("note", RID, "--quote", "Kaesong", "--text", "x", "--key", TRANSLATOR, "--json")
    assert json_error(refused)["occurrences"] == 3
    result = ingested.run(
        "note",
        RID,
        "--quote",
        "Kaesong",
        "--occurrence",
        "2",
        "--text",
        "The town itself.",
        "--key",
        TRANSLATOR,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    text = REFERENCE.read_text("utf-8")
    second = text.index("Kaesong", text.index("Kaesong") + 1)
    assert result.json()["event"]["details"]["start"] == second


@pytest.mark.parametrize("missing", ["--from", "--to"])
def test_custody_without_from_or_to(ingested: World, missing: str) -> None:
    options = {"--from": "Archive of the President", "--to": "Wilson Center"}
    del options[missing]
    argv = ["custody", RID, *[x for kv in options.items() for x in kv], "--key", ARCHIVIST]
    before = tree_snapshot(ingested.root)
    result = ingested.run(*argv)
    assert_one_clear_line(result, 2, ErrorCode.USAGE)
    assert missing in result.stderr  # names the option
    as_json = ingested.run(*argv, "--json")
    assert (as_json.returncode, json_error(as_json)["code"]) == (2, ErrorCode.USAGE)
    assert tree_snapshot(ingested.root) == before


def test_weak_key_card_is_refused_by_the_trust_store_too(ingested: World, tmp_path: Path) -> None:
    """A weak card dropped into keys/ by hand is never trusted (and is shown as refused)."""
    import shutil

    card = Path(small_order_card(ingested, tmp_path)[-1])
    shutil.copy(card, ingested.archive.keys_dir / "mallory.json")
    result = ingested.run("keys", "list", "--json")
    assert result.returncode == 0
    document = result.json()
    assert "Mallory" not in [k["name"] for k in document["keys"]]
    assert [Path(r["file"]).name for r in document["rejected"]] == ["mallory.json"]
