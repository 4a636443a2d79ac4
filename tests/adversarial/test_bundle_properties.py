"""Properties (hypothesis) of bundles and canonical bytes.

1. For random records and histories (random texts, catalogue values, custodians, notes, revisions and
   attachments, Unicode included), a clean export in any form, with or without history, verifies ``trusted``.
2. Any single-byte change anywhere in a bag folder (payload, signed manifest, key cards, bagit.txt,
   bag-info.txt, manifests and tag manifests) is caught: state ``invalid``, never an exception.
3. Any single-byte change of a zip or tar.gz bundle never raises, and is ``invalid`` unless it left every
   extracted name and byte as it was (container metadata: a timestamp, an attribute, compressed padding;
   docs/security.md says why an archive's container bytes cannot be pinned).
4. Canonical bytes are stable across parse/serialise round trips, for JSON values and for whole manifests.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import actions
from provenance.bundle.export import export_record
from provenance.canonical import MAX_SAFE_INTEGER, canonical_bytes, loads_strict
from provenance.errors import ProvenanceError
from provenance.ingest.service import ingest, read_transcription
from provenance.manifest_io import manifest_bytes, parse_manifest, read_manifest
from provenance.model.problems import TrustState
from provenance.verify.target import make_context, verify_path
from tests.conftest import REFERENCE, World, full_life, make_world

RID = "telegram-23256"


def slow(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )


# --- 1. random records and histories export clean --------------------------------------------------------

# Unicode text that a person could type: no lone surrogates (refused by the CLI's own reading of argv)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40).filter(lambda t: t.strip())
STEP = st.one_of(
    st.tuples(st.just("note"), st.integers(0, 10_000), TEXT),
    st.tuples(st.just("custody"), TEXT),
    st.tuples(st.just("catalogue"), TEXT),
    st.tuples(st.just("revise"), TEXT),
    st.tuples(
        st.just("attach"),
        st.from_regex(r"[a-z0-9][a-z0-9_-]{0,11}\.(txt|bin)", fullmatch=True),
        st.binary(max_size=300),
    ),
    st.tuples(st.just("review"), TEXT),
    st.tuples(st.just("release")),
)


def _apply(world: World, step: tuple[Any, ...], scratch: Path) -> None:
    a, s = world.archive, world.signers
    kind = step[0]
    if kind == "note":
        text = (a.record_dir(RID) / "files" / "telegram-23256.txt").read_text("utf-8")
        words = text.split()
        quote = words[step[1] % len(words)]
        actions.add_note(a, RID, s["translator"], quote=quote, text=step[2], occurrence=1, now=world.tick())
    elif kind == "custody":
        actions.transfer_custody(a, RID, s["archivist"], from_="Reading room", to=step[1], now=world.tick())
    elif kind == "catalogue":
        actions.change_metadata(
            a, RID, s["archivist"], changes={"title": step[1]}, reason="p", now=world.tick()
        )
    elif kind == "revise":
        path = scratch / "revised.txt"
        current = (a.record_dir(RID) / "files" / "telegram-23256.txt").read_bytes()
        path.write_bytes(current + ("\n" + step[1] + "\n").encode("utf-8"))
        actions.revise(a, RID, s["archivist"], source=path, reason="property", now=world.tick())
    elif kind == "attach":
        path = scratch / step[1]
        path.write_bytes(step[2])
        actions.attach(a, RID, s["archivist"], source=path, now=world.tick())
    elif kind == "review":
        actions.review(a, RID, s["reviewer"], note=step[1], now=world.tick())
    else:
        actions.release(a, RID, s["publisher"], now=world.tick())


@slow(12)
@given(
    steps=st.lists(STEP, max_size=6),
    form=st.sampled_from(["folder", "zip", "tar.gz"]),
    history=st.booleans(),
)
def test_clean_export_of_a_random_history_is_trusted(
    steps: list[tuple[Any, ...]], form: str, history: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        world = make_world(root)
        ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
        for step in steps:
            try:
                _apply(world, step, root)
            except ProvenanceError:
                continue  # refused input (an unchanged value, a name already there): nothing was written
        out = root / ("bag" if form == "folder" else f"bag.{form}")
        export_record(world.archive, RID, out, history=history)
        report = verify_path(out, make_context(world.archive.keys_dir, world.clock[0] + timedelta(minutes=1)))
        assert report.state is TrustState.TRUSTED, [p.to_json() for p in report.problems]


# --- 2 and 3. single-byte changes ----------------------------------------------------------------------------


@dataclass
class Bundles:
    world: World
    folder: Path
    files: list[Path]
    archives: dict[str, bytes]
    scratch: Path


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bundles]:
    root = tmp_path_factory.mktemp("bundles")
    world = make_world(root)
    full_life(world)
    folder = root / "bag"
    export_record(world.archive, RID, folder, history=True)
    archives = {}
    for form in ("zip", "tar.gz"):
        export_record(world.archive, RID, root / f"b.{form}")
        archives[form] = (root / f"b.{form}").read_bytes()
    scratch = root / "scratch"
    scratch.mkdir()
    yield Bundles(world, folder, sorted(p for p in folder.rglob("*") if p.is_file()), archives, scratch)


def _verify(b: Bundles, path: Path) -> TrustState:
    return verify_path(
        path, make_context(b.world.archive.keys_dir, b.world.clock[0] + timedelta(minutes=1))
    ).state


@slow(60)
@given(data=st.data())
def test_any_single_byte_change_in_a_bag_folder_is_caught(bundles: Bundles, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(bundles.files), label="file")
    original = path.read_bytes()
    if not original:
        return
    where = data.draw(st.integers(0, len(original) - 1), label="offset")
    new = data.draw(st.integers(0, 255).filter(lambda v: v != original[where]), label="byte")
    changed = bytearray(original)
    changed[where] = new
    path.write_bytes(bytes(changed))
    try:
        assert _verify(bundles, bundles.folder) is TrustState.INVALID, (path.name, where, new)
    finally:
        path.write_bytes(original)


def _contents(form: str, data: bytes) -> dict[str, bytes] | None:
    """Every member's name and bytes, or None when the archive cannot be read."""
    try:
        if form == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return {i.filename: archive.read(i) for i in archive.infolist()}
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            out = {}
            for member in tar.getmembers():
                handle = tar.extractfile(member)
                out[member.name + ("/" if member.isdir() else "")] = handle.read() if handle else b""
            return out
    except Exception:  # any failure to read: the verifier must then say invalid
        return None


