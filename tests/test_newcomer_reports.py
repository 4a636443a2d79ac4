"""Issue 14 item 4: reports that never contradict themselves (through the installed CLI)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import World


def test_unknown_signers_are_grouped_and_valid_points_up(lived: World, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = lived.run("verify", "records/telegram-23256", "--trust", str(empty))
    assert r.returncode == 3
    bullets = [line for line in r.stdout.splitlines() if "• signer.unknown" in line]
    assert len(bullets) == 4  # one per signer, not one per event
    assert any("(the same for 2 more events:" in b for b in bullets)
    assert "(see above)" in r.stdout and "see below" not in r.stdout


def test_a_revoked_signer_is_not_called_trusted(lived: World) -> None:
    assert lived.run("keys", "revoke", "R. Reviewer", "--at", "2026-01-01T00:00:00Z").returncode == 0
    r = lived.run("verify", "records/telegram-23256")
    assert r.returncode == 3, r.stdout
    line = next(line for line in r.stdout.splitlines() if line.startswith("  signer R. Reviewer"))
    assert "trusted)" not in line and "signer.revoked" in line


def test_invalid_never_follows_only_ticks(lived: World) -> None:
    shutil.copytree(lived.root / "records" / "telegram-23256", lived.root / "records" / "renamed")
    r = lived.run("verify", "records/renamed")
    assert r.returncode == 1
    assert "✗" in r.stdout and "manifest.record-mismatch" in r.stdout


def test_no_made_up_trust_store_outside_an_archive(lived: World, tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    assert lived.run("export", "telegram-23256", "--out", str(bundle)).returncode == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    r = lived.run("verify", str(bundle), env={"PROVENANCE_ARCHIVE": ""}, cwd=outside)
    assert "nonexistent" not in r.stdout
    assert "trust store: none (no archive here and no --trust" in r.stdout
