"""The verifier never changes what it hashes (issue 15, item 4), and no verdict rests on CPython's private
json internals (item 3).

A manifest whose events lack or misspell a signature is still checked against the schema; the verifier
does it on a copy. The JSON as parsed (what the chain and head digests are taken from) must come out of a
whole verification exactly as it went in.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import provenance.canonical
from provenance.canonical import dumps_pretty, loads_strict
from provenance.manifest_io import event_digest
from provenance.model.problems import ProblemCode as P
from provenance.model.timefmt import parse_utc
from provenance.verify import record as record_module
from provenance.verify.target import make_context

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "records" / "telegram-23256"


def _record_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "telegram-23256"
    shutil.copytree(REFERENCE, folder)
    for path in folder.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    return folder


def _no_signature(doc: dict[str, Any]) -> None:
    del doc["events"][2]["signature"]


def _empty_signature(doc: dict[str, Any]) -> None:
    doc["events"][-1]["signature"] = ""


def _bad_signature(doc: dict[str, Any]) -> None:
    signature = doc["events"][1]["signature"]
    doc["events"][1]["signature"] = ("B" if signature[0] != "B" else "C") + signature[1:]


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (_no_signature, P.EVENT_SIGNATURE_MISSING),
        (_empty_signature, P.EVENT_SIGNATURE_MISSING),
        (_bad_signature, P.EVENT_SIGNATURE_INVALID),
    ],
)
def test_parsed_manifest_is_unchanged_by_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Any, code: P
) -> None:
    folder = _record_copy(tmp_path)
    manifest = folder / "manifest.json"
    doc = loads_strict(manifest.read_bytes())
    assert isinstance(doc, dict)
    edit(doc)
    manifest.write_bytes(dumps_pretty(doc))

    parsed: list[tuple[object, object]] = []

    def keeping(data: bytes | str, **kwargs: Any) -> object:
        value = loads_strict(data, **kwargs)
        parsed.append((value, copy.deepcopy(value)))  # what was read, and a copy taken before any check
        return value

    monkeypatch.setattr(record_module, "loads_strict", keeping)
    ctx = make_context(ROOT / "keys", parse_utc("2026-11-30T00:00:00Z"))
    report = record_module.verify_record_folder(folder, ctx)

    assert code in {p.code for p in report.problems}
    assert parsed, "the manifest was not read through loads_strict"
    for value, before in parsed:
        assert value == before
    # the head is the digest of the last event exactly as it was read (no placeholder signature)
    assert report.head == event_digest(doc["events"][-1])


def test_canonical_module_uses_no_private_json_names() -> None:
    """canonical.py calls json only through its documented interface (``JSONEncoder``, ``dumps``,
    ``loads``): no ``c_make_encoder``, ``encode_basestring`` or other names of ``json.encoder``."""
    source = Path(provenance.canonical.__file__).read_text()
    assert re.search(r"c_make_encoder|encode_basestring|json\.encoder|json\.scanner|json\.decoder\.", source) is None
