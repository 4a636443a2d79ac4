"""``verify`` and ``audit`` as typer commands: help and examples. Their parameters are built from the
tables of :mod:`provenance.cli.verify_args` (which the fast parser reads too); the work is in
:mod:`provenance.cli.verify_run`."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any, TypeAlias

import typer

from provenance.cli import audit_cmds, verify_args, verify_run
from provenance.cli.arg_typer import TYPES, declaration, with_parameters

# the commands this module registers (the app builds only this group when one of them is run)
COMMANDS = verify_run.COMMANDS

_TYPES = TYPES  # kept under its former name (tests/test_verify_args.py)

# for the commands that take the same options (unpack); tests/test_verify_args.py checks the types
TrustOpt: TypeAlias = Annotated[Path | None, declaration(verify_args.TRUST)]
MaxSizeOpt: TypeAlias = Annotated[str | None, declaration(verify_args.MAX_SIZE)]


def _audit_at_scale() -> tuple[inspect.Parameter, ...]:
    """audit's options of audit at scale, declared (to typer only) in :mod:`provenance.cli.audit_cmds`."""
    options: list[tuple[str, Any, Any]] = [
        ("report", audit_cmds.ReportOpt, None), ("key", audit_cmds.KeyOpt, None),
        ("passphrase_file", audit_cmds.PassFileOpt, None), ("record_events", audit_cmds.RecordEventsOpt, False),
        ("sample", audit_cmds.SampleOpt, None), ("seed", audit_cmds.SeedOpt, None),
        ("older_than", audit_cmds.OlderOpt, None), ("max_time", audit_cmds.MaxTimeOpt, None),
        ("engine", audit_cmds.EngineOpt, "local"), ("scheduler", audit_cmds.SchedulerOpt, None),
    ]
    return tuple(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
                 for name, annotation, default in options)


def verify(**values: Any) -> None:
    """Check hashes, the event chain, every signature and every signer; exit 0 trusted, 1 invalid, 3 valid.

    Key cards inside a bundle are shown, never trusted. With --trust DIR, only DIR decides: its key
    cards, and the roles policy of DIR/provenance.toml (or, when DIR is an archive's keys/, that
    archive's provenance.toml) else the defaults; without --trust, the keys/ and provenance.toml of the
    archive named by --archive, else $PROVENANCE_ARCHIVE, else the current folder, else the archive
    holding the record folder verified. The report names both. Several paths are verified in parallel
    (--jobs), with a summary at the end and the worst state as exit code; a path that does not exist is
    then reported as path.not-found. A file that is neither a record nor a bundle (notes.txt) is refused
    before anything is verified: exit 2, input.not-verifiable.

    A .zip or .tar.gz bundle is read once, never extracted: each member is streamed through its
    digests, and any construct that two extractors could read differently is refused (bundle.*).

    Example: provenance verify records/telegram-23256 --json

    Example: provenance verify telegram-23256.tar.gz --max-size 20G
    """
    raise typer.Exit(verify_run.run("verify", values))


def audit(**values: Any) -> None:
    """Verify every record of the archive, its whole history included, and its transparency log against
    the records; exit with the worst state.

    With --trust DIR, the archive's own keys/ and provenance.toml decide nothing (as for verify).
    Records are verified by --jobs processes (default: one per CPU), with a progress bar on a
    terminal and a summary at the end; only records with problems are shown in full.

    Audit at scale: --report FILE writes one signed report (check it with verify-report);
    --sample/--older-than/--max-time choose what this run checks, and the audit state
    (.provenance/audit-state.sqlite) lets the next run continue where this one stopped;
    --engine dask --scheduler ADDRESS spreads the records over a Dask cluster; --archive
    s3://bucket/prefix audits an archive on object storage (read-only).

    Example: provenance audit --archive ~/archives/korea-1951 --jobs 2 --json

    Example: provenance audit --sample 10% --seed 2026 --max-time 1h --report audit.json --key Auditor
    """
    own = {arg.dest for arg in verify_args.AUDIT}
    options = {name: value for name, value in values.items() if name not in own}
    from provenance.verifying import is_remote

    if audit_cmds.scheduled(**options) or is_remote(values["archive"]):
        if values["since"] is not None:
            from provenance import ErrorCode
            from provenance.exceptions import UsageError

            raise UsageError(ErrorCode.USAGE, "--since checks the log of a plain audit; it does not combine "
                             "with the options of a scheduled audit (--report, --sample, --engine, s3://)")
        raise typer.Exit(audit_cmds.run_scheduled(
            archive=values["archive"], trust=values["trust"], jobs=values["jobs"], json_out=values["json_out"],
            **options))
    raise typer.Exit(verify_run.run("audit", {name: values[name] for name in own}))


def register(app: typer.Typer) -> None:
    app.command("verify")(with_parameters(verify, verify_args.VERIFY))
    app.command("audit")(with_parameters(audit, verify_args.AUDIT, _audit_at_scale()))
