"""What a person at a terminal sees: the progress bar of ingest-batch and search's highlighted results."""

from __future__ import annotations

import pytest

from tests.batch_helpers import make_collection
from tests.conftest import World
from tests.terminal_helpers import run_at_terminal


def _run_at_terminal(world: World, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    return run_at_terminal(world, monkeypatch, *args, env={"PROVENANCE_NOW": "2026-01-05T10:00:00Z"})


def test_ingest_batch_and_search_at_a_terminal(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, sheet = make_collection(world.root.parent)
    code, out, err = _run_at_terminal(world, monkeypatch, "ingest-batch", str(folder), "--catalogue", str(sheet))
    assert code == 0, out + err
    assert "4 registered" in out
    code, out, err = _run_at_terminal(world, monkeypatch, "search", "Kaesong")
    assert code == 0, out + err
    assert "telegram-23256" in out and "Kaesong" in out and "record(s) found" in out
    assert "\x1b[" in out  # highlighted on a terminal
