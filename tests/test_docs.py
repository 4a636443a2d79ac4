"""The README documents every stable code, and every command's --help carries an example."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from provenance.errors import ErrorCode
from provenance.model.problems import ProblemCode
from tests.conftest import provenance_bin

README = (Path(__file__).parents[1] / "README.md").read_text("utf-8")


@pytest.mark.parametrize("code", [c.value for c in ProblemCode])
def test_every_problem_code_is_documented(code: str) -> None:
    assert f"`{code}`" in README


@pytest.mark.parametrize("code", [c.value for c in ErrorCode])
def test_every_error_code_is_documented(code: str) -> None:
    assert f"`{code}`" in README


def _commands() -> list[list[str]]:
    from typer.main import get_command

    from provenance.cli.app import app

    root = get_command(app)
    out: list[list[str]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            out.extend([name, s] for s in sub)
        else:
            out.append([name])
    return out


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c))
def test_every_command_help_has_an_example(command: list[str]) -> None:
    proc = subprocess.run([provenance_bin(), *command, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "Example" in proc.stdout
