"""The checks every verification runs on a record, wherever it lies (archive folder or bag).

Procedure (each step reports every problem it finds, then the next step runs where it still can):

1. Read the manifest strictly (no duplicate keys, floats or out-of-range integers, and laid out byte for
   byte as the tool writes it) and validate it.
2. Check the chain: sequence numbers, the record id in every event, each event's ``previous_digest``
   against the digest of the event before it, non-decreasing times, the PREMIS type of each event type.
3. Check every signature (Ed25519, RFC 8032, over the context-prefixed RFC 8785 bytes).
4. Check every signer against the verifier's own trust store: known, role allowed, not revoked,
   within its validity window at the event's time. Key cards that came with a bundle are never trusted.
5. Check that the last event commits to the manifest's current state.
6. Hash every payload file and compare it with the state: nothing missing, altered or extra.
7. Check the history: every state snapshot and every earlier file version against its digest.

Digests and signed bytes are computed from the JSON as it was read (the parsed bytes received, RFC 8785
canonicalised), never from a re-serialised model: a value the schema would coerce (``"seq": true``) or a
default left out cannot slip past a signature. The validated model is used for everything else.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.canonical import StrictJSONError, canonical_bytes, dumps_pretty, loads_strict
from provenance.fsio import read_limited
from provenance.keys import TrustStore, card_public_key
from provenance.manifest_io import (
    MAX_MANIFEST_BYTES,
    digest_bytes,
    event_signing_bytes,
    manifest_bytes,
    state_digest,
)
from provenance.model.events import PREMIS_EVENT_TYPES, EventType, Role
from provenance.model.keycard import KeyCard
from provenance.model.manifest import (
    EVENT_SIGNING_CONTEXT,
    MANIFEST_FORMAT,
    SIGNED_EVENT_FIELDS,
    Event,
    Manifest,
)
from provenance.model.problems import ProblemCode as P
from provenance.model.problems import VerificationReport
from provenance.model.timefmt import format_utc, parse_utc
from provenance.verify.hashing import FileDigests, hash_files

if TYPE_CHECKING:
    from provenance.bundle.members import MemberView
    from provenance.verify.prefetch import Prefetch

_HEX64 = re.compile(r"[0-9a-f]{64}")
# How far ahead of the verifier's clock an event may be dated (clocks of honest signers drift a little).
CLOCK_SKEW = timedelta(hours=1)
# files larger than this are not read whole to explain a digest mismatch
_EXPLAIN_LIMIT = 32 << 20


@dataclass
class RecordSource:
    """Where a record's parts lie: its manifest, its current files, and (maybe) its stored history."""

    label: str
    manifest_path: Path
    files_root: Path
    objects_root: Path | None
    history_required: bool
    expected_record: str | None = None
    bundle_cards: dict[str, KeyCard] = field(default_factory=dict)
    # files that the surrounding container (a bag) already checked; by path as text, values are sha256 hex
    known_digests: dict[str, str] = field(default_factory=dict)
    # and their sizes as hashed there (a file not named here is measured again)
    known_sizes: dict[str, int] = field(default_factory=dict)
    # an archive read once, never extracted: its members stand for the paths above (bundle.members)
    view: MemberView | None = None
    # the regular files below files_root as the safe scan of a bag folder listed them (relative POSIX path
    # -> path), and how many entries (files and folders) lie there: the folder is not walked a second time
    listing: dict[str, str] | None = None
    listing_entries: int = 0


@dataclass
class VerifyContext:
    """What a verifier brings: its trust store, its roles policy, and the time it checks at.

    ``jobs`` is how many processes one record's files may be hashed by (1: in this process);
    ``prefetch`` a helper process (forked before the library loaded) already hashing the large files of
    the one record being verified.
    """

    trust: TrustStore
    policy: dict[EventType, frozenset[Role]]
    now: datetime
    jobs: int = 1
    prefetch: Prefetch | None = None
    log: LogOptions | None = None  # transparency log: --state, --consistency, --witnesses (issue 10)
    # where the trust store and the roles policy came from, named in every report
    trust_origin: str = "option"  # "option" (--trust), "archive" (the archive's keys/), "none"
    policy_path: str | None = None  # the provenance.toml read, or None for the built-in defaults
    policy_origin: str = "default"  # "trust-store", "archive" or "default"
    # a bundle archive may decompress to at most this many bytes (verify --max-size; None: the default)
    max_size: int | None = None
    # what steps 3-4 work out once per trusted signer for every record checked with this context
    signer_cache: _SignerCache = field(default_factory=lambda: _SignerCache(), repr=False, compare=False)


@dataclass(frozen=True)
class LogOptions:
    """What ``verify`` was told about the transparency log: where it remembers checkpoints and heads,
    a consistency proof to use, and how many witnesses must cosign (None: the trust store's policy)."""

    state_dir: Path | None = None
    consistency: Path | None = None
    witnesses: int | None = None


@dataclass
class _Read:
    """A manifest as read: the JSON as parsed (what is digested) and the validated model."""

    raw: dict[str, Any]
    manifest: Manifest

    def raw_events(self) -> list[dict[str, Any]]:
        events = self.raw["events"]
        assert isinstance(events, list)
        return events


def _schema_problems(report: VerificationReport, raw: object, source: str) -> Manifest | None:
    from pydantic import ValidationError

    from provenance.model.locations import field_name

    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors()[:20]:
            where = field_name(error["loc"])
            report.add(P.MANIFEST_SCHEMA, f"{source}: {where}: {error['msg']}", path=source, field=where)
        return None


