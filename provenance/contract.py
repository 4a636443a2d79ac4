"""The published contract: JSON Schemas (2020-12) in ``schemas/``, compiled once per process.

The pydantic models are what the tool runs on; these schemas are what other tools read. A test keeps the
two in agreement. ``jsonschema`` is imported only when a schema is actually used (it costs ~100 ms).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

SCHEMA_NAMES = ("manifest", "catalogue", "key-card")


def schema_text(name: str) -> str:
    """The text of ``schemas/<name>.schema.json``."""
    return resources.files("provenance").joinpath("schemas", f"{name}.schema.json").read_text("utf-8")


@functools.cache
def schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(schema_text(name))
    return data


@functools.cache
def validator(name: str) -> Validator:
    """A compiled 2020-12 validator for ``name``, with the sibling schemas resolvable by ``$ref``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry().with_resources(
        (schema(n)["$id"], Resource.from_contents(schema(n))) for n in SCHEMA_NAMES
    )
    return Draft202012Validator(schema(name), registry=registry)


def validation_errors(name: str, document: Any) -> list[tuple[str, str]]:
    """Every schema violation of ``document`` as (JSON path, message), most specific first."""
    errors = sorted(validator(name).iter_errors(document), key=lambda e: (-len(e.absolute_path), e.message))
    out = []
    for error in errors:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        message = error.message
        if isinstance(error.instance, str | list | dict) and len(repr(error.instance)) > 200:
            # the message would quote the whole value (900,000 characters): name its size instead
            size = f"{len(error.instance):,} {'characters' if isinstance(error.instance, str) else 'items'}"
            message = f"the value ({size}) fails '{error.validator}' ({error.validator_value!r:.80})"
        out.append((where, message))
    return out
