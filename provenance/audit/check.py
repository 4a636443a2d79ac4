"""Checking a signed audit report (``provenance verify-report``).

Procedure (every problem is reported, then the next step runs where it still can):

1. Read the file (bounded) and parse it strictly (RFC 7493 I-JSON: no duplicate keys, floats or
   out-of-range integers); its bytes must be the layout the tool writes, so any changed byte is found.
2. Validate it against the model (``schemas/audit-report.schema.json``).
3. Check the signature (Ed25519, RFC 8032) over ``REPORT_SIGNING_CONTEXT`` + the RFC 8785 canonical JSON
   of every member but ``signature``, with the public key the report names, whose id must match it.
4. Check the auditor against the checker's own trust store: known, not revoked or expired when the report
   was finished. A report signed by a key the checker does not trust is ``valid``, never ``trusted``.
5. Check that the counts agree with the records listed.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from provenance.audit.report import MAX_REPORT_BYTES, AuditReport, signing_bytes
from provenance.keys import TrustStore
from provenance.model.problems import ProblemCode as P
from provenance.model.problems import VerificationReport


def _read(report: VerificationReport, path: Path) -> tuple[dict[str, Any], AuditReport] | None:
    """Steps 1 and 2: the report as parsed and as validated, or None after saying why it cannot be used."""
    from pydantic import ValidationError

    from provenance.canonical import StrictJSONError, dumps_pretty, loads_strict
    from provenance.errors import ErrorCode, InputError, NotFoundError
    from provenance.fsio import read_limited

    try:
        data = read_limited(path, MAX_REPORT_BYTES)
    except FileNotFoundError:
        raise NotFoundError(ErrorCode.INPUT_NOT_FOUND, f"{path}: no such file", path=str(path)) from None
    except OSError as exc:
        raise InputError(ErrorCode.INPUT_UNREADABLE, f"{path}: cannot read: {exc.strerror}") from None
    try:
        raw = loads_strict(data)
    except StrictJSONError as exc:
        report.add(P.REPORT_MALFORMED, f"{path}: {exc}", path=str(path))
        return None
    if not isinstance(raw, dict):
        report.add(P.REPORT_MALFORMED, f"{path}: not a JSON object", path=str(path))
        return None
    try:
        laid_out = dumps_pretty(raw) == data
    except ValueError:
        laid_out = False
    if not laid_out:
        report.add(
            P.REPORT_MALFORMED,
            f"{path}: not laid out byte for byte as provenance writes a report (a byte was changed)",
            path=str(path),
            found="layout",
        )
    try:
        model = AuditReport.model_validate(raw)
    except ValidationError as exc:
        from provenance.model.locations import field_name

        for error in exc.errors()[:20]:
            where = field_name(error["loc"])
            report.add(P.REPORT_SCHEMA, f"{path}: {where}: {error['msg']}", path=str(path), field=where)
        return None
    return raw, model


def _check_signature(report: VerificationReport, raw: dict[str, Any], model: AuditReport) -> bool:
    """Step 3."""
    from provenance.keys import b64url_decode
    from provenance.signing import key_id, verify_signature

    try:
        public = b64url_decode(model.auditor.public_key)
        signature = b64url_decode(model.signature)
    except ValueError as exc:
        report.add(P.REPORT_SIGNATURE_INVALID, f"the auditor's key or signature is not base64url: {exc}")
        return False
    if key_id(public) != model.auditor.key:
        report.add(
            P.REPORT_SIGNATURE_INVALID,
            "the auditor's public key does not match the key id the report names",
            expected=model.auditor.key,
            found=key_id(public),
        )
        return False
    if not verify_signature(public, signing_bytes(raw, parsed=True), signature):
        report.add(
            P.REPORT_SIGNATURE_INVALID,
            f"the report's signature does not match its content (signed by {model.auditor.key})",
            key=model.auditor.key,
        )
        return False
    return True


def _check_auditor(report: VerificationReport, model: AuditReport, trust: TrustStore) -> None:
    """Step 4."""
    from provenance.model.timefmt import parse_utc

    key = model.auditor.key
    card = trust.get(key)
    if card is None:
        report.add(
            P.SIGNER_UNKNOWN,
            f"the auditor's key {key} ({model.auditor.name}) is not in your trust store "
            f"{trust.location or '(none)'}",
            key=key,
        )
        return
    status = card.status_at(parse_utc(model.finished))
    if status == "revoked":
        report.add(P.SIGNER_REVOKED, f"the auditor's key {key} was revoked before the report was signed", key=key)
    elif status != "valid":
        report.add(P.SIGNER_EXPIRED, f"the auditor's key {key} was {status} when the report was signed", key=key)


def _check_counts(report: VerificationReport, model: AuditReport) -> None:
    """Step 5."""
    tally = {"trusted": 0, "valid": 0, "invalid": 0}
    for record in model.records:
        tally[record.state] += 1
    if tally != model.counts.model_dump():
        report.add(P.REPORT_INCONSISTENT, f"the counts {model.counts.model_dump()} do not match the records "
                   f"listed {tally}", expected=tally, found=model.counts.model_dump())
    if model.selection.audited != len(model.records):
        report.add(P.REPORT_INCONSISTENT, f"the report says {model.selection.audited} records were audited "
                   f"but lists {len(model.records)}", expected=len(model.records), found=model.selection.audited)
    names = [r.record for r in model.records]
    if len(set(names)) != len(names):
        report.add(P.REPORT_INCONSISTENT, "a record is listed more than once")


def check_report(path: Path, trust: TrustStore, now: datetime | None = None) -> tuple[VerificationReport, AuditReport | None]:
    """Check the audit report at ``path`` against ``trust``; never raises for what it finds.

    Raises ``NotFoundError`` (input.not-found / input.unreadable) when the file cannot be read at all.
    """
    del now  # the report's own time decides the auditor's status; kept for symmetry with verify
    report = VerificationReport(path=str(path), kind="audit-report")
    read = _read(report, path)
    if read is None:
        report.check("report is well-formed", False)
        return report, None
    raw, model = read
    report.check("report is well-formed", not report.problems, f"{len(model.records)} records")
    report.events = 0
    report.files = len(model.records)
    signed = _check_signature(report, raw, model)
    report.check("the signature matches the report", signed, model.auditor.key)
    if signed:
        _check_auditor(report, model, trust)
        report.check("the auditor is in your trust store", trust.get(model.auditor.key) is not None,
                     model.auditor.name)
    before = len(report.problems)
    _check_counts(report, model)
    report.check("the counts agree with the records", len(report.problems) == before)
    if not trust.cards:
        report.add(P.TRUST_EMPTY, f"the trust store {trust.location or '(none)'} holds no key cards")
    return report, model
