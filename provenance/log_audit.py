"""``audit``'s check of the archive's transparency log against its records (issue 10)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance.archive import Archive
from provenance.archive_log import reading, store
from provenance.errors import ProvenanceError
from provenance.model.events import Role
from provenance.tlog.store import LogDamagedError

if TYPE_CHECKING:
    from provenance.model.keycard import KeyCard
    from provenance.model.problems import VerificationReport
    from provenance.tlog.checkpoint import Checkpoint
    from provenance.tlog.note import Verifier
    from provenance.tlog.tiles import TileLog


def audit_log(archive: Archive, trust_cards: list[KeyCard], since: bytes | None = None) -> VerificationReport:
    """Check the log against the records: the checkpoint is signed by a log key of ``trust_cards`` and
    matches the tiles (hash tiles and data tiles agree); every leaf is an event, every event is exactly one
    leaf, each record's leaves in chain order; with ``since`` (an earlier checkpoint), the log is
    consistent with it. Returns a report of kind ``log``; never raises for what it finds.
    """
    from provenance.manifest_io import event_digest, read_manifest
    from provenance.model.problems import ProblemCode as P
    from provenance.model.problems import VerificationReport
    from provenance.tlog import merkle, note
    from provenance.tlog.checkpoint import parse_body, parse_leaf

    log = store(archive)
    report = VerificationReport(path=str(log.log_dir), kind="log")
    if not log.exists():
        report.log = "not logged"
        return report
    report.log = "logged"
    with reading(archive):
        try:
            text = log.checkpoint_text()
            signed = note.parse(text)
            cp = parse_body(signed.text)
            verifiers = [
                note.parse_verifier_key(c.note_verifier_key)
                for c in trust_cards
                if Role.LOG in c.roles and c.note_verifier_key and c.revoked is None
            ]
            good = note.verify(signed, verifiers)
            if all(v.name != cp.origin for v in good):
                raise note.NoteError("its origin is not the name of the key that signed it")
        except (LogDamagedError, note.NoteError) as exc:
            report.add(P.LOG_CHECKPOINT_INVALID, f"log/checkpoint: {exc}")
            report.check("the checkpoint is signed by a trusted log key", False)
            return report
        report.check("the checkpoint is signed by a trusted log key", True)
        tree = log.tree(cp.size)
        try:
            leaves = tree.leaves(0, cp.size)
            tiles_root = tree.root()
        except (OSError, ValueError) as exc:
            report.add(P.LOG_CHECKPOINT_INVALID, f"the log's tiles do not read: {exc}")
            return report
        data_root = merkle.root_hash(merkle.ListSource([merkle.leaf_hash(x) for x in leaves]), cp.size)
        ok = tiles_root == cp.root == data_root
        if not ok:
            report.add(P.LOG_CHECKPOINT_INVALID, f"the checkpoint's root is not the root of the tiles ({cp.size} leaves)")
        report.check("the checkpoint matches the tiles", ok)
        report.events = cp.size
        before = len(report.problems)
        events: dict[tuple[str, int], str] = {}
        for rid in archive.record_ids():
            try:
                manifest = read_manifest(archive.record_dir(rid))
            except ProvenanceError as exc:  # reported by the record's own audit
                report.warnings.append(f"{rid}: not compared with the log ({exc.code})")
                continue
            for e in manifest.events:
                events[(rid, e.seq)] = event_digest(e)
        at: dict[tuple[str, int], int] = {}
        for i, leaf in enumerate(leaves):
            parsed = parse_leaf(leaf)
            if parsed is None:
                report.add(P.LOG_INCLUSION_INVALID, f"leaf {i} is not an event leaf", index=i)
                continue
            rid, seq, digest = parsed
            if events.get((rid, seq)) != digest:
                report.add(P.LOG_INCLUSION_INVALID, f"leaf {i} logs {rid} event {seq}, which no record holds", index=i)
                continue
            if (rid, seq) in at:
                report.add(P.LOG_INCLUSION_INVALID, f"{rid} event {seq} is logged twice (leaves {at[(rid, seq)]}, {i})")
                continue
            previous = at.get((rid, seq - 1))
            if seq > 1 and previous is None:
                report.add(P.LOG_INCLUSION_INVALID, f"{rid} event {seq} is logged (leaf {i}) before event {seq - 1}")
            at[(rid, seq)] = i
        for key in sorted(set(events) - set(at)):
            report.add(P.LOG_PROOF_MISSING, f"{key[0]} event {key[1]} is in no leaf of the log", record=key[0], seq=key[1])
        count = len(report.problems) - before
        report.check("every event is exactly one leaf, every leaf an event, in chain order", count == 0,
                     f"{count} problem(s)" if count else "")
        if since is not None:
            _audit_since(report, since, cp, tree, verifiers)
    return report


def _audit_since(report: VerificationReport, since: bytes, cp: Checkpoint, tree: TileLog, verifiers: list[Verifier]) -> None:
    from provenance.model.problems import ProblemCode as P
    from provenance.tlog import merkle, note
    from provenance.tlog.checkpoint import parse_body

    name = "the log is consistent with the earlier checkpoint (--since)"
    try:
        signed = note.parse(since)
        old = parse_body(signed.text)
        note.verify(signed, verifiers)
    except note.NoteError as exc:
        report.add(P.LOG_CHECKPOINT_INVALID, f"--since: not a checkpoint signed by a trusted log key: {exc}")
        report.check(name, False)
        return
    ok = old.origin == cp.origin and old.size <= cp.size
    if ok and 0 < old.size < cp.size:
        try:
            proof = merkle.consistency_proof(tree, old.size, cp.size)
        except (OSError, ValueError):
            proof = []
        ok = merkle.verify_consistency(old.size, cp.size, old.root, cp.root, proof)
    elif ok and old.size == cp.size:
        ok = old.root == cp.root
    elif ok and old.size == 0:
        ok = old.root == merkle.EMPTY_ROOT
    if not ok:
        report.add(
            P.LOG_FORK,
            f"the log ({cp.origin}, {cp.size} leaves) is not an extension of the earlier checkpoint "
            f"({old.origin}, {old.size} leaves): its history was rewritten",
        )
    report.check(name, ok)
