"""``verify`` and ``audit`` without the CLI framework: their whole implementation, and the fast path.

:mod:`provenance.cli.verify_cmds` declares the two commands to typer and calls :func:`run` here.
:func:`fast_command` lets :func:`provenance.cli.app.main` run them without importing typer (and the
pydantic adapters typer builds for every parameter) when the arguments are plain. Both parsers are built
from the one table of each command in :mod:`provenance.cli.verify_args`; anything the fast parser declines
(``--help``, an unknown or malformed option) goes through typer, which reports it; both call :func:`run`.

Output: ``rich`` only when a person watches a terminal (the report in colour, a progress bar for many
targets); piped, plain text; under ``--json``, one JSON document, written record by record so that memory
does not grow with the number of records.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.cli.output import console, counted, emit_json, json_safe, now, printable

if TYPE_CHECKING:
    from rich.console import Console

    from provenance.model.problems import TrustState, VerificationReport
    from provenance.verify.batch import Outcome, TargetKind
    from provenance.verify.record import LogOptions, VerifyContext

# the commands implemented here (the app builds only their group, or takes the fast path, for them)
COMMANDS = ("verify", "audit")

STATE_WORDS = {
    "trusted": "TRUSTED: every byte intact, every event signed, every signer trusted for its role",
    "valid": "VALID BUT NOT TRUSTED: intact and correctly signed, but a signer is not trusted (see above)",
    "invalid": "INVALID: something was altered, is missing, or is not what it claims to be",
}
COLOURS = {"trusted": "green", "valid": "yellow", "invalid": "red"}
STATES = ("trusted", "valid", "invalid")


def _context(paths: list[Path], trust: Path | None, archive: Path | None) -> VerifyContext:
    """The verifier's trust store and roles policy (:func:`_find_context`), with the cyclic garbage
    collector paused meanwhile: loading the library, building its validators and reading the key cards
    allocate tens of thousands of objects that stay alive for the whole run, and the collector's passes
    over them (some fifty) cost a cold ``verify`` about 2%. They are then frozen (never scanned again,
    nor copied into forked workers by a scan), and the collector runs as usual during the verification."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _find_context(paths, trust, archive)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _find_context(paths: list[Path], trust: Path | None, archive: Path | None) -> VerifyContext:
    """The verifier's trust store and roles policy (TRUST_RULE says which).

    With ``--trust DIR``: DIR's cards and DIR's own configuration, or the defaults; nothing of the archive
    or bundle being verified, nor of the current folder (no archive is even looked for). Without it: the
    keys/ and provenance.toml of the archive named by --archive, else $PROVENANCE_ARCHIVE, else the current
    folder, else the archive holding the record folder being verified.
    """
    from provenance.archive import Archive
    from provenance.errors import ProvenanceError
    from provenance.verify.target import make_context, trust_context

    if trust is not None:
        if not trust.exists():
            from provenance.errors import ErrorCode, NotFoundError

            raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"trust store {trust}: no such file or folder")
        return trust_context(trust, now())
    arch = None
    try:
        arch = Archive.locate(archive)
    except ProvenanceError:
        # a record folder inside an archive: records/<id> → the archive two levels up
        for path in paths:
            candidate = path.resolve().parent.parent
            if path.is_dir() and (candidate / "records").is_dir() and (candidate / "keys").is_dir():
                arch = Archive(candidate)
                break
    if arch is None:
        return make_context(Path("/nonexistent-trust-store"), now(), trust_origin="none")
    config = arch.config()
    return make_context(
        arch.keys_dir, now(), config.policy, trust_origin="archive",
        policy_path=arch.config_path if arch.config_path.is_file() else None,
        policy_origin="archive" if arch.config_path.is_file() else "default",
    )


TRUST_RULE = (
    "With --trust DIR, only DIR decides: its key cards, and the roles policy of DIR/provenance.toml (or, when "
    "DIR is an archive's keys/, that archive's provenance.toml) else the defaults; without --trust, the "
    "keys/ and provenance.toml of the archive named by --archive, else $PROVENANCE_ARCHIVE, else the current "
    "folder, else the archive holding the record folder verified."
)


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

    def close(self, tail: dict[str, Any]) -> None:
        sys.stdout.write("\n  ]")
        for key, value in tail.items():
            sys.stdout.write(f",\n  {json.dumps(key)}: " + json_safe(json.dumps(value, ensure_ascii=False)))
        sys.stdout.write("\n}\n")
        sys.stdout.flush()


