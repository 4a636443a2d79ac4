"""``unpack``: verify a bundle archive and, only when it is trusted, write its bag from the bytes verified."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt
from provenance.cli.verify_cmds import MaxSizeOpt, TrustOpt


def register(app: typer.Typer) -> None:
    @app.command("unpack")
    def unpack(
        bundle: Annotated[Path, typer.Argument(help="A .zip, .tar.gz or .tar bundle.")],
        out: Annotated[
            Path,
            typer.Option("--out", "-o", help="The folder to create for the bag (it must not exist)."),
        ],
        trust: TrustOpt = None,
        archive: ArchiveOpt = None,
        max_size: MaxSizeOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Verify a bundle and, only if it is trusted, write its bag to a new folder; exit codes as verify.

        The archive is read once: each file is hashed as it is written into a staging folder beside
        --out, and the staging folder becomes --out only when the verdict is trusted. What lands on disk
        is exactly what was verified, never another program's reading of the archive. The report is
        verify's; a bundle that is not trusted leaves nothing behind (exit 1 invalid, 3 valid).

        Example: provenance unpack telegram-23256.zip --out telegram-23256
        """
        from provenance.cli import verify_run

        raise typer.Exit(verify_run.unpack(bundle, out, trust, archive, json_out, max_size))
