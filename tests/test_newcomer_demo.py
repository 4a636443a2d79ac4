"""Issue 14 item 10: the demo piped has no escape codes, and every command it shows can be pasted as is."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from tests.conftest import provenance_bin

ROOT = Path(__file__).parents[1]


def test_demo_piped_is_plain_and_pasteable() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env["PATH"] = f"{Path(provenance_bin()).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        ["bash", "demo/demo.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr
    shown = [line[2:] for line in proc.stdout.splitlines() if line.startswith("$ ")]
    assert len(shown) > 10
    for line in shown:
        words = shlex.split(line)  # the shell reads it as the demo ran it
        assert words[0] == "provenance", line
    assert "provenance keys generate --name 'A. Archivist' --role archivist" in shown
