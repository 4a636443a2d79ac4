"""BagIt 1.0 (RFC 8493): the checks of a bag folder we read (its tag files: :mod:`provenance.bundle.tagfiles`).

A bag (section 2) is a folder holding ``bagit.txt`` (the declaration), ``data/`` (the payload), at least
one payload manifest ``manifest-<alg>.txt``, and optionally ``bag-info.txt``, tag manifests
``tagmanifest-<alg>.txt`` and other tag files. Ours carry the record's signed manifest and its signers'
key cards as the tag files ``provenance/manifest.json`` and ``provenance/keys/*.json``.

:func:`check_bag` follows RFC 8493 section 3 (a bag is *complete* when every payload file is listed in
every payload manifest and every listed file is present; it is *valid* when, besides, every digest
matches), with three stricter rules of our own: every tag file must be listed in every tag manifest (a
validator would otherwise ignore an unlisted one), at least one tag manifest must exist, and an unknown
digest algorithm is refused rather than skipped.

A bag holds only what provenance writes (another tool would show anything else to a reader): every file
outside ``data/`` must be a kind of tag file named in :data:`provenance.bundle.tagfiles.TAG_FILE_PATTERNS`,
every folder must hold a file, every tag manifest must read exactly as provenance writes it, and
``bag-info.txt`` holds only the labels provenance writes, laid out as it writes them.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.bundle.entries import KEEP_READ, Tree
from provenance.bundle.tagfiles import (
    BAGIT_VERSION,
    CATALOGUE_LABELS,
    HEX_LENGTHS,
    MANIFEST_RE,
    MANIFEST_TAG,
    MAX_TAG_FILE_BYTES,
    PAYLOAD_DIR,
    READABLE_VERSIONS,
    TAGMANIFEST_RE,
    UNCHECKED_INFO,
    WRITTEN_INFO_LABELS,
    TagFileError,
    bag_info_essentials,
    bag_info_text,
    decode_tag_file,
    info_value,
    is_written_tag_file,
    manifest_text,
    parse_manifest_file,
    parse_tags,
    parse_written_manifest,
)
from provenance.model.manifest import Manifest
from provenance.model.problems import ProblemCode as P
from provenance.model.problems import VerificationReport
from provenance.verify.hashing import PARALLEL_MIN_FILES, FileDigests, hash_files

if TYPE_CHECKING:
    from provenance.verify.prefetch import Prefetch

# the folders of the layout provenance writes (an empty one is left for the missing file to explain)
LAYOUT_FOLDERS = frozenset({PAYLOAD_DIR, "data/files", "data/objects", "data/objects/sha256", "provenance",
                            "provenance/keys"})


@dataclass
class BagFindings:
    """What :func:`check_bag` learned, for the record checks that follow."""

    info: list[tuple[str, str]] | None = None
    info_text: str = ""
    payload_sha256: dict[str, str] = field(default_factory=dict)  # as hashed here, by bag path
    payload_sizes: dict[str, int] = field(default_factory=dict)  # the bytes hashed, by bag path
    tag_files: dict[str, str] = field(default_factory=dict)  # path by bag path
    payload_bytes: int = 0
    payload_count: int = 0

    def info_values(self, label: str) -> list[str]:
        return [value for key, value in self.info or [] if key == label]


def _tag_text(tree: Tree, rel: str) -> str:
    """A tag file's text, from the bag folder or from the archive's members; raises ``TagFileError``."""
    try:
        data = tree.read(rel, MAX_TAG_FILE_BYTES)
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            raise TagFileError(f"{rel} is larger than {MAX_TAG_FILE_BYTES} bytes") from exc
        raise TagFileError(f"{rel} cannot be read: {exc.strerror}") from exc
    return decode_tag_file(data, rel)


def _check_declaration(root_files: dict[str, str], tree: Tree, report: VerificationReport) -> bool:
    """Step 1: ``bagit.txt`` declares a version we read and UTF-8 tag files (section 2.1.1)."""
    path = root_files.get("bagit.txt")
    if path is None:
        report.add(P.BAG_INVALID, "not a bag: there is no bagit.txt", path="bagit.txt")
        return False
    try:
        tags = dict(parse_tags(_tag_text(tree, "bagit.txt"), "bagit.txt"))
    except TagFileError as exc:
        report.add(P.BAG_INVALID, str(exc), path="bagit.txt")
        return False
    version = tags.get("BagIt-Version")
    encoding = tags.get("Tag-File-Character-Encoding", "")
    if version not in READABLE_VERSIONS:
        report.add(
            P.BAG_INVALID,
            f"bagit.txt declares BagIt-Version {version!r}; this verifier reads {', '.join(READABLE_VERSIONS)}",
            path="bagit.txt",
            expected=BAGIT_VERSION,
            found=version,
        )
        return False
    if encoding.upper().replace("_", "-") != "UTF-8":
        report.add(
            P.BAG_INVALID,
            f"bagit.txt declares tag files in {encoding or 'no encoding'}; only UTF-8 is read",
            path="bagit.txt",
            expected="UTF-8",
            found=encoding or None,
        )
        return False
    return True


def _read_manifests(
    root_files: dict[str, str],
    tree: Tree,
    pattern: re.Pattern[str],
    kind: str,
    report: VerificationReport,
    *,
    canonical: bool = False,
) -> dict[str, dict[str, str]]:
    """Every (tag) manifest of the bag. With ``canonical`` each must read exactly as provenance writes it:
    a tag manifest is covered by no other digest, so this is how a changed byte in it (an upper-case hex
    digit, a tab for a space, CR for LF) is caught; a payload manifest, re-bagged, would otherwise show a
    reader a text provenance never wrote."""
    manifests: dict[str, dict[str, str]] = {}
    for name in sorted(root_files):
        match = pattern.match(name)
        if match is None:
            continue
        algorithm = match.group(1).lower()
        if algorithm not in HEX_LENGTHS:
            report.add(
                P.BAG_INVALID,
                f"{name}: digest algorithm {algorithm} is not supported (only {', '.join(HEX_LENGTHS)}); "
                "it is refused rather than skipped",
                path=name,
                expected=sorted(HEX_LENGTHS),
                found=algorithm,
            )
            continue
        try:
            text = _tag_text(tree, name)
        except TagFileError as exc:
            report.add(P.BAG_INVALID, str(exc), path=name)
            continue
        written = parse_written_manifest(text, algorithm)  # the text as provenance writes it: one pattern
        errors: list[str] = []
        unsafe: list[str] = []
        if written is not None:
            entries = written
        else:
            entries, errors, unsafe = parse_manifest_file(text, name, algorithm)
        if canonical and written is None and not errors and not unsafe and (
            manifest_text(entries).decode("utf-8") != text
        ):
            report.add(
                P.BAG_INVALID,
                f"{name} is not written as provenance writes it (sorted '<lowercase hex>  <path>' lines, LF): "
                "it was altered",
                path=name,
            )
        for message in errors[:20]:
            report.add(P.BAG_INVALID, message, path=name)
        for message in unsafe[:20]:
            report.add(P.BUNDLE_UNSAFE_ENTRY, message, path=name)
        payload_prefix = PAYLOAD_DIR + "/"
        if kind == "payload":
            outside = [rel for rel in entries if not rel.startswith(payload_prefix)]
            why = "which is not under data/"
        else:
            outside = [rel for rel in entries if rel.startswith(payload_prefix) or TAGMANIFEST_RE.match(rel)]
            why = "which is not a tag file"
        for rel in sorted(outside):
            report.add(P.BAG_INVALID, f"{name} lists {rel}, {why}", path=rel, manifest=name)
            del entries[rel]
        manifests[algorithm] = entries
    return manifests


def _check_listing(
    present: set[str], manifests: dict[str, dict[str, str]], what: str, report: VerificationReport
) -> None:
    """Completeness (section 3): every present file listed in every manifest, every listed file present."""
    listed: set[str] = set().union(*(set(m) for m in manifests.values())) if manifests else set()
    for rel in sorted(listed - present):
        names = [
            f"{prefix}manifest-{alg}.txt"
            for alg, m in manifests.items()
            if rel in m
            for prefix in (["tag"] if what == "tag" else [""])
        ]
        report.add(
            P.BAG_FILE_MISSING,
            f"{rel} is listed in {', '.join(names)} but is not in the bag",
            path=rel,
            manifest=names,
        )
    for rel in sorted(present):
        absent = [
            f"{'tag' if what == 'tag' else ''}manifest-{alg}.txt"
            for alg, m in manifests.items()
            if rel not in m
        ]
        if absent:
            report.add(
                P.BAG_FILE_UNEXPECTED,
                f"{rel} is in the bag but not listed in {', '.join(absent)}"
                + (" (an unlisted tag file would be ignored by other validators)" if what == "tag" else ""),
                path=rel,
                manifest=absent,
            )


def _tag_digests(tree: Tree, names: list[str], algorithms: tuple[str, ...]) -> list[FileDigests | OSError]:
    """A bag folder's tag files, hashed from the bytes its checks read (:meth:`Tree.read` keeps them: the
    declaration, the manifests, bag-info and the key cards are each read once, and what is parsed is what
    was hashed). The signed manifest (read by the record checks) and files above KEEP_READ are streamed."""
    out: list[FileDigests | OSError | None] = []
    streamed: list[int] = []
    for rel in names:
        if rel == MANIFEST_TAG:
            streamed.append(len(out))
            out.append(None)
            continue
        try:
            data = tree.read(rel, KEEP_READ)
        except OSError as exc:
            if exc.errno == errno.EFBIG:
                streamed.append(len(out))
            out.append(None if exc.errno == errno.EFBIG else exc)
            continue
        out.append((len(data), {a: hashlib.new(a, data).hexdigest() for a in algorithms}))
    if streamed:
        for index, outcome in zip(streamed, hash_files([tree.files[names[i]] for i in streamed], algorithms),
                                  strict=True):
            out[index] = outcome
    return [outcome for outcome in out if outcome is not None]


def _member_digests(tree: Tree, names: list[str], algorithms: tuple[str, ...]) -> list[FileDigests | OSError]:
    """The digests an archive's members were read with (each byte was hashed once, as it was read)."""
    assert tree.members is not None
    out: list[FileDigests | OSError] = []
    for rel in names:
        member = tree.members[rel]
        missing = [a for a in algorithms if a not in member.digests]
        if missing:  # not taken while reading (unknown then): only a kept member can be hashed again
            if member.data is None:
                out.append(OSError(errno.EFBIG, f"its {', '.join(missing)} was not taken while reading"))
                continue
            member.digests.update({a: hashlib.new(a, member.data).hexdigest() for a in missing})
        out.append((member.size, member.digests))
    return out


