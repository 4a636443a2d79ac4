"""Verifying a bundle: a bag folder, or a ``.zip`` / ``.tar.gz`` / ``.tar`` that holds one.

Procedure (every step reports every problem it finds; a bundle that cannot be read safely is rejected
whole, its content never partly checked):

1. Read the bundle safely. An archive is never extracted: :mod:`provenance.bundle.readers` reads it once,
   under one reading that every standard extractor shares (anything two readers may read differently is
   refused), streaming each member through its digests; links, devices, escaping or colliding names and
   anything beyond ``--max-size`` are refused. A folder is scanned under the same name rules.
2. Check the bag (RFC 8493): declaration, manifests, completeness, every payload and tag digest,
   Payload-Oxum (:func:`provenance.bundle.bag.check_bag`). Each payload byte is hashed once (while it is
   read, for an archive); the record checks reuse the SHA-256.
3. Read the key cards that travelled in the bundle: shown in the report, used to check signatures, never
   trusted (a signer known only from the bundle stays ``signer.unknown``: state ``valid``, exit 3).
4. Run every record check on the signed manifest and the payload (:func:`provenance.verify.record.verify_source`):
   chain, signatures, signers against the verifier's own trust store, state, files, history.
5. The payload is exactly what the manifest lists: nothing in ``data/`` outside ``files/`` and
   ``objects/sha256/``.
6. ``bag-info.txt`` says what the signed manifest says (it is not signed itself).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from provenance.archive import OBJECTS_DIR
from provenance.bundle import bag, tagfiles
from provenance.bundle.members import MemberTree, MemberView
from provenance.bundle.readers import (
    DEFAULT_LIMITS,
    BundleRejectedError,
    Limits,
    Tree,
    archive_form,
    read_archive,
    scan_tree,
)
from provenance.model.keycard import KeyCard
from provenance.model.manifest import Manifest
from provenance.model.problems import Check, VerificationReport
from provenance.model.problems import ProblemCode as P
from provenance.verify.explain import explain_report
from provenance.verify.record import RecordSource, VerifyContext, verify_source

BAG_CHECKS: list[tuple[str, tuple[P, ...]]] = [
    ("bag is well-formed (bagit.txt, manifests, bag-info)", (P.BAG_INVALID,)),
    (
        "bag is complete: every listed file present, none unlisted",
        (P.BAG_FILE_MISSING, P.BAG_FILE_UNEXPECTED),
    ),
    ("every payload and tag file matches its bag digest", (P.BAG_DIGEST_MISMATCH, P.BAG_TAG_DIGEST_MISMATCH)),
    ("Payload-Oxum matches the payload", (P.BAG_OXUM_MISMATCH,)),
    ("key cards in the bundle are well-formed (shown, never trusted)", (P.BUNDLE_KEY_CARD_INVALID,)),
]
SAFE_CHECK = "bundle is safe to read (no escaping names, links, devices or bombs)"
INFO_CHECK = "bag-info.txt agrees with the signed manifest"


def _add_findings(report: VerificationReport, exc: BundleRejectedError) -> None:
    for finding in exc.findings:
        report.add(finding.code, finding.message, **finding.fields)
    report.check(SAFE_CHECK, False, f"{len(exc.findings)} problem(s)")


def _check_readable(path: Path) -> None:
    """Raises ``InputError(bundle.unreadable)`` (exit 2) when the file cannot be opened at all."""
    from provenance.errors import ErrorCode, InputError

    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise InputError(
            ErrorCode.BUNDLE_UNREADABLE, f"cannot read bundle {path}: {exc.strerror}", path=str(path)
        ) from exc


def _bag_top(members: MemberTree, report: VerificationReport) -> str | None:
    """Where the bag lies in an archive: ``""`` (at the top) or its only top-level folder and a slash
    (RFC 8493 section 4.2); None after reporting that the archive holds no bag."""
    if "bagit.txt" in members.files:
        return ""
    entries = sorted({rel.split("/", 1)[0] for rel in (*members.files, *members.folders)})
    if len(entries) == 1 and f"{entries[0]}/bagit.txt" in members.files:
        return entries[0] + "/"
    report.add(
        P.BAG_INVALID,
        "the archive holds no bag: expected one top-level folder with a bagit.txt"
        + (
            f" (found: {', '.join(entries[:5])}{' …' if len(entries) > 5 else ''})"
            if entries
            else " (it is empty)"
        ),
        found=entries[:20],
    )
    return None


def _archive_tree(path: Path, members: MemberTree, top: str) -> tuple[Path, Tree]:
    """The bag of an archive as the bag check reads it: its members, by path below the bag's root, each
    labelled by a path below the archive's own (which exists nowhere on disk)."""
    root = Path(str(path)) / top.rstrip("/") if top else Path(str(path))
    label = os.path.join(os.fspath(root), "")  # what root / inside reads as (inside is a safe path)
    tree = Tree(members={})
    assert tree.members is not None
    for rel, member in members.files.items():
        if rel.startswith(top):
            inside = rel[len(top) :]
            tree.files[inside] = label + inside
            tree.members[inside] = member
            parts = inside.split("/")[:-1]  # folders a file implies (a zip need not list them)
            tree.folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    tree.folders.update(rel[len(top) :] for rel in members.folders if rel.startswith(top) and rel != top[:-1])
    return root, tree


