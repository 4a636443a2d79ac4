"""Verifying a bundle's transparency-log evidence, and remembering what was seen (``verify --state``).

With a ``log`` key in the verifier's trust store, every event of a bundle must be included in a
checkpoint that key signed:

1. ``provenance/log/checkpoint`` is a signed note verified with the trusted, unrevoked log keys'
   ``note_verifier_key``; its origin is the key's name (``log.checkpoint-invalid`` otherwise);
2. each event's ``provenance/log/<seq>.tlog-proof`` carries that checkpoint verbatim and an audit path
   from the event's leaf to its root (``log.proof-missing``, ``log.inclusion-invalid``);
3. ``--witnesses K`` (default: ``witnesses`` in the trust store's ``log-policy.toml``): K trusted witness
   keys cosigned the checkpoint (``log.witness-quorum``, fail closed);
4. ``--state DIR``: per origin the newest checkpoint verified, per record the newest head seen. A
   checkpoint not proven consistent with the remembered one (proof from ``--consistency FILE`` or from
   tiles shipped by ``export --log-tiles``) is ``log.fork``; a record older than already seen is
   ``log.rollback``; a record whose remembered head is not in its chain is ``log.fork``. The state is
   updated only from a bundle without any invalid problem, under a lock, written atomically.

Without a log key in the trust store, nothing is required and the report says "not logged".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provenance import fsio
from provenance.manifest_io import event_digest
from provenance.model.events import Role
from provenance.model.manifest import Manifest
from provenance.model.problems import ProblemCode as P
from provenance.model.problems import TrustState, VerificationReport
from provenance.tlog import merkle, note
from provenance.tlog.checkpoint import Checkpoint, leaf_data, parse_body, parse_hash_lines, parse_proof
from provenance.tlog.tiles import TileLog
from provenance.verify.record import LogOptions, VerifyContext

LOG_TAG = "provenance/log"
CHECK = "every event is in a checkpoint signed by a trusted log key"
MAX_LOG_FILE = 1 << 20
POLICY_FILE = "log-policy.toml"


@dataclass
class _Seen:
    checkpoint: Checkpoint
    text: str


class _TagRef:
    """A tag file of a bundle read through the bundle's own reader (an archive's members are not files)."""

    def __init__(self, rel: str, read: Callable[[str, int], bytes]) -> None:
        self.rel = rel
        self._read = read

    def load(self) -> bytes:
        return self._read(self.rel, MAX_LOG_FILE)


def _read(path: Path | _TagRef) -> bytes:
    if isinstance(path, _TagRef):
        return path.load()
    return fsio.read_limited(path, MAX_LOG_FILE)


def _verifiers(ctx: VerifyContext, role: Role, *, revoked: bool = False) -> list[note.Verifier]:
    """The signed-note verifier keys of the trust store's (unrevoked) cards with ``role``."""
    wanted = note.TYPE_ED25519 if role is Role.LOG else note.TYPE_COSIGNATURE
    out = []
    for card in ctx.trust.cards.values():
        if role in card.roles and card.note_verifier_key and (revoked or card.revoked is None):
            try:
                verifier = note.parse_verifier_key(card.note_verifier_key)
            except note.NoteError:
                continue
            if verifier.key_type == wanted:
                out.append(verifier)
    return out


def _has_log_key(ctx: VerifyContext) -> bool:
    """A log key in the trust store (revoked or not: a revoked one still requires proofs, which fail)."""
    return bool(_verifiers(ctx, Role.LOG, revoked=True))


def quorum(ctx: VerifyContext) -> int:
    """``--witnesses``, else ``witnesses = K`` in the trust store's ``log-policy.toml``, else 0."""
    options = ctx.log or LogOptions()
    if options.witnesses is not None:
        return options.witnesses
    if not ctx.trust.location:
        return 0
    path = Path(ctx.trust.location) / POLICY_FILE
    if not path.is_file():
        return 0
    import tomllib

    try:
        value = tomllib.loads(_read(path).decode("utf-8")).get("witnesses", 0)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return 1 << 30  # an unreadable policy fails closed
    return value if isinstance(value, int) and value >= 0 else 1 << 30


