"""``verify`` and ``audit``: every check, reported for a person at a glance or as JSON for scripts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provenance.cli.common import ArchiveOpt, JsonOpt, console, emit_json, now

if TYPE_CHECKING:
    from provenance.model.problems import VerificationReport
    from provenance.verify.record import VerifyContext

TrustOpt = Annotated[
    Path | None,
    typer.Option("--trust", help="Trust store: a folder of key cards (default: the archive's keys/)."),
]

STATE_WORDS = {
    "trusted": "TRUSTED: every byte intact, every event signed, every signer trusted for its role",
    "valid": "VALID BUT NOT TRUSTED: intact and correctly signed, but a signer is not trusted (see below)",
    "invalid": "INVALID: something was altered, is missing, or is not what it claims to be",
}


def _context(paths: list[Path], trust: Path | None, archive: Path | None) -> VerifyContext:
    from provenance.archive import Archive
    from provenance.errors import ProvenanceError
    from provenance.verify.target import make_context

    policy = None
    arch = None
    try:
        arch = Archive.locate(archive)
    except ProvenanceError:
        # a record folder inside an archive: records/<id> → the archive two levels up. Only when no --trust
        # is given: that archive's keys/ are then the trust store anyway. With a trust store of your own,
        # the archive being verified must not choose the roles policy (it could let a translator release).
        for path in paths if trust is None else []:
            candidate = path.resolve().parent.parent
            if path.is_dir() and (candidate / "records").is_dir() and (candidate / "keys").is_dir():
                arch = Archive(candidate)
                break
    if arch is not None:
        policy = arch.config().policy
    if trust is None:
        trust = arch.keys_dir if arch is not None else Path("/nonexistent-trust-store")
    elif not trust.exists():
        from provenance.errors import ErrorCode, NotFoundError

        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"trust store {trust}: no such file or folder")
    return make_context(trust, now(), policy)


def _render(report: VerificationReport) -> None:
    from rich.markup import escape

    out = console()
    state = str(report.state)
    colour = {"trusted": "green", "valid": "yellow", "invalid": "red"}[state]
    title = report.record or report.path
    extra = []
    if report.telegram_number:
        extra.append(f"telegram No. {report.telegram_number}")
    if report.title:
        extra.append(report.title)
    out.print(f"{title}" + (f"  ({'; '.join(extra)})" if extra else ""), style="bold", markup=False)
    out.print(f"  {report.kind} at {report.path}: {report.events} events, {report.files} files, "
              f"{report.bytes_hashed:,} bytes hashed", markup=False)
    for check in report.checks:
        mark = "[green]✓[/green]" if check.ok else "[red]✗[/red]"
        detail = f" [dim]({escape(check.detail)})[/dim]" if check.detail else ""
        out.print(f"  {mark} {escape(check.name)}{detail}", markup=True)
    for signer in report.signers:
        trusted = "trusted" if signer["trusted"] else "NOT in your trust store"
        seqs = ", ".join(f"{e['seq']} {e['type']}" for e in signer["events"])
        out.print(f"  signer {signer['name']} ({signer['key'][:20]}…, {trusted}): {seqs}", markup=False)
    for card in report.bundle_key_cards:
        out.print(f"  key card in bundle (shown, not trusted): {card.get('name')} {str(card.get('id'))[:20]}…",
                  markup=False)
    for problem in report.problems:
        out.print(f"  [{colour}]•[/{colour}] {problem.code}: ", end="", markup=True)
        out.print(problem.message, markup=False)
    for warning in report.warnings:
        out.print(f"  ! {warning}", markup=False)
    out.print(f"[bold {colour}]{STATE_WORDS[state]}[/bold {colour}]", markup=True)


def _worst(reports: list[VerificationReport]) -> Any:
    from provenance.model.problems import TrustState

    worst = TrustState.TRUSTED
    for report in reports:
        if report.state.rank > worst.rank:
            worst = report.state
    return worst


def register(app: typer.Typer) -> None:
    @app.command("verify")
    def verify(
        paths: Annotated[list[Path], typer.Argument(help="Record folder(s), bag folder(s), .zip or .tar.gz bundle(s).")],
        trust: TrustOpt = None,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Check hashes, the event chain, every signature and every signer; exit 0 trusted, 1 invalid, 3 valid.

        Key cards inside a bundle are shown, never trusted: only the trust store (--trust, default the
        archive's keys/) decides.

        Example: provenance verify records/telegram-23256 --json
        """
        from provenance.errors import ErrorCode, NotFoundError
        from provenance.verify.target import verify_path

        for path in paths:
            if not path.exists():
                raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{path}: no such file or folder", path=str(path))
        ctx = _context(paths, trust, archive)
        reports = [verify_path(path, ctx) for path in paths]
        worst = _worst(reports)
        if json_out:
            if len(reports) == 1:
                emit_json(reports[0].to_json())
            else:
                emit_json({
                    "state": str(worst),
                    "verified": str(worst) == "trusted",
                    "record": None,
                    "problems": [p for r in reports for p in r.to_json()["problems"]],
                    "reports": [r.to_json() for r in reports],
                    "summary": {s: sum(1 for r in reports if str(r.state) == s) for s in ("trusted", "valid", "invalid")},
                })
        else:
            for report in reports:
                _render(report)
            if len(reports) > 1:
                counts = {s: sum(1 for r in reports if str(r.state) == s) for s in ("trusted", "valid", "invalid")}
                console().print(f"{len(reports)} verified: {counts['trusted']} trusted, {counts['valid']} valid, "
                                f"{counts['invalid']} invalid")
        raise typer.Exit(worst.exit_code)

    @app.command("audit")
    def audit(
        trust: TrustOpt = None,
        archive: ArchiveOpt = None,
        json_out: JsonOpt = False,
    ) -> None:
        """Verify every record of the archive, its whole history included; exit with the worst state.

        Example: provenance audit --archive ~/archives/korea-1951 --json
        """
        from provenance.archive import Archive
        from provenance.verify.record import verify_record_folder

        arch = Archive.locate(archive)
        ctx = _context([], trust, arch.root)
        reports = [verify_record_folder(arch.record_dir(rid), ctx) for rid in arch.record_ids()]
        worst = _worst(reports)
        counts = {s: sum(1 for r in reports if str(r.state) == s) for s in ("trusted", "valid", "invalid")}
        if json_out:
            emit_json({
                "state": str(worst),
                "verified": str(worst) == "trusted",
                "record": None,
                "records": len(reports),
                "summary": counts,
                "problems": [{**p, "record": r.record} for r in reports for p in r.to_json()["problems"]],
                "reports": [r.to_json() for r in reports],
            })
        else:
            for report in reports:
                if report.problems:
                    _render(report)
            console().print(f"audit of {arch.root}: {len(reports)} records: {counts['trusted']} trusted, "
                            f"{counts['valid']} valid, {counts['invalid']} invalid")
        raise typer.Exit(worst.exit_code)
