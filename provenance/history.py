"""Appending signed events to a record, the roles policy, and reading earlier versions.

Every change to a record goes through :func:`append_event`: under the record's lock it reads the current
manifest, lets the caller change a staged copy, stores the new state snapshot as an object, signs the
event (RFC 8032 Ed25519 over RFC 8785 canonical bytes with a context prefix), and swaps the staged copy
into place in one atomic step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from provenance import catalogue_index, limits
from provenance.archive import MANIFEST_NAME, OBJECTS_DIR, Archive, StagedRecord, object_path
from provenance.archive_log import event_leaves, logged_commit
from provenance.errors import ErrorCode, InputError, NotFoundError, PolicyError, UsageError
from provenance.manifest_io import (
    event_digest,
    event_signing_bytes,
    read_manifest,
    state_canonical,
    state_digest,
    writable_manifest_bytes,
)
from provenance.model.events import PREMIS_EVENT_TYPES, EventType, Role
from provenance.model.keycard import KeyCard
from provenance.model.locations import field_name
from provenance.model.manifest import Event, Manifest, State
from provenance.model.timefmt import format_utc, parse_utc, utc_now
from provenance.snapshots import SnapshotError, read_snapshot

if TYPE_CHECKING:
    from provenance.signing import SigningKey


@dataclass(frozen=True)
class Signer:
    """A key card with its unlocked private key, and the role it signs in.

    A role given as text is parsed when the signer is made: ``UsageError(role.unknown)`` if it is no role.
    """

    card: KeyCard
    key: SigningKey
    role: Role
    log_key: SigningKey | None = None  # the archive's log key, unlocked, when the archive is logged

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):
            from provenance.model.choices import parse_role

            object.__setattr__(self, "role", parse_role(self.role))


def choose_role(
    card: KeyCard, event_type: EventType, policy: dict[EventType, frozenset[Role]], wanted: Role | None = None
) -> Role:
    """The role ``card`` signs ``event_type`` in; refuses before anything is signed.

    Raises ``PolicyError(role.not-allowed)`` naming the roles that may sign it, ``UsageError(role.unknown)``
    when ``wanted`` is not a :class:`Role`.
    """
    if wanted is not None:
        from provenance.model.choices import parse_role

        wanted = parse_role(wanted)
    allowed = policy.get(event_type, frozenset())
    candidates = [wanted] if wanted is not None else list(card.roles)
    if wanted is not None and wanted not in card.roles:
        raise PolicyError(
            ErrorCode.ROLE_NOT_ALLOWED,
            f"key {card.name} ({card.id[8:20]}) does not hold the role {wanted.value} "
            f"(its roles: {', '.join(r.value for r in card.roles)})",
        )
    for role in candidates:
        if role in allowed:
            return role
    may = ", ".join(sorted(r.value for r in allowed)) or "no role"
    raise PolicyError(
        ErrorCode.ROLE_NOT_ALLOWED,
        f"key {card.name} ({', '.join(r.value for r in card.roles)}) may not sign a {event_type.value} event; "
        f"this archive lets {may} sign it",
    )


def check_key_usable(card: KeyCard, now: datetime) -> None:
    """Refuse to sign with a revoked, expired or not-yet-valid key (``PolicyError``)."""
    status = card.status_at(now)
    if status == "revoked":
        assert card.revoked is not None
        raise PolicyError(
            ErrorCode.KEY_REVOKED,
            f"key {card.name} ({card.id[8:20]}) was revoked at {card.revoked.time}: {card.revoked.reason}",
        )
    if status != "valid":
        window = f"{card.valid_from} to {card.valid_until or 'open'}"
        raise PolicyError(ErrorCode.KEY_EXPIRED, f"key {card.name} is {status} now (valid {window})")


def recheck_signer(archive: Archive, signer: Signer, event_type: EventType, *, now: datetime) -> None:
    """Under the record lock, immediately before committing: is the signer's key still fit to sign?

    The card is read again from the archive's ``keys/``: a key revoked, expired or stripped of its role (or
    whose card was removed) while the command waited for its passphrase must not sign. Raises
    ``PolicyError`` (key.revoked, key.expired, role.not-allowed) or ``NotFoundError(key.not-found)``.
    """
    from provenance.keys import TrustStore

    card = TrustStore.load(archive.keys_dir).get(signer.card.id)
    if card is None:
        raise NotFoundError(
            ErrorCode.KEY_NOT_FOUND,
            f"the card of key {signer.card.name} ({signer.card.id[8:20]}) is no longer in {archive.keys_dir} "
            "(removed or refused while this command waited); nothing was signed",
            key=signer.card.id,
        )
    check_key_usable(card, now)
    # A revocation already in effect on this machine's clock refuses too, even when the event is dated
    # earlier (``now`` was read when the command started, before it waited for its passphrase).
    if card.revoked is not None and parse_utc(card.revoked.time) <= max(now, utc_now()):
        raise PolicyError(
            ErrorCode.KEY_REVOKED,
            f"key {card.name} ({card.id[8:20]}) was revoked at {card.revoked.time} while this command waited: "
            f"{card.revoked.reason}; nothing was signed",
        )
    choose_role(card, event_type, archive.config().policy, signer.role)


Mutation = Callable[[StagedRecord, Manifest], tuple[State, str, dict[str, Any]]]


def sign_event(
    *,
    record: str,
    seq: int,
    event_type: EventType,
    signer: Signer,
    now: datetime,
    summary: str,
    details: dict[str, Any],
    new_state_digest: str,
    previous_digest: str | None,
) -> Event:
    """Build and sign one event."""
    from provenance.keys import b64url

    fields: dict[str, Any] = {
        "seq": seq,
        "record": record,
        "type": event_type.value,
        "premis_type": PREMIS_EVENT_TYPES[event_type][0],
        "time": format_utc(now),
        "agent": signer.card.name,
        "role": signer.role.value,
        "key": signer.card.id,
        "summary": summary,
        "details": details,
        "state_digest": new_state_digest,
        "previous_digest": previous_digest,
    }
    signature = signer.key.sign(event_signing_bytes(fields))
    return Event.model_validate({**fields, "signature": b64url(signature)})


def revalidated(state: State) -> State:
    """``state`` checked against the model's bounds again (``model_copy`` does not validate).

    Without this a 5,000-character custodian would be signed and written, and the record could then no
    longer be read. Raises ``UsageError(usage.invalid)`` naming the field.
    """
    try:
        return State.model_validate(state.as_json())
    except ValidationError as exc:
        first = exc.errors()[0]
        where = field_name(first["loc"], "(state)")
        raise UsageError(ErrorCode.USAGE, f"{where}: {first['msg']}; nothing was written", field=where) from None


def check_before_append(archive: Archive, manifest: Manifest, *, now: datetime) -> None:
    """Refuse to sign on top of a history that does not hold together (C2PA-style laundering).

    A new event's ``previous_digest`` commits to every event before it: signing on top of an altered or
    re-ordered chain, or of a current state the last event did not sign, would lend an honest signature to
    it. The chain links, record ids, sequence numbers, every signature whose key card this archive holds,
    and the current state are checked (what ``verify`` steps 2, 3 and 5 check); trust questions (unknown,
    revoked or expired signers) are left to ``verify``. Raises ``InputError(record.corrupt)``.
    """
    from provenance.keys import TrustStore
    from provenance.model.problems import TrustState, VerificationReport
    from provenance.verify.record import (
        RecordSource,
        VerifyContext,
        check_chain,
        check_signatures,
        check_state,
    )

    record_dir = archive.record_dir(manifest.record)
    report = VerificationReport(path=str(record_dir))
    check_chain(report, manifest)
    ctx = VerifyContext(trust=TrustStore.load(archive.keys_dir), policy=archive.config().policy, now=now)
    source = RecordSource(
        label=str(record_dir),
        manifest_path=record_dir / MANIFEST_NAME,
        files_root=record_dir / "files",
        objects_root=None,
        history_required=False,
    )
    check_signatures(report, manifest, source, ctx)
    check_state(report, manifest)
    broken = [p for p in report.problems if p.state is TrustState.INVALID]
    if broken:
        raise InputError(
            ErrorCode.RECORD_CORRUPT,
            f"{manifest.record} does not hold together ({broken[0].code}: {broken[0].message}"
            + (f"; {len(broken) - 1} more problem(s)" if len(broken) > 1 else "")
            + "); refusing to sign on top of it",
            record=manifest.record,
        )


def append_event(
    archive: Archive,
    record_id: str,
    event_type: EventType,
    signer: Signer,
    mutate: Mutation,
    *,
    now: datetime,
) -> Manifest:
    """Apply ``mutate`` to a staged copy of the record and append one signed event, atomically.

    ``mutate(stage, manifest)`` returns (new state, summary, details) and may write files into the stage;
    it raises to abandon the change. Raises ``NotFoundError``, ``PolicyError``, ``StorageError`` or what
    ``mutate`` raises; on any failure the record is left exactly as it was.
    """
    archive.require_record(record_id)
    with archive.locked(record_id):
        record_dir = archive.require_record(record_id)
        manifest = read_manifest(record_dir)
        if manifest.events and parse_utc(manifest.events[-1].time) > now:
            raise UsageError(
                ErrorCode.USAGE,
                f"the last event of {record_id} is dated {manifest.events[-1].time}, after this machine's clock "
                f"({format_utc(now)}); check the clock",
            )
        check_before_append(archive, manifest, now=now)
        catalogue_index.before_commit(archive, record_id)  # i11: the search index (derived, best effort)
        stage = StagedRecord(archive, record_id, new=False)
        with stage.discarded_on_failure():
            state, summary, details = mutate(stage, manifest)
            state = revalidated(state)
            if len(state.files) > limits.FILES.value():  # a record its own verifier would refuse
                raise limits.FILES.error(f"record {record_id}")
            snapshot = state_canonical(state)
            digest = state_digest(state)
            stage.put_object(digest.split(":", 1)[1], snapshot)
            event = sign_event(
                record=record_id,
                seq=len(manifest.events) + 1,
                event_type=event_type,
                signer=signer,
                now=now,
                summary=summary,
                details=details,
                new_state_digest=digest,
                previous_digest=event_digest(manifest.events[-1]) if manifest.events else None,
            )
            updated = Manifest(record=record_id, state=state, events=[*manifest.events, event])
            stage.write(MANIFEST_NAME, writable_manifest_bytes(updated))
            recheck_signer(archive, signer, event_type, now=now)  # the key's status as of this moment
            with logged_commit(archive, signer.log_key, event_leaves(updated, event.seq)):
                stage.commit()
        catalogue_index.after_commit(archive, record_id)  # i11: the search index (derived, best effort)
    return updated


def state_at(archive: Archive, record_id: str, version: int) -> tuple[Manifest, State, Event]:
    """The record's state as it was after event ``version`` (1-based), read from its snapshot object.

    Raises ``NotFoundError(version.not-found)``; ``InputError(record.corrupt)`` when the snapshot is missing.
    """
    record_dir = archive.require_record(record_id)
    manifest = read_manifest(record_dir)
    if not 1 <= version <= len(manifest.events):
        raise NotFoundError(
            ErrorCode.VERSION_NOT_FOUND,
            f"{record_id} has versions 1 to {len(manifest.events)}; there is no version {version}",
        )
    event = manifest.events[version - 1]
    try:
        state = read_snapshot(record_dir / OBJECTS_DIR, event).state
    except SnapshotError as exc:
        raise InputError(
            ErrorCode.RECORD_CORRUPT,
            f"the snapshot of version {version} of {record_id} is missing or damaged ({exc.path}); run verify",
        ) from exc
    return manifest, state, event


def file_bytes_at(archive: Archive, record_id: str, sha256_hex: str, path: str) -> bytes:
    """The bytes of a file version: the current file when it matches, else its stored object.

    Raises ``InputError(record.corrupt)`` when the version is not stored or its bytes do not match.
    """
    record_dir = archive.require_record(record_id)
    current = record_dir / "files" / path
    if current.is_file():
        data = current.read_bytes()
        if hashlib.sha256(data).hexdigest() == sha256_hex:
            return data
    stored = object_path(record_dir, sha256_hex)
    try:
        data = stored.read_bytes()
    except OSError as exc:
        raise InputError(
            ErrorCode.RECORD_CORRUPT,
            f"version {sha256_hex[:12]} of {path} is not stored ({stored}); run verify",
        ) from exc
    if hashlib.sha256(data).hexdigest() != sha256_hex:
        raise InputError(
            ErrorCode.RECORD_CORRUPT,
            f"the stored version {sha256_hex[:12]} of {path} was altered ({stored}); run verify",
        )
    return data
