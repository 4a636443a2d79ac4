"""Issue 14 item 6: `diff` piped is a real unified diff that `patch` applies (through the installed CLI)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, World


def test_piped_diff_is_a_patch(lived: World, tmp_path: Path) -> None:
    if shutil.which("patch") is None:
        pytest.skip("GNU patch is not installed (tests/system/packages.txt)")
    r = lived.run("diff", "telegram-23256", "5", "6")
    assert r.returncode == 0, r.stderr
    assert "--- a/telegram-23256.txt" in r.stdout and "+Comrade Kim Il Sung" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) > 300  # never wrapped
    old = tmp_path / "telegram-23256.txt"
    old.write_bytes(REFERENCE.read_bytes())
    proc = subprocess.run(["patch", str(old)], input=r.stdout, text=True, capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    current = lived.root / "records" / "telegram-23256" / "files" / "telegram-23256.txt"
    assert old.read_bytes() == current.read_bytes()
    assert "# note note-7 orphaned: 'Kim II Sung'" in r.stdout


def test_patch_text_marks_a_missing_final_newline() -> None:
    from provenance.diff import patch_text

    text = patch_text("a\nb", "a\nc", "f.txt")
    assert text.endswith("-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n")
    assert patch_text("a\r\nb\r\n", "a\r\nc\r\n", "f.txt").endswith("-b\r\n+c\r\n")  # CR LF kept