def check_bundle_log(
    report: VerificationReport,
    manifest: Manifest,
    tag_files: dict[str, Any],
    ctx: VerifyContext,
    read: Callable[[str, int], bytes] | None = None,
) -> None:
    """Steps 1-4 above, adding problems and one check line to ``report``. ``read(rel, limit)`` reads a tag
    file where ``tag_files`` does not name real files (a bundle archive's members)."""
    if read is not None:
        tag_files = {rel: _TagRef(rel, read) for rel in tag_files}
    logged = f"{LOG_TAG}/checkpoint" in tag_files
    if not _has_log_key(ctx):
        report.log = "logged (no log key in the trust store)" if logged else "not logged"
        if ctx.log is not None and (ctx.log.state_dir or ctx.log.witnesses):
            report.warnings.append("no log key in the trust store: --state and --witnesses were not applied")
        return
    report.log = "logged" if logged else "not logged"
    before = len(report.problems)
    seen = _check_checkpoint(report, manifest, tag_files, ctx)
    if seen is not None:
        indices = _check_inclusion(report, manifest, tag_files, seen)
        _check_witnesses(report, seen, ctx)
        _check_intervals(report, manifest, tag_files, seen, ctx, indices)
        if ctx.log is not None and ctx.log.state_dir is not None:
            _check_state(report, manifest, tag_files, seen, ctx.log)
    count = len(report.problems) - before
    report.check(CHECK, count == 0, f"{count} problem(s)" if count else "")


def _check_checkpoint(
    report: VerificationReport, manifest: Manifest, tag_files: dict[str, Any], ctx: VerifyContext
) -> _Seen | None:
    path = tag_files.get(f"{LOG_TAG}/checkpoint")
    if path is None:
        report.add(
            P.LOG_PROOF_MISSING,
            f"the trust store holds a log key, but the bundle carries no checkpoint: none of the "
            f"{len(manifest.events)} event(s) is shown to be logged",
        )
        return None
    try:
        text = _read(path).decode("utf-8")
        signed = note.parse(text)
        body = parse_body(signed.text)
        good = note.verify(signed, _verifiers(ctx, Role.LOG))
    except (OSError, UnicodeDecodeError, note.NoteError) as exc:
        report.add(P.LOG_CHECKPOINT_INVALID, f"{LOG_TAG}/checkpoint: not signed by a trusted log key: {exc}")
        return None
    if all(v.name != body.origin for v in good):
        report.add(
            P.LOG_CHECKPOINT_INVALID,
            f"{LOG_TAG}/checkpoint: origin {body.origin[:80]!r} is not the name of the log key that signed it",
        )
        return None
    return _Seen(body, text)


def _check_inclusion(
    report: VerificationReport, manifest: Manifest, tag_files: dict[str, Any], seen: _Seen
) -> dict[int, int]:
    """Checks each event's proof; returns seq → leaf index for the events proven included."""
    indices: dict[int, int] = {}
    for event in manifest.events:
        rel = f"{LOG_TAG}/{event.seq}.tlog-proof"
        path = tag_files.get(rel)
        if path is None:
            report.add(P.LOG_PROOF_MISSING, f"event {event.seq} has no inclusion proof ({rel})", seq=event.seq)
            continue
        try:
            proof = parse_proof(_read(path))
        except (OSError, note.NoteError) as exc:
            report.add(P.LOG_INCLUSION_INVALID, f"{rel}: {exc}", seq=event.seq)
            continue
        if proof.checkpoint != seen.text:
            report.add(P.LOG_INCLUSION_INVALID, f"{rel}: proves against another checkpoint", seq=event.seq)
            continue
        leaf = merkle.leaf_hash(leaf_data(manifest.record, event.seq, event_digest(event)))
        cp = seen.checkpoint
        if not merkle.verify_inclusion(leaf, proof.index, cp.size, proof.path, cp.root):
            report.add(
                P.LOG_INCLUSION_INVALID,
                f"{rel}: event {event.seq} is not leaf {proof.index} of {cp.origin} at size {cp.size}",
                seq=event.seq,
            )
            continue
        indices[event.seq] = proof.index
    return indices