def _read_manifest(report: VerificationReport, path: Path, view: MemberView | None = None) -> _Read | None:
    """Step 1: the manifest as parsed and as validated, or None after reporting why it cannot be used."""
    source = str(path)
    data: bytes | None = None
    try:
        if view is not None:  # an archive's member, read once with the archive
            member = view.get(path)
            if member is None:
                raise FileNotFoundError(path)
            size = member.size
            if size <= MAX_MANIFEST_BYTES:
                data = view.read(path, MAX_MANIFEST_BYTES)
        else:
            info = path.lstat()
            if not stat.S_ISREG(info.st_mode):
                report.add(P.FILE_PATH_UNSAFE, f"{source}: the manifest is not a regular file", path=source)
                return None
            size = info.st_size
    except FileNotFoundError:
        report.add(P.MANIFEST_MISSING, f"{source}: no manifest.json", path=source)
        return None
    except OSError as exc:
        report.add(P.MANIFEST_MALFORMED, f"{source}: cannot read: {exc.strerror}", path=source)
        return None
    if size > MAX_MANIFEST_BYTES:
        report.add(P.MANIFEST_MALFORMED, f"{source}: larger than {MAX_MANIFEST_BYTES} bytes", path=source)
        return None
    try:
        if data is None:  # bounded even if the file grows after lstat (endless data)
            data = read_limited(path, MAX_MANIFEST_BYTES, follow=False)
    except OSError as exc:
        report.add(P.MANIFEST_MALFORMED, f"{source}: cannot read: {exc.strerror}", path=source)
        return None
    read = _read_as_written(data)
    if read is not None:
        return read
    try:
        raw = loads_strict(data, max_bytes=MAX_MANIFEST_BYTES)
    except StrictJSONError as exc:
        code = P.MANIFEST_DUPLICATE_KEY if exc.kind == "duplicate-key" else P.MANIFEST_MALFORMED
        report.add(code, f"{source}: {exc}", path=source, found=exc.kind)
        return None
    if not isinstance(raw, dict):
        report.add(P.MANIFEST_MALFORMED, f"{source}: not a JSON object", path=source)
        return None
    if raw.get("format") != MANIFEST_FORMAT:
        report.add(
            P.MANIFEST_UNSUPPORTED_FORMAT,
            f"{source}: format {raw.get('format')!r} is not supported (expected {MANIFEST_FORMAT!r})",
            path=source,
            expected=MANIFEST_FORMAT,
            found=raw.get("format"),
        )
        return None
    at = len(report.problems)  # where a layout finding goes: before those of the schema
    manifest = _schema_problems(report, _with_placeholder_signatures(report, raw), source)
    # These bytes are not what provenance writes for a valid manifest (else _read_as_written took them).
    # The tool writes one layout (indent 2, UTF-8, one final newline), so a change JSON itself would ignore
    # (white space, an escape spelt another way) is still a change to a signed record, and is reported.
    if dumps_pretty(raw) != data:
        report.add(
            P.MANIFEST_MALFORMED,
            f"{source}: not laid out as provenance writes it (white space or escapes were changed)",
            path=source,
            found="layout",
        )
        report.problems.insert(at, report.problems.pop())
    elif manifest is not None and not any(p.code in _UNWRITABLE for p in report.problems):
        # One meaning, one text: laid out as the tool writes, but not what it writes for the content read
        # (a member out of the model's order, a default left out or written, a value spelt another way).
        # Otherwise one genuine version could be shown with several texts, and a changed member order would
        # slip past every digest, since canonical JSON sorts members.
        written = manifest_bytes(manifest)
        if written != data:
            _report_written_form(report, written, data, source)
    return None if manifest is None else _Read(raw, manifest)


def _read_as_written(data: bytes) -> _Read | None:
    """The manifest when its bytes are exactly what provenance writes for a valid manifest (every genuine
    record), else None, and the careful reading above reports what is wrong. The strict parser is spared
    its search for duplicate names (a Python call per object): when the written form of the value parsed
    equals the bytes, no object can have named a member twice, for the written form names each once.
    Every other refusal of the strict parser (floats, integer range, depth, lone surrogates) still holds."""
    from pydantic import ValidationError

    try:
        raw = loads_strict(data, max_bytes=MAX_MANIFEST_BYTES, unique_names=False)
        if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
            return None
        manifest = Manifest.model_validate(raw)
        if manifest_bytes(manifest) != data:
            return None
    except (StrictJSONError, ValidationError, ValueError):
        return None
    return _Read(raw, manifest)


# Findings after which the written form is not compared (the bytes are known not to be what was written).
_UNWRITABLE = (P.MANIFEST_MALFORMED, P.EVENT_SIGNATURE_MISSING)


def _report_written_form(report: VerificationReport, written: bytes, data: bytes, source: str) -> None:
    """The bytes are laid out as the tool writes, but are not what it writes for the model (a member out
    of the model's order, a default left out or written, a value spelt another way): where they differ."""
    at = next((i for i, (a, b) in enumerate(zip(written, data, strict=False)) if a != b),
              min(len(written), len(data)))
    report.add(
        P.MANIFEST_MALFORMED,
        f"{source}: not byte for byte what provenance writes for this content (member order, a "
        f"default or a value spelt another way; first difference at byte {at})",
        path=source,
        found="not-canonical",
        offset=at,
    )


# What stands for a missing signature in the copy the schema sees (a valid spelling, never verified).
_PLACEHOLDER_SIGNATURE = "A" * 86


