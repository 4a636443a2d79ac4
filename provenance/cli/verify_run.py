"""``verify`` and ``audit`` without the CLI framework: their whole implementation, and the fast path.

:mod:`provenance.cli.verify_cmds` declares the two commands to typer and calls :func:`run` here.
:func:`fast_command` lets :func:`provenance.cli.app.main` run them without importing typer (and the
pydantic adapters typer builds for every parameter) when the arguments are plain. Both parsers are built
from the one table of each command in :mod:`provenance.cli.verify_args`; anything the fast parser declines
(``--help``, an unknown or malformed option) goes through typer, which reports it; both call :func:`run`.

How the results are shown is in :mod:`provenance.cli.verify_render`.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.cli.exits import exit_for_state
from provenance.cli.output import counted, emit_json, now, printable
from provenance.cli.verify_args import TABLES, parse_plain

# what audit_cmds and import_cmds render with (kept importable from here)
from provenance.cli.verify_render import COLOURS as COLOURS
from provenance.cli.verify_render import STATES as STATES
from provenance.cli.verify_render import _failing, _JsonStream, _progress, _short_line, _summary
from provenance.cli.verify_render import _Out as _Out
from provenance.cli.verify_render import _render as _render

if TYPE_CHECKING:
    from provenance import TrustState
    from provenance.verifying import LogOptions, TargetKind, VerifyContext

# the commands implemented here (the app builds only their group, or takes the fast path, for them)
COMMANDS = tuple(TABLES)


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
    """The verifier's trust store and roles policy (TRUST_RULE says which): the library's rule,
    :func:`provenance.verifier_context`, on the command line's clock."""
    from provenance.verifying import verifier_context

    return verifier_context(paths, trust=trust, archive=archive, now=now())


TRUST_RULE = (
    "With --trust DIR, only DIR decides: its key cards, and the roles policy of DIR/provenance.toml (or, when "
    "DIR is an archive's keys/, that archive's provenance.toml) else the defaults; without --trust, the "
    "keys/ and provenance.toml of the archive named by --archive, else $PROVENANCE_ARCHIVE, else the current "
    "folder, else the archive holding the record folder verified."
)


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
    from provenance import TrustState
    from provenance.verifying import verify_batch, worst_state

    counts = dict.fromkeys(STATES, 0)
    problems: list[dict[str, Any]] = []
    files = hashed = 0
    started = time.perf_counter()
    stream = _JsonStream() if json_out else None
    out = None if json_out else _Out()
    outcomes = verify_batch(targets, ctx, kind=kind, jobs=jobs, as_json=json_out)
    with _progress(len(targets), what, not json_out) as bar, _failing(stream):
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
    worst = worst_state(TrustState(s) for s in STATES if counts[s])
    if out is not None:
        out.line(*_summary(what, counts, started, files, hashed))
    return worst, counts, problems, stream


def max_size_option(text: str | None) -> int | None:
    """``--max-size``: bytes, or None for the default; raises ``UsageError`` for what is not a size."""
    if text is None:
        return None
    from provenance import ErrorCode
    from provenance.exceptions import UsageError
    from provenance.verifying import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise UsageError(ErrorCode.USAGE, f"--max-size: {exc}") from exc