def _check_witnesses(report: VerificationReport, seen: _Seen, ctx: VerifyContext) -> None:
    wanted = quorum(ctx)
    if wanted <= 0:
        return
    witnesses = {(v.name, v.hash): v for v in _verifiers(ctx, Role.WITNESS)}
    good = {(sig.name, sig.hash) for sig in _witness_cosignatures(seen.text, witnesses)}
    if len(good) < wanted:
        report.add(
            P.LOG_WITNESS_QUORUM,
            f"the checkpoint carries {len(good)} valid cosignature(s) by trusted witnesses; {wanted} required",
            expected=wanted,
            found=len(good),
        )


# -- when was each event logged? ---------------------------------------------------------------------

TIME_SLACK_SECONDS = 300  # clocks of archive and witnesses may differ by this much


def _witness_cosignatures(
    text: str, witnesses: dict[tuple[str, bytes], note.Verifier]
) -> list[note.Signature]:
    """The valid cosignatures by trusted witnesses on a checkpoint note (each checked alone)."""
    signed = note.parse(text)
    valid = []
    for sig in signed.signatures:
        verifier = witnesses.get((sig.name, sig.hash))
        if verifier is None:
            continue
        try:
            note.verify(note.Note(signed.text, (sig,)), [verifier])
        except note.NoteError:
            continue
        valid.append(sig)
    return valid


def _witness_times(text: str, witnesses: dict[tuple[str, bytes], note.Verifier]) -> list[int]:
    """The times of the valid cosignatures by trusted witnesses on a checkpoint note."""
    times = (note.cosignature_time(sig) for sig in _witness_cosignatures(text, witnesses))
    return [when for when in times if when is not None]


def _earlier(
    report: VerificationReport, tag_files: dict[str, Any], seen: _Seen, ctx: VerifyContext, folder: str
) -> list[tuple[str, str, Checkpoint]]:
    """(tag file, note, body) of each earlier checkpoint shipped under ``provenance/log/<folder>/`` that the
    log signed and that is proven to be a prefix of the bundle's checkpoint."""
    logs = _verifiers(ctx, Role.LOG)
    cp = seen.checkpoint
    out = []
    prefix = f"{LOG_TAG}/{folder}/"
    for rel in sorted(tag_files):
        if not rel.startswith(prefix) or rel.endswith((".proof", ".tsr")):
            continue
        try:
            text = _read(tag_files[rel]).decode("utf-8")
            signed = note.parse(text)
            body = parse_body(signed.text)
            note.verify(signed, logs)
            proof = parse_hash_lines(_read(tag_files[rel + ".proof"])) if rel + ".proof" in tag_files else []
        except (OSError, UnicodeDecodeError, note.NoteError) as exc:
            report.add(P.LOG_CHECKPOINT_INVALID, f"{rel}: {exc}")
            continue
        same = body.size == cp.size and body.root == cp.root
        if body.origin != cp.origin or not (
            same or merkle.verify_consistency(body.size, cp.size, body.root, cp.root, proof)
        ):
            report.add(P.LOG_CHECKPOINT_INVALID, f"{rel}: not proven to be an earlier state of the checkpoint")
            continue
        out.append((rel, text, body))
    return out


def _cosigned(
    report: VerificationReport, tag_files: dict[str, Any], seen: _Seen, ctx: VerifyContext
) -> list[tuple[int, list[int]]]:
    """(size, witness times) of every cosigned checkpoint shipped that the log signed and that is proven
    to be a prefix of the bundle's checkpoint; the bundle's own checkpoint included."""
    witnesses = {(v.name, v.hash): v for v in _verifiers(ctx, Role.WITNESS)}
    out: list[tuple[int, list[int]]] = []
    times = _witness_times(seen.text, witnesses)
    if times:
        out.append((seen.checkpoint.size, times))
    for _rel, text, body in _earlier(report, tag_files, seen, ctx, "cosigned"):
        times = _witness_times(text, witnesses)
        if times:
            out.append((body.size, times))
    return out