@slow(60)
@given(form=st.sampled_from(["zip", "tar.gz"]), data=st.data())
def test_any_single_byte_change_of_an_archive_never_raises_and_never_trusts_new_content(
    bundles: Bundles, form: str, data: st.DataObject
) -> None:
    original = bundles.archives[form]
    where = data.draw(st.integers(0, len(original) - 1), label="offset")
    new = data.draw(st.integers(0, 255).filter(lambda v: v != original[where]), label="byte")
    changed = bytearray(original)
    changed[where] = new
    path = bundles.scratch / f"changed.{form}"
    path.write_bytes(bytes(changed))
    state = _verify(bundles, path)
    if state is not TrustState.INVALID:
        assert _contents(form, bytes(changed)) == _contents(form, original), (form, where, new, state)


# --- 4. canonical bytes are stable across round trips ---------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(st.characters(exclude_categories=("Cs",))),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",))), inner, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_canonical_bytes_are_stable_across_parse_and_serialise(value: object) -> None:
    once = canonical_bytes(value)
    parsed = loads_strict(once)
    assert parsed == value
    assert canonical_bytes(parsed) == once


def test_manifest_bytes_are_stable_across_parse_and_serialise(bundles: Bundles) -> None:
    record = bundles.world.archive.record_dir(RID)
    manifest = read_manifest(record)
    written = manifest_bytes(manifest)
    assert written == (record / "manifest.json").read_bytes()
    again = parse_manifest(written, source="round trip")
    assert manifest_bytes(again) == written
    assert canonical_bytes(again.as_json()) == canonical_bytes(manifest.as_json())
