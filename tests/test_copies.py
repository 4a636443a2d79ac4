"""The one reading of a distribution list (provenance/model/copies.py), and that every place uses it:
``ingest --copies``, a sheet's ``copies`` cell and a telegram's ``Copies:`` line give the same recipients."""

from __future__ import annotations

import pytest

from provenance.batch.columns import map_header, read_row
from provenance.ingest.telegram import parse_telegram
from provenance.model.copies import parse_copies
from tests.conftest import REFERENCE, World
from tests.helpers import run_in_process


def c(recipient: str, count: int = 1) -> dict[str, str | int]:
    return {"recipient": recipient, "count": count}


CASES: dict[str, tuple[str, list[dict[str, str | int]]]] = {
    # issue 15: one recipient on the command line and two from the header parser, before there was one parser
    "semicolon-in-capitals": ("STALIN (2); MOLOTOV", [c("STALIN", 2), c("MOLOTOV")]),
    "comma": ("Stalin (2), Molotov", [c("Stalin", 2), c("Molotov")]),
    "bar-as-in-a-sheet": ("Stalin (2)|Molotov", [c("Stalin", 2), c("Molotov")]),
    "and": ("Stalin, Molotov and Malenkov", [c("Stalin"), c("Molotov"), c("Malenkov")]),
    "russian-and": ("Сталину (2) и Молотову", [c("Сталину", 2), c("Молотову")]),
    "words-after-the-count": ("Stalin (2 copies), Beria (3 экз.)", [c("Stalin", 2), c("Beria", 3)]),
    "space-inside-parentheses": ("Stalin ( 2)", [c("Stalin", 2)]),
    "final-period": ("Stalin (2), Molotov.", [c("Stalin", 2), c("Molotov")]),
    "white-space-collapsed": ("  Stalin \t (2) ,\n Molotov  ", [c("Stalin", 2), c("Molotov")]),
    "no-letter-left-out": ("Stalin, , 42, (3);", [c("Stalin")]),
    "empty": ("", []),
    "look-alike-digits-stay-in-the-name": ("Stalin (\u0662)", [c("Stalin (\u0662)")]),
    "full-width-digits-stay-in-the-name": ("Stalin (\uff12)", [c("Stalin (\uff12)")]),
    "bracket-kept-as-written": ("Filippov [Stalin] (2)", [c("Filippov [Stalin]", 2)]),
    "count-zero-read-for-the-model-to-refuse": ("Stalin (0)", [c("Stalin", 0)]),
    "huge-count-beyond-any-bound": ("Stalin (" + "9" * 5000 + ")", [c("Stalin", 10**12)]),
}


@pytest.mark.parametrize(("text", "expected"), list(CASES.values()), ids=list(CASES))
def test_a_distribution_list_is_read_one_way(text: str, expected: list[dict[str, str | int]]) -> None:
    assert parse_copies(text) == expected


def test_the_name_hook_runs_before_the_letter_check() -> None:
    assert parse_copies("[illegible] (2), Stalin", name=lambda n: n.replace("[illegible]", "")) == [c("Stalin")]


def test_the_header_profile_reads_the_same_recipients_title_cased() -> None:
    header = "CIPHERED TELEGRAM No. 1\n\nCopies: STALIN (2); MOLOTOV [i.e. V. M.]\n\nTo Comrade FILIPPOV.\n"
    assert parse_telegram(header)["copies"] == [c("Stalin", 2), c("Molotov")]


def test_a_sheet_cell_reads_the_same_recipients() -> None:
    columns, problems = map_header(["filename", "copies", "copies"])
    assert not problems
    row, problems = read_row(2, ["a.txt", "STALIN (2); MOLOTOV", "Beria"], columns, letters=False)
    assert not problems and row is not None
    assert row.overrides["copies"] == [c("STALIN", 2), c("MOLOTOV"), c("Beria")]


def test_the_command_line_reads_the_same_recipients(world: World) -> None:
    result = run_in_process(world, "ingest", str(REFERENCE), "--copies", "STALIN (2); MOLOTOV", "--json")
    assert result.returncode == 0, result.stderr
    assert result.json()["catalogue"]["copies"] == [c("STALIN", 2), c("MOLOTOV")]
    changed = run_in_process(
        world, "catalogue", "telegram-23256", "--set", "copies=Beria (3); Malenkov", "--reason", "r", "--json"
    )
    assert changed.returncode == 0, changed.stderr
    shown = run_in_process(world, "show", "telegram-23256", "--json").json()
    assert shown["catalogue"]["copies"] == [c("Beria", 3), c("Malenkov")]