def _timestamped(
    report: VerificationReport, tag_files: dict[str, Any], seen: _Seen, ctx: VerifyContext
) -> list[tuple[int, int]]:
    """(size, genTime) of every RFC 3161 token shipped for an earlier checkpoint, verified against the TSA
    certificates (``*.pem``) of the trust store; tokens are ignored where it holds none."""
    shipped = _earlier(report, tag_files, seen, ctx, "timestamps")
    if not shipped or not ctx.trust.location:
        return []
    from provenance import timestamp

    pems = timestamp.load_certificates(Path(ctx.trust.location))
    if not pems:
        report.warnings.append("RFC 3161 timestamps in the bundle: no TSA certificate (*.pem) in the trust store")
        return []
    out = []
    for rel, _text, body in shipped:
        token = tag_files.get(rel + ".tsr")
        when = timestamp.verify(_read(token), body.body().encode("utf-8"), pems) if token else None
        if when is None:
            report.add(P.LOG_CHECKPOINT_INVALID, f"{rel}.tsr: not a valid RFC 3161 timestamp by a trusted TSA")
            continue
        out.append((body.size, int(when.timestamp())))
    return out


def _check_intervals(
    report: VerificationReport,
    manifest: Manifest,
    tag_files: dict[str, Any],
    seen: _Seen,
    ctx: VerifyContext,
    indices: dict[int, int],
) -> None:
    """Bound when each event was logged by cosigned checkpoints: after the newest cosigned checkpoint that
    does not hold it, before the first that does (or the first RFC 3161 timestamp of one that does). Report the interval; judge the claimed time, and the
    signer's revocation and validity, against it."""
    from datetime import UTC, datetime, timedelta

    from provenance.model.timefmt import format_utc, parse_utc

    cosigned = _cosigned(report, tag_files, seen, ctx)
    stamped = _timestamped(report, tag_files, seen, ctx)  # upper bounds only: the tree existed then
    if not cosigned and not stamped:
        return
    slack = timedelta(seconds=TIME_SLACK_SECONDS)
    for event in manifest.events:
        index = indices.get(event.seq)
        if index is None:
            continue
        before = [t for size, times in cosigned if size <= index for t in times]
        after = [t for size, times in cosigned if size > index for t in times]
        after += [t for size, t in stamped if size > index]
        low = datetime.fromtimestamp(max(before), UTC) if before else None
        high = datetime.fromtimestamp(min(after), UTC) if after else None
        report.logged.append(
            {"seq": event.seq, "index": index, "after": format_utc(low) if low else None,
             "before": format_utc(high) if high else None}
        )
        claimed = parse_utc(event.time)
        if (low is not None and claimed < low - slack) or (high is not None and claimed > high + slack):
            report.add(
                P.EVENT_TIME_IMPLAUSIBLE,
                f"event {event.seq} claims {event.time}, but it was logged between "
                f"{format_utc(low) if low else 'the start'} and {format_utc(high) if high else 'now'}",
                event=event.seq,
            )
        card = ctx.trust.get(event.key)
        if card is None or low is None:
            continue
        if card.revoked is not None and low >= parse_utc(card.revoked.time) and not _has(report, P.SIGNER_REVOKED, event.seq):
            report.add(
                P.SIGNER_REVOKED,
                f"event {event.seq} was logged after {format_utc(low)}, after {card.name}'s key was revoked at "
                f"{card.revoked.time}, whatever time it claims",
                event=event.seq,
                key=event.key,
            )
        elif card.valid_until is not None and low > parse_utc(card.valid_until) and not _has(
            report, P.SIGNER_EXPIRED, event.seq
        ):
            report.add(
                P.SIGNER_EXPIRED,
                f"event {event.seq} was logged after {format_utc(low)}, after {card.name}'s key expired",
                event=event.seq,
                key=event.key,
            )


def _has(report: VerificationReport, code: P, seq: int) -> bool:
    return any(p.code is code and p.fields.get("event") == seq for p in report.problems)


# -- state --------------------------------------------------------------------------------------------


