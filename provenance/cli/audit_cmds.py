"""Audit at scale on the command line: ``audit`` with a report, a sample, a schedule or an engine, and
``verify-report``. Options are parsed here and results rendered; the work is in :mod:`provenance.audit`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from provenance.cli.common import JsonOpt, KeyOpt, PassFileOpt, emit_json, now
from provenance.cli.exits import exit_for_state
from provenance.cli.verify_run import COLOURS, STATES, _Out

ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Write one signed JSON audit report to this file.")
]
RecordEventsOpt = Annotated[
    bool,
    typer.Option("--record-events", help="Append a signed PREMIS fixity-check event to each record found intact."),
]
SampleOpt = Annotated[
    str | None, typer.Option("--sample", help="Audit a reproducible sample, e.g. 10% (with --seed).")
]
SeedOpt = Annotated[str | None, typer.Option("--seed", help="Seed of the sample (default: a random one, reported).")]
OlderOpt = Annotated[
    str | None, typer.Option("--older-than", help="Only records whose last fixity check is older, e.g. 90d.")
]
MaxTimeOpt = Annotated[
    str | None, typer.Option("--max-time", help="Stop cleanly after this long, e.g. 1h; the next run continues.")
]
EngineOpt = Annotated[str, typer.Option("--engine", help="local (a process pool, the default) or dask.")]
SchedulerOpt = Annotated[
    str | None, typer.Option("--scheduler", help="Address of the Dask scheduler, e.g. tcp://10.0.0.5:8786.")
]


REPORT_WORDS = {
    "trusted": "TRUSTED: the report is intact and signed by an auditor in your trust store",
    "valid": "VALID BUT NOT TRUSTED: the report is intact and correctly signed, but not by a key you trust",
    "invalid": "INVALID: the report was altered or is not what it claims to be",
}


def scheduled(**options: Any) -> bool:
    """Whether an ``audit`` asks for more than the plain walk over every record."""
    return any(options[name] not in (None, False, "local") for name in options)


def _problem_line(result: dict[str, Any]) -> str:
    codes = ", ".join(p["code"] + (f" ({p['path']})" if p.get("path") else "") for p in result["problems"][:8])
    more = f" and {len(result['problems']) - 8} more" if len(result["problems"]) > 8 else ""
    return f"✗ {result['record']}: {result['state']}: {codes}{more}"


def run_scheduled(
    *,
    archive: str | None,
    trust: Path | None,
    jobs: int | None,
    json_out: bool,
    report: Path | None,
    key: str | None,
    passphrase_file: Path | None,
    record_events: bool,
    sample: str | None,
    seed: str | None,
    older_than: str | None,
    max_time: str | None,
    engine: str,
    scheduler: str | None,
) -> int:
    """``audit`` with any of the options of audit at scale; returns the exit code of the worst state."""
    from provenance import EventType
    from provenance.cli.common import load_signer
    from provenance.collections import check_audit_plan as check_plan
    from provenance.collections import open_audit as prepare
    from provenance.collections import plan_audit as make_plan
    from provenance.collections import run_audit
    from provenance.keyring import provenance_home
    from provenance.verifying import resolve_jobs

    plan = make_plan(sample_text=sample, seed=seed, older_than=older_than, max_time=max_time, engine=engine,
                     scheduler=scheduler, jobs=resolve_jobs(jobs), record_events=record_events, report=report)
    prepared = prepare(archive, trust, now())
    try:
        check_plan(prepared, plan)
        signer = None
        if report is not None or record_events:
            # the key is unlocked before the audit starts: a wrong passphrase must not cost hours
            signer = load_signer(prepared.key_archive, EventType.FIXITY_CHECK, key, passphrase_file, None)
        out = None if json_out else _Out()

        def show(batch: list[dict[str, Any]]) -> None:
            if out is None:
                return
            for result in batch:
                if result["problems"]:
                    out.line((_problem_line(result), None))

        started = time.perf_counter()
        outcome = run_audit(prepared, plan, home=provenance_home(), clock=now, signer=signer, on_results=show)
    finally:
        prepared.close()
    for warning in outcome.warnings:
        sys.stderr.write(f"provenance: warning: {warning}\n")
    worst = outcome.worst
    selection = outcome.selection
    if json_out:
        problems = [{**p, "record": r["record"]} for r in outcome.results for p in r["problems"]]
        emit_json({
            "state": str(worst),
            "verified": str(worst) == "trusted",
            "record": None,
            "records": len(outcome.results),
            "summary": outcome.counts,
            "problems": problems,
            "selection": selection,
            "engine": outcome.engine,
            "results": outcome.results,
            "events_appended": outcome.events_appended,
            "report": str(report) if report is not None else None,
            "state_file": str(outcome.state_path),
        })
        return exit_for_state(worst)
    assert out is not None
    counts = outcome.counts
    out.line((f"audit of {prepared.source.url}: {sum(counts.values())} verified: ", "bold"),
             (f"{counts['trusted']} trusted, {counts['valid']} valid, {counts['invalid']} invalid", None),
             (f" ({time.perf_counter() - started:.2f} s, engine {outcome.engine['name']})", None))
    stopped = f"; stopped: {selection['stopped']}" if selection["stopped"] else ""
    out.line((f"cycle {selection['cycle']}: {selection['audited']} of {selection['selected']} selected "
              f"({selection['eligible']} eligible of {selection['total']}) audited, {selection['remaining']} "
              f"remain{stopped}" + (f"; sample {selection['sample']} seed {selection['seed']}"
                                    if selection["sample"] else ""), None))
    if record_events:
        out.line((f"{outcome.events_appended} fixity-check event(s) appended", None))
    if outcome.report is not None:
        out.line((f"report: {report} (signed by {outcome.report.auditor.name}, {outcome.report.auditor.key[:20]}…)",
                  None))
    return exit_for_state(worst)


def verify_report(path: Path, trust: Path | None, archive: Path | None, json_out: bool) -> int:
    """``provenance verify-report``: exit 0 trusted, 1 invalid, 3 valid (signed by a key you do not trust)."""
    from provenance.collections import check_audit_report
    from provenance.verifying import verifier_context

    ctx = verifier_context([], trust=trust, archive=archive, now=now())
    result, model = check_audit_report(path, ctx.trust)
    if json_out:
        document = result.to_json()
        if model is not None:
            document["audit"] = {"archive": model.archive, "finished": model.finished, "counts":
                                 model.counts.model_dump(), "auditor": model.auditor.model_dump(),
                                 "selection": model.selection.model_dump()}
        emit_json(document)
        return exit_for_state(result.state)
    out = _Out()
    state = str(result.state)
    out.line((str(path), "bold"))
    if model is not None:
        counts = model.counts
        out.line((f"  audit of {model.archive}, {model.started} to {model.finished}: {len(model.records)} records "
                  f"({counts.trusted} trusted, {counts.valid} valid, {counts.invalid} invalid), auditor "
                  f"{model.auditor.name} ({model.auditor.key[:20]}…)", None))
    for check in result.checks:
        mark = ("✓", "green") if check.ok else ("✗", "red")
        out.line(("  ", None), mark, (f" {check.name}", None))
    for problem in result.problems:
        out.line(("  ", None), ("•", COLOURS[state]), (f" {problem.code}: {problem.message}", None))
    out.line((REPORT_WORDS[state], f"bold {COLOURS[state]}"))
    return exit_for_state(result.state)


def register(app: typer.Typer) -> None:
    @app.command("verify-report")
    def verify_report_cmd(
        path: Annotated[Path, typer.Argument(help="An audit report written by 'audit --report'.")],
        trust: Annotated[
            Path | None,
            typer.Option("--trust", help="Trust store: a folder of key cards (default: the archive's keys/)."),
        ] = None,
        archive: Annotated[
            Path | None, typer.Option("--archive", "-A", help="Archive whose keys/ is the default trust store.")
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Check a signed audit report: every byte, its signature, its auditor; exit 0 trusted, 1 invalid, 3 valid.

        A report signed by a key that is not in your trust store is valid (exit 3), never trusted.

        Example: provenance verify-report audit-2026-11.json --trust auditors/
        """
        raise typer.Exit(verify_report(path, trust, archive, json_out))


__all__ = ["STATES", "KeyOpt", "PassFileOpt", "register", "run_scheduled", "scheduled"]
