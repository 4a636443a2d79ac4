"""The reference telegram through a full life verifies trusted (library level)."""

from __future__ import annotations

from tests.conftest import World


def test_full_life_is_trusted(lived: World, verify_folder) -> None:  # type: ignore[no-untyped-def]
    report = verify_folder(lived)
    assert report.problems == []
    assert str(report.state) == "trusted"
    assert report.events == 8