def _run_batch(
    targets: list[Path],
    ctx: VerifyContext,
    *,
    kind: TargetKind,
    jobs: int,
    json_out: bool,
    what: str,
    show_trusted: bool,
) -> tuple[TrustState, dict[str, int], list[dict[str, Any]], _JsonStream | None]:
    """Verify ``targets`` over ``jobs`` processes, render or stream each outcome, return the totals and the
    JSON stream still open (its summary keys are the caller's)."""
    from provenance.model.problems import TrustState
    from provenance.verify.batch import verify_batch

    counts = dict.fromkeys(STATES, 0)
    problems: list[dict[str, Any]] = []
    files = hashed = 0
    started = time.perf_counter()
    stream = _JsonStream() if json_out else None
    out = None if json_out else _Out()
    outcomes = verify_batch(targets, ctx, kind=kind, jobs=jobs, as_json=json_out)
    with _progress(len(targets), what, not json_out) as bar:
        task = bar.add_task(what, total=len(targets)) if bar is not None else None
        for outcome in outcomes:
            counts[str(outcome.state)] += 1
            files += outcome.files
            hashed += outcome.bytes_hashed
            if stream is not None:
                assert outcome.document is not None
                stream.report(outcome.document)
                problems.extend(outcome.problems)
            elif out is not None:
                if outcome.report is not None:
                    _render(outcome.report, out)
                elif show_trusted:
                    out.line(*_short_line(outcome))
            if bar is not None:
                bar.advance(task)
    worst = next((TrustState(s) for s in reversed(STATES) if counts[s]), TrustState.TRUSTED)
    if out is not None:
        out.line(*_summary(what, counts, started, files, hashed))
    return worst, counts, problems, stream


def max_size_option(text: str | None) -> int | None:
    """``--max-size``: bytes, or None for the default; raises ``UsageError`` for what is not a size."""
    if text is None:
        return None
    from provenance.bundle.entries import parse_size
    from provenance.errors import ErrorCode, UsageError

    try:
        return parse_size(text)
    except ValueError as exc:
        raise UsageError(ErrorCode.USAGE, f"--max-size: {exc}") from exc


def _plain_file(path: Path) -> bool:
    """Whether ``path`` is a file that is neither a record (its manifest.json) nor a bundle (a .zip or
    .tar.gz by name or by its first bytes)."""
    from provenance.verify.target import kind_of

    if not path.is_file() or kind_of(path) != "unknown":
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False  # the verifier reports it
    # an archive by its bytes, whatever its name: the verifier reads it and says what it is
    return not head.startswith((b"PK", b"\x1f\x8b"))


def _refuse_plain_files(paths: list[Path]) -> None:
    """``verify notes.txt``: a file that is neither a record nor a bundle cannot be verified: exit 2 and
    ``input.not-verifiable``, not INVALID (issue 14). With several paths the same, before any is verified:
    what was typed is not a target, whatever the others hold."""
    plain = [path for path in paths if _plain_file(path)]
    if not plain:
        return
    from provenance.errors import ErrorCode, UsageError

    more = f" (and {counted(len(plain) - 1, 'more file')} like it)" if len(plain) > 1 else ""
    raise UsageError(
        ErrorCode.INPUT_NOT_VERIFIABLE,
        f"{plain[0]} is neither a record nor a bundle{more}: verify takes a record folder, a bag folder, a "
        ".zip or a .tar.gz",
        path=str(plain[0]),
    )


def verify(
    paths: list[Path],
    trust: Path | None,
    archive: Path | None,
    jobs: int | None,
    json_out: bool,
    max_size: str | None = None,
    *,
    log: LogOptions | None = None,
) -> int:
    """``provenance verify``: the report (or one summary of many), returns the exit code of the worst state.

    Raises ``NotFoundError(input.not-found)`` for a single path that does not exist (several: reported as
    ``path.not-found``) or a missing trust store; ``UsageError(input.not-verifiable)`` when a path is a
    file that is neither a record nor a bundle.
    """
    from provenance.verify.workers import resolve_jobs

    if archive is not None and str(archive).startswith("s3:"):
        # --archive s3://bucket/prefix: each path is a record of it (an id, or records/<id>)
        base = str(archive).rstrip("/")
        paths = [Path(f"{base}/{p}" if str(p).startswith("records/") else f"{base}/records/{p}") for p in paths]
        archive = None
    if any(str(p).startswith("s3:") for p in paths):
        return _verify_remote(paths, trust, archive, jobs, json_out, max_size)
    limit = max_size_option(max_size)
    if len(paths) == 1 and not paths[0].exists():
        from provenance.errors import ErrorCode, NotFoundError

        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{paths[0]}: no such file or folder", path=str(paths[0]))
    _refuse_plain_files(paths)
    processes = resolve_jobs(jobs)
    prefetch = None
    if len(paths) == 1 and (paths[0] / "manifest.json").is_file() and (paths[0] / "files").is_dir():
        from provenance.verify.prefetch import Prefetch

        # a record folder: its large files are hashed by a helper process while the library loads
        prefetch = Prefetch.start(paths[0] / "files")
    ctx = replace(_context(paths, trust, archive), max_size=limit)
    if log is not None:
        ctx = replace(ctx, log=log)
    if len(paths) == 1:
        from provenance.verify.target import verify_path

        # one target: its files may be hashed by several processes
        report = verify_path(paths[0], replace(ctx, jobs=processes, prefetch=prefetch))
        if json_out:
            emit_json(report.to_json())
        else:
            _render(report)
        return report.state.exit_code
    worst, counts, problems, stream = _run_batch(
        paths, ctx, kind="path", jobs=processes, json_out=json_out, what="verify", show_trusted=True
    )
    if stream is not None:
        stream.close({"state": str(worst), "verified": str(worst) == "trusted", "record": None,
                      "problems": problems, "summary": counts})
    return worst.exit_code


