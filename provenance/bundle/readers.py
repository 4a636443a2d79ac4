"""Reading bundles defensively: one safe-path predicate, and bounded extraction of zip and tar(.gz).

Every name that comes from a bundle (an archive entry, a file in a bag folder, a line of a bag manifest)
goes through :func:`safe_entry_path` and nothing else. An archive is extracted into a fresh temporary
folder that :func:`extracted` removes afterwards; nothing is ever written outside it. Extraction refuses,
before or while reading, anything that could escape that folder or exhaust the machine:

* names that are absolute, contain ``..``, ``.``, empty segments, backslashes or control characters, that
  repeat, or that collide with another once case and Unicode normalisation are folded;
* links (symbolic and hard), devices, fifos, sparse or contiguous tar members: only regular files and
  folders are ever created, with ``O_EXCL | O_NOFOLLOW``;
* more than :attr:`Limits.max_entries` entries, an entry above :attr:`Limits.max_entry_bytes`, a total
  above :attr:`Limits.max_total_bytes`, or a compression ratio above :attr:`Limits.max_ratio` (a
  compression bomb is stopped after at most :attr:`Limits.ratio_floor` bytes of output, with memory
  bounded by one read block).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from provenance.bundle.entries import (
    DEFAULT_LIMITS,
    BundleRejectedError,
    Finding,
    Limits,
    Tree,
    UnsafePathError,
    collision_key,
    reject,
    safe_entry_path,
    scan_tree,
)
from provenance.bundle.tarread import extract_tar
from provenance.bundle.zipread import extract_zip
from provenance.model.problems import ProblemCode as P

__all__ = [
    "DEFAULT_LIMITS",
    "BundleRejectedError",
    "Finding",
    "Limits",
    "Tree",
    "UnsafePathError",
    "archive_form",
    "collision_key",
    "extract",
    "extracted",
    "safe_entry_path",
    "scan_tree",
]


def archive_form(path: Path) -> str | None:
    """``zip``, ``tar.gz`` or ``tar`` by the file's extension; None for anything else."""
    name = path.name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if name.endswith(".tar"):
        return "tar"
    return None


def extract(path: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> None:
    """Extract the bundle archive ``path`` into the empty folder ``dest``.

    Raises ``BundleRejectedError`` (bundle.malformed, bundle.unsafe-entry, bundle.too-large) and ``OSError``
    when ``path`` cannot be opened at all.
    """
    form = archive_form(path)
    if form == "zip":
        extract_zip(path, dest, limits)
    elif form in ("tar.gz", "tar"):
        extract_tar(path, dest, limits, compressed=form == "tar.gz")
    else:
        raise reject(P.BUNDLE_MALFORMED, f"{path.name}: not a .zip, .tar.gz or .tar file")


@contextlib.contextmanager
def extracted(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Path]:
    """A temporary folder holding the extracted bundle; removed on exit, whatever happened.

    Raises ``BundleRejectedError`` as :func:`extract` does.
    """
    folder = Path(tempfile.mkdtemp(prefix="provenance-bundle-"))
    try:
        extract(path, folder, limits)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
