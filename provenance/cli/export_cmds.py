"""``export``: one record as a BagIt 1.0 bundle (folder, .zip or .tar.gz) for a publisher, or (``--format``) in
another system's form: one row of :data:`FORMATS` per format, each a module of :mod:`provenance.exports`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, emit_json, now, open_archive

# export --format NAME: (module, function) of the exporter; ``bag`` (the default) is written below.
# Each function is called as fn(archive, record, out, into=..., now=...) and returns an object with
# ``to_json()`` and ``line()``.
FORMATS: dict[str, tuple[str, str]] = {
    "bag": ("provenance.bundle.export", "export_record"),
    "premis": ("provenance.exports.premis", "export_premis"),  # i13-preservation
    "mets": ("provenance.exports.mets", "export_mets"),  # i13-preservation
    "archivematica": ("provenance.exports.archivematica", "export_archivematica"),  # i13-preservation
    "ocfl": ("provenance.exports.ocfl", "export_ocfl"),  # i13-preservation
    "tei": ("provenance.exports.tei", "tei_bytes"),  # i12-readers
    "annotations": ("provenance.exports.annotations", "collection_bytes"),  # i12-readers
}
# i12-readers: these take a record id or a bundle, verified now against --trust (default: the archive's keys/),
# refused unless trusted (--force writes anyway); the function makes the bytes from a VerifiedSource;
# annotations go to stdout without --out.
READER_FORMATS = frozenset({"tei", "annotations"})


def _run_reader(
    fmt: str, archive: Path | None, target: str, out: Path | None, trust: Path | None, force: bool, json_out: bool
) -> None:
    import importlib
    import sys

    from provenance.errors import ErrorCode, UsageError
    from provenance.exports.verified import open_verified
    from provenance.exports.writing import write_output

    if out is None and fmt == "tei":
        raise UsageError(ErrorCode.USAGE, "--format tei needs --out FILE.xml")
    module, name = FORMATS[fmt]
    make = getattr(importlib.import_module(module), name)
    with open_verified(target, archive_path=archive, trust=trust, now=now(), allow_untrusted=force) as source:
        data: bytes = make(source)
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
    if json_out:
        emit_json(summary)
    else:
        what = "TEI P5 edition" if fmt == "tei" else "W3C Web Annotation collection"
        print(
            f"wrote {out}: {what} of {summary['record']} ({len(data):,} bytes; "
            f"verified {summary['state']} at head {summary['head']})"
        )


def _run_format(
    fmt: str,
    archive: Path | None,
    record: str,
    out: Path | None,
    into: Path | None,
    json_out: bool,
    trust: Path | None = None,
    force: bool = False,
) -> None:
    import importlib
    import sys

    from provenance.errors import ErrorCode, UsageError

    if fmt not in FORMATS:
        raise UsageError(ErrorCode.USAGE, f"unknown --format {fmt!r} (known: {', '.join(FORMATS)})")
    if fmt in READER_FORMATS and into is None:
        _run_reader(fmt, archive, record, out, trust, force, json_out)
        return
    if into is not None and fmt != "ocfl":
        raise UsageError(ErrorCode.USAGE, "--into (an existing OCFL storage root) goes with --format ocfl only")
    if (out is None) == (into is None):
        raise UsageError(ErrorCode.USAGE, f"--format {fmt} needs --out PATH" + (" or --into ROOT" if fmt == "ocfl" else ""))
    module, name = FORMATS[fmt]
    exporter = getattr(importlib.import_module(module), name)
    arch = open_archive(archive)
    kwargs: dict[str, object] = {"now": now()}
    if fmt == "ocfl":
        kwargs["into"] = into is not None
    result = exporter(arch, record, out if out is not None else into, **kwargs)
    for warning in result.warnings:
        sys.stderr.write(f"provenance: warning: {warning}\n")
    if json_out:
        emit_json(result.to_json())
    else:
        print(result.line())


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        record: Annotated[
            str, typer.Argument(help="Record id, e.g. telegram-23256 (tei, annotations: or a bundle to read).")
        ],
        out: Annotated[
            Path | None,
            typer.Option(
                "--out",
                "-o",
                help="Where to write: for a bag a new folder, or a .zip / .tar.gz file (chosen by the "
                "extension); for premis/mets a new .xml file; for archivematica a new transfer folder; for "
                "ocfl a new storage root.",
            ),
        ] = None,
        fmt: Annotated[
            str,
            typer.Option(
                "--format",
                "-f",
                help="bag (BagIt 1.0, the default), premis (PREMIS 3.0 XML), mets (METS 1.12 with PREMIS), "
                "archivematica (a transfer folder), ocfl (an OCFL 1.1 object in a storage root), tei (a TEI P5 "
                "edition), annotations (the notes as W3C Web Annotations, JSON-LD; stdout without --out).",
            ),
        ] = "bag",
        into: Annotated[
            Path | None,
            typer.Option("--into", help="With --format ocfl: add the record to this existing OCFL storage root."),
        ] = None,
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
        log_tiles: Annotated[
            bool,
            typer.Option("--log-tiles", help="Add the transparency log's tiles (for consistency proofs)."),
        ] = False,
        trust: Annotated[
            Path | None,
            typer.Option("--trust", help="tei, annotations: verify against these key cards (default: keys/)."),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="tei, annotations: write even when the record is not trusted.")
        ] = False,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Write one record as a BagIt 1.0 bag: payload, signed manifest, signers' key cards, tag manifests.

        Without --history the bag holds the current files with the full signed event chain; with it, every
        earlier version too. The same record exported twice gives the same bytes. An existing --out is
        never overwritten.

        --format premis|mets|archivematica|ocfl writes the record for a preservation system (see the
        README's mapping tables); the record is verified first and an invalid one is refused.

        Example: provenance export telegram-23256 --out telegram-23256.zip

        --format tei|annotations writes the record (or a bundle) for readers, from what verifies now; one
        that is not trusted is refused unless --force.

        Example: provenance export telegram-23256 --format ocfl --into /srv/ocfl-root

        Example: provenance export telegram-23256 --format tei --out telegram-23256.xml
        """
        import sys

        from provenance.bundle.export import export_record

        if (trust is not None or force) and fmt not in READER_FORMATS:
            from provenance.errors import ErrorCode, UsageError

            raise UsageError(ErrorCode.USAGE, "--trust and --force go with --format tei or annotations only")
        if fmt != "bag" or into is not None:
            if history or sha512 or log_tiles:
                from provenance.errors import ErrorCode, UsageError

                raise UsageError(ErrorCode.USAGE, "--history, --sha512 and --log-tiles go with --format bag only")
            _run_format(fmt, archive, record, out, into, json_out, trust, force)
            return
        if out is None:
            from provenance.errors import ErrorCode, UsageError

            raise UsageError(ErrorCode.USAGE, "export needs --out PATH (see 'provenance export --help')")
        arch = open_archive(archive)
        algorithms = ("sha256", "sha512") if sha512 else ("sha256",)
        result = export_record(arch, record, out, history=history, algorithms=algorithms, log_tiles=log_tiles)
        for key in result.missing_cards:
            sys.stderr.write(
                f"provenance: warning: no key card for signer {key[:24]}… in {arch.keys_dir}; the bundle "
                "carries none for it\n"
            )
        if json_out:
            emit_json(result.to_json())
            return
        what = f"{result.files} file{'s' if result.files != 1 else ''}"
        if result.history:
            what += f" and {result.objects} stored version{'s' if result.objects != 1 else ''}"
        print(
            f"wrote {result.out}: BagIt 1.0 bag of {result.record} ({what}, {result.payload_bytes:,} bytes, "
            f"{result.events} signed events, {len(result.key_cards)} key card(s); {', '.join(result.algorithms)})"
        )