def _check_written_layout(tree: Tree, report: VerificationReport) -> None:
    """Step 3 (cont.): nothing outside data/ but the tag files provenance writes, and no folder without a
    file (an empty folder, or one holding only what is refused, would still be shown by other tools). The
    folders of the layout itself may be empty (a file missing from them is reported on its own)."""
    for rel in sorted(tree.files):
        if not rel.startswith(PAYLOAD_DIR + "/") and not is_written_tag_file(rel):
            report.add(
                P.BAG_FILE_UNEXPECTED,
                f"{rel} is not a tag file provenance writes; another tool would show it to a reader",
                path=rel,
            )
    holding = {rel.rsplit("/", 1)[0] for rel in tree.files if "/" in rel}
    ancestors = {"/".join(folder.split("/")[:depth]) for folder in holding for depth in
                 range(1, folder.count("/") + 2)}
    for folder in sorted(tree.folders - ancestors - LAYOUT_FOLDERS):
        report.add(
            P.BAG_FILE_UNEXPECTED,
            f"{folder}/ is a folder holding no file; provenance writes none",
            path=folder + "/",
        )


def _hash_and_compare(
    files: dict[str, str],
    manifests: dict[str, dict[str, str]],
    code: P,
    report: VerificationReport,
    extra: tuple[str, ...] = (),
    jobs: int = 1,
    tree: Tree | None = None,
    total_bytes: int | None = None,
    tags: bool = False,
    prefetch: Prefetch | None = None,
) -> dict[str, tuple[int, dict[str, str]]]:
    """Hash every file once with every algorithm needed (over ``jobs`` processes when it pays); report
    each digest that differs. An archive's members (``tree.members``) were hashed as they were read; a
    folder's ``tags`` are hashed from the bytes its checks read (:func:`_tag_digests`); a folder's payload
    may have been hashed by the helper ``prefetch`` while the verifier started (SHA-256 only)."""
    algorithms = tuple(sorted(set(manifests) | set(extra)))
    results: dict[str, tuple[int, dict[str, str]]] = {}
    if not algorithms:
        return results
    names = sorted(files)
    outcomes: list[FileDigests | OSError]
    if tree is not None and tree.members is not None:
        outcomes = _member_digests(tree, names, algorithms)
    elif tags and tree is not None:
        outcomes = _tag_digests(tree, names, algorithms)
    else:
        prehashed = prefetch.results() if prefetch is not None and algorithms == ("sha256",) else {}
        if prehashed:
            done = [prehashed.get(files[rel]) for rel in names]
            todo = [rel for rel, outcome in zip(names, done, strict=True) if outcome is None]
        else:
            todo = names
        sizes: list[int] | None = None
        # the sizes choose how a few files are spread over processes (many are spread by count): with
        # one process there is nothing to choose, and no stat of each is needed
        if jobs > 1 and len(todo) < PARALLEL_MIN_FILES:
            try:
                sizes = [os.stat(files[rel]).st_size for rel in todo]
            except OSError:
                sizes = None
        outcomes = hash_files(
            [files[rel] for rel in todo], algorithms, jobs=jobs, sizes=sizes,
            total_bytes=total_bytes if sizes is None else None,
        ) if todo else []
        if prehashed:
            hashed = iter(outcomes)
            outcomes = [next(hashed) if outcome is None else outcome for outcome in done]
    checked = sorted(manifests.items())
    hashed_bytes = 0
    for rel, outcome in zip(names, outcomes, strict=True):
        if isinstance(outcome, OSError):
            report.add(P.BUNDLE_MALFORMED, f"{rel} cannot be read: {outcome.strerror}", path=rel)
            continue
        size, digests = outcome
        hashed_bytes += size
        results[rel] = (size, digests)
        for algorithm, entries in checked:
            expected = entries.get(rel)
            if expected is not None and expected != digests[algorithm]:
                report.add(
                    code,
                    f"{rel}: its {algorithm} differs from the one in the bag's "
                    f"{'tag' if code is P.BAG_TAG_DIGEST_MISMATCH else ''}manifest-{algorithm}.txt",
                    path=rel,
                    algorithm=algorithm,
                    expected=expected,
                    found=digests[algorithm],
                )
    report.bytes_hashed += hashed_bytes
    return results


