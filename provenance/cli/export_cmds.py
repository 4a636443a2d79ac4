"""``export``: one record as a BagIt 1.0 bundle (folder, .zip or .tar.gz) for a publisher."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, emit_json, open_archive


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        record: Annotated[str, typer.Argument(help="Record id, e.g. telegram-23256.")],
        out: Annotated[
            Path,
            typer.Option(
                "--out",
                "-o",
                help="Where to write the bag: a new folder, or a .zip / .tar.gz file (chosen by the extension).",
            ),
        ],
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
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Write one record as a BagIt 1.0 bag: payload, signed manifest, signers' key cards, tag manifests.

        Without --history the bag holds the current files with the full signed event chain; with it, every
        earlier version too. The same record exported twice gives the same bytes. An existing --out is
        never overwritten.

        Example: provenance export telegram-23256 --out telegram-23256.zip
        """
        import sys

        from provenance.bundle.export import export_record

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
