"""``raises_code``: a coded library failure, asserted by its stable code (not by its class, which the error
model may change) for the per-module tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from provenance.errors import ProvenanceError


@dataclass
class Raised:
    """What the block raised: its code, message and JSON details (filled when the block has raised)."""

    code: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@contextmanager
def raises_code(code: object, *words: str) -> Iterator[Raised]:
    """The block must raise a ``ProvenanceError`` with ``code`` whose message holds every one of ``words``."""
    raised = Raised()
    with pytest.raises(ProvenanceError) as caught:
        yield raised
    document = caught.value.to_json()
    raised.code, raised.message, raised.details = str(document["code"]), caught.value.message, document
    assert raised.code == str(code), f"{raised.code} (wanted {code}): {raised.message}"
    for word in words:
        assert word in raised.message, f"{word!r} not in {raised.message!r}"
