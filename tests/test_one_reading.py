"""One reading of every container: each construct that two readers may read differently, built from a
real exported bundle (``tests/hostile_archives.py``), gets exactly its problem codes; the constructs that
every reader reads alike verify trusted. The list and its reasons are in docs/security.md, "One reading".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.model.problems import TrustState
from provenance.verify.record import VerifyContext
from provenance.verify.target import verify_path
from tests.hostile_archives import TEXT, Base, Variant, constructs
from tests.test_differential import make_base

_SHAPE = Base([("bundle", None), (f"bundle/{TEXT}", b"Kim Il Sung"), ("bundle/bagit.txt", b"x")], "bundle")
NAMES = [v.name for v in constructs(_SHAPE)]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Variant], VerifyContext, Path]:
    scratch = tmp_path_factory.mktemp("one-reading")
    base, ctx = make_base(scratch)
    return {v.name: v for v in constructs(base)}, ctx, scratch


def test_names_are_unique_and_many() -> None:
    assert len(NAMES) == len(set(NAMES)) >= 100


@pytest.mark.parametrize("name", NAMES)
def test_construct(built: tuple[dict[str, Variant], VerifyContext, Path], name: str) -> None:
    variants, ctx, scratch = built
    variant = variants[name]
    path = scratch / f"{name}.{variant.form}"
    path.write_bytes(variant.data)
    report = verify_path(path, ctx)
    codes = {str(p.code) for p in report.problems}
    assert codes == variant.codes, [p.message for p in report.problems]
    assert report.state is (TrustState.TRUSTED if not variant.codes else TrustState.INVALID)