def _bundle_cards(
    findings: bag.BagFindings, tree: Tree, ctx: VerifyContext, report: VerificationReport
) -> dict[str, KeyCard]:
    """Step 3: the key cards that came with the bundle; a card that does not parse is reported."""
    from provenance import limits
    from provenance.errors import ProvenanceError
    from provenance.keys import parse_card

    cards: dict[str, KeyCard] = {}
    card_files = [r for r in findings.tag_files if r.startswith(tagfiles.KEYS_TAG + "/") and r.endswith(".json")]
    if len(card_files) > limits.KEYS.value():  # none is parsed (each costs a prime-order check)
        report.add(P.BUNDLE_TOO_LARGE, limits.KEYS.message(tagfiles.KEYS_TAG), path=tagfiles.KEYS_TAG,
                   limit=limits.KEYS.value())
        return cards
    for rel in sorted(card_files):
        try:
            card = parse_card(tree.read(rel, tagfiles.MAX_TAG_FILE_BYTES), source=rel)
        except (ProvenanceError, OSError) as exc:
            report.add(
                P.BUNDLE_KEY_CARD_INVALID,
                f"key card {rel} in the bundle is refused: {getattr(exc, 'message', exc)}",
                path=rel,
                found=str(getattr(exc, "code", "unreadable")),
            )
            continue
        cards[card.id] = card
        report.bundle_key_cards.append(
            {
                "file": rel,
                "id": card.id,
                "name": card.name,
                "roles": [r.value for r in card.roles],
                "valid_from": card.valid_from,
                "valid_until": card.valid_until,
                "revoked": card.revoked.model_dump() if card.revoked else None,
                "in_trust_store": ctx.trust.get(card.id) is not None,
            }
        )
    return cards


def _reference_archive(ctx: VerifyContext) -> Path | None:
    """The verifier's own archive (its trust store's parent), where the signed bytes may be found to
    explain a mismatch; used for explanations only, never for a verdict."""
    location = Path(ctx.trust.location) if ctx.trust.location else None
    if location is not None and location.name == "keys" and (location.parent / "records").is_dir():
        return location.parent
    return None


def _explain(report: VerificationReport, manifest: Manifest, root: Path, ctx: VerifyContext) -> None:
    """Explain file mismatches from other versions: the bundle's history, or the verifier's own archive."""
    if not any(p.code in (P.FILE_DIGEST_MISMATCH, P.FILE_SIZE_MISMATCH) for p in report.problems):
        return  # nothing to explain (most bundles): no folder is looked at
    object_dirs = [root / tagfiles.OBJECTS_DIR]
    file_dirs = []
    archive = _reference_archive(ctx)
    if archive is not None:
        record_dir = archive / "records" / manifest.record
        object_dirs.append(record_dir / OBJECTS_DIR)
        file_dirs.append(record_dir / "files")
    explain_report(report, manifest, root / tagfiles.FILES_DIR, object_dirs, file_dirs)


def _check_payload_layout(tree: Tree, report: VerificationReport) -> None:
    """Step 5: the payload holds the record's files and history objects, nothing else."""
    kept = (tagfiles.FILES_DIR + "/", tagfiles.OBJECTS_DIR + "/")
    payload = tagfiles.PAYLOAD_DIR + "/"
    for rel in sorted(rel for rel in tree.files if rel.startswith(payload) and not rel.startswith(kept)):
        report.add(
            P.FILE_UNEXPECTED,
            f"{rel} is in the payload but is neither a file of the record nor a stored version",
            path=rel,
        )


def _mark(report: VerificationReport, at: int, checks: list[tuple[str, tuple[P, ...]]]) -> None:
    """Insert the bag's check lines at ``at`` (before the record's own), counted from the problems."""
    for offset, (name, codes) in enumerate(checks):
        count = sum(1 for p in report.problems if p.code in codes)
        report.checks.insert(at + offset, Check(name, count == 0, f"{count} problem(s)" if count else ""))


def verify_bag_folder(root: Path, ctx: VerifyContext, report: VerificationReport, limits: Limits) -> None:
    """Steps 1 (for a folder) to 6 on the bag at ``root``, adding to ``report``."""
    try:
        tree = scan_tree(root, limits)
    except BundleRejectedError as exc:
        _add_findings(report, exc)
        return
    report.check(SAFE_CHECK, True)
    verify_tree(root, tree, ctx, report)


