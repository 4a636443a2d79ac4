"""How ``log`` and ``diff`` look on a terminal (issue 14): the log table sized so that no word is ever broken,
and the diff word by word with the changed letters marked.

Imported only by those two commands, after the archive is read (rich is loaded here, not at start-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provenance.cli.output import counted, printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from provenance.records import Segment

REMOVED_STYLE = "strike red"
ADDED_STYLE = "bold green"
# the eight-column table is used only where its summary column gets this many columns (or all it needs)
SUMMARY_COMFORT = 40
_VISIBLE_SPACE = str.maketrans({" ": "·", "\t": "→", "\r": "␍", "\n": "↵\n"})


# --- diff: word by word ---


def _shown(segment: Segment) -> str:
    """A segment's text as shown: line ends as lines; a change of white space alone made visible (``␍``)."""
    text = segment.text
    if segment.kind != "equal" and text.isspace():
        return printable(text.translate(_VISIBLE_SPACE))
    return printable(text.replace("\r\n", "\n"))


def segments_text(segments: Sequence[Segment], *, markers: bool) -> Text:
    """Segments as rich text: removed struck through in red, added bold green, the rest plain.

    ``markers`` (a terminal without colour): ``[-removed-]`` and ``{+added+}`` as ``git diff --word-diff``.
    """
    from rich.text import Text

    text = Text()
    for segment in segments:
        shown = _shown(segment)
        if segment.kind == "equal":
            text.append(shown)
        elif segment.kind == "removed":
            text.append(f"[-{shown}-]" if markers else shown, style=REMOVED_STYLE)
        else:
            text.append(f"{{+{shown}+}}" if markers else shown, style=ADDED_STYLE)
    if text.plain.endswith("\n"):
        text.right_crop(1)  # the hunk's last line end: print adds one
    return text


def print_word_diff(out: Console, result: Any) -> None:
    """``diff`` on a terminal: each changed region with a line of context, word by word, wrapped on spaces at
    the terminal's width (rich wraps between words; only a word wider than the terminal is folded)."""
    from provenance.records import word_hunks

    markers = out.color_system is None or out.no_color
    out.print(f"{result.record}: version {result.a} → {result.b}", style="bold")
    if not (result.files or result.catalogue or result.notes):
        out.print("no differences")
    for entry in result.files:
        out.print(f"file {entry['path']}: {entry['change']}", style="bold")
        texts = result.texts.get(entry["path"])
        if texts is None:
            continue
        for hunk in word_hunks(*texts):
            header = f"@@ -{hunk.old_start},{hunk.old_count} +{hunk.new_start},{hunk.new_count} @@"
            out.print(header, style="cyan")
            out.print(segments_text(hunk.segments, markers=markers))
    for c in result.catalogue:
        out.print(f"catalogue {c['field']}: {c['from']!r} → {c['to']!r}")
    for n in result.notes:
        out.print(f"note {n['id']} {n['change']}: {n.get('quote', '')!r}")


# --- log: a table that breaks no word ---


@dataclass
class _Column:
    header: str
    cells: list[str]

    def __post_init__(self) -> None:
        # measured as shown: record content with its controls escaped (``\x1b`` is four columns wide)
        self.cells = [printable(cell).replace("\t", " ") for cell in self.cells]

    def narrowest(self) -> int:
        """The longest word: any narrower and a word would be broken."""
        from rich.cells import cell_len

        return max(
            (cell_len(word) for text in [self.header, *self.cells] for word in text.split()), default=1
        )

    def widest(self) -> int:
        """The longest line: wider would be wasted."""
        from rich.cells import cell_len

        return max(
            (cell_len(line) for text in [self.header, *self.cells] for line in text.splitlines()), default=1
        )


def fit_widths(narrowest: Sequence[int], widest: Sequence[int], available: int) -> list[int] | None:
    """Column widths summing to at most ``available``, none under its narrowest (so no word is ever broken),
    the last column (the summary) given what the others leave; None where even the narrowest do not fit."""
    if sum(narrowest) > available:
        return None
    if sum(widest) <= available:
        return list(widest)
    rest = available - sum(widest[:-1])
    if rest >= max(narrowest[-1], min(widest[-1], SUMMARY_COMFORT)):
        return [*widest[:-1], rest]
    widths = list(narrowest)
    spare = available - sum(widths)
    wants = [max(w - n, 0) for n, w in zip(narrowest, widest, strict=True)]
    total = sum(wants)
    for index, want in enumerate(wants):
        widths[index] += spare * want // total
    widths[-1] += available - sum(widths)  # what rounding left over goes to the summary
    return widths


def _full_columns(events: Sequence[Any]) -> list[_Column]:
    return [
        _Column("#", [str(e.seq) for e in events]),
        _Column("time (UTC)", [e.time.replace("T", " ").rstrip("Z") for e in events]),
        _Column("event", [e.type.value for e in events]),
        _Column("PREMIS", [e.premis_type for e in events]),
        _Column("agent", [e.agent for e in events]),
        _Column("role", [e.role.value for e in events]),
        _Column("key", [e.key[8:20] for e in events]),  # the key id, shortened by design (as in --compact)
        _Column("summary", [e.summary for e in events]),
    ]


def _stacked_columns(events: Sequence[Any]) -> list[_Column]:
    """Five columns for a narrower terminal: event over its PREMIS type, agent over role and key."""
    return [
        _Column("#", [str(e.seq) for e in events]),
        _Column("time (UTC)", [e.time.replace("T", " ").rstrip("Z") for e in events]),
        _Column("event (PREMIS)", [f"{e.type.value}\n({e.premis_type})" for e in events]),
        _Column("agent, role, key", [f"{e.agent}\n{e.role.value}\n{e.key[8:20]}" for e in events]),
        _Column("summary", [e.summary for e in events]),
    ]


def log_table(out: Console, manifest: Any) -> Table | None:
    """The events as a table at the console's width whose every column is at least as wide as its longest
    word (ids, dates and key ids are single words, so they are never cut either): eight columns where the
    summary still gets room, else five (stacked cells), else None (the caller prints the compact form)."""
    from rich.table import Table

    from provenance.cli.common import table_box

    events = manifest.events
    box = table_box(out)
    for columns, squeezable in ((_full_columns(events), False), (_stacked_columns(events), True)):
        # per column one space either side; the box adds its two edges and one rule between columns
        overhead = 2 * len(columns) + (2 + len(columns) - 1 if box else 0)
        widths = fit_widths(
            [c.narrowest() for c in columns], [c.widest() for c in columns], out.width - overhead
        )
        if widths is None:
            continue
        if not squeezable and widths[-1] < min(columns[-1].widest(), SUMMARY_COMFORT):
            continue  # the summary would be squeezed: the stacked form gives it more room
        table = Table(title=f"{manifest.record}: {counted(len(events), 'event')}", box=box)
        for column, width in zip(columns, widths, strict=True):
            # overflow='ellipsis' would only ever cut a word wider than its column, which fit_widths prevents
            table.add_column(column.header, width=width, overflow="ellipsis")
        for row in zip(*(c.cells for c in columns), strict=True):
            table.add_row(*row)
        return table
    return None