def _check_oxum(findings: BagFindings, report: VerificationReport) -> None:
    """``Payload-Oxum`` is ``<octets>.<files>`` of the payload (section 2.2.2); checked, never trusted."""
    values = findings.info_values("Payload-Oxum")
    found = f"{findings.payload_bytes}.{findings.payload_count}"
    if len(values) > 1:
        report.add(P.BAG_INVALID, "bag-info.txt gives Payload-Oxum more than once", path="bag-info.txt")
        return
    if not values:
        report.add(
            P.BAG_OXUM_MISMATCH,
            f"bag-info.txt has no Payload-Oxum; the payload holds {found}",
            path="bag-info.txt",
            expected=found,
            found=None,
        )
        return
    if not re.fullmatch(r"[0-9]{1,20}\.[0-9]{1,20}", values[0]):
        report.add(
            P.BAG_INVALID, f"Payload-Oxum {values[0]!r} is not '<octets>.<files>'", path="bag-info.txt"
        )
        return
    if values[0] != found:
        declared_bytes, declared_files = values[0].split(".")
        report.add(
            P.BAG_OXUM_MISMATCH,
            f"Payload-Oxum says {declared_bytes} bytes in {declared_files} files; the payload holds "
            f"{findings.payload_bytes} bytes in {findings.payload_count} files",
            path="bag-info.txt",
            expected=values[0],
            found=found,
        )


