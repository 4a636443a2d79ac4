"""``import --ocfl OBJECT``: a record read back from an OCFL object written by ``export --format ocfl``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, emit_json, now, open_archive


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_(
        ocfl: Annotated[
            Path,
            typer.Option("--ocfl", help="The OCFL object folder (the one holding 0=ocfl_object_1.1)."),
        ],
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Check an OCFL object, rebuild the record it holds, verify it, and add it to the archive.

        Every content file is hashed against the inventory, whose own digest is checked against its
        sidecar; the record is then verified with the archive's trust store (key cards inside the object
        are never trusted). An altered object is refused with every problem named (exit 1) and nothing is
        written; a record whose signers the archive does not know is imported and reported valid (exit 3).

        Example: provenance import --ocfl /srv/ocfl-root/e3a/246/788/e3a24678…
        """
        from provenance.cli.exits import exit_for_state
        from provenance.cli.verify_run import _render
        from provenance.publishing import import_ocfl

        arch = open_archive(archive)
        report = import_ocfl(arch, ocfl, now=now())
        if json_out:
            emit_json(report.to_json())
        else:
            _render(report)
        raise typer.Exit(exit_for_state(report.state))
