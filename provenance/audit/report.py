"""The signed audit report: one JSON document for one audit run, signed by the auditor's key.

What is signed: ``REPORT_SIGNING_CONTEXT`` + the RFC 8785 canonical JSON of every member of the report
except ``signature`` (Ed25519, RFC 8032), as events are signed, but under a context string of its own, so
that a report's signature can never be taken for an event's (or the reverse). The file is written in one
layout (:func:`provenance.canonical.dumps_pretty`), and a checker compares the bytes it read with that
layout, so that any byte changed in the file is found, white space included.

:func:`check_report` never raises for what it finds: it returns a
:class:`~provenance.model.problems.VerificationReport` whose state is ``trusted`` (signed by a key the
checker trusts), ``valid`` (intact and correctly signed, but by a key the checker does not trust) or
``invalid``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from provenance.model.manifest import Digest, KeyId, RecordId, UtcTime

REPORT_FORMAT: Final = "provenance-audit-report/1"
REPORT_SIGNING_CONTEXT: Final = b"provenance/audit-report/v1\x00"
MAX_REPORT_BYTES: Final = 1 << 30

Count = Annotated[int, Field(strict=True, ge=0, le=2**53 - 1)]
StateName = Literal["trusted", "valid", "invalid"]


class _Model(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


class Finding(_Model):
    """One problem found in a record: its stable code, and the path it concerns when it has one."""

    code: Annotated[str, Field(pattern=r"^[a-z]+\.[a-z-]+$")]
    path: Annotated[str, Field(max_length=4096)] | None = None


class RecordResult(_Model):
    """What the audit found about one record."""

    record: RecordId
    state: StateName
    # digest of the record's last event as read (null when the manifest could not be read)
    head: Digest | None = None
    events: Count = 0
    files: Count = 0
    bytes: Count = 0
    elapsed_us: Count = 0
    problems: list[Finding] = Field(default_factory=list)
    # the fixity-check event appended after the audit (``--record-events``): its digest
    fixity_event: Digest | None = None


class Checkpoint(_Model):
    """The archive's transparency-log checkpoint (``log/checkpoint``) as read when the audit started."""

    origin: Annotated[str, Field(min_length=1, max_length=4096)]
    size: Count
    root_hash: Annotated[str, Field(min_length=1, max_length=256)]
    digest: Digest


class Selection(_Model):
    """Which records this run audited, and why these."""

    cycle: Annotated[int, Field(strict=True, ge=1, le=2**53 - 1)]
    sample: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?%$")] | None = None
    seed: Annotated[str, Field(max_length=256)] | None = None
    older_than: Annotated[str, Field(max_length=64)] | None = None
    max_time: Annotated[str, Field(max_length=64)] | None = None
    total: Count
    eligible: Count
    selected: Count
    audited: Count
    remaining: Count
    # why the run ended before every selected record was audited: null (it did not), max-time, storage
    stopped: Literal["max-time", "storage-unavailable"] | None = None


class Engine(_Model):
    name: Literal["local", "dask"]
    workers: Annotated[int, Field(strict=True, ge=1, le=2**31)]
    batch: Annotated[int, Field(strict=True, ge=1, le=2**31)]


class Trust(_Model):
    location: Annotated[str, Field(max_length=4096)]
    keys: list[KeyId]


class Counts(_Model):
    trusted: Count
    valid: Count
    invalid: Count


class Auditor(_Model):
    key: KeyId
    name: Annotated[str, Field(min_length=1, max_length=4096)]
    public_key: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]


class AuditReport(_Model):
    """One audit run, as signed by its auditor (``schemas/audit-report.schema.json``)."""

    format: Literal["provenance-audit-report/1"] = REPORT_FORMAT
    archive: Annotated[str, Field(min_length=1, max_length=4096)]
    started: UtcTime
    finished: UtcTime
    elapsed_ms: Count
    engine: Engine
    selection: Selection
    checkpoint: Checkpoint | None = None
    trust: Trust
    counts: Counts
    records: list[RecordResult]
    auditor: Auditor
    signature: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{86}$")]

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def signing_bytes(document: dict[str, Any], *, parsed: bool = False) -> bytes:
    """The bytes an auditor signs: the context string + RFC 8785 canonical JSON of all but ``signature``."""
    from provenance.canonical import canonical_bytes

    unsigned = {k: v for k, v in document.items() if k != "signature"}
    return REPORT_SIGNING_CONTEXT + canonical_bytes(unsigned, parsed=parsed)


def sign_report(unsigned: dict[str, Any], signer_card: Any, signing_key: Any) -> tuple[AuditReport, bytes]:
    """Sign ``unsigned`` (every member but ``signature`` and ``auditor``) with the auditor's key.

    The document is first put in the model's form (unset members left out), and exactly that form is
    signed and written. Returns the validated report and the bytes to write. Raises
    ``pydantic.ValidationError`` when the document breaks the model (a bug of the caller).
    """
    from provenance.canonical import dumps_pretty
    from provenance.keys import b64url

    document = {k: v for k, v in unsigned.items() if k != "signature"}
    document["auditor"] = {"key": signer_card.id, "name": signer_card.name, "public_key": signer_card.public_key}
    shaped = AuditReport.model_validate({**document, "signature": "A" * 86}).as_json()
    shaped["signature"] = b64url(signing_key.sign(signing_bytes(shaped)))
    report = AuditReport.model_validate(shaped)
    return report, dumps_pretty(report.as_json())
