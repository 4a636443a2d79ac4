"""One scheduled audit run: choose the records (cycle, age, sample), verify them on an engine, record the
results in the audit state as they stream in, optionally append a signed ``fixity-check`` event to each
record found intact, and build (and sign) the audit report.

The CLI parses options, unlocks the auditor's key and renders; everything else is here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.audit.engines import DaskEngine, LocalEngine, batch_size
from provenance.audit.sampling import parse_duration, parse_sample, sample
from provenance.audit.source import LocalSource, RemoteSource, Source, open_source
from provenance.audit.state import AuditState, state_path
from provenance.audit.work import AuditJob
from provenance.errors import ErrorCode, UsageError
from provenance.model.problems import TrustState, worst_state
from provenance.model.timefmt import format_utc, parse_utc

if TYPE_CHECKING:
    from provenance.archive import Archive
    from provenance.audit.report import AuditReport
    from provenance.history import Signer
    from provenance.verify.record import VerifyContext

STATES = ("trusted", "valid", "invalid")
READ_FAILED = "storage.read-failed"


@dataclass
class Plan:
    """What the auditor asked for, parsed (:func:`make_plan` refuses what cannot be acted on)."""

    sample: float | None = None
    sample_text: str | None = None
    seed: str | None = None
    older_than: timedelta | None = None
    older_than_text: str | None = None
    max_time: timedelta | None = None
    max_time_text: str | None = None
    engine: str = "local"
    scheduler: str | None = None
    jobs: int = 1
    record_events: bool = False
    report: Path | None = None


def make_plan(
    *,
    sample_text: str | None = None,
    seed: str | None = None,
    older_than: str | None = None,
    max_time: str | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    jobs: int = 1,
    record_events: bool = False,
    report: Path | None = None,
) -> Plan:
    """Parse and check the options of a scheduled audit. Raises ``UsageError(usage.invalid)``."""
    plan = Plan(engine=engine, scheduler=scheduler, jobs=jobs, record_events=record_events, report=report,
                seed=seed)
    if sample_text is not None:
        plan.sample, plan.sample_text = parse_sample(sample_text)
    elif seed is not None:
        raise UsageError(ErrorCode.USAGE, "a seed chooses a sample: give a sample too", param=["seed", "sample"])
    if older_than is not None:
        plan.older_than, plan.older_than_text = parse_duration(older_than, "older than"), older_than.strip()
    if max_time is not None:
        plan.max_time, plan.max_time_text = parse_duration(max_time, "max time"), max_time.strip()
    if engine not in ("local", "dask"):
        raise UsageError(ErrorCode.USAGE, f"engine {engine!r}: the engines are local and dask", param="engine")
    if engine == "dask" and not scheduler:
        raise UsageError(ErrorCode.USAGE, "the dask engine needs a scheduler's address (e.g. tcp://10.0.0.5:8786)", param="scheduler")
    if engine == "local" and scheduler:
        raise UsageError(ErrorCode.USAGE, "a scheduler is for the dask engine", param=["scheduler", "engine"])
    if report is not None and report.exists():
        from provenance.errors import ConflictError

        raise ConflictError(ErrorCode.OUTPUT_EXISTS, f"{report} already exists; choose another report file",
                            path=str(report))
    return plan


@dataclass
class Prepared:
    """An archive ready to audit: where it is, the verifier's context, and the archive whose key cards and
    policy choose the auditor's key (for an archive on object storage: a private copy of them)."""

    source: Source
    ctx: VerifyContext
    key_archive: Archive
    scratch: Path | None = None

    def close(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def prepare(location: str | Path | None, trust: Path | None, now: datetime) -> Prepared:
    """Open the archive (a folder or ``s3://bucket/prefix``) and build the verifier's context: the trust
    store is ``trust``, else the archive's own ``keys/``. Raises ``NotFoundError`` / ``StorageError``."""
    from provenance.archive import Archive
    from provenance.errors import NotFoundError
    from provenance.verify.target import make_context

    if trust is not None and not trust.exists():
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"trust store {trust}: no such file or folder")
    source = open_source(location)
    if isinstance(source, LocalSource):
        archive = Archive(source.root)
        ctx = make_context(trust or archive.keys_dir, now, archive.config().policy)
        return Prepared(source, ctx, archive)
    scratch = Path(tempfile.mkdtemp(prefix="provenance-remote-"))
    try:
        config = source.read_optional("provenance.toml")
        if config is not None:
            (scratch / "provenance.toml").write_bytes(config)
        if trust is None:
            source.download_keys(scratch / "keys")
        elif trust.is_dir():
            os.symlink(trust.resolve(), scratch / "keys")
        else:
            (scratch / "keys").mkdir()
            shutil.copy(trust, scratch / "keys")
        (scratch / "records").mkdir()
        archive = Archive(scratch)
        ctx = make_context(archive.keys_dir, now, archive.config().policy)
        if trust is not None:
            ctx.trust.location = str(trust)
        else:
            ctx.trust.location = f"{source.url}/keys"
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Prepared(source, ctx, archive, scratch)