def _load_state(path: Path) -> dict[str, dict[str, dict[str, object]]]:
    try:
        raw = json.loads(_read(path))
    except FileNotFoundError:
        return {"origins": {}, "records": {}}
    if not isinstance(raw, dict):
        raise ValueError("not a state file")
    raw.setdefault("origins", {})
    raw.setdefault("records", {})
    return raw


def _consistency_proof(
    tag_files: dict[str, Any], options: LogOptions, old: int, new: int
) -> list[bytes] | None:
    """A proof from ``old`` to ``new``: ``--consistency FILE``, else computed from shipped tiles."""
    if options.consistency is not None:
        try:
            return parse_hash_lines(_read(options.consistency))
        except (OSError, note.NoteError):
            return None
    prefix = f"{LOG_TAG}/"

    def read(rel: str) -> bytes:
        path = tag_files.get(prefix + rel)
        if path is None:
            raise FileNotFoundError(rel)
        return _read(path)

    try:
        return merkle.consistency_proof(TileLog(new, read), old, new)
    except (OSError, ValueError):
        return None


def _check_state(
    report: VerificationReport, manifest: Manifest, tag_files: dict[str, Any], seen: _Seen, options: LogOptions
) -> None:
    assert options.state_dir is not None
    folder = options.state_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "state.json"
    cp = seen.checkpoint
    with fsio.exclusive_lock(folder / "state.lock", what="verifier state"):
        try:
            state = _load_state(path)
        except (OSError, ValueError) as exc:
            report.add(P.LOG_FORK, f"the verifier state {path} does not read ({exc}); nothing is compared")
            return
        origins, records = state["origins"], state["records"]
        remembered = origins.get(cp.origin)
        newer = True
        if isinstance(remembered, dict):
            old_size = int(str(remembered["size"]))
            old_root = note.b64decode_strict(str(remembered["root"]), length=32)
            newer = cp.size > old_size
            small, large = (old_size, cp.size) if newer else (cp.size, old_size)
            small_root, large_root = (old_root, cp.root) if newer else (cp.root, old_root)
            if small == large:
                consistent = small_root == large_root
            elif small == 0:
                consistent = True
            else:
                proof = _consistency_proof(tag_files, options, small, large) if newer else None
                if proof is None and not newer and options.consistency is not None:
                    proof = _consistency_proof(tag_files, options, small, large)
                consistent = proof is not None and merkle.verify_consistency(
                    small, large, small_root, large_root, proof
                )
                if not newer and proof is None:
                    consistent = True  # an older checkpoint than remembered: judged by the record heads below
            if not consistent:
                report.add(
                    P.LOG_FORK,
                    f"checkpoint {cp.origin} at size {cp.size} is not proven consistent with the one remembered "
                    f"at size {old_size} (give 'verify --consistency FILE' from 'tlog prove', or a bundle "
                    "exported with --log-tiles)",
                    expected=old_size,
                    found=cp.size,
                )
        head = event_digest(manifest.events[-1]) if manifest.events else None
        known = records.get(manifest.record)
        if isinstance(known, dict) and head is not None:
            seq = int(str(known["seq"]))
            if seq > len(manifest.events):
                report.add(
                    P.LOG_ROLLBACK,
                    f"{manifest.record} is shown at event {len(manifest.events)}; event {seq} was already seen",
                    expected=seq,
                    found=len(manifest.events),
                )
            elif event_digest(manifest.events[seq - 1]) != known["head"]:
                report.add(
                    P.LOG_FORK,
                    f"{manifest.record}: event {seq} differs from the one already seen: its history was rewritten",
                    seq=seq,
                )
        if report.state is TrustState.INVALID:
            return  # remember nothing from a bundle that does not verify
        if newer:
            origins[cp.origin] = {"size": cp.size, "root": note.b64encode(cp.root), "checkpoint": seen.text}
        if head is not None and (not isinstance(known, dict) or int(str(known["seq"])) < len(manifest.events)):
            records[manifest.record] = {"seq": len(manifest.events), "head": head}
        try:
            fsio.write_atomic(path, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            report.warnings.append(f"could not update the verifier state {path}: {exc.strerror}")
