"""A record leaving or entering the archive, as the public API offers it: exports (a BagIt bag, PREMIS,
METS, an Archivematica transfer, OCFL), readers' editions made from what verifies now (page, TEI, Web
Annotations), a bundle unpacked from the bytes verified, an OCFL object imported. See ``docs/api.md``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from provenance.errors import ErrorCode, UsageError
from provenance.model.timefmt import utc_now_or

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.model.problems import VerificationReport

# export(format=…): the module and function of each archive exporter; each is called as
# fn(archive, record, out, **options) and returns an object with ``to_json()``.
EXPORTERS: dict[str, tuple[str, str]] = {
    "bag": ("provenance.bundle.export", "export_record"),
    "premis": ("provenance.exports.premis", "export_premis"),
    "mets": ("provenance.exports.mets", "export_mets"),
    "archivematica": ("provenance.exports.archivematica", "export_archivematica"),
    "ocfl": ("provenance.exports.ocfl", "export_ocfl"),
}
# edition(format=…): readers' formats, made from a record or bundle verified at that moment
EDITIONS: dict[str, tuple[str, str]] = {
    "page": ("provenance.exports.page", "page_bytes"),
    "tei": ("provenance.exports.tei", "tei_bytes"),
    "annotations": ("provenance.exports.annotations", "collection_bytes"),
}
ExportFormat = Literal["bag", "premis", "mets", "archivematica", "ocfl"]
EditionFormat = Literal["page", "tei", "annotations"]


def export(
    archive: Archive,
    record: str,
    out: Path,
    *,
    format: ExportFormat = "bag",
    history: bool = False,
    algorithms: tuple[str, ...] = ("sha256",),
    log_tiles: bool = False,
    into: bool = False,
    now: datetime | None = None,
) -> Any:
    """Write ``record`` to ``out``, never overwriting: a BagIt 1.0 bag (``bag``: a folder, or a ``.zip`` /
    ``.tar.gz`` by extension; ``history`` adds every earlier version, ``algorithms`` the manifests,
    ``log_tiles`` the transparency log's tiles), or a preservation system's form (``premis``, ``mets``,
    ``archivematica``, ``ocfl``; with ``into`` an existing OCFL storage root is updated). Returns the
    exporter's result (``to_json()``). Raises ``ConflictError(output.exists)``, ``UsageError`` for options
    the format does not take, and the exporter's errors."""
    if format not in EXPORTERS:
        raise UsageError(ErrorCode.USAGE, f"unknown export format {format!r} (known: {', '.join(EXPORTERS)})",
                         param="format")
    if format != "bag" and (history or log_tiles or tuple(algorithms) != ("sha256",)):
        raise UsageError(ErrorCode.USAGE, "history, other digest algorithms and log tiles go with a bag only")
    if into and format != "ocfl":
        raise UsageError(ErrorCode.USAGE, "an existing storage root is updated by the ocfl format only")
    module, name = EXPORTERS[format]
    exporter = getattr(importlib.import_module(module), name)
    if format == "bag":
        return exporter(archive, record, out, history=history, algorithms=tuple(algorithms), log_tiles=log_tiles)
    options: dict[str, object] = {"now": utc_now_or(now)}
    if format == "ocfl":
        options["into"] = into
    return exporter(archive, record, out, **options)


@dataclass(frozen=True)
class Edition:
    """A reader's edition (page, TEI, annotations) made from what verified: its bytes, where they were
    written (``None``: not written), and the verification it rests on."""

    data: bytes
    out: Path | None
    record: str
    format: str
    state: str
    head: str | None
    label: str
    kind: str

    @property
    def trusted(self) -> bool:
        return self.state == "trusted"

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "format": self.format,
            "out": str(self.out) if self.out is not None else None,
            "bytes": len(self.data),
            "state": self.state,
            "head": self.head,
            "kind": self.kind,
        }


def edition(
    target: str,
    *,
    format: EditionFormat,
    out: Path | None = None,
    archive: Path | None = None,
    trust: Path | None = None,
    allow_untrusted: bool = False,
    now: datetime | None = None,
) -> Edition:
    """Make a reader's edition of ``target`` (a record id of the archive, or a bundle's path) from what
    verifies now against ``trust`` (default: the archive's ``keys/``): ``page`` (one self-contained HTML
    page), ``tei`` (a TEI P5 edition), ``annotations`` (the notes as a W3C Web Annotation collection).
    Written to the new file ``out`` when given. A source that is not trusted is refused
    (``UnverifiedError``: source.invalid, source.not-trusted) unless ``allow_untrusted``; the edition then
    says its state."""
    from provenance.exports.verified import open_verified
    from provenance.exports.writing import write_output

    if format not in EDITIONS:
        raise UsageError(ErrorCode.USAGE, f"unknown edition {format!r} (known: {', '.join(EDITIONS)})",
                         param="format")
    module, name = EDITIONS[format]
    make = getattr(importlib.import_module(module), name)
    with open_verified(
        target, archive_path=archive, trust=trust, now=utc_now_or(now), allow_untrusted=allow_untrusted
    ) as source:
        data = cast("bytes", make(source))
        if out is not None:
            write_output(out, data)
        return Edition(
            data=data,
            out=out,
            record=source.manifest.record,
            format=format,
            state=str(source.state),
            head=source.report.head,
            label=source.label,
            kind=source.kind,
        )


def unpack(
    bundle: Path,
    out: Path,
    *,
    trust: Path | None = None,
    archive: Path | None = None,
    max_size: int | None = None,
    now: datetime | None = None,
) -> Any:
    """Verify the bundle archive ``bundle`` and, only when it is trusted, write its bag from the bytes
    verified to the new folder ``out``. Returns the result (``report``; ``out``, ``None`` when nothing was
    written). Raises ``ConflictError(output.exists)``, ``NotFoundError(input.not-found)``, ``UsageError``."""
    from dataclasses import replace

    from provenance.bundle.unpack import unpack_bundle
    from provenance.errors import NotFoundError
    from provenance.trust import verifier_context

    if not bundle.exists():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{bundle}: no such file", path=str(bundle))
    ctx = verifier_context([bundle], trust=trust, archive=archive, now=now)
    if max_size is not None:
        ctx = replace(ctx, max_size=max_size)
    return unpack_bundle(bundle, out, ctx)


def import_ocfl(archive: Archive, source: Path, *, now: datetime | None = None) -> VerificationReport:
    """Check the OCFL object ``source``, rebuild the record it holds, verify it with the archive's trust
    store and add it when intact; returns the report (``invalid``: nothing was written)."""
    from provenance.imports.ocfl import import_ocfl as do_import

    return do_import(archive, source, now=utc_now_or(now))
