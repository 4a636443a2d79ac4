"""How ``verify`` and ``audit`` show what they found: a report for a person (rich on a terminal, plain lines
when piped, rich then never imported), one line per target and a summary for many, a progress bar on a
terminal, and one JSON document for many reports written as they come (memory does not grow with them).
Every text from a record passes through :func:`provenance.cli.output.printable` (data is hostile).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.cli.output import console, counted, json_safe, printable

if TYPE_CHECKING:
    from rich.console import Console

    from provenance import VerificationReport
    from provenance.verifying import VerifyOutcome as Outcome

STATE_WORDS = {
    "trusted": "TRUSTED: every byte intact, every event signed, every signer trusted for its role",
    "valid": "VALID BUT NOT TRUSTED: intact and correctly signed, but a signer is not trusted (see above)",
    "invalid": "INVALID: something was altered, is missing, or is not what it claims to be",
}
COLOURS = {"trusted": "green", "valid": "yellow", "invalid": "red"}
STATES = ("trusted", "valid", "invalid")


# --------------------------------------------------------------------------------------------------------
# Text for a person: rich on a terminal, plain lines when piped (rich is then never imported)

Segment = tuple[str, str | None]  # (text, rich style)


class _Out:
    """Lines of (text, style) segments; every text passes through :func:`printable` (data is hostile)."""

    def __init__(self) -> None:
        self.terminal = sys.stdout.isatty()
        self._console: Console | None = console() if self.terminal else None

    def line(self, *segments: Segment) -> None:
        if self._console is None:
            sys.stdout.write("".join(printable(text) for text, _ in segments) + "\n")
            return
        from rich.text import Text

        rendered = Text()
        for text, style in segments:
            rendered.append(printable(text), style=style)
        self._console.print(rendered)


def _report_lines(report: VerificationReport) -> Iterator[list[Segment]]:
    state = str(report.state)
    colour = COLOURS[state]
    extra = []
    if report.telegram_number:
        extra.append(f"telegram No. {report.telegram_number}")
    if report.title:
        extra.append(report.title)
    title = report.record or report.path
    yield [(title + (f"  ({'; '.join(extra)})" if extra else ""), "bold")]
    yield [(f"  {report.kind} at {report.path}: {counted(report.events, 'event')}, {counted(report.files, 'file')}, "
            f"{report.bytes_hashed:,} bytes hashed", None)]
    yield [(_trust_line(report), "dim")]
    for check in report.checks:
        mark: Segment = ("✓", "green") if check.ok else ("✗", "red")
        detail: list[Segment] = [(f" ({check.detail})", "dim")] if check.detail else []
        yield [("  ", None), mark, (f" {check.name}", None), *detail]
    if report.problems and all(check.ok for check in report.checks):
        # issue 14: never every check ✓ and then INVALID: the problems no check names get a line of their own
        codes = ", ".join(sorted({str(p.code) for p in report.problems}))
        yield [("  ", None), ("✗", "red"), (f" {counted(len(report.problems), 'further problem')} ({codes})", None)]
    if report.log is not None:
        yield [(f"  transparency log: {report.log}", None)]
    for signer in report.signers:
        against = sorted(
            {str(p.code) for p in report.problems if p.fields.get("key") == signer["key"] and str(p.code).startswith("signer.")}
        )
        if signer["trusted"]:  # in the trust store; whether trusted for each event is what the problems say
            trusted = f"in your trust store, but {', '.join(against)}" if against else "trusted"
        else:
            trusted = "NOT in your trust store"
        seqs = ", ".join(f"{e['seq']} {e['type']} {e['time'][:16].replace('T', ' ')}" for e in signer["events"])
        yield [(f"  signer {signer['name']} ({signer['key'][:20]}…, {trusted}): {seqs}", None)]
        for step in signer.get("rotation", ()):
            yield [(f"    rotation: {step['old'][:20]}… → {step['new'][:20]}… at {step['time']} (signed by the old key)", None)]
    for card in report.bundle_key_cards:
        yield [(f"  key card in bundle (shown, not trusted): {card.get('name')} {str(card.get('id'))[:20]}…", None)]
    nowhere = (report.trust_store or {}).get("source") == "none"
    for problem, more in _grouped(report.problems):
        message = problem.message
        if nowhere:  # no trust store at all: not a made-up path in the sentence (issue 14)
            where = str((report.trust_store or {}).get("path"))
            message = message.replace(f"({where})", "(none here)").replace(f"trust store {where} ", "trust store (none here) ")
        tail = ""
        if more:
            events = ", ".join(str(p.fields.get("event")) for p in more if p.fields.get("event") is not None)
            tail = f" (the same for {counted(len(more), 'more event')}" + (f": {events})" if events else ")")
        yield [("  ", None), ("•", colour), (f" {problem.code}: {message}{tail}", None)]
    for warning in report.warnings:
        yield [(f"  ! {warning}", None)]
    yield [(STATE_WORDS[state], f"bold {colour}")]


def _grouped(problems: list[Any]) -> list[tuple[Any, list[Any]]]:
    """One bullet per (code, key) for signer problems: the same unknown signer of twenty events is one line
    naming the events, not twenty 300-character bullets (issue 14). Other problems stay one each."""
    groups: dict[tuple[str, str], tuple[Any, list[Any]]] = {}
    out: list[tuple[Any, list[Any]]] = []
    for problem in problems:
        key = problem.fields.get("key")
        if str(problem.code).startswith("signer.") and isinstance(key, str):
            group = groups.get((str(problem.code), key))
            if group is not None:
                group[1].append(problem)
                continue
            groups[(str(problem.code), key)] = (problem, [])
            out.append(groups[(str(problem.code), key)])
        else:
            out.append((problem, []))
    return out


def _trust_line(report: VerificationReport) -> str:
    """Which trust store and roles policy the verdict rests on."""
    store = report.trust_store or {}
    policy = report.policy or {}
    origin = {"option": "--trust", "archive": "the archive's keys/", "none": "none found"}
    where = {"trust-store": "the trust store's", "archive": "the archive's", "caller": "given by the caller"}
    rules = (
        f"{policy.get('path')} ({where.get(str(policy.get('source')), '')})"
        if policy.get("path")
        else "the built-in defaults"
    )
    path = store.get("path")
    if store.get("source") == "none":  # issue 14: outside an archive, no made-up path
        return f"  trust store: none (no archive here and no --trust: nothing can be trusted); roles policy: {rules}"
    if path and not Path(str(path)).exists():
        return f"  trust store: none ({path} does not exist); roles policy: {rules}"
    return (
        f"  trust store {path or '(none)'} ({origin.get(str(store.get('source')), '?')}, "
        f"{counted(store.get('cards', 0), 'card')}); roles policy: {rules}"
    )


def _render(report: VerificationReport, out: _Out | None = None) -> None:
    out = out or _Out()
    for segments in _report_lines(report):
        out.line(*segments)


def _short_line(outcome: Outcome) -> list[Segment]:
    state = str(outcome.state)
    mark: Segment = ("✓", "green") if state == "trusted" else ("✗", COLOURS[state])
    name = outcome.record or outcome.path
    return [mark, (f" {name}: {state} ({counted(outcome.events, 'event')}, {counted(outcome.files, 'file')}) {outcome.path}", None)]


def _summary(what: str, counts: dict[str, int], started: float, files: int, hashed: int) -> list[Segment]:
    seconds = time.perf_counter() - started
    colour = "red" if counts["invalid"] else "yellow" if counts["valid"] else "green"
    return [
        (f"{what}: {sum(counts.values())} verified: ", "bold"),
        (f"{counts['trusted']} trusted, {counts['valid']} valid, {counts['invalid']} invalid", f"bold {colour}"),
        (f" ({counted(files, 'file')}, {hashed:,} bytes hashed, {seconds:.2f} s)", None),
    ]


def _progress(total: int, what: str, enabled: bool) -> AbstractContextManager[Any]:
    """A rich progress bar on stderr when a person watches a terminal; nothing otherwise."""
    if not enabled or total < 2 or not sys.stderr.isatty():
        return nullcontext(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(f"[bold]{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    )


# --------------------------------------------------------------------------------------------------------
# One JSON document for many reports, written as they come


class _JsonStream:
    """``{"reports": [...], <summary keys>}``: each report is written when it is known."""

    def __init__(self) -> None:
        self._first = True
        sys.stdout.write('{\n  "reports": [')

    def report(self, document: str) -> None:
        sys.stdout.write(("\n    " if self._first else ",\n    ") + json_safe(document))
        self._first = False

    def fail(self, exc: Exception) -> None:
        """A run stopped by an error (workers that kept dying): ``{"reports": [...], "error": {...}}``, one
        JSON document still; the error is marked so that ``main`` does not print a second one."""
        from provenance import ProvenanceError

        if isinstance(exc, ProvenanceError):
            self.close({"error": exc.to_json()})
            exc.streamed = True  # type: ignore[attr-defined]

    def close(self, tail: dict[str, Any]) -> None:
        sys.stdout.write("\n  ]")
        for key, value in tail.items():
            sys.stdout.write(f",\n  {json.dumps(key)}: " + json_safe(json.dumps(value, ensure_ascii=False)))
        sys.stdout.write("\n}\n")
        sys.stdout.flush()


@contextmanager
def _failing(stream: _JsonStream | None) -> Iterator[None]:
    """An error raised mid-stream ends the JSON stream with it (see :meth:`_JsonStream.fail`)."""
    try:
        yield
    except Exception as exc:
        if stream is not None:
            stream.fail(exc)
        raise