def _verify_remote(paths: list[Path], trust: Path | None, archive: Path | None, jobs: int | None,
                   json_out: bool, max_size: str | None) -> int:
    """``verify s3://bucket/prefix/records/<id>`` (or a bundle object): each copied into a private temporary
    folder, read-only, and verified there; the default trust store is the archive's own ``keys/``."""
    import shutil
    import tempfile

    from provenance.audit.source import fetch_for_verify, remote_url

    scratch = Path(tempfile.mkdtemp(prefix="provenance-verify-"))
    try:
        local: list[Path] = []
        keys: Path | None = None
        for index, path in enumerate(paths):
            url = remote_url(path)
            if url is None:
                local.append(path)
                continue
            target, keys = fetch_for_verify(url, scratch / str(index))
            local.append(target)
        return verify(local, trust if trust is not None else keys, archive, jobs, json_out, max_size)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
def unpack(
    bundle: Path, out: Path, trust: Path | None, archive: Path | None, json_out: bool, max_size: str | None
) -> int:
    """``provenance unpack``: verify's report, the bag written to ``out`` only when trusted; returns the exit
    code of the state. Raises what :func:`provenance.bundle.unpack.unpack_bundle` raises."""
    from provenance.bundle.unpack import unpack_bundle
    from provenance.errors import ErrorCode, NotFoundError

    limit = max_size_option(max_size)
    if not bundle.exists():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{bundle}: no such file", path=str(bundle))
    ctx = replace(_context([bundle], trust, archive), max_size=limit)
    result = unpack_bundle(bundle, out, ctx)
    if json_out:
        document = result.report.to_json()
        document["unpacked"] = str(result.out) if result.out is not None else None
        emit_json(document)
    else:
        _render(result.report)
        if result.out is not None:
            sys.stdout.write(f"unpacked the verified bag to {printable(str(result.out))}\n")
        else:
            sys.stderr.write(f"provenance: nothing was unpacked: the bundle is {result.report.state}\n")
    return result.report.state.exit_code


def audit(
    trust: Path | None, archive: Path | None, jobs: int | None, json_out: bool, *, since: Path | None = None
) -> int:
    """``provenance audit``: every record of the archive, then its transparency log against the records;
    returns the exit code of the worst state."""
    from provenance.archive import Archive
    from provenance.log_audit import audit_log
    from provenance.verify.workers import resolve_jobs

    arch = Archive.locate(archive)
    ctx = _context([], trust, arch.root)
    since_data = None
    if since is not None:
        from provenance.errors import ErrorCode, NotFoundError
        from provenance.fsio import read_limited

        try:
            since_data = read_limited(since, 1 << 20, regular_only=False)
        except OSError as exc:
            raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"cannot read --since {since}: {exc.strerror}") from None
    # a record folder planted as a link is a target too: its report says file.path-unsafe
    targets = [arch.record_dir(rid) for rid in sorted({*arch.record_ids(), *arch.linked_records()})]
    log_report = audit_log(arch, list(ctx.trust.cards.values()), since_data)
    worst, counts, problems, stream = _run_batch(
        targets,
        ctx,
        kind="record",
        jobs=resolve_jobs(jobs),
        json_out=json_out,
        what=f"audit of {arch.root}",
        show_trusted=False,
    )
    if log_report.state.rank > worst.rank:
        worst = log_report.state
    if stream is not None:
        stream.close({"state": str(worst), "verified": str(worst) == "trusted", "record": None,
                      "records": len(targets), "summary": counts,
                      "problems": problems + [p.to_json() for p in log_report.problems],
                      "log": log_report.to_json()})
    elif log_report.log == "logged":
        _render(log_report)
    return worst.exit_code


# --------------------------------------------------------------------------------------------------------
# One entry for both parsers: typer's (provenance.cli.verify_cmds) and the fast one (provenance.cli.app)


def run(command: str, values: dict[str, Any]) -> int:
    """Run ``verify`` or ``audit`` with the values of its table's arguments (provenance.cli.verify_args),
    as either parser read them; returns the exit code."""
    if command == "audit":
        archive = values["archive"]
        return audit(values["trust"], Path(archive) if archive else None, values["jobs"], values["json_out"],
                     since=values["since"])
    log = None
    if any(values[name] is not None for name in ("state", "consistency", "witnesses")):
        from provenance.verify.record import LogOptions

        log = LogOptions(state_dir=values["state"], consistency=values["consistency"],
                         witnesses=values["witnesses"])
    return verify(values["paths"], values["trust"], values["archive"], values["jobs"], values["json_out"],
                  values["max_size"], log=log)


def fast_command(argv: list[str]) -> Callable[[], int] | None:
    """The command ``argv`` asks for, ready to run without typer, when :func:`parse_plain` takes every
    word of it; None for anything else, which typer parses (and reports)."""
    from provenance.cli.verify_args import TABLES, parse_plain

    table = TABLES.get(argv[0]) if argv else None
    values = parse_plain(table, argv[1:]) if table is not None else None
    if values is None:
        return None
    return lambda: run(argv[0], values)