_OXUM_BYTES = re.compile(r"^Payload-Oxum: ?([0-9]{1,20})\.[0-9]{1,20}$", re.MULTILINE)


def _declared_bytes(tree: Tree, root_files: dict[str, str]) -> int | None:
    """The payload's size as bag-info.txt declares it (Payload-Oxum), or None: a hint that chooses how the
    payload is hashed (one process or several), never a finding (the Oxum is checked after hashing)."""
    if "bag-info.txt" not in root_files:
        return None
    try:
        found = _OXUM_BYTES.search(_tag_text(tree, "bag-info.txt"))
    except TagFileError:
        return None
    return int(found.group(1)) if found else None


def check_bag(
    root: Path, tree: Tree, report: VerificationReport, jobs: int = 1, prefetch: Prefetch | None = None
) -> BagFindings | None:
    """Check the bag at ``root`` (its entries already scanned safe into ``tree``); None when not a bag.

    Steps: 1. the declaration; 2. manifests and tag manifests parse (unknown algorithms refused);
    3. completeness of payload and tag files; 4. every payload and tag digest, each file read once (the
    payload's SHA-256 is kept for the record checks, so no byte is hashed twice; a folder's payload may
    have been hashed by ``prefetch``, forked when the verifier started); 5. Payload-Oxum.
    """
    root_files = {rel: path for rel, path in tree.files.items() if "/" not in rel}
    if not _check_declaration(root_files, tree, report):
        return None
    findings = BagFindings()
    if "fetch.txt" in root_files:
        report.add(
            P.BAG_INVALID,
            "fetch.txt: this bag expects files to be downloaded; a bundle must hold its whole payload",
            path="fetch.txt",
        )
    payload_manifests = _read_manifests(root_files, tree, MANIFEST_RE, "payload", report, canonical=True)
    tag_manifests = _read_manifests(root_files, tree, TAGMANIFEST_RE, "tag", report, canonical=True)
    if not payload_manifests:
        report.add(P.BAG_INVALID, "the bag has no usable payload manifest (manifest-sha256.txt)")
    if not tag_manifests:
        report.add(
            P.BAG_INVALID,
            "the bag has no usable tag manifest (tagmanifest-sha256.txt): its tag files are not covered",
        )
    if PAYLOAD_DIR not in tree.folders:
        report.add(P.BAG_INVALID, "the bag has no data/ folder", path=PAYLOAD_DIR)
    payload = {rel: p for rel, p in tree.files.items() if rel.startswith(PAYLOAD_DIR + "/")}
    tags = {
        rel: p
        for rel, p in tree.files.items()
        if not rel.startswith(PAYLOAD_DIR + "/") and not TAGMANIFEST_RE.match(rel)
    }
    findings.tag_files = tags
    if payload_manifests:
        _check_listing(set(payload), payload_manifests, "payload", report)
    if tag_manifests:
        _check_listing(set(tags), tag_manifests, "tag", report)
    _check_written_layout(tree, report)
    hashed = _hash_and_compare(
        payload, payload_manifests, P.BAG_DIGEST_MISMATCH, report, extra=("sha256",), jobs=jobs, tree=tree,
        prefetch=prefetch,
        total_bytes=_declared_bytes(tree, root_files) if jobs > 1 and len(payload) >= PARALLEL_MIN_FILES else None,
    )
    findings.payload_sha256 = {rel: digests["sha256"] for rel, (_, digests) in hashed.items()}
    findings.payload_sizes = {rel: size for rel, (size, _) in hashed.items()}
    findings.payload_bytes = sum(size for size, _ in hashed.values())
    findings.payload_count = len(hashed)
    _hash_and_compare(tags, tag_manifests, P.BAG_TAG_DIGEST_MISMATCH, report, tree=tree, tags=True)
    info_path = root_files.get("bag-info.txt")
    if info_path is None:
        if not any("bag-info.txt" in m for m in tag_manifests.values()):
            report.add(P.BAG_INVALID, "the bag has no bag-info.txt", path="bag-info.txt")
    else:
        try:
            findings.info_text = _tag_text(tree, "bag-info.txt")
            findings.info = parse_tags(findings.info_text, "bag-info.txt")
        except TagFileError as exc:
            report.add(P.BAG_INVALID, str(exc), path="bag-info.txt")
    if findings.info is not None:
        _check_oxum(findings, report)
    return findings


