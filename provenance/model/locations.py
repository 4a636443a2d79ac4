"""A validation error's location (pydantic's ``loc``: ``("state", "files", 0, "path")``) as the field name a
message shows (``state.files.0.path``): one spelling wherever a model refuses a value."""

from __future__ import annotations

from collections.abc import Iterable

TOP_LEVEL = "(top level)"


def field_name(loc: Iterable[str | int], empty: str = TOP_LEVEL) -> str:
    """The dotted field path of ``loc``; ``empty`` when the error is about the whole value."""
    return ".".join(str(part) for part in loc) or empty
