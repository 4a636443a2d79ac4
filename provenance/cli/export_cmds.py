"""``export``: one record as a BagIt 1.0 bundle (folder, .zip or .tar.gz) for a publisher, or (``--format``) in
another system's form: one row of :data:`FORMATS` per format, each a module of :mod:`provenance.exports`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, emit_json, now, open_archive

# export --format NAME: the library's exporters (provenance.EXPORTERS) and readers' editions (tei, annotations:
# provenance.EDITIONS, made from a record or bundle verified now against --trust, refused unless trusted;
# --force writes anyway; annotations go to stdout without --out).
READER_FORMATS = frozenset({"tei", "annotations"})
# the choices of --format, bag (the default) first: the library's EXPORTERS, then its EDITIONS but the page
# (which has a command of its own); tests/test_public_api.py checks the two agree
FORMATS = ("bag", "premis", "mets", "archivematica", "ocfl", "tei", "annotations")


def _run_reader(
    fmt: str, archive: Path | None, target: str, out: Path | None, trust: Path | None, force: bool, json_out: bool
) -> None:
    import sys

    from provenance import ErrorCode
    from provenance.exceptions import UsageError
    from provenance.publishing import edition

    if out is None and fmt == "tei":
        raise UsageError(ErrorCode.USAGE, "--format tei needs --out FILE.xml")
    to_stdout = out is None or str(out) == "-"
    made = edition(
        target, format=fmt, out=None if to_stdout else out, archive=archive, trust=trust,  # type: ignore[arg-type]
        allow_untrusted=force, now=now(),
    )
    if not made.trusted:
        sys.stderr.write(f"provenance: warning: {made.label} is {made.state}, written with --force\n")
    if to_stdout:
        sys.stdout.buffer.write(made.data)
        sys.stdout.flush()
        return
    summary = made.to_json()
    del summary["kind"]
    if json_out:
        emit_json(summary)
    else:
        what = "TEI P5 edition" if fmt == "tei" else "W3C Web Annotation collection"
        print(
            f"wrote {out}: {what} of {made.record} ({len(made.data):,} bytes; "
            f"verified {made.state} at head {made.head})"
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
    import sys

    from provenance import ErrorCode, export
    from provenance.exceptions import UsageError

    if fmt not in FORMATS:
        raise UsageError(ErrorCode.USAGE, f"unknown --format {fmt!r} (known: {', '.join(FORMATS)})")
    if fmt in READER_FORMATS and into is None:
        _run_reader(fmt, archive, record, out, trust, force, json_out)
        return
    if into is not None and fmt != "ocfl":
        raise UsageError(ErrorCode.USAGE, "--into (an existing OCFL storage root) goes with --format ocfl only")
    if (out is None) == (into is None):
        raise UsageError(ErrorCode.USAGE, f"--format {fmt} needs --out PATH" + (" or --into ROOT" if fmt == "ocfl" else ""))
    arch = open_archive(archive)
    target = out if out is not None else into
    assert target is not None
    result = export(arch, record, target, format=fmt, into=into is not None, now=now())  # type: ignore[arg-type]
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

        from provenance import export as export_record

        if (trust is not None or force) and fmt not in READER_FORMATS:
            from provenance import ErrorCode
            from provenance.exceptions import UsageError

            raise UsageError(ErrorCode.USAGE, "--trust and --force go with --format tei or annotations only")
        if fmt != "bag" or into is not None:
            if history or sha512 or log_tiles:
                from provenance import ErrorCode
                from provenance.exceptions import UsageError

                raise UsageError(ErrorCode.USAGE, "--history, --sha512 and --log-tiles go with --format bag only")
            _run_format(fmt, archive, record, out, into, json_out, trust, force)
            return
        if out is None:
            from provenance import ErrorCode
            from provenance.exceptions import UsageError

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
