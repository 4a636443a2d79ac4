"""A publisher imports every key card of an archive at once; one bad card imports none."""

from __future__ import annotations

import json
from pathlib import Path

from provenance.errors import ErrorCode
from tests.conftest import World


def test_export_all_then_import_folder_makes_the_record_trusted(lived: World, tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    assert lived.run("keys", "export", "--all", "--out", str(cards)).returncode == 0
    assert len(list(cards.glob("*.json"))) == len(lived.signers)
    publisher = tmp_path / "publisher"
    assert lived.run("init", str(publisher)).returncode == 0
    record = str(lived.archive.record_dir("telegram-23256"))
    before = lived.run("verify", record, "--archive", str(publisher), env={"PROVENANCE_ARCHIVE": str(publisher)})
    assert before.returncode == 3
    imported = lived.run("keys", "import", str(cards), "--json", env={"PROVENANCE_ARCHIVE": str(publisher)})
    assert imported.returncode == 0
    assert len(imported.json()["keys"]) == len(lived.signers)
    after = lived.run("verify", record, "--json", env={"PROVENANCE_ARCHIVE": str(publisher)})
    assert after.returncode == 0
    assert after.json()["state"] == "trusted"


def test_one_bad_card_imports_none(world: World, tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    assert world.run("keys", "export", "--all", "--out", str(cards)).returncode == 0
    (cards / "zz-broken.json").write_text("{not json", encoding="utf-8")
    publisher = tmp_path / "publisher"
    world.run("init", str(publisher))
    result = world.run("keys", "import", str(cards), "--json", env={"PROVENANCE_ARCHIVE": str(publisher)})
    assert result.returncode == 2
    assert json.loads(result.stdout)["error"]["code"] == ErrorCode.KEY_MALFORMED
    assert list((publisher / "keys").glob("*.json")) == []


def test_export_needs_a_key_or_all(world: World) -> None:
    assert world.run("keys", "export").returncode == 2
    assert world.run("keys", "export", "--all").returncode == 2