def read_checkpoint(source: Source) -> tuple[dict[str, Any] | None, str | None]:
    """The archive's ``log/checkpoint`` (C2SP signed note: origin, tree size, root hash) when there is one,
    and a warning when it cannot be read as one."""
    import hashlib

    data = source.read_optional("log/checkpoint")
    if data is None:
        return None, None
    lines = data.decode("utf-8", "replace").split("\n")
    try:
        origin, size, root = lines[0], int(lines[1]), lines[2]
        if not origin or not root or size < 0:
            raise ValueError("empty field")
    except (IndexError, ValueError):
        return None, "log/checkpoint is not a checkpoint (origin, size, root hash); left out of the report"
    return {"origin": origin[:4096], "size": size, "root_hash": root[:256],
            "digest": "sha256:" + hashlib.sha256(data).hexdigest()}, None


@dataclass
class Outcome:
    """What a run did: its results (record order), counts, selection, and the signed report if asked."""

    results: list[dict[str, Any]]
    counts: dict[str, int]
    selection: dict[str, Any]
    engine: dict[str, Any]
    started: str
    finished: str
    elapsed_ms: int
    state_path: Path
    warnings: list[str] = field(default_factory=list)
    events_appended: int = 0
    report: AuditReport | None = None

    @property
    def worst(self) -> TrustState:
        return worst_state(TrustState(name) for name in STATES if self.counts[name])


