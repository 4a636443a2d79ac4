"""``verify`` and ``audit`` as typer commands: options, help and examples; the work is in
:mod:`provenance.cli.verify_run` (which :mod:`provenance.cli.app` may also call directly, without typer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provenance.cli import audit_cmds, verify_run
from provenance.cli.common import ArchiveOpt, JsonOpt

# the commands this module registers (the app builds only this group when one of them is run)
COMMANDS = verify_run.COMMANDS

TrustOpt = Annotated[
    Path | None,
    typer.Option("--trust", help="Trust store: a folder of key cards (default: the archive's keys/)."),
]
MaxSizeOpt = Annotated[
    str | None,
    typer.Option(
        "--max-size",
        metavar="SIZE",
        help="Largest a .zip/.tar.gz bundle may decompress to (e.g. 4G, 512M; default 8G); beyond it the "
        "bundle is refused as bundle.too-large.",
        show_default=False,
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        help="Processes to verify with (default: one per CPU; 1: this process only).",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        paths: Annotated[
            list[Path], typer.Argument(help="Record folder(s), bag folder(s), .zip or .tar.gz bundle(s).")
        ],
        trust: TrustOpt = None,
        archive: ArchiveOpt = None,
        jobs: JobsOpt = None,
        max_size: MaxSizeOpt = None,
        state: Annotated[
            Path | None,
            typer.Option("--state", help="Remember the newest log checkpoint and record heads here; "
                         "report log.fork and log.rollback against them."),
        ] = None,
        consistency: Annotated[
            Path | None,
            typer.Option("--consistency", help="A consistency proof ('tlog prove') from the remembered checkpoint."),
        ] = None,
        witnesses: Annotated[
            int | None,
            typer.Option("--witnesses", min=0, help="Trusted witnesses that must cosign each checkpoint "
                         "(default: the trust store's log-policy.toml, else 0)."),
        ] = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Check hashes, the event chain, every signature and every signer; exit 0 trusted, 1 invalid, 3 valid.

        Key cards inside a bundle are shown, never trusted. With --trust DIR, only DIR decides: its key
        cards, and the roles policy of DIR/provenance.toml (or, when DIR is an archive's keys/, that
        archive's provenance.toml) else the defaults; without --trust, the keys/ and provenance.toml of the
        archive named by --archive, else $PROVENANCE_ARCHIVE, else the current folder, else the archive
        holding the record folder verified. The report names both. Several paths are verified in parallel (--jobs), with a summary at the
        end and the worst state as exit code; a path that does not exist is then reported as
        path.not-found.

        A .zip or .tar.gz bundle is read once, never extracted: each member is streamed through its
        digests, and any construct that two extractors could read differently is refused (bundle.*).

        Example: provenance verify records/telegram-23256 --json

        Example: provenance verify telegram-23256.tar.gz --max-size 20G
        """
        log = None
        if state is not None or consistency is not None or witnesses is not None:
            from provenance.verify.record import LogOptions

            log = LogOptions(state_dir=state, consistency=consistency, witnesses=witnesses)
        raise typer.Exit(verify_run.verify(paths, trust, archive, jobs, json_out, max_size, log=log))

    @app.command("audit")
    def audit(
        trust: TrustOpt = None,
        archive: Annotated[
            str | None,
            typer.Option("--archive", "-A", show_default=False,
                         help="Archive folder or s3://bucket/prefix (default: $PROVENANCE_ARCHIVE, else the "
                         "current folder)."),
        ] = None,
        jobs: JobsOpt = None,
        since: Annotated[
            Path | None,
            typer.Option("--since", help="An earlier log checkpoint: prove the log is consistent with it."),
        ] = None,
        json_out: JsonOpt = False,
        report: audit_cmds.ReportOpt = None,
        key: audit_cmds.KeyOpt = None,
        passphrase_file: audit_cmds.PassFileOpt = None,
        record_events: audit_cmds.RecordEventsOpt = False,
        sample: audit_cmds.SampleOpt = None,
        seed: audit_cmds.SeedOpt = None,
        older_than: audit_cmds.OlderOpt = None,
        max_time: audit_cmds.MaxTimeOpt = None,
        engine: audit_cmds.EngineOpt = "local",
        scheduler: audit_cmds.SchedulerOpt = None,
    ) -> None:
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
        options = {"report": report, "key": key, "passphrase_file": passphrase_file,
                   "record_events": record_events, "sample": sample, "seed": seed, "older_than": older_than,
                   "max_time": max_time, "engine": engine, "scheduler": scheduler}
        from provenance.audit.source import is_remote

        if audit_cmds.scheduled(**options) or is_remote(archive):
            if since is not None:
                from provenance.errors import ErrorCode, UsageError

                raise UsageError(ErrorCode.USAGE, "--since checks the log of a plain audit; it does not combine "
                                 "with the options of a scheduled audit (--report, --sample, --engine, s3://)")
            raise typer.Exit(audit_cmds.run_scheduled(
                archive=archive, trust=trust, jobs=jobs, json_out=json_out, report=report, key=key,
                passphrase_file=passphrase_file, record_events=record_events, sample=sample, seed=seed,
                older_than=older_than, max_time=max_time, engine=engine, scheduler=scheduler))
        raise typer.Exit(verify_run.audit(trust, Path(archive) if archive else None, jobs, json_out, since=since))