def check_info(findings: BagFindings, manifest: Manifest, history: bool, report: VerificationReport) -> None:
    """``bag-info.txt`` says what the signed manifest says (every essential, none extra)."""
    if findings.info is None:
        return
    given: dict[str, list[str]] = {}  # the values of each label, in the order given
    for key, value in findings.info:
        given.setdefault(key, []).append(value)
    legacy = bool(given.get("Source-Organization"))  # a bag written before issue 14
    expected = bag_info_essentials(manifest, history=history, legacy_custody=legacy)
    labels = (
        {label for label, _ in expected}
        | {label for _, label in CATALOGUE_LABELS}
        | {"Source-Organization", "Provenance-Custodian", "External-Description", "Copies"}
    )
    want: dict[str, list[str]] = {}
    for label, value in expected:
        want.setdefault(label, []).append(value)
    if manifest.events:
        want["Bagging-Date"] = [manifest.events[-1].time[:10]]
        labels.add("Bagging-Date")
    for label in sorted(given.keys() - WRITTEN_INFO_LABELS):
        report.add(
            P.BAG_INFO_MISMATCH,
            f"bag-info.txt has the label {label}, which provenance never writes; another tool would show it",
            path="bag-info.txt",
            field=label,
            found=given[label][0],
        )
    agents = given.get("Bag-Software-Agent", [])
    if len(agents) != 1 or not agents[0].startswith("provenance "):
        report.add(
            P.BAG_INFO_MISMATCH,
            f"bag-info.txt Bag-Software-Agent: {', '.join(agents) or '(absent)'}; provenance writes "
            "'provenance <version>'",
            path="bag-info.txt",
            field="Bag-Software-Agent",
            found=agents or None,
        )
    for label in sorted(labels):
        wanted = want.get(label, [])
        have = given.get(label, [])
        if have == wanted:  # every value wanted is its own info_value (made by it, or a plain value)
            continue
        have = [info_value(v) for v in have]
        if have != wanted:
            report.add(
                P.BAG_INFO_MISMATCH,
                f"bag-info.txt {label}: {', '.join(have) or '(absent)'}; the signed manifest gives "
                f"{', '.join(wanted) or '(nothing)'}",
                path="bag-info.txt",
                field=label,
                expected=wanted[0] if len(wanted) == 1 else (wanted or None),
                found=have[0] if len(have) == 1 else (have or None),
            )
    if not any(p.code is P.BAG_INFO_MISMATCH for p in report.problems):
        # the same labels and values: the bytes too (no folding, reordering or extra white space)
        pairs = [
            *expected,
            *((label, value) for label in UNCHECKED_INFO for value in given.get(label, ())),
        ]
        if bag_info_text(pairs).decode("utf-8") != findings.info_text:
            report.add(
                P.BAG_INFO_MISMATCH,
                "bag-info.txt is not laid out as provenance writes it (order, folding or white space changed)",
                path="bag-info.txt",
                found="layout",
            )