def _batches(records: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def _append_fixity(archive: Archive, result: dict[str, Any], signer: Signer, now: datetime, started: str) -> str | None:
    """Append a signed ``fixity-check`` event to an intact record; its digest, or None when the record
    changed since it was audited (then nothing is appended: the event would vouch for bytes not checked)."""
    from provenance.history import append_event
    from provenance.manifest_io import event_digest
    from provenance.model.events import EventType

    class _ChangedError(Exception):
        pass

    def mutate(stage: Any, manifest: Any) -> tuple[Any, str, dict[str, Any]]:
        if not manifest.events or event_digest(manifest.events[-1]) != result["head"]:
            raise _ChangedError
        details = {"outcome": "pass", "algorithm": "sha256", "audited_head": result["head"],
                   "audit_started": started, "state": result["state"], "files": result["files"]}
        return manifest.state, f"Fixity check: {result['files']} file(s) and every earlier version intact", details

    try:
        manifest = append_event(archive, result["record"], EventType.FIXITY_CHECK, signer, mutate, now=now)
    except _ChangedError:
        return None
    return event_digest(manifest.events[-1])


def check_plan(prepared: Prepared, plan: Plan) -> None:
    """Refuse what this archive cannot do (``UsageError``): fixity events on a read-only archive."""
    if plan.record_events and not isinstance(prepared.source, LocalSource):
        raise UsageError(ErrorCode.USAGE, "recording fixity events writes to the archive; an archive on object "
                         "storage is audited read-only", param="record_events")


def run_audit(
    prepared: Prepared,
    plan: Plan,
    *,
    home: Path,
    clock: Callable[[], datetime],
    signer: Signer | None = None,
    on_results: Callable[[list[dict[str, Any]]], None] | None = None,
) -> Outcome:
    """Audit the records ``plan`` selects; returns the :class:`Outcome` (with the signed report written to
    ``plan.report`` when asked). Raises ``UsageError``, ``StorageError`` (state or report not writable,
    store unreachable at the start), ``ProvenanceError`` (engine not available)."""
    source, ctx = prepared.source, prepared.ctx
    check_plan(prepared, plan)
    if (plan.record_events or plan.report is not None) and signer is None:
        raise UsageError(ErrorCode.USAGE, "a signed report or fixity events need the auditor's key", param="key")
    started_at = ctx.now
    started = format_utc(started_at)
    t0 = time.monotonic()
    checkpoint, warning = read_checkpoint(source)
    warnings = [warning] if warning else []
    records = source.record_ids()
    path = state_path(source.root if isinstance(source, LocalSource) else None, source.url, home)
    state = AuditState(path)
    try:
        cycle, pending = state.start(records)
        if plan.older_than is not None:
            last = state.last_checked()
            limit = started_at - plan.older_than
            pending = [rid for rid in pending if rid not in last or parse_utc(last[rid]) <= limit]
        eligible = len(pending)
        seed = plan.seed
        if plan.sample is not None:
            seed = seed if seed is not None else os.urandom(8).hex()
            pending = sample(pending, plan.sample, seed)
        if plan.engine == "dask":
            assert plan.scheduler is not None
            engine: LocalEngine | DaskEngine = DaskEngine(plan.scheduler)
            workers = 2
        else:
            engine = LocalEngine(max(1, min(plan.jobs, len(pending) // 8 or 1)))
            workers = engine.workers
        size = batch_size(len(pending), max(workers, plan.jobs))
        deadline = t0 + plan.max_time.total_seconds() if plan.max_time is not None else None
        flags = {"store_down": False, "timed_out": False}

        def stop() -> bool:
            if deadline is not None and time.monotonic() >= deadline:
                flags["timed_out"] = True
            return flags["timed_out"] or flags["store_down"]

        counts = dict.fromkeys(STATES, 0)
        results: list[dict[str, Any]] = []
        appended = 0
        job = AuditJob(source, ctx)
        for returned in engine.run(job, _batches(pending, size), stop):
            batch = [r for r in returned if not r.get("skipped")]
            delivered = [r for r in batch if not any(p["code"] == READ_FAILED for p in r["problems"])]
            if len(batch) < len(returned):
                flags["store_down"] = True  # a worker gave up on the rest of its batch
            state.record(delivered, cycle, format_utc(clock()))
            if plan.record_events and signer is not None:
                for result in delivered:
                    if result["state"] != "invalid" and result["head"]:
                        digest = _append_fixity(prepared.key_archive, result, signer, clock(), started)
                        if digest is not None:
                            result["fixity_event"] = digest
                            appended += 1
            for result in batch:
                counts[result["state"]] += 1
            results.extend(batch)
            if on_results is not None:
                on_results(batch)
    finally:
        state.close()
    results.sort(key=lambda r: r["record"])
    stopped = None
    if len(results) < len(pending):
        stopped = "storage-unavailable" if flags["store_down"] else "max-time"
        if flags["store_down"]:
            warnings.append(f"the object store {source.url} stopped answering: {len(pending) - len(results)} "
                            "selected record(s) were not audited; the next run continues with them")
    selection: dict[str, Any] = {
        "cycle": cycle,
        "sample": plan.sample_text,
        "seed": seed if plan.sample is not None else None,
        "older_than": plan.older_than_text,
        "max_time": plan.max_time_text,
        "total": len(records),
        "eligible": eligible,
        "selected": len(pending),
        "audited": len(results),
        "remaining": len(pending) - len(results),
        "stopped": stopped,
    }
    finished_at = max(clock(), started_at)
    outcome = Outcome(
        results=results,
        counts=counts,
        selection=selection,
        engine={"name": plan.engine, "workers": max(1, getattr(engine, "workers", 1)), "batch": size},
        started=started,
        finished=format_utc(finished_at),
        elapsed_ms=int((time.monotonic() - t0) * 1000),
        state_path=path,
        warnings=warnings,
        events_appended=appended,
    )
    if plan.report is not None and signer is not None:
        outcome.report = write_report(plan.report, outcome, prepared, checkpoint, signer)
    return outcome


def write_report(path: Path, outcome: Outcome, prepared: Prepared, checkpoint: dict[str, Any] | None,
                 signer: Signer) -> AuditReport:
    """Sign the report of ``outcome`` with the auditor's key and write it atomically to ``path``."""
    from provenance.audit.report import sign_report
    from provenance.fsio import storage_error, write_atomic

    unsigned: dict[str, Any] = {
        "format": "provenance-audit-report/1",
        "archive": prepared.source.url,
        "started": outcome.started,
        "finished": outcome.finished,
        "elapsed_ms": outcome.elapsed_ms,
        "engine": outcome.engine,
        "selection": outcome.selection,
        "checkpoint": checkpoint,
        "trust": {"location": prepared.ctx.trust.location, "keys": sorted(prepared.ctx.trust.cards)},
        "counts": outcome.counts,
        "records": outcome.results,
    }
    report, data = sign_report(unsigned, signer.card, signer.key)
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise storage_error("write the audit report", path, exc) from exc
    return report


__all__ = ["Outcome", "Plan", "Prepared", "RemoteSource", "make_plan", "prepare", "run_audit"]
