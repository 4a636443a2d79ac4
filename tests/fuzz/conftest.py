"""``--fuzz-seconds``: how long the bounded fuzzing pass runs (``make fuzz`` passes $FUZZ_SECONDS)."""

from __future__ import annotations

import pytest

DEFAULT_FUZZ_SECONDS = 3  # the short pass of ``make test`` and CI


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-seconds",
        type=int,
        default=DEFAULT_FUZZ_SECONDS,
        help=f"seconds of fuzzing over every target (default {DEFAULT_FUZZ_SECONDS}; make fuzz: $FUZZ_SECONDS)",
    )


@pytest.fixture
def fuzz_seconds(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--fuzz-seconds", default=DEFAULT_FUZZ_SECONDS))
