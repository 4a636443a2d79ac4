"""Verification outcome: the three states, stable problem codes, and the report that lists them all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class TrustState(StrEnum):
    """``trusted``, ``valid`` (intact and signed, a signer not trusted), ``invalid``; the command line's exit
    code of each is its own decision (``provenance.cli.exits``)."""

    TRUSTED = "trusted"
    VALID = "valid"
    INVALID = "invalid"

    @property
    def rank(self) -> int:
        return {TrustState.TRUSTED: 0, TrustState.VALID: 1, TrustState.INVALID: 2}[self]


def worst_state(states: Iterable[TrustState]) -> TrustState:
    """The worst of several states (``invalid`` over ``valid`` over ``trusted``; ``trusted`` when none)."""
    worst = TrustState.TRUSTED
    for state in states:
        if state.rank > worst.rank:
            worst = state
    return worst


class ProblemCode(StrEnum):
    """Stable, dotted problem codes (documented in the README). Tests assert these, never messages."""

    MANIFEST_MISSING = "manifest.missing"
    MANIFEST_MALFORMED = "manifest.malformed"
    MANIFEST_SCHEMA = "manifest.schema"
    MANIFEST_DUPLICATE_KEY = "manifest.duplicate-key"
    MANIFEST_UNSUPPORTED_FORMAT = "manifest.unsupported-format"
    MANIFEST_RECORD_MISMATCH = "manifest.record-mismatch"
    FILE_MISSING = "file.missing"
    FILE_DIGEST_MISMATCH = "file.digest-mismatch"
    FILE_SIZE_MISMATCH = "file.size-mismatch"
    FILE_UNEXPECTED = "file.unexpected"
    FILE_PATH_UNSAFE = "file.path-unsafe"
    OBJECT_MISSING = "object.missing"
    OBJECT_DIGEST_MISMATCH = "object.digest-mismatch"
    CHAIN_EMPTY = "chain.empty"
    CHAIN_BROKEN = "chain.broken"
    CHAIN_SEQUENCE = "chain.sequence"
    CHAIN_TIME_ORDER = "chain.time-order"
    CHAIN_RECORD_MISMATCH = "chain.record-mismatch"
    EVENT_SIGNATURE_INVALID = "event.signature-invalid"
    EVENT_SIGNATURE_MISSING = "event.signature-missing"
    EVENT_PREMIS_MISMATCH = "event.premis-mismatch"
    STATE_MISMATCH = "state.mismatch"
    STATE_SNAPSHOT_MISMATCH = "state.snapshot-mismatch"
    SIGNER_UNKNOWN = "signer.unknown"
    SIGNER_ROLE_NOT_ALLOWED = "signer.role-not-allowed"
    SIGNER_REVOKED = "signer.revoked"
    SIGNER_EXPIRED = "signer.expired"
    SIGNER_AGENT_MISMATCH = "signer.agent-mismatch"
    TRUST_EMPTY = "trust.empty"
    BUNDLE_MALFORMED = "bundle.malformed"
    BUNDLE_UNSAFE_ENTRY = "bundle.unsafe-entry"
    BUNDLE_TOO_LARGE = "bundle.too-large"
    BUNDLE_KEY_CARD_INVALID = "bundle.key-card-invalid"
    BAG_INVALID = "bag.invalid"
    BAG_FILE_MISSING = "bag.file-missing"
    BAG_FILE_UNEXPECTED = "bag.file-unexpected"
    BAG_DIGEST_MISMATCH = "bag.digest-mismatch"
    BAG_OXUM_MISMATCH = "bag.oxum-mismatch"
    BAG_TAG_DIGEST_MISMATCH = "bag.tag-digest-mismatch"
    BAG_INFO_MISMATCH = "bag.info-mismatch"
    PATH_NOT_FOUND = "path.not-found"
    # transparency log (issue 10)
    LOG_PROOF_MISSING = "log.proof-missing"
    LOG_INCLUSION_INVALID = "log.inclusion-invalid"
    LOG_CHECKPOINT_INVALID = "log.checkpoint-invalid"
    LOG_FORK = "log.fork"
    LOG_ROLLBACK = "log.rollback"
    LOG_WITNESS_QUORUM = "log.witness-quorum"
    EVENT_TIME_IMPLAUSIBLE = "event.time-implausible"
    # audit at scale (issue 16): signed audit reports, records on object storage
    REPORT_MALFORMED = "report.malformed"
    REPORT_SCHEMA = "report.schema"
    REPORT_SIGNATURE_INVALID = "report.signature-invalid"
    REPORT_INCONSISTENT = "report.inconsistent"
    STORAGE_READ_FAILED = "storage.read-failed"
    # one reading of every container (issue 9, i9-containers): constructs two readers may read differently
    BUNDLE_AMBIGUOUS_NAME = "bundle.ambiguous-name"
    BUNDLE_HEADER_MISMATCH = "bundle.header-mismatch"
    BUNDLE_STRAY_DATA = "bundle.stray-data"
    BUNDLE_UNSUPPORTED_FEATURE = "bundle.unsupported-feature"
    # i13-preservation: import --ocfl (an OCFL object read back)
    OCFL_NOT_AN_OBJECT = "ocfl.not-an-object"
    OCFL_NOT_A_RECORD = "ocfl.not-a-record"
    OCFL_INVENTORY_INVALID = "ocfl.inventory-invalid"
    OCFL_INVENTORY_DIGEST_MISMATCH = "ocfl.inventory-digest-mismatch"
    OCFL_CONTENT_MISSING = "ocfl.content-missing"
    OCFL_CONTENT_DIGEST_MISMATCH = "ocfl.content-digest-mismatch"
    OCFL_CONTENT_UNEXPECTED = "ocfl.content-unexpected"
    OCFL_VERSION_MISMATCH = "ocfl.version-mismatch"
    # issue 9 (i9-rules): a record folder beyond provenance.limits.FILES (README "Limits")
    RECORD_TOO_MANY_FILES = "record.too-many-files"


# Problems that leave a record intact but not trusted (state ``valid``). Every other code is ``invalid``.
UNTRUSTED_CODES: frozenset[ProblemCode] = frozenset(
    {
        ProblemCode.SIGNER_UNKNOWN,
        ProblemCode.SIGNER_ROLE_NOT_ALLOWED,
        ProblemCode.SIGNER_REVOKED,
        ProblemCode.SIGNER_EXPIRED,
        ProblemCode.SIGNER_AGENT_MISMATCH,
        ProblemCode.TRUST_EMPTY,
        ProblemCode.EVENT_TIME_IMPLAUSIBLE,  # transparency log (issue 10)
    }
)


@dataclass(frozen=True)
class Problem:
    """One finding: a stable code, a one-line message, and structured fields (path, expected, found …)."""

    code: ProblemCode
    message: str
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> TrustState:
        return TrustState.VALID if self.code in UNTRUSTED_CODES else TrustState.INVALID

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": str(self.code), "message": self.message}
        out.update({k: v for k, v in self.fields.items() if v is not None})
        return out


@dataclass
class Check:
    """One line of the human report: what was checked and whether it passed."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class VerificationReport:
    """Everything a verifier found about one record, folder or bundle; never stops at the first problem."""

    path: str
    kind: str = "record"
    record: str | None = None
    title: str | None = None
    telegram_number: str | None = None
    problems: list[Problem] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    signers: list[dict[str, Any]] = field(default_factory=list)
    events: int = 0
    files: int = 0
    bytes_hashed: int = 0
    bundle_key_cards: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # digest of the last event: compare it with one kept elsewhere to detect a rollback to an older version
    head: str | None = None
    # transparency log (issue 10): "logged", "not logged", or None where not judged (a record folder)
    log: str | None = None
    # per event, when cosigned checkpoints show it was logged: {seq, index, after, before} (issue 10)
    logged: list[dict[str, Any]] = field(default_factory=list)
    # the trust store and the roles policy this verdict rests on ({"path", "source", …})
    trust_store: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None

    def add(self, code: ProblemCode, message: str, **fields: Any) -> None:
        """Record a problem."""
        self.problems.append(Problem(code, message, fields))

    def check(self, name: str, ok: bool, detail: str = "") -> None:
        """Record one check for the human view."""
        self.checks.append(Check(name, ok, detail))

    @property
    def state(self) -> TrustState:
        """The worst state over all problems: one altered event makes the whole record invalid."""
        return worst_state(problem.state for problem in self.problems)

    @property
    def verified(self) -> bool:
        return self.state is TrustState.TRUSTED

    def to_json(self) -> dict[str, Any]:
        return {
            "state": str(self.state),
            "verified": self.verified,
            "record": self.record,
            "path": self.path,
            "kind": self.kind,
            "title": self.title,
            "telegram_number": self.telegram_number,
            "events": self.events,
            "head": self.head,
            "log": self.log,
            "logged": self.logged,
            "files": self.files,
            "bytes_hashed": self.bytes_hashed,
            "problems": [p.to_json() for p in self.problems],
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "signers": self.signers,
            "bundle_key_cards": self.bundle_key_cards,
            "warnings": self.warnings,
            "trust_store": self.trust_store,
            "policy": self.policy,
        }