def _with_placeholder_signatures(report: VerificationReport, raw: dict[str, Any]) -> dict[str, Any]:
    """What the schema checks: ``raw`` itself, or (when events carry no signature, each reported as
    ``event.signature-missing``) a copy in which a placeholder stands for each missing signature, so that
    the rest of the manifest is still checked. ``raw`` is what is digested: it is never changed."""
    events = raw.get("events")
    if not isinstance(events, list):
        return raw
    unsigned = [i for i, event in enumerate(events) if isinstance(event, dict) and not event.get("signature")]
    if not unsigned:
        return raw
    copied = list(events)
    for index in unsigned:
        report.add(P.EVENT_SIGNATURE_MISSING, f"event {index + 1} carries no signature", event=index + 1)
        copied[index] = {**events[index], "signature": _PLACEHOLDER_SIGNATURE}
    return {**raw, "events": copied}


def _raw_events(manifest: Manifest, raw_events: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The events as read; callers holding only a model get its JSON form."""
    if raw_events is not None:
        return raw_events
    return [event.model_dump(mode="json") for event in manifest.events]


def _canonical_events(manifest: Manifest, raw_events: list[dict[str, Any]] | None) -> list[bytes]:
    """The RFC 8785 bytes of each event as read, signature included, made once: step 2 digests them (what
    the next event chains to, :func:`provenance.manifest_io.event_digest`) and step 3 takes the signed bytes
    from them (:func:`_signed_bytes`)."""
    if raw_events is not None:
        return [canonical_bytes(raw, parsed=True) for raw in raw_events]
    return [canonical_bytes(event.model_dump(mode="json")) for event in manifest.events]


# The members of an event as the tool writes it (the signed fields and the signature), and the one spelling
# of a signature whose JSON string is the text itself between quotes (base64url needs no escape).
_EVENT_MEMBERS = frozenset((*SIGNED_EVENT_FIELDS, "signature"))
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _signed_bytes(raw: dict[str, Any], canonical: bytes, *, parsed: bool) -> bytes:
    """What RFC 8032 verifies for an event: the context + the RFC 8785 bytes of its signed fields as read.

    Taken from the event's own canonical bytes (``canonical``, step 2's) when the event has exactly the
    members the tool writes and a base64url signature: the signed fields' canonical bytes are then those
    bytes without the member ``,"signature":"…"``. RFC 8785 writes an object's members in the order of their
    names, one after another, so removing one member leaves the bytes of the object without it; "agent"
    always comes first, so the signature's member starts with a comma; and a member whose text occurs
    once in the bytes is the top-level one (a nested copy would make two). Otherwise, the signed fields are
    encoded on their own.
    """
    signature = raw.get("signature")
    if type(signature) is str and raw.keys() == _EVENT_MEMBERS and _BASE64URL.fullmatch(signature):
        member = b',"signature":"' + signature.encode("ascii") + b'"'
        if canonical.count(member) == 1:
            return EVENT_SIGNING_CONTEXT + canonical.replace(member, b"", 1)
    signed = {name: raw[name] for name in SIGNED_EVENT_FIELDS if name in raw}
    return event_signing_bytes(signed, parsed=parsed)


def check_chain(
    report: VerificationReport,
    manifest: Manifest,
    raw_events: list[dict[str, Any]] | None = None,
    canonical: list[bytes] | None = None,
) -> str | None:
    """Step 2: sequence, record id, hash links, time order, PREMIS types. Returns the digest of the last
    event (the record's head), None when it has none.

    ``canonical``: the events' RFC 8785 bytes when the caller made them (:func:`_canonical_events`)."""
    if canonical is None:
        canonical = _canonical_events(manifest, raw_events)
    previous: Event | None = None
    previous_time: datetime | None = None
    expected_previous: str | None = None
    for index, event in enumerate(manifest.events):
        if event.seq != index + 1:
            report.add(
                P.CHAIN_SEQUENCE,
                f"event at position {index + 1} has sequence number {event.seq}",
                event=index + 1,
                expected=index + 1,
                found=event.seq,
            )
        if event.record != manifest.record:
            report.add(
                P.CHAIN_RECORD_MISMATCH,
                f"event {event.seq} belongs to record {event.record!r}, not {manifest.record!r}",
                event=event.seq,
                expected=manifest.record,
                found=event.record,
            )
        if event.previous_digest != expected_previous:
            report.add(
                P.CHAIN_BROKEN,
                f"event {event.seq} does not chain to the event before it"
                + ("" if previous else " (the first event must have no previous digest)"),
                event=event.seq,
                expected=expected_previous,
                found=event.previous_digest,
            )
        if (event.type is EventType.REGISTRATION) != (index == 0):
            report.add(
                P.CHAIN_SEQUENCE,
                f"event {event.seq} is a {event.type.value}: a record's first event, and only it, is its "
                "registration",
                event=event.seq,
                found=event.type.value,
            )
        time = parse_utc(event.time)
        if previous is not None and previous_time is not None and time < previous_time:
            report.add(
                P.CHAIN_TIME_ORDER,
                f"event {event.seq} is dated {event.time}, before event {previous.seq} ({previous.time})",
                event=event.seq,
                found=event.time,
            )
        premis = PREMIS_EVENT_TYPES[event.type][0]
        if event.premis_type != premis:
            report.add(
                P.EVENT_PREMIS_MISMATCH,
                f"event {event.seq} ({event.type.value}) names PREMIS type {event.premis_type!r}, not {premis!r}",
                event=event.seq,
                expected=premis,
                found=event.premis_type,
            )
        previous, previous_time = event, time
        # the digest of the event as read, signature included: what the next event must chain to
        expected_previous = digest_bytes(canonical[index])
    return expected_previous


def check_not_future(report: VerificationReport, manifest: Manifest, now: datetime) -> None:
    """Step 2 (cont.): no event dated after the verifier's clock (beyond ``CLOCK_SKEW``).

    A signer whose clock runs ahead (or who sets it ahead on purpose) would otherwise freeze the record:
    every honest writer after it is refused until that date comes (TUF's fast-forward attack).
    """
    limit = now + CLOCK_SKEW
    for event in manifest.events:
        if parse_utc(event.time) > limit:
            report.add(
                P.CHAIN_TIME_ORDER,
                f"event {event.seq} is dated {event.time}, after the verifier's clock ({format_utc(now)})",
                event=event.seq,
                expected=f"at most {format_utc(limit)}",
                found=event.time,
            )


class _TrustedSigner:
    """What steps 3-4 need of one signer of the verifier's trust store, worked out once for every record
    checked with a context: its card, its key loaded for verification, its roles and proven rotations."""

    __slots__ = ("card", "chain", "check", "roles", "trust")

    def __init__(self, card: KeyCard, trust: TrustStore) -> None:
        from provenance import signing

        self.card = card
        self.trust = trust
        self.check = signing.verifier(card_public_key(card))
        self.roles = [r.value for r in card.roles]
        self.chain = trust.chain(card.id)  # rotations proven by the old keys' signatures (provenance.rotation)

    def summary(self) -> dict[str, Any]:
        """A new report entry for this signer (the report's own: its events are added to it)."""
        card = self.card
        summary: dict[str, Any] = {"key": card.id, "name": card.name, "trusted": True, "roles": list(self.roles),
                                   "events": []}
        if self.chain:
            summary["rotation"] = [step.as_json() for step in self.chain]
        return summary


class _SignerCache(dict[str, _TrustedSigner]):
    """Trusted signers by key id (:class:`_TrustedSigner`), for one context. An entry stands only for the
    very card object of the very trust store the context holds (another store, or a store whose cards were
    replaced, gets new entries); it is never pickled (a context sent to another process starts empty)."""

    def __reduce__(self) -> tuple[type[_SignerCache], tuple[()]]:
        return (_SignerCache, ())


def check_signatures(
    report: VerificationReport,
    manifest: Manifest,
    source: RecordSource,
    ctx: VerifyContext,
    raw_events: list[dict[str, Any]] | None = None,
    canonical: list[bytes] | None = None,
) -> None:
    """Steps 3 and 4: every signature, then every signer against the verifier's own trust store.

    ``canonical``: the events' RFC 8785 bytes when step 2 made them (:func:`_canonical_events`)."""
    import base64

    from provenance import signing

    raws = _raw_events(manifest, raw_events)
    if canonical is None:
        canonical = _canonical_events(manifest, raw_events)
    missing = {p.fields.get("event") for p in report.problems if p.code is P.EVENT_SIGNATURE_MISSING}
    signers: dict[str, dict[str, Any]] = {}
    checks: dict[str, Callable[[bytes, bytes], bool]] = {}  # cards that came with a bundle: once a record
    cache = ctx.signer_cache
    for event, raw, text in zip(manifest.events, raws, canonical, strict=True):
        trusted_card = ctx.trust.get(event.key)
        trusted: _TrustedSigner | None = None
        if trusted_card is not None:
            trusted = cache.get(event.key)
            if trusted is None or trusted.card is not trusted_card or trusted.trust is not ctx.trust:
                trusted = cache[event.key] = _TrustedSigner(trusted_card, ctx.trust)
        card = trusted_card or source.bundle_cards.get(event.key)
        summary = signers.get(event.key)
        if summary is None:
            if trusted is not None:
                summary = signers[event.key] = trusted.summary()
            else:
                summary = signers[event.key] = {
                    "key": event.key,
                    "name": card.name if card else event.agent,
                    "trusted": False,
                    "roles": [r.value for r in card.roles] if card else [],
                    "events": [],
                }
        summary["events"].append({"seq": event.seq, "type": event.type.value, "time": event.time})
        if event.seq in missing:
            continue
        if card is None:
            report.add(
                P.SIGNER_UNKNOWN,
                f"event {event.seq} ({event.type.value}) is signed by {event.agent} with key {event.key[:24]}…, "
                f"which is not in the trust store ({ctx.trust.location}); its signature cannot be checked "
                "until you import that key card",
                event=event.seq,
                key=event.key,
            )
            continue
        # RFC 8032 verification over the context + RFC 8785 bytes of the signed fields as they were read
        if trusted is not None:
            check = trusted.check
        else:
            check = checks.get(event.key) or checks.setdefault(event.key, signing.verifier(card_public_key(card)))
        # the schema admits only the one base64url spelling of 64 bytes (SIGNATURE_PATTERN)
        signature = base64.urlsafe_b64decode(event.signature + "==")
        if not check(_signed_bytes(raw, text, parsed=raw_events is not None), signature):
            report.add(
                P.EVENT_SIGNATURE_INVALID,
                f"event {event.seq} ({event.type.value}): the signature does not match the event's content "
                f"for key {event.key[:24]}…",
                event=event.seq,
                key=event.key,
            )
            continue
        if trusted_card is None:
            report.add(
                P.SIGNER_UNKNOWN,
                f"event {event.seq} is correctly signed by {card.name} ({event.key[:24]}…), but that key card "
                f"came only with the bundle and is not in your trust store ({ctx.trust.location}); "
                "import it with 'provenance keys import' if you trust it",
                event=event.seq,
                key=event.key,
            )
            continue
        _check_signer(report, event, trusted_card, ctx)
    report.signers = list(signers.values())


def _check_signer(report: VerificationReport, event: Event, card: KeyCard, ctx: VerifyContext) -> None:
    allowed = ctx.policy.get(event.type, frozenset())
    if event.role not in card.roles:
        report.add(
            P.SIGNER_ROLE_NOT_ALLOWED,
            f"event {event.seq} claims the role {event.role.value}, which key {card.name} does not hold "
            f"(its roles: {', '.join(r.value for r in card.roles)})",
            event=event.seq,
            key=event.key,
            expected=[r.value for r in card.roles],
            found=event.role.value,
        )
    elif event.role not in allowed:
        report.add(
            P.SIGNER_ROLE_NOT_ALLOWED,
            f"event {event.seq} ({event.type.value}) was signed as {event.role.value}; the policy lets only "
            f"{', '.join(sorted(r.value for r in allowed)) or 'no role'} sign it",
            event=event.seq,
            key=event.key,
            expected=sorted(r.value for r in allowed),
            found=event.role.value,
        )
    if event.agent != card.name:
        # The agent an event names is signed, but only the trust store says whose key it is: a trusted
        # translator key must not sign as "A. Archivist" (or a look-alike "A. Аrchivist") unnoticed.
        report.add(
            P.SIGNER_AGENT_MISMATCH,
            f"event {event.seq} names its agent {event.agent!r}, but key {event.key[:24]}… belongs to "
            f"{card.name!r} in your trust store",
            event=event.seq,
            key=event.key,
            expected=card.name,
            found=event.agent,
        )
    status = card.status_at(parse_utc(event.time))
    if status == "revoked":
        assert card.revoked is not None
        report.add(
            P.SIGNER_REVOKED,
            f"event {event.seq} was signed at {event.time} by {card.name}, whose key was revoked at "
            f"{card.revoked.time} ({card.revoked.reason})",
            event=event.seq,
            key=event.key,
        )
    elif status in ("expired", "not-yet-valid"):
        report.add(
            P.SIGNER_EXPIRED,
            f"event {event.seq} was signed at {event.time}, outside the validity of {card.name}'s key "
            f"({card.valid_from} to {card.valid_until or 'open'})",
            event=event.seq,
            key=event.key,
        )


def check_state(
    report: VerificationReport, manifest: Manifest, raw_state: dict[str, Any] | None = None
) -> str | None:
    """Step 5: the last event commits to the current state. Returns the state's digest when it does."""
    if not manifest.events:
        report.add(P.CHAIN_EMPTY, "the manifest has no events: nothing about this record is signed")
        return None
    found = state_digest(raw_state, parsed=True) if raw_state is not None else state_digest(manifest.state)
    last = manifest.events[-1]
    if last.state_digest != found:
        report.add(
            P.STATE_MISMATCH,
            f"the manifest's current state does not match what event {last.seq} signed",
            event=last.seq,
            expected=last.state_digest,
            found=found,
        )
        return None
    return found


def _walk_files(
    root: Path, report: VerificationReport, label: str, view: MemberView | None = None
) -> dict[str, str] | None:
    """Every regular file below ``root`` by relative POSIX path; links, devices and the like are reported.

    None (after reporting ``record.too-many-files``) past :data:`provenance.limits.FILES` entries. An
    archive's members (``view``) are regular files already read under the bundle's own entry limit."""
    if view is not None:
        return view.walk(root)
    found: dict[str, str] = {}
    top = os.fspath(root)
    try:
        mode = os.lstat(top).st_mode
    except OSError:  # nothing there (or nothing that can be looked at): no file
        return found
    if stat.S_ISLNK(mode):
        report.add(P.FILE_PATH_UNSAFE, f"{label} is a symbolic link; not followed", path=label)
        return found
    if not stat.S_ISDIR(mode):
        return found
    from provenance import limits

    bound = limits.FILES.value()
    with os.scandir(top) as listing:  # a flat folder (a record's objects/sha256, most files/): one listing
        entries = list(itertools.islice(listing, bound + 1))
    if len(entries) <= bound and not any(entry.is_dir(follow_symlinks=False) for entry in entries):
        for entry in entries:
            _walked(entry.name, entry, found, report, label)
        return found
    from provenance.tree_walk import TooManyEntriesError, walk

    try:
        for rel, entry in walk(top, bound):
            _walked(rel, entry, found, report, label)
    except TooManyEntriesError as exc:  # refused at the bound: the rest is never looked at
        report.add(P.RECORD_TOO_MANY_FILES, limits.FILES.message(label), path=label, limit=exc.bound)
        return None
    return found


def _walked(rel: str, entry: os.DirEntry[str], found: dict[str, str], report: VerificationReport, label: str) -> None:
    """One entry of a walk of :func:`_walk_files`: a regular file is kept, a link or a special file reported."""
    if entry.is_symlink():
        report.add(P.FILE_PATH_UNSAFE, f"{label}/{rel} is a symbolic link", path=rel)
    elif entry.is_file(follow_symlinks=False):
        found[rel] = entry.path
    elif not entry.is_dir(follow_symlinks=False):
        report.add(P.FILE_PATH_UNSAFE, f"{label}/{rel} is not a regular file", path=rel)


def _current_files(source: RecordSource, report: VerificationReport) -> dict[str, str] | None:
    """:func:`_walk_files` of ``files_root``, or the listing the bag's safe scan made of it (only regular
    files and folders: the scan refuses anything else), under the same bound."""
    if source.listing is None:
        return _walk_files(source.files_root, report, "files", source.view)
    from provenance import limits

    bound = limits.FILES.value()
    if source.listing_entries > bound:
        report.add(P.RECORD_TOO_MANY_FILES, limits.FILES.message("files"), path="files", limit=bound)
        return None
    return dict(source.listing)


def _digests(
    source: RecordSource,
    paths: list[str],
    sizes: list[int] | None,
    report: VerificationReport,
    jobs: int,
    prehashed: dict[str, FileDigests | OSError] | None = None,
) -> list[FileDigests | None]:
    """(size, {"sha256": hex}) of each path, or None after reporting that it cannot be read.

    ``prehashed``: digests this process already took of some of the paths (a :class:`Prefetch`).
    """
    known, known_sizes = source.known_digests, source.known_sizes
    out: list[FileDigests | OSError | None] = [None] * len(paths)
    todo: list[int] = []
    for index, path in enumerate(paths):
        digest = known.get(path)
        if digest is None:
            done = prehashed.get(path) if prehashed else None
            if done is None:
                todo.append(index)
            else:
                out[index] = done
                if not isinstance(done, OSError):
                    report.bytes_hashed += done[0]
            continue
        size = known_sizes.get(path)
        try:
            out[index] = (os.stat(path).st_size if size is None else size, {"sha256": digest})
        except OSError as exc:
            out[index] = exc
    if todo:
        todo_sizes = [sizes[i] for i in todo] if sizes is not None else None
        hashed = hash_files([paths[i] for i in todo], jobs=jobs, sizes=todo_sizes)
        for index, result in zip(todo, hashed, strict=True):
            out[index] = result
            if not isinstance(result, OSError):
                report.bytes_hashed += result[0]
    checked: list[FileDigests | None] = []
    for path, outcome in zip(paths, out, strict=True):
        if isinstance(outcome, OSError):
            report.add(P.FILE_MISSING, f"{path}: cannot read: {outcome.strerror}", path=path)
            checked.append(None)
        else:
            checked.append(outcome)
    return checked


def check_payload(
    report: VerificationReport,
    manifest: Manifest,
    source: RecordSource,
    jobs: int = 1,
    prefetch: Prefetch | None = None,
) -> None:
    """Step 6: the current files are exactly those the state lists, byte for byte."""
    present = _current_files(source, report)
    report.files = len(manifest.state.files)
    if present is None:  # refused at the limit: no file is judged
        return
    listed = []
    for entry in manifest.state.files:
        path = present.pop(entry.path, None)
        if path is None:
            report.add(P.FILE_MISSING, f"{entry.path} is listed in the manifest but missing", path=entry.path)
            continue
        listed.append((entry, path))
    prehashed = prefetch.results() if prefetch is not None else None
    results = _digests(source, [p for _, p in listed], [e.size for e, _ in listed], report, jobs, prehashed)
    for (entry, path), result in zip(listed, results, strict=True):
        if result is None:
            continue
        size, digests = result
        digest = digests["sha256"]
        if size == entry.size and digest == entry.sha256:
            continue
        code = P.FILE_SIZE_MISMATCH if size != entry.size else P.FILE_DIGEST_MISMATCH
        why = None
        if size < _EXPLAIN_LIMIT:
            from provenance.verify.explain import explain_mismatch

            try:
                if source.view is not None:
                    why = explain_mismatch(source.view.read(path, _EXPLAIN_LIMIT), entry.sha256)
                else:
                    with open(path, "rb") as handle:
                        why = explain_mismatch(handle.read(), entry.sha256)
            except OSError:
                why = None
        what = f"size {size} where {entry.size} was signed" if size != entry.size else "its SHA-256 differs"
        report.add(
            code,
            f"{entry.path} was altered: {what}" + (f"; {why}" if why else ""),
            path=entry.path,
            expected={"size": entry.size, "sha256": entry.sha256},
            found={"size": size, "sha256": digest},
            explanation=why,
        )
    for rel in sorted(present):
        report.add(P.FILE_UNEXPECTED, f"{rel} is not listed in the manifest", path=rel)


def _snapshot_files(data: bytes) -> list[tuple[str, str]]:
    """(path, sha256) of every file a state snapshot lists; raises ``ValueError`` when it lists none.

    The snapshot's bytes were just matched against a signed state digest, so they are what the signer
    wrote; step 7 reads only the file list from them.
    """
    raw = loads_strict(data, max_bytes=MAX_MANIFEST_BYTES)
    files = raw.get("files") if isinstance(raw, dict) else None
    if not isinstance(files, list):
        raise ValueError("not a state: no list of files")
    out = []
    for entry in files:
        path = entry.get("path") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not isinstance(digest, str) or not _HEX64.fullmatch(digest):
            raise ValueError("a file entry without a path or SHA-256")
        out.append((path, digest))
    return out


class _History:
    """Step 7 for one record: each stored object judged once, each state snapshot read once.

    ``intact`` holds the verdict on every object looked at (by its hex SHA-256), ``snapshots`` the file
    list of every state snapshot read (None: missing, altered or unreadable). Both are filled as the
    events are walked, so an object several versions share is hashed and reported once.
    """

    def __init__(self, report: VerificationReport, source: RecordSource, objects: dict[str, str]) -> None:
        self.report = report
        self.source = source
        self.objects = objects
        self.intact: dict[str, bool] = {}
        self.snapshots: dict[str, list[tuple[str, str]] | None] = {}
        # snapshots the surrounding bag hashed already: read for their content only
        self.known = source.known_digests

    def stored(self, hex_digest: str, what: str, event: int) -> str | None:
        """The object's path, or None after reporting that it is missing (when history is required)."""
        path = self.objects.get(hex_digest)
        if path is None:
            if self.source.history_required:
                self.report.add(
                    P.OBJECT_MISSING,
                    f"{what} (event {event}) is not stored",
                    event=event,
                    found=None,
                    expected=hex_digest,
                )
            self.intact[hex_digest] = False
        return path

    def judge(self, hex_digest: str, found: str | None, what: str, event: int) -> bool:
        """Record (and report, when it differs) what the stored object hashed to."""
        ok = found == hex_digest
        if found is not None and not ok:
            self.report.add(
                P.OBJECT_DIGEST_MISMATCH,
                f"the stored {what} (event {event}) was altered",
                path=f"objects/sha256/{hex_digest}",
                event=event,
                expected=hex_digest,
                found=found,
            )
        self.intact[hex_digest] = ok
        return ok

    def object_ok(self, hex_digest: str, what: str, event: int) -> bool:
        """The stored object is there and hashes to its name (hashed once per record)."""
        if hex_digest in self.intact:
            return self.intact[hex_digest]
        path = self.stored(hex_digest, what, event)
        if path is None:
            return False
        result = _digests(self.source, [path], None, self.report, 1)[0]
        return self.judge(hex_digest, None if result is None else result[1]["sha256"], what, event)

    def snapshot_files(
        self, event: Event, current_state: str | None, current_files: list[tuple[str, str]]
    ) -> list[tuple[str, str]] | None:
        """The file list of the state ``event`` signed, from its snapshot checked against its digest.

        ``current_state`` is the manifest's own state digest when step 5 matched it: that snapshot's file
        list is ``current_files``, and only its stored bytes are checked.
        """
        hex_digest = event.state_digest.split(":", 1)[1]
        if hex_digest in self.snapshots or self.intact.get(hex_digest) is False:
            return self.snapshots.get(hex_digest)
        what = f"state snapshot of version {event.seq}"
        files: list[tuple[str, str]] | None = None
        path = self.stored(hex_digest, what, event.seq)
        if path is None:
            pass
        elif current_state is not None and event.state_digest == current_state:
            # the manifest's own state: its bytes only are checked (read whole: a state is small)
            intact = self.object_ok(hex_digest, what, event.seq) if path in self.known else (
                self._intact_bytes(path, hex_digest, what, event.seq) is not None)
            files = current_files if intact else None
        else:  # an earlier state: hashed and parsed from one read
            data = self._intact_bytes(path, hex_digest, what, event.seq)
            files = None if data is None else self._files_of(data, event.seq)
        self.snapshots[hex_digest] = files
        return files

    def _intact_bytes(self, path: str, hex_digest: str, what: str, event: int) -> bytes | None:
        """The bytes of a stored state snapshot when they hash to its name, else None (reported)."""
        try:
            if self.source.view is not None:
                data = self.source.view.read(path, MAX_MANIFEST_BYTES)
            else:
                # the path as text (a Path costs its parsing); a link put there since the walk is not followed
                data = read_limited(path, MAX_MANIFEST_BYTES, follow=False)
        except OSError:  # too large to be a state, or unreadable: hash it as any object
            self.object_ok(hex_digest, what, event)
            return None
        found = self.known.get(path)
        if found is None:
            self.report.bytes_hashed += len(data)
            found = hashlib.sha256(data).hexdigest()
        return data if self.judge(hex_digest, found, what, event) else None

    def _files_of(self, data: bytes, event: int) -> list[tuple[str, str]] | None:
        """The file list of an intact snapshot, or None after reporting that it cannot be read."""
        try:
            return _snapshot_files(data)
        except ValueError as exc:
            self.report.add(
                P.STATE_SNAPSHOT_MISMATCH,
                f"the state snapshot of version {event} cannot be read: {exc}",
                event=event,
            )
            return None

    def report_unreferenced(self) -> None:
        """Every stored object that no version of the record refers to."""
        for hex_digest in sorted(set(self.objects) - set(self.intact)):
            self.report.add(
                P.FILE_UNEXPECTED,
                f"objects/sha256/{hex_digest} is not part of the record's history",
                path=f"objects/sha256/{hex_digest}",
            )


def check_history(
    report: VerificationReport,
    manifest: Manifest,
    source: RecordSource,
    current_state: str | None = None,
    jobs: int = 1,
) -> None:
    """Step 7: every state snapshot and every earlier file version, against its digest.

    ``current_state`` is the digest step 5 found for the manifest's state, when it matched the last
    event: that snapshot's file list is then the manifest's own and is not parsed again.
    """
    del jobs  # objects are hashed one at a time, in this process (they are few and mostly small)
    objects = _walk_files(source.objects_root, report, "objects", source.view) if source.objects_root else {}
    if objects is None:  # refused at the limit: no version is judged
        return
    if not objects and not source.history_required:
        return
    history = _History(report, source, objects)
    current_files = [(f.path, f.sha256) for f in manifest.state.files]
    current = {digest for _, digest in current_files}
    for event in manifest.events:
        for path, digest in history.snapshot_files(event, current_state, current_files) or ():
            if digest in current and digest not in objects:
                continue  # the current file, checked in step 6 (a revision back to it may also store it)
            history.object_ok(digest, f"version of {path}", event.seq)
    history.report_unreferenced()


_MARKS: list[tuple[str, frozenset[P]]] = [
    (
        "event chain is unbroken and in order",
        frozenset({P.CHAIN_BROKEN, P.CHAIN_SEQUENCE, P.CHAIN_TIME_ORDER, P.CHAIN_RECORD_MISMATCH,
                   P.EVENT_PREMIS_MISMATCH, P.CHAIN_EMPTY}),
    ),
    ("every event is signed and every signature holds",
     frozenset({P.EVENT_SIGNATURE_INVALID, P.EVENT_SIGNATURE_MISSING})),
    (
        "every signer is trusted for its role",
        frozenset({P.SIGNER_UNKNOWN, P.SIGNER_ROLE_NOT_ALLOWED, P.SIGNER_REVOKED, P.SIGNER_EXPIRED,
                   P.SIGNER_AGENT_MISMATCH}),
    ),
    ("current state is the one last signed", frozenset({P.STATE_MISMATCH})),
    (
        "every file is present and intact",
        frozenset({P.FILE_MISSING, P.FILE_DIGEST_MISMATCH, P.FILE_SIZE_MISMATCH, P.FILE_UNEXPECTED,
                   P.FILE_PATH_UNSAFE, P.RECORD_TOO_MANY_FILES}),
    ),
    (
        "every earlier version is intact",
        frozenset({P.OBJECT_MISSING, P.OBJECT_DIGEST_MISMATCH, P.STATE_SNAPSHOT_MISMATCH}),
    ),
]


def verify_source(source: RecordSource, ctx: VerifyContext, report: VerificationReport) -> Manifest | None:
    """Run every step on ``source``, adding to ``report``; returns the manifest when it could be read."""
    read = _read_manifest(report, source.manifest_path, source.view)
    if read is None:
        report.check("manifest is well-formed", False)
        return None
    manifest = read.manifest
    report.record = manifest.record
    report.title = manifest.state.catalogue.title
    report.telegram_number = manifest.state.catalogue.telegram_number
    report.events = len(manifest.events)
    count = len(manifest.events)
    report.check("manifest is well-formed", True, f"{count} event" if count == 1 else f"{count} events")
    if source.expected_record is not None and manifest.record != source.expected_record:
        report.add(
            P.MANIFEST_RECORD_MISMATCH,
            f"the manifest describes record {manifest.record!r} but lies in {source.expected_record!r}",
            expected=source.expected_record,
            found=manifest.record,
        )
    raw_events = read.raw_events()
    canonical = _canonical_events(manifest, raw_events)
    report.head = check_chain(report, manifest, raw_events, canonical)
    check_not_future(report, manifest, ctx.now)
    check_signatures(report, manifest, source, ctx, raw_events, canonical)
    current_state = check_state(report, manifest, read.raw["state"])
    from provenance import limits

    if len(manifest.state.files) > limits.FILES.value():  # refused whole: no file is looked at
        report.add(P.RECORD_TOO_MANY_FILES, limits.FILES.message("the manifest"), limit=limits.FILES.value())
    else:
        check_payload(report, manifest, source, ctx.jobs, ctx.prefetch)
        check_history(report, manifest, source, current_state, ctx.jobs)
    for name, codes in _MARKS:
        count = sum(1 for p in report.problems if p.code in codes)
        report.check(name, count == 0, f"{count} problem(s)" if count else "")
    return manifest


def name_trust(report: VerificationReport, ctx: VerifyContext) -> None:
    """Name in ``report`` the trust store and the roles policy its verdict rests on."""
    report.trust_store = {"path": ctx.trust.location or None, "source": ctx.trust_origin,
                          "cards": len(ctx.trust.cards)}
    report.policy = {"path": ctx.policy_path, "source": ctx.policy_origin}
    if ctx.trust_origin == "archive":  # the trust store is part of the archive verified: its links are too
        for link in ctx.trust.links:
            report.add(P.FILE_PATH_UNSAFE, f"{link}: a symbolic link in the archive's keys/; not followed",
                       path=link)


def _listing(path: Path) -> dict[str, bool] | None:
    """Each entry of a folder by name, True for a symbolic link; None when it cannot be listed (it is not a
    folder, or not one that can be read: the caller then asks as it would without the listing)."""
    try:
        with os.scandir(path) as entries:
            return {entry.name: entry.is_symlink() for entry in entries}
    except OSError:
        return None


def verify_record_folder(path: Path, ctx: VerifyContext) -> VerificationReport:
    """Verify a record folder of an archive (``records/<id>``): full history required."""
    report = VerificationReport(path=str(path), kind="record")
    name_trust(report, ctx)
    if path.is_symlink():
        report.add(P.FILE_PATH_UNSAFE, f"{path}: the record folder is a symbolic link; not followed",
                   path=str(path))
        return report
    names = _listing(path)  # the folder's entries, listed once: links, the folder itself, what else lies there
    if names is None:
        linked = [rel for rel in ("files", "objects") if (path / rel).is_symlink()]
    else:
        linked = [rel for rel in ("files", "objects") if names.get(rel)]
    for rel in linked:
        report.add(P.FILE_PATH_UNSAFE, f"{rel} is a symbolic link; not followed", path=rel)
    if names is None and not path.is_dir():
        report.add(P.PATH_NOT_FOUND, f"{path}: no such folder", path=str(path))
        return report
    manifest_path = path / "manifest.json"
    nowhere = manifest_path / "not-followed"  # what a linked folder is read as: nothing (ENOTDIR)
    source = RecordSource(
        label=str(path),
        manifest_path=manifest_path,
        files_root=nowhere if "files" in linked else path / "files",
        objects_root=nowhere if "objects" in linked else path / "objects/sha256",
        history_required=True,
        expected_record=path.name,
    )
    report.warnings.extend(f"trust store card {file} refused: {reason}" for file, reason in ctx.trust.rejected)
    manifest = verify_source(source, ctx, report)
    if manifest is not None:  # a file that differs: compared with its earlier versions in objects/
        from provenance.verify.explain import explain_report

        explain_report(report, manifest, source.files_root, [source.objects_root or nowhere])
    listed = names if names is not None else os.listdir(path)
    extra = sorted(name for name in listed if name not in ("manifest.json", "files", "objects"))
    for name in extra:
        report.add(P.FILE_UNEXPECTED, f"{name} does not belong in a record folder", path=name)
    return report
