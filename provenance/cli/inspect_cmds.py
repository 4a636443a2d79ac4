"""Commands that read a record: log, show, diff."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, console, emit_json, open_archive, printable, table_box

RecordArg = Annotated[str, typer.Argument(help="Record id, e.g. telegram-23256.")]


def register(app: typer.Typer) -> None:
    @app.command("log")
    def log(
        record: RecordArg,
        prov: Annotated[
            bool, typer.Option("--prov", help="Print the history as W3C PROV (PROV-JSON) instead.")
        ] = False,
        compact: Annotated[
            bool,
            typer.Option(
                "--compact", help="One line per event, wrapped on spaces (the default below 120 columns)."
            ),
        ] = False,
        table: Annotated[
            bool,
            typer.Option(
                "--table",
                help="A table at any width, columns never narrower than their longest word (else --compact).",
            ),
        ] = False,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Show the record's events: who did what, when, in which role, with which key.

        Example: provenance log telegram-23256   (or --json, or --prov for W3C PROV-JSON)
        """
        from provenance import read_record
        from provenance.records import prov_document

        arch = open_archive(archive)
        if prov:
            emit_json(prov_document(arch, record))  # agent labels from the trust store
            return
        manifest = read_record(arch, record)
        if json_out:
            emit_json(
                {"record": manifest.record, "events": [e.model_dump(mode="json") for e in manifest.events]}
            )
            return
        from provenance.cli.inspect_render import log_table

        out = console()
        # issue 14: compact on a narrow terminal; a table only where every column is as wide as its longest word
        wide = None if compact or (out.width < 120 and not table) else log_table(out, manifest)
        if wide is None:
            _compact_log(manifest, out.width if out.is_terminal else 0)
        else:
            out.print(wide)

    @app.command("show")
    def show(
        record: RecordArg,
        version: Annotated[
            int | None, typer.Option("--version", "-v", help="Show the record as it was after event N.")
        ] = None,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Show a record: catalogue, files, notes and events (as they were after event N with --version).

        Example: provenance show telegram-23256 --version 1 --json
        """
        from provenance import read_record
        from provenance.records import record_at

        arch = open_archive(archive)
        manifest = read_record(arch, record)
        state = manifest.state
        events = manifest.events
        if version is not None:
            _, state, _ = record_at(arch, record, version)
            events = manifest.events[:version]
        document: dict[str, Any] = {
            "record": manifest.record,
            "version": version or len(manifest.events),
            "catalogue": state.catalogue.as_json(),
            "files": [f.model_dump(mode="json", exclude_none=True) for f in state.files],
            "notes": [n.model_dump(mode="json", exclude_none=True) for n in state.notes],
            "custodian": state.custodian,
            "events": [e.model_dump(mode="json") for e in events],
        }
        if json_out:
            emit_json(document)
            return
        _render_show(document)

    @app.command("diff")
    def diff(
        record: RecordArg,
        a: Annotated[int | None, typer.Argument(help="Earlier version (default: the one before B).")] = None,
        b: Annotated[int | None, typer.Argument(help="Later version (default: the last).")] = None,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Show what changed between two versions: text, catalogue fields, notes.

        Piped, the text is a unified diff that patch applies; on a terminal, word by word (removed letters
        struck through in red, added ones bold green).

        Example: provenance diff telegram-23256 1 5
        """
        from provenance.records import diff_versions

        arch = open_archive(archive)
        result = diff_versions(arch, record, a, b)
        if json_out:
            emit_json(result.to_json())
            return
        if not sys.stdout.isatty():  # issue 14: piped, a real unified diff (no wrapping) that `patch` applies
            _plain_diff(result)
            return
        from provenance.cli.inspect_render import print_word_diff

        print_word_diff(console(), result)  # issue 14: on a terminal, word by word


def _compact_log(manifest: Any, width: int) -> None:
    """One entry per event: ``#6  2026-11-30 08:48  revision  A. Archivist (archivist, 1931c45c5430)``
    then its summary; on a terminal of ``width`` columns, wrapped on spaces only (never mid-word)."""
    import textwrap

    from provenance.cli.output import counted

    lines = [f"{manifest.record}: {counted(len(manifest.events), 'event')}"]
    for e in manifest.events:
        head = (
            f"#{e.seq}  {e.time.replace('T', ' ')[:16]}  {e.type.value}  {e.agent} ({e.role.value}, {e.key[8:20]}): "
            f"{e.summary}"
        )
        if width:
            lines.extend(
                textwrap.wrap(head, width=max(width - 1, 20), subsequent_indent="    ", break_long_words=False,
                              break_on_hyphens=False)
            )
        else:
            lines.append(head)
    sys.stdout.write(printable("\n".join(lines)) + "\n")


def _plain_diff(result: Any) -> None:
    """The diff as ``patch`` reads it: every other line (catalogue, notes) is a comment before the hunks."""
    write = sys.stdout.write
    write(f"# {result.record}: version {result.a} -> {result.b}\n")
    for c in result.catalogue:
        write(printable(f"# catalogue {c['field']}: {c['from']!r} -> {c['to']!r}", one_line=True) + "\n")
    for n in result.notes:
        write(printable(f"# note {n['id']} {n['change']}: {n.get('quote', '')!r}", one_line=True) + "\n")
    for entry in result.files:
        if entry.get("patch"):
            write(entry["patch"])
        else:
            write(f"# file {entry['path']}: {entry['change']}\n")


def _render_show(doc: dict[str, Any]) -> None:
    from rich.table import Table

    out = console()
    out.print(f"{doc['record']}  (version {doc['version']})", style="bold")
    table = Table(box=table_box(out), show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in doc["catalogue"].items():
        if name == "copies":
            # a count only where the source gives one: the default 1 is not shown (issue 14), as in bag-info
            value = ", ".join(c["recipient"] + (f" ({c['count']})" if c.get("count", 1) != 1 else "") for c in value)
        table.add_row(name, str(value))
    if doc["custodian"]:
        table.add_row("custodian", doc["custodian"])
    out.print(table)
    for f in doc["files"]:
        out.print(
            f"file  {f['path']}  {f['size']} bytes  sha256:{f['sha256'][:16]}…  {f.get('role', '')}",
            markup=False,
        )
    for n in doc["notes"]:
        pos = n["target"].get("position") or {}
        mark = " (ORPHANED)" if n.get("status") == "orphaned" else ""
        out.print(
            f"{n['id']}{mark} [{n['kind']}] at {pos.get('start', '?')}: "
            f"{n['target']['quote']['exact']!r} — {n['text']}",
            markup=False,
        )
    from provenance.cli.output import counted

    out.print(f"{counted(len(doc['events']), 'event')}; see 'provenance log {doc['record']}'")
