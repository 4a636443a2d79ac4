"""Commands for readers: ``page`` (one self-contained HTML page), and the import behind
``note --from-annotations``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, emit_json, load_signer, now, open_archive, printable

if TYPE_CHECKING:
    from provenance.cli.common import Signing


def import_notes(signing: Signing, record: str, path: Path) -> None:
    """``note RECORD --from-annotations FILE``: read and check the collection, then sign its notes."""
    from provenance import EventType
    from provenance import import_notes as sign_notes
    from provenance.publishing import read_annotations

    arch = open_archive(signing.archive)
    arch.require_record(record)
    arch.refuse_links(record)  # as every writer: no link in the archive is followed (archive.path-unsafe)
    incoming = read_annotations(path)  # checked before any passphrase is asked for
    signer = load_signer(arch, EventType.ANNOTATION, signing.key, signing.passphrase_file, signing.role)
    result = sign_notes(arch, record, signer, incoming, now=now())
    if signing.json_out:
        emit_json(result.to_json())
        return
    line = f"{record}: {len(result.added)} note(s) imported"
    if result.skipped:
        line += f", {len(result.skipped)} already present"
    if result.orphaned:
        line += f" ({len(result.orphaned)} orphaned: {', '.join(result.orphaned)})"
    if result.events:
        line += f" (events {result.events[0]}–{result.events[-1]})"
    print(printable(line))


def register(app: typer.Typer) -> None:
    @app.command("page")
    def page(
        target: Annotated[
            str, typer.Argument(help="A record id of the archive, or a bundle (.zip, .tar.gz, bag folder).")
        ],
        out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write (must not exist).")],
        force: Annotated[
            bool,
            typer.Option(
                "--force", help="Write the page even when it does not verify, its state in a banner."
            ),
        ] = False,
        trust: Annotated[
            Path | None,
            typer.Option("--trust", help="Verify against these key cards (default: the archive's keys/)."),
        ] = None,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Write one self-contained HTML page for readers: catalogue card, transcription with its notes,
        timeline, custody, revisions as word-level diffs, files, and the verification at this moment.

        The record or bundle is verified first; the page is made only from what was verified, and is refused
        unless it is trusted (--force writes it with the state in a banner no reader can miss). The page
        loads nothing from the network and reads well without script, on a phone and in print.

        Example: provenance page telegram-23256 --out telegram-23256.html
        """
        import sys

        from provenance.publishing import edition

        made = edition(target, format="page", out=out, archive=archive, trust=trust, allow_untrusted=force, now=now())
        summary = made.to_json()
        del summary["format"]
        data = made.data
        if not made.trusted:
            sys.stderr.write(
                f"provenance: warning: {printable(made.label)} is {made.state}; the page says so in a banner\n"
            )
        if json_out:
            emit_json(summary)
        else:
            print(
                printable(
                    f"wrote {out}: page of {summary['record']} ({len(data):,} bytes; {summary['state']})"
                )
            )
