"""``export``: one record as a BagIt 1.0 bundle (the default), or in another format chosen by ``--format``.

``--format`` is a small dispatch table (:data:`FORMATS`): a name, one line of help, and the function that
writes it. Each function calls one exporter of :mod:`provenance.exports` (or :mod:`provenance.bundle` for
the bag); none changes the archive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, emit_json, open_archive


@dataclass(frozen=True)
class ExportRequest:
    """What the command line asked for; each format reads the options that concern it."""

    record: str
    out: Path | None
    history: bool
    sha512: bool
    archive: Path | None
    trust: Path | None
    force: bool
    json_out: bool


def _need_out(request: ExportRequest, what: str) -> Path:
    from provenance.errors import ErrorCode, UsageError

    if request.out is None:
        raise UsageError(ErrorCode.USAGE, f"--out is required for {what}")
    return request.out


def _export_bag(request: ExportRequest) -> None:
    import sys

    from provenance.bundle.export import export_record

    out = _need_out(request, "a bag (a new folder, or a .zip / .tar.gz file)")
    arch = open_archive(request.archive)
    algorithms = ("sha256", "sha512") if request.sha512 else ("sha256",)
    result = export_record(arch, request.record, out, history=request.history, algorithms=algorithms)
    for key in result.missing_cards:
        sys.stderr.write(
            f"provenance: warning: no key card for signer {key[:24]}… in {arch.keys_dir}; the bundle "
            "carries none for it\n"
        )
    if request.json_out:
        emit_json(result.to_json())
        return
    what = f"{result.files} file{'s' if result.files != 1 else ''}"
    if result.history:
        what += f" and {result.objects} stored version{'s' if result.objects != 1 else ''}"
    print(
        f"wrote {result.out}: BagIt 1.0 bag of {result.record} ({what}, {result.payload_bytes:,} bytes, "
        f"{result.events} signed events, {len(result.key_cards)} key card(s); {', '.join(result.algorithms)})"
    )


def _export_reader(request: ExportRequest, fmt: str) -> None:
    """TEI or Web Annotations: from the verified record, to ``--out`` (annotations: stdout without it)."""
    import sys

    from provenance.cli.common import now
    from provenance.exports.source import open_verified
    from provenance.exports.writing import write_output

    out = _need_out(request, "a TEI edition") if fmt == "tei" else request.out
    with open_verified(
        request.record,
        archive_path=request.archive,
        trust=request.trust,
        now=now(),
        allow_untrusted=request.force,
    ) as source:
        if fmt == "tei":
            from provenance.exports.tei import tei_bytes

            data = tei_bytes(source)
        else:
            from provenance.exports.annotations import collection_bytes

            data = collection_bytes(source)
        if not source.trusted:
            sys.stderr.write(f"provenance: warning: {source.label} is {source.state}, written with --force\n")
        if out is None or str(out) == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        write_output(out, data)
        summary = {
            "record": source.manifest.record,
            "format": fmt,
            "out": str(out),
            "bytes": len(data),
            "state": str(source.state),
            "head": source.report.head,
        }
    if request.json_out:
        emit_json(summary)
    else:
        print(
            f"wrote {out}: {'TEI P5 edition' if fmt == 'tei' else 'W3C Web Annotation collection'} of "
            f"{summary['record']} ({len(data):,} bytes; verified {summary['state']} at head {summary['head']})"
        )


# --format NAME → (help, writer). bag stays the default; preservation formats are added as rows here.
FORMATS: dict[str, tuple[str, Callable[[ExportRequest], None]]] = {
    "bag": ("BagIt 1.0 bag: folder, .zip or .tar.gz (the default)", _export_bag),
    "tei": (
        "TEI P5 edition (XML) with header, custody, changes and notes",
        lambda r: _export_reader(r, "tei"),
    ),
    "annotations": (
        "the notes as a W3C Web Annotation collection (JSON-LD); stdout without --out",
        lambda r: _export_reader(r, "annotations"),
    ),
}


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        record: Annotated[
            str,
            typer.Argument(help="Record id, e.g. telegram-23256 (tei, annotations: or a bundle to read)."),
        ],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                "-o",
                help="Where to write: for a bag a new folder, or a .zip / .tar.gz file (chosen by the extension).",
            ),
        ] = None,
        fmt: Annotated[
            str,
            typer.Option(
                "--format", "-f", help="; ".join(f"{name}: {h}" for name, (h, _) in FORMATS.items())
            ),
        ] = "bag",
        history: Annotated[
            bool,
            typer.Option("--history", help="Include every earlier version of the files and the metadata."),
        ] = False,
        sha512: Annotated[
            bool,
            typer.Option(
                "--sha512", help="Add manifest-sha512.txt and tagmanifest-sha512.txt (costs 2.3x SHA-256)."
            ),
        ] = False,
        trust: Annotated[
            Path | None,
            typer.Option(
                "--trust", help="tei, annotations: verify against these key cards (default: keys/)."
            ),
        ] = None,
        force: Annotated[
            bool,
            typer.Option("--force", help="tei, annotations: write even when the record is not trusted."),
        ] = False,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Write one record as a BagIt 1.0 bag (default), a TEI P5 edition, or Web Annotations.

        A bag holds the payload, the signed manifest, the signers' key cards and tag manifests; without
        --history the current files with the full signed event chain, with it every earlier version too.
        The same record exported twice gives the same bytes. An existing --out is never overwritten.
        tei and annotations are written from the record as verified now, and refused unless it is trusted.

        Example: provenance export telegram-23256 --out telegram-23256.zip
        (or: --format tei --out telegram-23256.xml; --format annotations > notes.jsonld)
        """
        from provenance.errors import ErrorCode, UsageError

        if fmt not in FORMATS:
            raise UsageError(ErrorCode.USAGE, f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        request = ExportRequest(
            record=record,
            out=out,
            history=history,
            sha512=sha512,
            archive=archive,
            trust=trust,
            force=force,
            json_out=json_out,
        )
        FORMATS[fmt][1](request)
