"""The standards' own validators, offline: the vendored PREMIS / METS XSDs (lxml) and ocfl-py.

ocfl-py 2.1 validates OCFL objects and storage roots but ships no handler for the storage layout
extension 0004-hashed-n-tuple-storage-layout (its object validator knows the name, its storage root
does not): :func:`register_0004` adds one through ocfl-py's own registry (``ocfl.layout_registry.add_layout``)
and lists the extension among the storage root's registered ones, so that its validator reads our roots
as it reads the layouts it knows, and still checks everything else.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from tests.conftest import DATA

XSD = DATA / "xsd"


@functools.cache
def schema(name: str) -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(XSD / name)))


def xsd_errors(data: bytes, name: str) -> list[str]:
    """Every error the vendored schema ``name`` reports on ``data`` (empty: valid)."""
    from lxml import etree

    checker = schema(name)
    ok = checker.validate(etree.fromstring(data))
    return [] if ok else [str(e) for e in checker.error_log]


def premis_errors(data: bytes) -> list[str]:
    return xsd_errors(data, "premis.xsd")


def mets_errors(data: bytes) -> list[str]:
    """METS 1.12 (with xlink) and the PREMIS inside it, strictly."""
    return xsd_errors(data, "mets-premis.xsd")


@functools.cache
def register_0004() -> None:
    import ocfl
    from ocfl.layout import Layout, LayoutException
    from ocfl.layout_registry import add_layout, layout_is_supported

    if layout_is_supported("0004-hashed-n-tuple-storage-layout"):
        return

    class Layout0004(Layout):  # type: ignore[misc]
        """0004-hashed-n-tuple-storage-layout with its parameters (sha256, 3 x 3, full object root)."""

        def __init__(self) -> None:
            super().__init__()
            self.NAME = "0004-hashed-n-tuple-storage-layout"
            self.DESCRIPTION = "Hashed N-tuple Storage Layout"
            self.digest_algorithm = "sha256"
            self.tuple_size = 3
            self.number_of_tuples = 3
            self.short_object_root = False
            self.PARAMS = {
                "digestAlgorithm": self._set("digest_algorithm", "sha256"),
                "tupleSize": self._set("tuple_size", 3),
                "numberOfTuples": self._set("number_of_tuples", 3),
                "shortObjectRoot": self._set("short_object_root", False),
            }

        def _set(self, attr: str, default: object) -> Any:
            def setter(value: object) -> None:
                if value is not None and type(value) is not type(default):
                    raise LayoutException(f"bad {attr}: {value!r}")
                setattr(self, attr, default if value is None else value)

            return setter

        def identifier_to_path(self, identifier: str) -> str:
            digest = hashlib.new(self.digest_algorithm, identifier.encode("utf-8")).hexdigest()
            parts = [
                digest[i * self.tuple_size : (i + 1) * self.tuple_size] for i in range(self.number_of_tuples)
            ]
            last = digest[self.number_of_tuples * self.tuple_size :] if self.short_object_root else digest
            return os.path.join(*parts, last)

    add_layout("0004-hashed-n-tuple-storage-layout", Layout0004)
    del ocfl


def ocfl_object_messages(path: Path) -> tuple[bool, str]:
    """(valid, every error and warning) from ocfl-py's object validator."""
    from ocfl.validator import Validator

    validator = Validator(log_warnings=True, check_digests=True)
    ok = validator.validate_object(str(path))
    return ok, validator.status_str()


def ocfl_root_messages(root: Path) -> tuple[bool, str, int]:
    """(valid, every error and warning, objects found) from ocfl-py's storage root validator."""
    import ocfl

    register_0004()
    store = ocfl.StorageRoot(root=str(root))
    store.registered_extensions.append("0004-hashed-n-tuple-storage-layout")
    ok = store.validate(log_warnings=True, check_digests=True)
    messages = [store.log.format_messages() if hasattr(store.log, "format_messages") else str(store.log)]
    messages += [f"{path}: {text}" for path, text in store.errors]
    return (
        ok and store.good_objects == store.num_objects,
        "\n".join(m for m in messages if m.strip()),
        store.num_objects,
    )