def _plain_file(path: Path) -> bool:
    """Whether ``path`` is a file that is neither a record (its manifest.json) nor a bundle (a .zip or
    .tar.gz by name or by its first bytes)."""
    from provenance.verifying import target_kind as kind_of

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
    from provenance import ErrorCode
    from provenance.exceptions import UsageError

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
    from provenance.verifying import resolve_jobs

    if archive is not None and str(archive).startswith("s3:"):
        # --archive s3://bucket/prefix: each path is a record of it (an id, or records/<id>)
        base = str(archive).rstrip("/")
        paths = [Path(f"{base}/{p}" if str(p).startswith("records/") else f"{base}/records/{p}") for p in paths]
        archive = None
    if any(str(p).startswith("s3:") for p in paths):
        return _verify_remote(paths, trust, archive, jobs, json_out, max_size)
    limit = max_size_option(max_size)
    if len(paths) == 1 and not paths[0].exists():
        from provenance import ErrorCode
        from provenance.exceptions import NotFoundError

        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{paths[0]}: no such file or folder", path=str(paths[0]))
    _refuse_plain_files(paths)
    processes = resolve_jobs(jobs)
    prefetch = None
    if len(paths) == 1 and (paths[0] / "manifest.json").is_file() and (paths[0] / "files").is_dir():
        from provenance.verifying import Prefetch

        # a record folder: its large files are hashed by a forked helper process while the library loads
        prefetch = Prefetch.start(paths[0] / "files")
    elif len(paths) == 1 and processes > 1 and (paths[0] / "bagit.txt").is_file() and (paths[0] / "data").is_dir():
        from provenance.verifying import Prefetch

        prefetch = Prefetch.start(paths[0] / "data", every=True)  # a bag folder: its whole payload, the same way
    try:
        ctx = replace(_context(paths, trust, archive), max_size=limit)
        if log is not None:
            ctx = replace(ctx, log=log)
        if len(paths) == 1:
            from provenance.verifying import verify_target as verify_path

            # one target: its files may be hashed by several processes
            report = verify_path(paths[0], replace(ctx, jobs=processes, prefetch=prefetch))
    finally:
        if prefetch is not None:
            prefetch.close()  # a helper whose results were not used (a refusal, or hashed otherwise) ends here
    if len(paths) == 1:
        if json_out:
            emit_json(report.to_json())
        else:
            _render(report)
        return exit_for_state(report.state)
    worst, counts, problems, stream = _run_batch(
        paths, ctx, kind="path", jobs=processes, json_out=json_out, what="verify", show_trusted=True
    )
    if stream is not None:
        stream.close({"state": str(worst), "verified": str(worst) == "trusted", "record": None,
                      "problems": problems, "summary": counts})
    return exit_for_state(worst)


def _verify_remote(paths: list[Path], trust: Path | None, archive: Path | None, jobs: int | None,
                   json_out: bool, max_size: str | None) -> int:
    """``verify s3://bucket/prefix/records/<id>`` (or a bundle object): each copied into a private temporary
    folder, read-only, and verified there; the default trust store is the archive's own ``keys/``."""
    import shutil
    import tempfile

    from provenance.verifying import fetch_for_verify, remote_url

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
    code of the state. Raises what :func:`provenance.unpack` raises."""
    from provenance import unpack as unpack_verified

    limit = max_size_option(max_size)
    result = unpack_verified(bundle, out, trust=trust, archive=archive, max_size=limit, now=now())
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
    return exit_for_state(result.report.state)


def audit(
    trust: Path | None, archive: Path | None, jobs: int | None, json_out: bool, *, since: Path | None = None
) -> int:
    """``provenance audit``: every record of the archive, then its transparency log against the records;
    returns the exit code of the worst state."""
    from provenance import Archive
    from provenance.transparency import audit_log
    from provenance.verifying import resolve_jobs, worst_state

    arch = Archive.locate(archive)
    ctx = _context([], trust, arch.root)
    since_data = None
    if since is not None:
        from provenance import ErrorCode
        from provenance.exceptions import NotFoundError
        from provenance.verifying import read_limited

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
    worst = worst_state((worst, log_report.state))
    if stream is not None:
        stream.close({"state": str(worst), "verified": str(worst) == "trusted", "record": None,
                      "records": len(targets), "summary": counts,
                      "problems": problems + [p.to_json() for p in log_report.problems],
                      "log": log_report.to_json()})
    elif log_report.log == "logged":
        _render(log_report)
    return exit_for_state(worst)


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
        from provenance.verifying import LogOptions

        log = LogOptions(state_dir=values["state"], consistency=values["consistency"],
                         witnesses=values["witnesses"])
    return verify(values["paths"], values["trust"], values["archive"], values["jobs"], values["json_out"],
                  values["max_size"], log=log)


def fast_command(argv: list[str]) -> Callable[[], int] | None:
    """The command ``argv`` asks for, ready to run without typer, when :func:`parse_plain` takes every
    word of it; None for anything else, which typer parses (and reports)."""
    table = TABLES.get(argv[0]) if argv else None
    values = parse_plain(table, argv[1:]) if table is not None else None
    if values is None:
        return None
    return lambda: run(argv[0], values)
