"""What the issue-17 tables share: run a case through the installed CLI, as a subprocess for every third
case of a table and in this process (the CLI's own ``main()``) for the others, to keep the tables fast."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import CliResult, World
from tests.helpers import run_in_process


def cli(world: World, request: pytest.FixtureRequest) -> Callable[..., CliResult]:
    """``world.run`` for cases 0, 3, 6, … of the parametrized table ``request`` belongs to, else in process."""
    callspec = getattr(request.node, "callspec", None)
    index = next(iter(callspec.indices.values()), 0) if callspec is not None else 0
    if index % 3 == 0:
        return world.run

    def in_process(*args: str, timeout: float | None = None, env: dict[str, str] | None = None, **_: Any) -> CliResult:
        return run_in_process(world, *args, env=env)

    return in_process