def verify_tree(root: Path, tree: Tree, ctx: VerifyContext, report: VerificationReport) -> None:
    """Steps 2 to 6 on a bag already read safely into ``tree`` (a folder's, or an archive's members)."""
    view = MemberView({p: tree.members[rel] for rel, p in tree.files.items()}) if tree.members else None
    at = len(report.checks)
    findings = bag.check_bag(root, tree, report, jobs=ctx.jobs, prefetch=ctx.prefetch)
    if findings is None:
        report.check(BAG_CHECKS[0][0], False, "not a bag")
        return
    cards = _bundle_cards(findings, tree, ctx, report)
    _check_payload_layout(tree, report)
    history = any(rel.startswith(tagfiles.OBJECTS_DIR + "/") for rel in tree.files)
    known = {tree.files[rel]: digest for rel, digest in findings.payload_sha256.items()}
    source = RecordSource(
        label=str(root),
        manifest_path=root / tagfiles.MANIFEST_TAG,
        files_root=root / tagfiles.FILES_DIR,
        objects_root=root / tagfiles.OBJECTS_DIR,
        history_required=history,
        bundle_cards=cards,
        known_digests=known,
        known_sizes={tree.files[rel]: size for rel, size in findings.payload_sizes.items()},
        view=view,
    )
    if view is None:  # a bag folder: its files/ as the safe scan listed it
        files = tagfiles.FILES_DIR + "/"
        source.listing = {rel[len(files) :]: p for rel, p in tree.files.items() if rel.startswith(files)}
        source.listing_entries = len(source.listing) + sum(1 for rel in tree.folders if rel.startswith(files))
    manifest = verify_source(source, ctx, report)
    _mark(report, at, BAG_CHECKS)
    if manifest is not None:
        if view is None:  # versions are compared from files on disk (an archive's large ones are not kept)
            _explain(report, manifest, root, ctx)
        bag.check_info(findings, manifest, history, report)
        count = sum(1 for p in report.problems if p.code is P.BAG_INFO_MISMATCH)
        report.check(INFO_CHECK, count == 0, f"{count} problem(s)" if count else "")
        from provenance.verify.tlog_check import check_bundle_log  # transparency log (issue 10)

        check_bundle_log(report, manifest, findings.tag_files, ctx, read=tree.read)


def _relative(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        return value.replace(prefix, "")
    if isinstance(value, list):
        return [_relative(v, prefix) for v in value]
    if isinstance(value, dict):
        return {k: _relative(v, prefix) for k, v in value.items()}
    return value


def _relativise(report: VerificationReport, root: Path) -> None:
    """Name files inside an extracted archive by their place in the bag, not by the temporary folder."""
    prefix = str(root) + os.sep
    report.problems = [
        replace(p, message=p.message.replace(prefix, ""), fields=_relative(p.fields, prefix))
        for p in report.problems
    ]
    report.warnings = [w.replace(prefix, "") for w in report.warnings]


def _limits(ctx: VerifyContext, limits: Limits) -> Limits:
    return replace(limits, max_size=ctx.max_size) if ctx.max_size else limits


def verify_archive(
    path: Path, ctx: VerifyContext, limits: Limits = DEFAULT_LIMITS, staging: Path | None = None
) -> tuple[VerificationReport, str | None]:
    """Verify a bundle archive read once (into ``staging`` too, for ``unpack``); never raises for what it
    finds. Returns the report and where the bag lies in the archive (``""``, ``"<top>/"``, or None).

    Raises ``InputError(bundle.unreadable)`` (exit 2) when the file cannot be opened at all, and
    ``OSError`` when a staged file cannot be written.
    """
    report = VerificationReport(path=str(path), kind=archive_form(path) or "bundle")
    report.warnings.extend(
        f"trust store card {file} refused: {reason}" for file, reason in ctx.trust.rejected
    )
    _check_readable(path)
    try:
        members = read_archive(path, _limits(ctx, limits), staging)
    except BundleRejectedError as exc:
        _add_findings(report, exc)
        return report, None
    report.check(SAFE_CHECK, True)
    top = _bag_top(members, report)
    if top is None:
        report.check(BAG_CHECKS[0][0], False, "not a bag")
        return report, None
    root, tree = _archive_tree(path, members, top)
    verify_tree(root, tree, ctx, report)
    _relativise(report, root)
    return report, top


def verify_bundle(path: Path, ctx: VerifyContext, limits: Limits = DEFAULT_LIMITS) -> VerificationReport:
    """Verify a bag folder or a bundle archive; never raises for what it finds.

    Raises ``InputError(bundle.unreadable)`` (exit 2) only when an archive file cannot be opened at all.
    """
    if not path.is_dir():
        return verify_archive(path, ctx, limits)[0]
    report = VerificationReport(path=str(path), kind="bag")
    report.warnings.extend(
        f"trust store card {file} refused: {reason}" for file, reason in ctx.trust.rejected
    )
    verify_bag_folder(path, ctx, report, _limits(ctx, limits))
    return report
