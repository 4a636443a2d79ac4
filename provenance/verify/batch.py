"""Verifying many records or bundles in one run, spread over processes, in constant memory.

:func:`verify_batch` yields one :class:`Outcome` per target, in the order given, as soon as it is known.
With ``jobs > 1`` the targets are verified by forked worker processes (each inherits the verifier's
context: trust store, policy, clock); a worker sends back only what the caller keeps: the state, the
report when it has something to show, and the report's JSON text when asked for. Nothing grows with the
number of targets except what the caller chooses to keep.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from provenance.model.problems import TrustState, VerificationReport
from provenance.verify.record import VerifyContext

TargetKind = Literal["path", "record"]

# Below this many targets a pool costs more (a fork per worker) than it saves.
POOL_MIN_TARGETS = 8


@dataclass
class Outcome:
    """What the caller gets back for one target."""

    index: int
    path: str
    state: TrustState
    record: str | None
    events: int
    files: int
    bytes_hashed: int
    # the report itself when it has problems or warnings (or when every report was asked for)
    report: VerificationReport | None = None
    # the report as one JSON document (``as_json``)
    document: str | None = None
    # its problems as JSON, each naming the record and path (``as_json``)
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    ctx: VerifyContext
    kind: TargetKind
    as_json: bool
    keep_reports: bool


_JOB: _Job | None = None


def _set_job(job: _Job) -> None:
    global _JOB
    _JOB = job


def _start_worker(job: _Job) -> None:
    """In a worker process: its job, and pydantic plugins off for all its targets at once (instead of off
    and on again around each one: the worker runs nothing else)."""
    from provenance.verify.target import pydantic_plugins_off

    _set_job(job)
    pydantic_plugins_off()


def verify_one(path: Path, ctx: VerifyContext, kind: TargetKind) -> VerificationReport:
    """One target: a record folder of an archive (``record``) or any path ``verify`` accepts (``path``)."""
    if kind == "record":
        from provenance.verify.record import verify_record_folder

        return verify_record_folder(path, ctx)
    from provenance.verify.target import verify_path

    return verify_path(path, ctx)


def _outcome(index: int, path: str, job: _Job) -> Outcome:
    report = verify_one(Path(path), job.ctx, job.kind)
    state = report.state
    out = Outcome(
        index=index,
        path=path,
        state=state,
        record=report.record,
        events=report.events,
        files=report.files,
        bytes_hashed=report.bytes_hashed,
    )
    if job.keep_reports or report.problems or report.warnings:
        out.report = report
    if job.as_json:
        document = report.to_json()
        out.document = json.dumps(document, ensure_ascii=False)
        out.problems = [{**p, "record": report.record, "path": path} for p in document["problems"]]
    return out


@dataclass(frozen=True)
class _Failure:
    """A ``ProvenanceError`` raised in a worker, in a form that crosses processes."""

    kind: str
    code: str
    message: str
    details: dict[str, object]

    def error(self) -> Exception:
        from provenance import errors

        cls = getattr(errors, self.kind, errors.ProvenanceError)
        error: Exception = cls(errors.ErrorCode(self.code), self.message, **self.details)
        return error


def _work(task: tuple[int, str]) -> Outcome | _Failure:
    from provenance.errors import ProvenanceError

    assert _JOB is not None, "worker started without a job"
    try:
        return _outcome(task[0], task[1], _JOB)
    except ProvenanceError as exc:
        return _Failure(type(exc).__name__, str(exc.code), exc.message, dict(exc.details))


def verify_batch(
    targets: Sequence[Path],
    ctx: VerifyContext,
    *,
    kind: TargetKind = "path",
    jobs: int = 1,
    as_json: bool = False,
    keep_reports: bool = False,
) -> Iterator[Outcome]:
    """Verify every target and yield its :class:`Outcome` in the order given; never raises for findings.

    ``jobs`` processes share the targets (1: all in this process, and then one target's files may still
    be hashed by ``ctx.jobs`` processes). Raises what a single verification raises (``InputError`` for an
    unreadable bundle).
    """
    tasks = [(index, str(path)) for index, path in enumerate(targets)]
    if jobs <= 1 or len(tasks) < POOL_MIN_TARGETS:
        job = _Job(ctx, kind, as_json, keep_reports)
        for index, path in tasks:
            yield _outcome(index, path, job)
        return
    from provenance.verify import workers

    # each worker hashes its own targets' files alone: the pool already uses every process asked for
    job = _Job(replace(ctx, jobs=1), kind, as_json, keep_reports)
    processes = min(jobs, len(tasks))
    chunk = max(1, min(32, len(tasks) // (processes * 16)))
    _set_job(job)  # inherited by forked workers; sent to spawned ones through the initializer
    # supervised workers: one killed mid-run is replaced and its targets verified again (none lost or doubled)
    for item in workers.imap(processes, _work, tasks, chunksize=chunk, initializer=_start_worker, initargs=(job,)):
        if isinstance(item, _Failure):
            raise item.error()
        yield item
