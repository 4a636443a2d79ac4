"""Who signed it, item 6: exports escape what they carry, exactly as the terminal output does (issue 17).

A revocation reason, a custody summary or any string a card or record carries may hold escape sequences,
C1 controls or bidi overrides. ``keys export`` (stdout, ``--out``, ``--all``), the key cards and
``bag-info.txt`` of an exported bag, and ``log --prov`` carry them escaped: the same JSON value, nothing
a terminal or a viewer would act on.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from provenance.bundle.tagfiles import info_value
from provenance.safetext import printable
from tests.conftest import World
from tests.helpers import RID

HOSTILE = "stolen\x1b[2J\x1b]0;owned\x07\u202eDETOOR\x9b31m"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


@pytest.fixture
def revoked(ingested: World) -> World:
    key = ingested.signers["translator"].card.id
    assert ingested.run("keys", "revoke", key, "--reason", HOSTILE).returncode == 0
    return ingested


def _stdout_export(world: World, tmp: Path) -> list[str]:
    result = world.run("keys", "export", world.signers["translator"].card.id)
    assert result.returncode == 0, result.stderr
    return [result.stdout]


def _file_export(world: World, tmp: Path) -> list[str]:
    out = tmp / "card.json"
    assert world.run("keys", "export", world.signers["translator"].card.id, "--out", str(out)).returncode == 0
    return [out.read_text("utf-8")]


def _folder_export(world: World, tmp: Path) -> list[str]:
    out = tmp / "cards"
    assert world.run("keys", "export", "--all", "--out", str(out)).returncode == 0
    return [p.read_text("utf-8") for p in out.iterdir()]


def _bag_tag_files(world: World, tmp: Path) -> list[str]:
    out = tmp / "bundle.zip"
    assert world.run("export", RID, "--out", str(out)).returncode == 0
    with zipfile.ZipFile(out) as bag:
        return [bag.read(n).decode("utf-8") for n in bag.namelist() if not n.startswith(f"{RID}/data/")]


def _prov(world: World, tmp: Path) -> list[str]:
    assert world.run("custody", RID, "--key", "A. Archivist", "--from", "a", "--to", "M" + HOSTILE).returncode == 0
    result = world.run("log", RID, "--prov")
    assert result.returncode == 0, result.stderr
    return [result.stdout]


EXPORTS = {
    "keys-export-stdout": _stdout_export,
    "keys-export-out": _file_export,
    "keys-export-all": _folder_export,
    "bag-tag-files": _bag_tag_files,
    "log-prov": _prov,
}


@pytest.mark.parametrize("export", list(EXPORTS.values()), ids=list(EXPORTS))
def test_exports_carry_no_control_or_bidi_character(revoked: World, tmp_path: Path, export) -> None:  # type: ignore[no-untyped-def]
    texts = export(revoked, tmp_path)
    assert texts
    for text in texts:
        assert not RAW.search(text), [hex(ord(m.group())) for m in RAW.finditer(text)]
    joined = "\n".join(texts)
    if "revoked" in joined and '"reason"' in joined:  # the value survives, escaped inside JSON strings
        reasons = [json.loads(t)["revoked"]["reason"] for t in texts if t.lstrip().startswith("{") and '"revoked"' in t]
        assert HOSTILE in reasons


def test_bag_info_values_are_escaped_as_the_terminal_escapes_them() -> None:
    value = "Mao\x1b[2J\u202eto\tFilippov\nline two"
    assert info_value(value) == printable("Mao\x1b[2J\u202eto Filippov line two", one_line=True)
    assert not RAW.search(info_value(value)) and "\n" not in info_value(value)
