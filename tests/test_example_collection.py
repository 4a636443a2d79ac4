"""The README's collection walk-through, on examples/collection, through the installed CLI."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.conftest import World

EXAMPLE = Path(__file__).parents[1] / "examples" / "collection"


def test_the_collection_walk_through(world: World, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    world.env["XDG_RUNTIME_DIR"] = str(runtime)
    started = world.run("agent", "start", "--timeout", "2h")
    assert started.returncode == 0, started.stderr
    pid = int(re.search(r"Agent pid (\d+)", started.stdout).group(1))  # type: ignore[union-attr]
    try:
        no_pass = {"PROVENANCE_PASSPHRASE": ""}
        sheet, folder = str(EXAMPLE / "metadata.csv"), str(EXAMPLE / "transcriptions")
        dry = world.run("ingest-batch", folder, "--catalogue", sheet, "--dry-run", env=no_pass)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert "7 to register" in dry.stdout
        run = world.run("ingest-batch", folder, "--catalogue", sheet, "--key", "A. Archivist", env=no_pass)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "7 registered, 0 already present, 0 refused" in run.stdout
        assert "telegram-7702" in world.run("search", "Филиппов*").stdout
        kaesong = world.run("search", "kaesong", "--sent-from", "1951-09-01", "--json").json()
        # sent from September 1951: the 9015 telegram (KAESONG) and the 1952 letter (Kaesŏng), not 23256
        assert {r["record"] for r in kaesong["results"]} == {"telegram-9015", "letter-1952-proofs"}
        note = world.run(
            "note",
            "telegram-9015",
            "--key",
            "T. Translator",
            "--quote",
            "Panmunjom",
            "--text",
            "Spelled Panmunjŏm in McCune–Reischauer",
            env=no_pass,
        )
        assert note.returncode == 0, note.stderr
        assert world.run("audit").returncode == 0
    finally:
        assert world.run("agent", "stop").returncode == 0
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)


def _state(pid: int) -> str:
    try:
        return next(
            line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:")
        )
    except (OSError, StopIteration):
        return "Z"
