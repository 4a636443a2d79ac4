"""ingest-batch's fast path: plain arguments run without building typer's app, anything else goes to typer."""

from __future__ import annotations

import pytest

from provenance.cli.batch_run import fast_command
from tests.batch_helpers import make_collection
from tests.conftest import World
from tests.helpers import run_in_process


@pytest.mark.parametrize(
    "args",
    [
        ["ingest-batch", "in", "--help"],
        ["ingest-batch", "in"],  # no --catalogue: typer reports it
        ["ingest-batch", "in", "-c", "s.csv", "--unknown"],
        ["ingest-batch", "in", "other", "-c", "s.csv"],
        ["ingest-batch", "-c", "s.csv", "--", "in"],
        ["ingest-batch", "in", "-c"],
        ["ingest-batch", "", "-c", "s.csv"],
        ["ingest-batch", "-c", "s.csv"],
        ["search", "x"],
        [],
    ],
)
def test_anything_but_plain_arguments_goes_to_typer(args: list[str]) -> None:
    assert fast_command(args) is None


def test_plain_arguments_run_the_same_command(world: World) -> None:
    """The fast path and typer give the same answer (a sheet refused: the exit code and the document)."""
    folder, sheet = make_collection(world.root.parent)
    assert fast_command(["ingest-batch", str(folder), "-c", str(sheet), "--dry-run", "--json", "-A", "a"])
    fast = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--dry-run", "--json")
    assert fast.returncode == 0, fast.stderr
    (folder / "stray.txt").write_text("no row names me\n", encoding="utf-8")
    refused = run_in_process(world, "ingest-batch", str(folder), "-c", str(sheet), "--json", "--key", "A. Archivist")
    # the word '--' is typer's to read
    typed = run_in_process(
        world, "ingest-batch", f"--catalogue={sheet}", "--json", "--key", "A. Archivist", "--", str(folder)
    )
    assert fast_command(["ingest-batch", "-c", str(sheet), "--", str(folder)]) is None
    assert refused.returncode == typed.returncode == 2
    assert refused.stdout == typed.stdout and "file.no-row" in refused.stdout
