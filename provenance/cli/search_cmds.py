"""``provenance search``, ``list`` and ``index``: finding records again through the derived index."""

from __future__ import annotations

import sys
from typing import Annotated, Any, TypeAlias

import typer

from provenance.cli import search_args
from provenance.cli.arg_typer import declaration, with_parameters
from provenance.cli.common import ArchiveOpt, JsonOpt, console, emit_json, open_archive, table_box

# list takes search's filters, declared in search's table (tests/test_verify_args.py checks the types)
FieldOpt: TypeAlias = Annotated[list[str] | None, declaration(search_args.FIELD)]
SentFromOpt: TypeAlias = Annotated[str | None, declaration(search_args.SENT_FROM)]
SentToOpt: TypeAlias = Annotated[str | None, declaration(search_args.SENT_TO)]
SignerOpt: TypeAlias = Annotated[str | None, declaration(search_args.SIGNER)]
ReleasedOpt: TypeAlias = Annotated[bool, declaration(search_args.RELEASED)]

def search(**values: Any) -> None:
    """Full-text search of transcriptions, notes and catalogue: ranked, each result with its snippet.

    Case and accents do not matter (kaesong finds Kaesŏng), Cyrillic and Latin alike.

    Example: provenance search 'Филиппов*' --sent-from 1951-08-01 --field origin=Beijing
    """
    from provenance.cli import search_run

    search_run.run_search(**values)


def register(app: typer.Typer) -> None:
    # its parameters are built from its table, which the fast path (provenance.cli.search_run) reads too
    app.command("search")(with_parameters(search, search_args.SEARCH))

    @app.command("list")
    def list_cmd(
        field: FieldOpt = None,
        sent_from: SentFromOpt = None,
        sent_to: SentToOpt = None,
        signer: SignerOpt = None,
        released: ReleasedOpt = False,
        sort: Annotated[
            str, typer.Option("--sort", help="record, title, sent, events, changed, or a catalogue field.")
        ] = "record",
        desc: Annotated[bool, typer.Option("--desc", help="Sort in descending order.")] = False,
        fmt: Annotated[
            str,
            typer.Option("--format", help="table, csv (a catalogue sheet ingest-batch reads back) or json."),
        ] = "table",
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """List the archive's records, filtered and sorted.

        The CSV is a catalogue sheet: its filename column is <record>/<file>, so copying each record's files/
        to FOLDER/<record>/ lets ingest-batch register the same records again.

        Example: provenance list --sort sent --format csv > catalogue.csv
        """
        from provenance import ErrorCode
        from provenance.cli.search_run import filters_for, note_status, status_json
        from provenance.exceptions import UsageError
        from provenance.records import list_records

        if fmt not in ("table", "csv", "json"):
            raise UsageError(ErrorCode.USAGE, f"--format {fmt!r}: use table, csv or json")
        if json_out:
            fmt = "json"
        arch = open_archive(archive)
        found = list_records(
            arch, filters_for(arch, field, sent_from, sent_to, signer, released), sort=sort, descending=desc
        )
        if fmt == "json":
            emit_json(
                {
                    "total": found.total,
                    "records": [h.as_json(False) for h in found.hits],
                    "index": status_json(found),
                }
            )
            return
        note_status(found)
        if fmt == "csv":
            import csv

            from provenance.records import catalogue_rows

            header, rows = catalogue_rows(found.hits)
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            return
        from rich.table import Table

        out = console()
        table = Table(box=table_box(out), show_edge=False)
        for name in ("record", "title", "sent", "events", "released"):
            table.add_column(name, overflow="fold")
        for hit in found.hits:
            table.add_row(
                hit.record, hit.title or "", hit.sent or "", str(hit.events), "yes" if hit.released else ""
            )
        out.print(table)
        out.print(f"{found.total} record(s)")

    @app.command("index")
    def index(
        rebuild: Annotated[
            bool, typer.Option("--rebuild", help="Build the index again from every manifest.")
        ] = False,
        check: Annotated[
            bool,
            typer.Option(
                "--check", help="Compare every indexed record with its manifest; re-index what differs."
            ),
        ] = False,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """The search index (derived from the manifests, in .provenance/index.sqlite): status, check, rebuild.

        Example: provenance index --rebuild
        """
        import time

        from provenance.records import index_status

        arch = open_archive(archive)
        started = time.perf_counter()
        document = index_status(arch, rebuild=rebuild, check=check)
        seconds = round(time.perf_counter() - started, 3)
        document = {key: document[key] for key in ("records", "rebuilt", "reindexed")} | {
            "seconds": seconds, "path": document["path"]
        }
        if json_out:
            emit_json(document)
            return
        verb = "rebuilt" if document["rebuilt"] else "current"
        print(
            f"index {verb}: {document['records']} records, {document['reindexed']} re-indexed ({document['seconds']} s)"
        )
