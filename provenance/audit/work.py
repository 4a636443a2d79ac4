"""One unit of audit work: a batch of records, verified where the worker runs (a pool process, a Dask
worker), each read by the worker itself from the archive (a shared folder or the object store).

:func:`audit_batch` is a plain module-level function of picklable arguments, so that a Dask worker (or a
forked pool process) runs it by reference; it returns one small JSON-ready result per record (state,
problem codes, head, counts, time), never the full reports: what crosses the network stays small.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance.audit.source import LocalSource, ReadFailedError, RemoteSource, Source
from provenance.model.problems import ProblemCode as P
from provenance.model.problems import VerificationReport
from provenance.verify.record import VerifyContext


@dataclass(frozen=True)
class AuditJob:
    """What every batch of one run shares: where the archive is, and the auditor's verifier context."""

    source: Source
    ctx: VerifyContext


def _result(record_id: str, report: VerificationReport, elapsed: float, *, local: bool) -> dict[str, Any]:
    problems = []
    for problem in report.problems:
        finding: dict[str, Any] = {"code": str(problem.code)}
        path = problem.fields.get("path")
        # a path inside the record (a temporary copy's folder names nothing the reader can use)
        if isinstance(path, str) and path and (local or not path.startswith("/")):
            finding["path"] = path[:4096]
        problems.append(finding)
    return {
        "record": record_id,
        "state": str(report.state),
        "head": report.head,
        "events": report.events,
        "files": report.files,
        "bytes": report.bytes_hashed,
        "elapsed_us": int(elapsed * 1e6),
        "problems": problems,
    }


def _verify_local(source: LocalSource, record_id: str, ctx: VerifyContext) -> VerificationReport:
    from provenance.verify.record import verify_record_folder

    return verify_record_folder(source.root / "records" / record_id, ctx)


def _verify_remote(source: RemoteSource, record_id: str, ctx: VerifyContext, scratch: Path) -> VerificationReport:
    from provenance.verify.record import verify_record_folder

    folder = scratch / record_id
    try:
        try:
            folder, unsafe = source.fetch_record(record_id, scratch)
        except ReadFailedError as exc:
            report = VerificationReport(path=f"{source.url}/records/{record_id}", kind="record", record=record_id)
            report.add(P.STORAGE_READ_FAILED, f"{source.url}/records/{record_id}: {exc}")
            return report
        report = verify_record_folder(folder, ctx)
        for rel in unsafe:
            report.add(P.FILE_PATH_UNSAFE, f"an object key that could escape the record: {rel!r}", path=rel[:4096])
        report.path = f"{source.url}/records/{record_id}"
        return report
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# records in a row that the store could not deliver before a batch gives up on the rest (the store is down)
STORE_DOWN_RECORDS = 2


def audit_batch(job: AuditJob, record_ids: list[str]) -> list[dict[str, Any]]:
    """Verify ``record_ids`` one after another; one result per record, in order. Never raises for what it
    finds: a record the store cannot deliver is the finding ``storage.read-failed``; after
    ``STORE_DOWN_RECORDS`` of them in a row, the rest of the batch is returned as ``{"record": id,
    "skipped": true}`` (not audited: the next run audits them)."""
    results: list[dict[str, Any]] = []
    failing = 0
    scratch = Path(tempfile.mkdtemp(prefix="provenance-audit-")) if isinstance(job.source, RemoteSource) else None
    try:
        for record_id in record_ids:
            if failing >= STORE_DOWN_RECORDS:
                results.append({"record": record_id, "skipped": True})
                continue
            started = time.perf_counter()
            if isinstance(job.source, RemoteSource):
                assert scratch is not None
                report = _verify_remote(job.source, record_id, job.ctx, scratch)
            else:
                report = _verify_local(job.source, record_id, job.ctx)
            failed = any(p.code is P.STORAGE_READ_FAILED for p in report.problems)
            failing = failing + 1 if failed else 0
            results.append(_result(record_id, report, time.perf_counter() - started,
                                   local=isinstance(job.source, LocalSource)))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return results
