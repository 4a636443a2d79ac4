"""Reading bundles defensively: one safe-path predicate, and one reading of every zip and tar(.gz).

An archive is never extracted to be verified. :func:`read_archive` streams each member once through its
digests (:mod:`provenance.bundle.members`) and returns what it holds; the bag and record checks read
that. Only ``unpack`` writes, and only into a staging folder it names (:func:`read_archive` with
``staging``), from the same read. The readers refuse, before or while reading:

* any construct that two extractors may read differently (:mod:`zipread`, :mod:`tarheader`,
  :mod:`tarread`; the list is in docs/security.md, "One reading");
* names that are absolute, contain ``..``, ``.``, empty segments, backslashes or control characters, that
  repeat, or that collide with another once case and Unicode normalisation are folded;
* links (symbolic and hard), devices, FIFOs, sparse or contiguous members: only regular files and
  folders are ever read;
* more than :attr:`Limits.max_entries` entries, or more than :attr:`Limits.max_size` bytes decompressed
  (``--max-size``): work and memory follow the bytes actually decompressed, never the archive's claims.
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
    parse_size,
    reject,
    safe_entry_path,
    scan_tree,
)
from provenance.bundle.members import Collector, Member, MemberTree
from provenance.bundle.tarread import read_tar
from provenance.bundle.zipread import read_zip
from provenance.model.problems import ProblemCode as P

__all__ = [
    "DEFAULT_LIMITS",
    "BundleRejectedError",
    "Finding",
    "Limits",
    "Member",
    "MemberTree",
    "Tree",
    "UnsafePathError",
    "archive_form",
    "collision_key",
    "extract",
    "extracted",
    "parse_size",
    "read_archive",
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


def read_archive(path: Path, limits: Limits = DEFAULT_LIMITS, staging: Path | None = None) -> MemberTree:
    """Read the bundle archive ``path`` once: every regular file's size and digests (and its bytes when
    small), every folder; with ``staging`` (an empty folder), write each file there from the same read.

    Raises ``BundleRejectedError`` (``bundle.*`` codes) and ``OSError`` when ``path`` cannot be opened or
    a staged file cannot be written.
    """
    form = archive_form(path)
    collector = Collector(staging)
    if form == "zip":
        read_zip(path, collector, limits)
    elif form in ("tar.gz", "tar"):
        read_tar(path, collector, limits, compressed=form == "tar.gz")
    else:
        raise reject(P.BUNDLE_MALFORMED, f"{path.name}: not a .zip, .tar.gz or .tar file")
    return collector.tree


def extract(path: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> MemberTree:
    """Write the regular files and folders of the archive ``path`` into the empty folder ``dest``, as
    :func:`read_archive` reads them (nothing is verified here: ``provenance unpack`` verifies first)."""
    return read_archive(path, limits, staging=dest)


@contextlib.contextmanager
def extracted(path: Path, limits: Limits = DEFAULT_LIMITS) -> Iterator[Path]:
    """A private temporary folder holding the archive as :func:`extract` writes it; removed on exit.

    For readers that show a bundle's files after verifying that very folder (``page``, ``export --format
    tei``); ``verify`` itself never extracts. Raises as :func:`read_archive` does.
    """
    folder = Path(tempfile.mkdtemp(prefix="provenance-bundle-"))
    try:
        extract(path, folder, limits)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
