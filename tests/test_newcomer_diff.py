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


STRIKE_RED, BOLD_GREEN = frozenset({"9", "31"}), frozenset({"1", "32"})


@pytest.mark.parametrize("columns", [80, 120])
def test_diff_at_a_terminal_marks_only_the_changed_letter(lived: World, columns: int) -> None:
    """The 400-character paragraph where `II` became `Il`: one letter struck red, one bold green, every other
    word plain and whole, lines wrapped on spaces at the terminal's width."""
    from provenance.diff import word_segments
    from tests.terminal_helpers import plain, run_in_pty, sgr_runs

    raw = run_in_pty(lived, "diff", "telegram-23256", "5", "6", columns=columns)
    text = plain(raw)
    assert max(len(line) for line in text.splitlines()) <= columns
    old = next(line for line in REFERENCE.read_text().splitlines() if "Kim II Sung" in line)
    assert len(old) >= 400
    new = old.replace("Kim II Sung", "Kim Il Sung")
    shown = "".join(s.text for s in word_segments(old, new))  # "... Kim IIl Sung ...": both letters shown
    assert " ".join(shown.split()) in " ".join(text.split())  # no word broken by the wrapping
    changed = [(codes, piece) for codes, piece in sgr_runs(raw) if codes & {"9", "32"}]
    assert changed == [(STRIKE_RED, "I"), (BOLD_GREEN, "l")]
    for codes, piece in sgr_runs(raw):  # the rest: the headings (bold, cyan) or plain
        if codes and (codes & {"9", "32"}) == set():
            assert piece.startswith(("telegram-23256: version", "file telegram-23256.txt", "@@ ")), piece
    assert "@@ -44,3 +44,3 @@" in text and "note note-7 orphaned: 'Kim II Sung'" in text


def test_diff_at_a_terminal_without_colour_writes_markers(lived: World) -> None:
    from tests.terminal_helpers import plain, run_in_pty

    text = plain(run_in_pty(lived, "diff", "telegram-23256", "5", "6", columns=80, env={"NO_COLOR": "1"}))
    assert "Comrade Kim I[-I-]{+l+} Sung suggests" in " ".join(text.split())
