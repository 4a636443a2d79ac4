"""Who signed it, item 5: digits are digits (issue 17).

A telegram number or a copies count written with look-alike digits (Arabic-Indic, full-width, Devanagari,
superscript) in a header, a sidecar or an option is either made ASCII, with the fact recorded in the
signed registration event and on stderr (the ingest report), or refused with the field named: it never
reaches the signed catalogue silently.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import REFERENCE, World
from tests.helpers import json_error
from tests.signers_helpers import cli

ARABIC_INDIC = "\u0662\u0663\u0662\u0665\u0666"  # ٢٣٢٥٦
FULL_WIDTH = "\uff12\uff13\uff12\uff15\uff16"  # ２３２５６
DEVANAGARI = "\u0968\u0969\u0968\u096b\u096c"  # २३२५६

HEADERS = {
    "arabic-indic-number": ("No. 23256", f"No. {ARABIC_INDIC}", "Stalin (2)", "Stalin (2)", "telegram_number"),
    "full-width-number": ("No. 23256", f"No. {FULL_WIDTH}", "Stalin (2)", "Stalin (2)", "telegram_number"),
    "devanagari-number": ("No. 23256", f"No. {DEVANAGARI}", "Stalin (2)", "Stalin (2)", "telegram_number"),
    "mixed-number": ("No. 23256", "No. 23\u0662\u0665\u0666", "Stalin (2)", "Stalin (2)", "telegram_number"),
    "full-width-count": ("No. 23256", "No. 23256", "Stalin (2)", "Stalin (\uff12)", "copies"),
    "arabic-indic-count": ("No. 23256", "No. 23256", "Stalin (2)", "Stalin (\u0662)", "copies"),
    "superscript-count": ("No. 23256", "No. 23256", "Stalin (2)", "Stalin (\u00b2)", "copies"),
}


@pytest.mark.parametrize(("old_no", "new_no", "old_copy", "new_copy", "field"), list(HEADERS.values()), ids=list(HEADERS))
def test_look_alike_digits_in_a_header_are_made_ascii_and_reported(
    world: World, old_no: str, new_no: str, old_copy: str, new_copy: str, field: str, request: pytest.FixtureRequest
) -> None:
    run = cli(world, request)
    text = REFERENCE.read_text("utf-8").replace(old_no, new_no, 1).replace(old_copy, new_copy, 1)
    source = world.root.parent / "telegram.txt"
    source.write_text(text, "utf-8")
    result = run("ingest", str(source), "--json")
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["record"] == "telegram-23256"
    catalogue = document["catalogue"]
    assert catalogue["telegram_number"] == "23256"
    assert catalogue["copies"][0] == {"recipient": "Stalin", "count": 2}
    notes = document["event"]["details"]["normalised"]  # in the signed event: the ingest report
    assert document["normalised"] == notes and any(n.startswith(f"{field} (header)") for n in notes)
    assert f"normalised: {field} (header)" in result.stderr
    assert run("verify", "records/telegram-23256").returncode == 0


def test_an_ascii_header_is_not_reported(world: World) -> None:
    result = world.run("ingest", str(REFERENCE), "--json")
    assert result.returncode == 0
    assert "normalised" not in result.json()["event"]["details"] and result.json()["normalised"] == []


def _sidecar(world: World, document: dict[str, object]) -> str:
    path = world.root.parent / "meta.json"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return str(path)


def test_look_alike_digits_in_a_sidecar_and_an_option_are_made_ascii_and_reported(world: World) -> None:
    result = world.run("ingest", str(REFERENCE), "--metadata", _sidecar(world, {"telegram_number": ARABIC_INDIC}), "--id", "a", "--json")
    assert result.returncode == 0, result.stderr
    assert result.json()["catalogue"]["telegram_number"] == "23256"
    assert any(n.startswith("telegram_number (sidecar)") for n in result.json()["normalised"])
    option = world.run("ingest", str(REFERENCE), "--telegram-number", FULL_WIDTH, "--id", "b", "--json")
    assert option.returncode == 0, option.stderr
    assert any(n.startswith("telegram_number (option)") for n in option.json()["normalised"])


REFUSED = {
    "sidecar-recipient-count": ("--metadata", {"copies": [{"recipient": f"Stalin ({ARABIC_INDIC[0]})", "count": 1}]}, "copies"),
    "option-copies": ("--copies", f"Stalin ({FULL_WIDTH[0]})", "copies"),
    "sidecar-circled-number": ("--metadata", {"telegram_number": "\u2460\u2461"}, "telegram_number"),
}


@pytest.mark.parametrize(("option", "value", "field"), list(REFUSED.values()), ids=list(REFUSED))
def test_look_alike_digits_that_cannot_be_read_as_a_number_are_refused(
    world: World, option: str, value: object, field: str, request: pytest.FixtureRequest
) -> None:
    given = _sidecar(world, value) if isinstance(value, dict) else str(value)  # type: ignore[arg-type]
    result = cli(world, request)("ingest", str(REFERENCE), option, given, "--json")
    if field == "telegram_number":  # ①② is NFKC "12": made ASCII and reported, never silent
        assert result.returncode == 0 and result.json()["catalogue"]["telegram_number"] == "12"
        assert result.json()["normalised"]
        return
    error = json_error(result)
    assert (result.returncode, error["code"]) == (2, "metadata.invalid")
    assert field in error["message"]
    assert not any(world.archive.records_dir.iterdir())


def test_catalogue_set_refuses_a_look_alike_telegram_number(ingested: World) -> None:
    result = ingested.run(
        "catalogue", "telegram-23256", "--set", f"telegram_number={ARABIC_INDIC}", "--reason", "x", "--json"
    )
    error = json_error(result)
    assert result.returncode == 2 and "telegram_number" in error["message"], error
