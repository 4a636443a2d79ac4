"""``provenance ingest-batch``: register a collection from a folder and a catalogue sheet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from provenance.cli.arg_typer import with_parameters
from provenance.cli.batch_args import INGEST_BATCH
from provenance.cli.common import (
    console,
    emit_json,
    load_signer,
    now,
    open_archive,
    printable,
    table_box,
)

if TYPE_CHECKING:
    from provenance.collections import BatchPlan, BatchResult, SheetProblem

MAX_SHOWN = 200  # problems shown as a table; --json lists every one


def ingest_batch(**values: Any) -> None:
    """Register every row of a catalogue sheet as a signed record: validated first, one key unlock.

    Every problem of the sheet (row, column, value, why) is reported at once and then nothing is
    written. Each record is committed on its own: run the same command again after an interruption and
    it registers only what is missing (identical records are reported as already present; an existing
    id with other content is a conflict, never overwritten).

    Example: provenance ingest-batch incoming/ --catalogue incoming/metadata.csv --dry-run
    """
    run_ingest_batch(**values)


def register(app: typer.Typer) -> None:
    # its parameters are built from its table, which the fast path (provenance.cli.batch_run) reads too
    app.command("ingest-batch")(with_parameters(ingest_batch, INGEST_BATCH))


def run_ingest_batch(
    folder: Path,
    catalogue: Path,
    *,
    dry_run: bool = False,
    encoding: str | None = None,
    key: str | None = None,
    passphrase_file: Path | None = None,
    role: str | None = None,
    archive: Path | None = None,
    json_out: bool = False,
) -> None:
    """The command itself (typer's, and the fast path's of :mod:`provenance.cli.batch_run`)."""
    from provenance.collections import plan_batch

    arch = open_archive(archive)
    plan = plan_batch(arch, folder, catalogue, encoding=encoding)
    if not plan.ok:
        _refuse_sheet(plan, dry_run=dry_run, json_out=json_out)
    if dry_run:
        _render_plan(plan, json_out)
        return
    _run(arch, plan, key, passphrase_file, role, json_out)


def _problem_rows(problems: list[SheetProblem]) -> None:
    out = console()
    from rich.table import Table

    table = Table(box=table_box(out), show_edge=False)
    for name in ("row", "column", "value", "why"):
        table.add_column(name, overflow="fold")
    for problem in problems[:MAX_SHOWN]:
        table.add_row(
            "" if problem.row is None else str(problem.row),
            problem.column or "",
            (problem.value or "")[:60],
            problem.why,
        )
    out.print(table)
    if len(problems) > MAX_SHOWN:
        out.print(f"… and {len(problems) - MAX_SHOWN:,} more problem(s) (--json lists every one)")


def _base_document(plan: BatchPlan, dry_run: bool) -> dict[str, Any]:
    return {
        "folder": str(plan.folder),
        "catalogue": str(plan.catalogue),
        "dry_run": dry_run,
        "rows": plan.rows,
        "notices": plan.notices,
        "problems": [p.as_json() for p in plan.problems],
    }


def _refuse_sheet(plan: BatchPlan, *, dry_run: bool, json_out: bool) -> None:
    from provenance import ErrorCode

    message = (
        f"{plan.catalogue.name}: {len(plan.problems):,} problem(s) in the sheet; nothing was written"
        + ("" if dry_run else " (fix them, or check with --dry-run)")
    )
    if json_out:
        document = _base_document(plan, dry_run)
        document.update(ok=False, error={"code": str(ErrorCode.SHEET_INVALID), "message": message})
        emit_json(document)
    else:
        for notice in plan.notices:
            print(printable(f"note: {notice}"))
        _problem_rows(plan.problems)
    sys.stderr.write(f"provenance: error: {printable(message, one_line=True)} [{ErrorCode.SHEET_INVALID}]\n")
    raise typer.Exit(2)


def _render_plan(plan: BatchPlan, json_out: bool) -> None:
    new = sum(1 for r in plan.records if r.status == "new")
    present = len(plan.records) - new
    if json_out:
        document = _base_document(plan, True)
        document.update(ok=True, records=[r.as_json() for r in plan.records], to_register=new, present=present)
        emit_json(document)
        return
    from rich.table import Table

    out = console()
    for notice in plan.notices:
        out.print(f"note: {notice}")
    table = Table(box=table_box(out), show_edge=False)
    for name in ("row", "file", "record", "profile", "status"):
        table.add_column(name, overflow="fold")
    for r in plan.records:
        status = "to register" if r.status == "new" else "already present"
        table.add_row(str(r.row), r.filename, r.record_id, r.profile, status)
    out.print(table)
    out.print(f"dry run: {new} to register, {present} already present; nothing was written")


def _run(
    arch: Any, plan: BatchPlan, key: str | None, passphrase_file: Path | None, role: str | None, json_out: bool
) -> None:
    from contextlib import nullcontext

    from provenance import ErrorCode, EventType
    from provenance.collections import run_batch as run_plan

    pending = [r for r in plan.records if r.status == "new"]
    signer = load_signer(arch, EventType.REGISTRATION, key, passphrase_file, role) if pending else None
    show_bar = not json_out and sys.stderr.isatty() and len(pending) > 1
    bar_cm: Any = nullcontext(None)
    if show_bar:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar_cm = Progress(
            TextColumn("[bold]ingest-batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console(stderr=True),
            transient=True,
        )
    with bar_cm as bar:
        task = bar.add_task("ingest-batch", total=len(plan.records)) if bar is not None else None
        result = run_plan(arch, plan, signer, now, (lambda _r: bar.advance(task)) if bar is not None else None)
    _render_result(plan, result, json_out)
    if result.refused:
        message = f"{len(result.refused)} row(s) refused; the others are registered"
        sys.stderr.write(f"provenance: error: {message} [{ErrorCode.BATCH_REFUSED}]\n")
        raise typer.Exit(2)


def _render_result(plan: BatchPlan, result: BatchResult, json_out: bool) -> None:
    if json_out:
        document = _base_document(plan, False)
        document.update(
            ok=not result.refused,
            registered=[r.as_json() for r in result.registered],
            present=[r.as_json() for r in result.present],
            refused=[p.as_json() for p in result.refused],
            summary={
                "registered": len(result.registered),
                "present": len(result.present),
                "refused": len(result.refused),
            },
        )
        if result.refused:
            document["error"] = {"code": "batch.refused", "message": f"{len(result.refused)} row(s) refused"}
        emit_json(document)
        return
    out = console()
    for notice in plan.notices:
        out.print(f"note: {notice}")
    for r in result.registered:
        out.print(f"registered  {r.record_id}  (row {r.row}, {r.filename})")
    for r in result.present:
        out.print(f"present     {r.record_id}  (row {r.row}, already registered with this content)")
    if result.refused:
        _problem_rows(result.refused)
    out.print(
        f"{len(result.registered)} registered, {len(result.present)} already present, "
        f"{len(result.refused)} refused"
    )
