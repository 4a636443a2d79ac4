"""Properties (hypothesis): any single-byte change anywhere in a record is caught, and never crashes.

The lived reference record is built once; each example copies it, changes one byte of one file (a current
file under ``files/``, ``manifest.json``, or a stored earlier version under ``objects/``) and verifies the
copy. The verifier must never call it trusted, and must never raise.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.model.problems import TrustState
from provenance.verify.record import VerifyContext, verify_record_folder
from provenance.verify.target import make_context
from tests.conftest import full_life, make_world
from tests.helpers import RID, make_writable

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=False,
)


class Template:
    """A lived record to copy from, its files (relative path, size), and a verifier context."""

    def __init__(self, root: Path) -> None:
        world = make_world(root)
        full_life(world)
        self.record = world.archive.record_dir(RID)
        self.ctx: VerifyContext = make_context(world.archive.keys_dir, world.tick())
        self.files = sorted(
            (path.relative_to(self.record).as_posix(), path.stat().st_size)
            for path in self.record.rglob("*")
            if path.is_file()
        )
        self.work = root / "copies"
        self.count = 0

    def copy(self) -> Path:
        self.count += 1
        target = self.work / str(self.count) / RID
        shutil.copytree(self.record, target)
        make_writable(target)
        return target

    def discard(self, copy: Path) -> None:
        shutil.rmtree(copy.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    made = Template(tmp_path_factory.mktemp("template"))
    assert verify_record_folder(made.record, made.ctx).state is TrustState.TRUSTED
    kinds = {rel.split("/", 1)[0] for rel, _ in made.files}
    assert kinds == {"manifest.json", "files", "objects"}
    return made


def _flip(copy: Path, rel: str, offset: int, delta: int) -> tuple[int, int]:
    path = copy / rel
    data = bytearray(path.read_bytes())
    old = data[offset]
    data[offset] = (old + delta) % 256
    path.write_bytes(bytes(data))
    return old, data[offset]


@st.composite
def one_byte_change(draw: st.DrawFn, files: list[tuple[str, int]]) -> tuple[str, int, int]:
    rel, size = draw(st.sampled_from(files))
    offset = draw(st.integers(min_value=0, max_value=size - 1))
    delta = draw(st.integers(min_value=1, max_value=255))
    return rel, offset, delta


def _check(template: Template, rel: str, offset: int, delta: int) -> None:
    copy = template.copy()
    try:
        old, new = _flip(copy, rel, offset, delta)
        report = verify_record_folder(copy, template.ctx)  # must not raise, whatever the byte
        assert report.state is not TrustState.TRUSTED, (rel, offset, bytes([old]), bytes([new]))
        assert report.problems
    finally:
        template.discard(copy)


@given(data=st.data())
@EXAMPLES
def test_any_single_byte_change_is_caught(template: Template, data: st.DataObject) -> None:
    rel, offset, delta = data.draw(one_byte_change(template.files))
    _check(template, rel, offset, delta)


@given(data=st.data())
@EXAMPLES
def test_any_single_byte_change_of_the_manifest_is_caught(template: Template, data: st.DataObject) -> None:
    """The manifest is the largest target and the one with structure: it gets examples of its own."""
    manifest = [(rel, size) for rel, size in template.files if rel == "manifest.json"]
    rel, offset, delta = data.draw(one_byte_change(manifest))
    _check(template, rel, offset, delta)


@pytest.mark.parametrize("byte", [b" ", b"\t", b"\r", b"\n"])
def test_whitespace_changes_of_the_manifest_are_caught(template: Template, byte: bytes) -> None:
    """JSON ignores most whitespace; a verifier of the bytes received does not."""
    manifest = (template.record / "manifest.json").read_bytes()
    newline = manifest.index(b'\n  "record"')  # a newline between two members, then indentation
    offset = newline if byte != b"\n" else newline + 1
    _check(template, "manifest.json", offset, (byte[0] - manifest[offset]) % 256)


def test_a_change_to_the_last_byte_of_every_file_is_caught(template: Template) -> None:
    for rel, size in template.files:
        _check(template, rel, size - 1, 1)
    assert os.listdir(template.work) == []
