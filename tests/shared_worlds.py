"""One world for a whole test module (``scope="module"`` fixtures), for tests that only read it or that
assert they changed nothing: the keys and the reference life are made once, not once a test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import REFERENCE, World, full_life, make_world


def ingest_reference(world: World) -> None:
    from provenance.ingest.service import ingest, read_transcription

    ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())


@contextmanager
def shared_world(factory: pytest.TempPathFactory, name: str,
                 setup: Callable[[World], None] | None = None) -> Iterator[World]:
    """A world in its own temporary folder (``PROVENANCE_HOME`` set while it is used), made by ``setup``."""
    tmp = factory.mktemp(name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = make_world(tmp)
        if setup is not None:
            setup(world)
        yield world


__all__ = ["full_life", "ingest_reference", "shared_world"]
