"""Who signed it, item 8: bounded messages (issue 17).

No error line or JSON error carries more than a few hundred characters of user input: a 900,000-character
field gives a short message naming the field and the value's length. Each case runs the installed CLI
with and without ``--json``. (One argument on Linux holds at most 128 KiB: the longest values come in
files.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.errors import ErrorCode, UsageError, bound_message, clip
from tests.conftest import REFERENCE, World
from tests.helpers import RID, assert_one_clear_line, json_error
from tests.signers_helpers import cli

HUGE = 900_000
ARG = 100_000  # below the kernel's bound on one argument

Case = Callable[[World, Path], list[str]]


def sidecar_title(world: World, tmp: Path) -> list[str]:
    path = tmp / "meta.json"
    path.write_text(json.dumps({"title": "T" * HUGE}), "utf-8")
    return ["ingest", str(REFERENCE), "--metadata", str(path)]


def sidecar_unknown_field(world: World, tmp: Path) -> list[str]:
    path = tmp / "meta.json"
    path.write_text(json.dumps({"x" * HUGE: 1}), "utf-8")
    return ["ingest", str(REFERENCE), "--metadata", str(path)]


def key_card_name(world: World, tmp: Path) -> list[str]:
    card = json.loads(next(world.archive.keys_dir.glob("a-archivist-*.json")).read_text()) | {"name": "N" * HUGE}
    path = tmp / "card.json"
    path.write_text(json.dumps(card), "utf-8")
    return ["keys", "import", str(path)]


def key_reference(world: World, tmp: Path) -> list[str]:
    return ["custody", RID, "--key", "k" * ARG, "--from", "a", "--to", "b"]


def record_id(world: World, tmp: Path) -> list[str]:
    return ["show", "r" * ARG]


def role_name(world: World, tmp: Path) -> list[str]:
    return ["keys", "generate", "--name", "Z. Zed", "--role", "r" * ARG]


def custodian(world: World, tmp: Path) -> list[str]:
    return ["custody", RID, "--key", "A. Archivist", "--from", "a", "--to", "c" * ARG]


def option_value(world: World, tmp: Path) -> list[str]:
    return ["verify", "--jobs", "9" * ARG, f"records/{RID}"]


def transcription_name(world: World, tmp: Path) -> list[str]:
    return ["ingest", str(tmp / ("n" * 200)) + "/" + "m" * 250]


CASES: dict[str, tuple[Case, str, str]] = {
    "sidecar-title": (sidecar_title, "metadata.invalid", "title"),
    "sidecar-unknown-field": (sidecar_unknown_field, "metadata.invalid", ""),
    "key-card-name": (key_card_name, "key.malformed", "name"),
    "key-reference": (key_reference, "key.not-found", ""),
    "record-id": (record_id, "record.id-invalid", ""),
    "role-name": (role_name, "role.unknown", ""),
    "custodian": (custodian, "usage.invalid", "custodian"),
    "option-value": (option_value, "usage.invalid", "--jobs"),
}


@pytest.mark.parametrize(("case", "code", "field"), list(CASES.values()), ids=list(CASES))
def test_a_huge_value_gives_a_short_message_naming_the_field(
    ingested: World, tmp_path: Path, case: Case, code: str, field: str, request: pytest.FixtureRequest
) -> None:
    args = case(ingested, tmp_path)
    result = cli(ingested, request)(*args, "--json")
    error = json_error(result)
    assert result.returncode == 2
    assert error["code"] == code or (code == "record.id-invalid" and error["code"] == "record.not-found")
    line = result.stderr.strip()
    assert_one_clear_line(result, 2, error["code"])
    assert len(line) < 1000, len(line)
    assert len(json.dumps(error)) < 1600, len(json.dumps(error))
    assert all(len(str(v)) <= 700 for v in error.values())
    assert field in error["message"]


def test_the_length_of_a_huge_value_is_named(ingested: World, tmp_path: Path) -> None:
    result = ingested.run(*sidecar_title(ingested, tmp_path))
    assert_one_clear_line(result, 2, "metadata.invalid")
    assert "900,000 characters" in result.stderr and "title" in result.stderr


def test_bounds_of_the_central_helpers() -> None:
    assert clip("short") == "short"
    assert clip("x" * HUGE).endswith("(900,000 characters)") and len(clip("x" * HUGE)) < 220
    message = bound_message("field title: '" + "y" * HUGE + "' is too long; shorten it")
    assert message.startswith("field title") and message.endswith("shorten it") and len(message) < 700
    error = UsageError(ErrorCode.USAGE, "z" * HUGE, field="f" * HUGE, items=["i" * HUGE] * 200)
    assert len(error.message) < 700 and len(str(error.to_json())) < 20_000
