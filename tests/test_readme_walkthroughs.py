"""The README cannot drift from the tool: its walk-throughs are run exactly as written (issue 14)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from tests.conftest import PASSPHRASE, REFERENCE, provenance_bin

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text("utf-8")
BLOCK = re.compile(r"^## (?P<title>[^\n]+)\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
FENCE = re.compile(r"^```sh\n(?P<code>.*?)^```", re.M | re.S)
WALKS = ("an archivist registers", "the telegram's life", "a publisher receives")


def sections() -> dict[str, list[str]]:
    return {m["title"]: [f["code"] for f in FENCE.finditer(m["body"])] for m in BLOCK.finditer(README)}


def walkthrough(fragment: str) -> str:
    found = [code for title, codes in sections().items() if fragment in title for code in codes]
    assert len(found) == 1, f"one shell block under a heading naming {fragment!r}"
    return found[0]


def test_the_example_is_the_original_transcription() -> None:
    example = ROOT / "examples" / "telegram-23256.txt"
    assert example.read_bytes() == REFERENCE.read_bytes()
    assert b"Kim II Sung" in example.read_bytes()
    assert "examples/telegram-23256.txt" in walkthrough("an archivist registers")


def test_readme_walkthroughs_run_as_written(tmp_path: Path) -> None:
    """Archivist, auditor and publisher, one shell, every command exactly as the README prints it."""
    script = "set -euo pipefail\n" + "\n".join(walkthrough(w) for w in WALKS)
    home = tmp_path / "user"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PROVENANCE_") and k not in ("COLUMNS", "LINES")
    }
    env.update(
        HOME=str(home),
        PROVENANCE_HOME=str(home / "keys"),
        PROVENANCE_PASSPHRASE=PASSPHRASE,
        PATH=f"{Path(provenance_bin()).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    proc = subprocess.run(
        ["bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    out = proc.stdout
    # what the README says the walk-through prints
    assert "telegram-23256\n" in out
    assert "revised (event 6); orphaned notes: note-7" in out
    assert "note note-7 orphaned: 'Kim II Sung'" in out
    assert "1 verified: 1 trusted, 0 valid, 0 invalid" in out
    assert "TRUSTED" in out
    assert (home / "publisher" / "telegram-23256" / "bagit.txt").is_file()
    assert not (ROOT / "corrected.txt").exists()


def test_every_command_in_readme_exists() -> None:
    """Blocks not run whole (they need a second record, a server, …): each subcommand they name exists."""
    commands: set[tuple[str, ...]] = set()
    for codes in sections().values():
        for code in codes:
            for line in code.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if not words or words[0] != "provenance":
                    continue
                path = [w for w in words[1:3] if re.fullmatch(r"[a-z][a-z-]*", w)]
                nested = path[:1] in (["keys"], ["tlog"], ["witness"], ["agent"])
                commands.add(tuple(path[:2] if nested and len(path) > 1 else path[:1]))
    assert ("verify",) in commands and ("keys", "generate") in commands
    for cmd in sorted(commands):
        proc = subprocess.run([provenance_bin(), *cmd, "--help"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, f"provenance {' '.join(cmd)}: {proc.stderr}"
