"""Differential tests against real extractors: whenever ``verify`` says trusted, GNU tar, bsdtar, unzip,
7-Zip and Python's zipfile/tarfile each extract exactly the tree that was verified, byte for byte.

The variants come from ``tests/hostile_archives.py``: every construct of "one reading" (those accepted
must verify trusted and extract identically everywhere) and a fixed seeded corpus of random header
mutations of a real exported bundle (zip and tar.gz). ``make fuzz`` runs the same property under atheris
(``tests/fuzz/targets.py``, targets ``zip-oracle`` and ``tar-oracle``); ``python -m tests.extractors``
runs a larger campaign. An extractor that is not installed is skipped visibly (``make sysdeps``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from provenance.bundle.export import export_record
from provenance.model.problems import TrustState
from provenance.verify.record import VerifyContext
from provenance.verify.target import make_context, verify_path
from tests.extractors import disagreements, missing, verified_tree
from tests.hostile_archives import TRUSTED, Base, Variant, constructs, mutations

RID = "telegram-23256"
SEED = 20261130
MUTATIONS = int(os.environ.get("PROVENANCE_DIFFERENTIAL_MUTATIONS", "240"))


def make_base(scratch: Path) -> tuple[Base, VerifyContext]:
    """A real record through its whole life, exported with its history; and a verifier that trusts it."""
    from tests.conftest import full_life, make_world

    world = make_world(scratch / "world")
    full_life(world)
    out = scratch / "bundle.zip"
    export_record(world.archive, RID, out, history=True)
    return Base.from_zip(out), make_context(world.archive.keys_dir, world.clock[0] + timedelta(minutes=1))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Base, VerifyContext, Path]:
    scratch = tmp_path_factory.mktemp("differential")
    made, ctx = make_base(scratch)
    return made, ctx, scratch


def _check(variant: Variant, ctx: VerifyContext, scratch: Path) -> tuple[str, dict[str, list[str]]]:
    path = scratch / f"variant.{variant.form}"
    path.write_bytes(variant.data)
    report = verify_path(path, ctx)
    if report.state is not TrustState.TRUSTED:
        return str(report.state), {}
    return "trusted", disagreements(path, variant.form, verified_tree(path, scratch), scratch)


def test_extractors_are_installed() -> None:
    if missing():
        pytest.skip(f"not installed (make sysdeps installs them): {', '.join(missing())}")


def test_accepted_constructs_extract_identically_everywhere(base: tuple[Base, VerifyContext, Path]) -> None:
    made, ctx, scratch = base
    accepted = [v for v in constructs(made) if v.codes == TRUSTED]
    assert len(accepted) >= 12
    for variant in accepted:
        state, found = _check(variant, ctx, scratch)
        assert state == "trusted", variant.name
        assert found and all(not problems for problems in found.values()), (variant.name, found)


def test_seeded_header_mutations_never_trusted_unless_every_extractor_agrees(
    base: tuple[Base, VerifyContext, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    made, ctx, scratch = base
    states: dict[str, int] = {}
    compared = 0
    for variant in mutations(made, SEED, MUTATIONS):
        state, found = _check(variant, ctx, scratch)
        states[state] = states.get(state, 0) + 1
        compared += len(found)
        assert all(not problems for problems in found.values()), (variant.name, found)
    assert states.get("invalid", 0) > MUTATIONS // 4  # the mutations reach the fields that matter
    with capsys.disabled():
        print(f"\ndifferential: {MUTATIONS} seeded mutations {states}; {compared} extractions of trusted "
              f"variants agreed with the verified tree")
