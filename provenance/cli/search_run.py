"""``search`` itself: rendering its results, and the fast path ``main()`` takes without typer.

A search is asked for often and answers in milliseconds from the index; typer and rich together cost a cold
start more than the query. With plain arguments and no terminal to draw on (piped, or ``--json``), ``main``
parses them with the fast parser of :mod:`provenance.cli.arg_table`, from the table typer's parameters are
built from too (:mod:`provenance.cli.search_args`); anything else goes through typer, which parses and
reports it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.cli.output import emit_json, printable

if TYPE_CHECKING:
    from provenance import Archive
    from provenance.records import SearchFilters as Filters
    from provenance.records import SearchResults as Found

def filters_for(
    archive: Archive,
    fields: list[str] | None,
    sent_from: str | None,
    sent_to: str | None,
    signer: str | None,
    released: bool,
) -> Filters:
    """The filters of ``search`` and ``list``; ``--signer`` resolved through the trust store when it
    names a key (else taken as an agent's name). Raises ``UsageError``."""
    from provenance.records import search_filters

    return search_filters(
        archive, fields=fields, sent_from=sent_from, sent_to=sent_to, signer=signer, released=released
    )


def status_json(found: Found) -> dict[str, Any]:
    status = found.status
    return {"rebuilt": status.rebuilt, "reason": status.reason or None, "refreshed": status.refreshed}


def note_status(found: Found) -> None:
    status = found.status
    if status.rebuilt:
        sys.stderr.write(
            printable(f"provenance: note: search index built ({status.reason}; {status.records} records)\n")
        )
    elif status.refreshed:
        sys.stderr.write(
            f"provenance: note: {status.refreshed} record(s) changed outside the index; re-indexed\n"
        )


def marked(text: str, spans: list[list[int]]) -> str:
    """Plain output: the matching words marked as *word*."""
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start] + "*" + text[start:end] + "*")
        last = end
    out.append(text[last:])
    return "".join(out)


def render(query: str, found: Found, json_out: bool) -> None:
    """The results: one JSON document, rich lines on a terminal, plain lines otherwise."""
    if json_out:
        emit_json(
            {
                "query": query,
                "total": found.total,
                "results": [h.as_json(True) for h in found.hits],
                "index": status_json(found),
            }
        )
        return
    note_status(found)
    shown = len(found.hits)
    more = f" ({found.total - shown} more: --limit 0 shows all)" if found.total > shown else ""
    tail = f"{found.total} record(s) found{more}" if found.total else "no record matches"
    if not sys.stdout.isatty():
        lines = []
        for hit in found.hits:
            head = f"{hit.record}  {hit.title or ''}" + (f"  ({hit.sent})" if hit.sent else "")
            head += "  released" if hit.released else ""
            snippet, spans = hit.highlights()
            lines.append(printable(head, one_line=True))
            lines.append("    " + printable(marked(snippet, spans), one_line=True))
        lines.append(tail)
        sys.stdout.write("\n".join(lines) + "\n")
        return
    from rich.text import Text

    from provenance.cli.output import console

    out = console()
    for hit in found.hits:
        line = Text()
        line.append(printable(hit.record, one_line=True), style="bold")
        line.append(f"  {printable(hit.title or '', one_line=True)}")
        if hit.sent:
            line.append(f"  ({hit.sent})", style="dim")
        if hit.released:
            line.append("  released", style="green")
        out.print(line)
        snippet, spans = hit.highlights()
        text = Text("    " + printable(snippet, one_line=True))
        for start, end in spans:
            text.stylize("bold yellow", start + 4, end + 4)
        out.print(text)
    out.print(tail)


def run_search(
    query: str,
    *,
    fields: list[str] | None = None,
    sent_from: str | None = None,
    sent_to: str | None = None,
    signer: str | None = None,
    released: bool = False,
    limit: int = 20,
    archive: Path | None = None,
    json_out: bool = False,
) -> int:
    from provenance import open_archive
    from provenance.records import search_records

    arch = open_archive(archive)
    found = search_records(arch, query, filters_for(arch, fields, sent_from, sent_to, signer, released), limit=limit)
    render(query, found, json_out)
    return 0


def fast_command(args: list[str]) -> Callable[[], int] | None:
    """``search`` with plain arguments (its table, :mod:`provenance.cli.search_args`, read by
    :func:`parse_plain`), run without typer; None to let typer parse them."""
    if not (args and args[0] == "search") or not ("--json" in args or not sys.stdout.isatty()):
        return None
    from provenance.cli.arg_table import parse_plain
    from provenance.cli.search_args import SEARCH

    values = parse_plain(SEARCH, args[1:])
    if values is None:
        return None
    return lambda: run_search(**values)
