"""BagIt tag files (RFC 8493 section 2): the declaration, bag-info, payload and tag manifests, written
and read. Parsing is strict: UTF-8 without a byte-order mark, ``Label: value`` lines, ``<hex> <path>``
manifest lines with every path through the one safe-path predicate."""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable

from provenance.bundle.entries import MAX_PATH_BYTES, UnsafePathError, safe_entry_path
from provenance.model.manifest import Manifest

BAGIT_VERSION = "1.0"
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
READABLE_VERSIONS = ("1.0", "0.97")  # 0.97 has the same layout and rules as 1.0 for everything read here
HEX_LENGTHS = {"sha256": 64, "sha512": 128}  # the algorithms read and written (RFC 8493 section 2.4)
MANIFEST_RE = re.compile(r"^manifest-([A-Za-z0-9]+)\.txt$")
TAGMANIFEST_RE = re.compile(r"^tagmanifest-([A-Za-z0-9]+)\.txt$")
MAX_TAG_FILE_BYTES = 64 << 20
PAYLOAD_DIR = "data"
MANIFEST_TAG = "provenance/manifest.json"
KEYS_TAG = "provenance/keys"
FILES_DIR = "data/files"
OBJECTS_DIR = "data/objects/sha256"
# bag-info.txt labels that a verifier does not compare with the signed manifest
UNCHECKED_INFO = ("Bagging-Date", "Bag-Software-Agent", "Payload-Oxum")

# The files outside data/ that provenance writes, and nothing else: a bag holding any other tag file is
# refused (``bag.file-unexpected``), listed in the tag manifests or not, since another tool would show it to
# a reader. One pattern per kind of tag file, matched against the whole bag path; add a line here for a new
# kind (the transparency log's ``provenance/log/checkpoint`` and ``provenance/log/<seq>.tlog-proof``).
# Manifest names are matched for any algorithm: an unsupported one is refused as ``bag.invalid``.
TAG_FILE_PATTERNS: list[str] = [
    r"bagit\.txt",
    r"bag-info\.txt",
    r"manifest-[A-Za-z0-9]+\.txt",
    r"tagmanifest-[A-Za-z0-9]+\.txt",
    r"fetch\.txt",  # refused on its own as bag.invalid (a bag that expects downloads)
    r"provenance/manifest\.json",
    r"provenance/keys/[^/]+\.json",
    # the transparency log (issue 10): checkpoint, one inclusion proof per event, earlier cosigned or
    # RFC 3161-timestamped checkpoints with their consistency proofs, and (export --log-tiles) hash tiles
    r"provenance/log/checkpoint",
    r"provenance/log/[1-9][0-9]{0,19}\.tlog-proof",
    r"provenance/log/cosigned/[1-9][0-9]{0,19}(\.proof)?",
    r"provenance/log/timestamps/[1-9][0-9]{0,19}(\.proof|\.tsr)?",
    r"provenance/log/tile/(0|[1-9][0-9]?)/(x[0-9]{3}/)*[0-9]{3}(\.p/[1-9][0-9]{0,2})?",
]


@functools.lru_cache(maxsize=4)
def _tag_file_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def is_written_tag_file(rel: str) -> bool:
    """Whether ``rel`` (a bag path outside ``data/``) is a kind of tag file provenance writes (the whole
    path matches one of :data:`TAG_FILE_PATTERNS`, tried as one pattern)."""
    return _tag_file_pattern(tuple(TAG_FILE_PATTERNS)).fullmatch(rel) is not None


# --------------------------------------------------------------------------------------------------------
# Writing (RFC 8493 sections 2.1.3, 2.2.2, 2.2.3)


def encode_manifest_path(rel: str) -> str:
    """Percent-encode CR, LF and ``%`` in a manifest path (RFC 8493 section 2.1.3)."""
    return rel.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_manifest_path(text: str) -> str:
    """Inverse of :func:`encode_manifest_path` (``%0d``/``%0a`` in either case)."""
    if "%" not in text:  # most names: nothing to decode
        return text
    return re.sub(r"%(0[DdAa]|25)", lambda m: {"0d": "\r", "0a": "\n", "25": "%"}[m.group(1).lower()], text)


def manifest_text(digests: dict[str, str]) -> bytes:
    """``<hex>  <path>`` lines sorted by path (two spaces, so ``sha256sum -c`` reads it too)."""
    return "".join(f"{digests[rel]}  {encode_manifest_path(rel)}\n" for rel in sorted(digests)).encode(
        "utf-8"
    )


# Printable ASCII words separated by single spaces: a value info_value leaves as it is.
_PLAIN_VALUE = re.compile(r"[!-~]+(?: [!-~]+)*")
_SPACES = re.compile(r"\s+")


def info_value(value: object) -> str:
    """A bag-info value on one line: line breaks and tabs become spaces (no folding is ever written), and
    any control or bidi character left is escaped exactly as the terminal output escapes it."""
    text = str(value)
    if _PLAIN_VALUE.fullmatch(text) is not None:  # most values: nothing to change
        return text
    from provenance.safetext import printable

    return printable(_SPACES.sub(" ", text).strip(), one_line=True)


def bag_info_text(pairs: Iterable[tuple[str, str]]) -> bytes:
    """``Label: value`` lines in the order given (RFC 8493 section 2.2.2)."""
    return "".join(f"{label}: {value}\n" for label, value in pairs).encode("utf-8")


CATALOGUE_LABELS: tuple[tuple[str, str], ...] = (
    ("document_type", "Document-Type"),
    ("issuing_body", "Issuing-Body"),
    ("telegram_number", "Telegram-Number"),
    ("series", "Series"),
    ("origin", "Origin"),
    ("sent", "Sent"),
    ("sent_as_written", "Sent-As-Written"),
    ("addressee", "Addressee"),
    ("addressee_identified_as", "Addressee-Identified-As"),
    ("author", "Author"),
    ("language", "Language"),
    ("original_language", "Original-Language"),
    ("source", "Source"),
    ("rights", "Rights"),
)


# Every label provenance may write in bag-info.txt; any other is ``bag.info-mismatch``.
WRITTEN_INFO_LABELS: frozenset[str] = frozenset(
    {
        "Source-Organization",
        "Provenance-Custodian",  # issue 14: the custody location, not an organisation
        "External-Identifier",
        "External-Description",
        *(label for _, label in CATALOGUE_LABELS),
        "Copies",
        "Provenance-Format",
        "Provenance-Events",
        "Provenance-Last-Event",
        "Provenance-History",
        *UNCHECKED_INFO,
    }
)


def bag_info_essentials(
    manifest: Manifest, *, history: bool, legacy_custody: bool = False
) -> list[tuple[str, str]]:
    """The catalogue essentials of ``bag-info.txt``, all derived from the signed manifest.

    A verifier recomputes them and compares (``bag.info-mismatch``): bag-info is not signed, so a
    publisher who reads it must not be misled by an edited copy. The custodian (a custody location such
    as "Reading room") is ``Provenance-Custodian``: BagIt's ``Source-Organization`` names an organisation,
    and a custody location is not one (issue 14). Bags written before said ``Source-Organization``;
    ``legacy_custody`` gives their form, so that they still verify.
    """
    from provenance.manifest_io import event_digest

    state = manifest.state
    catalogue = state.catalogue
    pairs: list[tuple[str, str]] = []
    if state.custodian:
        label = "Source-Organization" if legacy_custody else "Provenance-Custodian"
        pairs.append((label, info_value(state.custodian)))
    pairs.append(("External-Identifier", manifest.record))
    if catalogue.title:
        pairs.append(("External-Description", info_value(catalogue.title)))
    for name, label in CATALOGUE_LABELS:
        value = getattr(catalogue, name)
        if value is not None:
            pairs.append((label, info_value(value)))
    if catalogue.copies:
        copies = ", ".join(c.recipient + (f" ({c.count})" if c.count != 1 else "") for c in catalogue.copies)
        pairs.append(("Copies", info_value(copies)))
    pairs.append(("Provenance-Format", manifest.format))
    pairs.append(("Provenance-Events", str(len(manifest.events))))
    if manifest.events:
        pairs.append(("Provenance-Last-Event", event_digest(manifest.events[-1])))
    pairs.append(("Provenance-History", "included" if history else "not included"))
    return pairs


# --------------------------------------------------------------------------------------------------------
# Reading


class TagFileError(ValueError):
    """A tag file that cannot be parsed; the message says where."""


def decode_tag_file(data: bytes, name: str) -> str:
    """The bytes of a tag file as text (UTF-8, no byte-order mark); raises ``TagFileError``."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise TagFileError(f"{name} starts with a byte-order mark (RFC 8493 section 2.1.1 forbids it)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TagFileError(f"{name} is not UTF-8 (byte {exc.start})") from exc


def _lines(text: str) -> list[str]:
    lines = text.split("\n") if "\r" not in text else re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_tags(text: str, name: str) -> list[tuple[str, str]]:
    """``Label: value`` pairs in order; a line starting with space or tab continues the value (folding).

    Raises ``TagFileError`` naming the line.
    """
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        if line[0] in " \t":
            if not pairs:
                raise TagFileError(f"{name} line {number}: a continuation line without a label")
            label, value = pairs[-1]
            pairs[-1] = (label, f"{value} {line.strip()}")
            continue
        label, colon, value = line.partition(":")
        if not colon or not label or label != label.strip():
            raise TagFileError(f"{name} line {number}: not 'Label: value': {line[:80]!r}")
        pairs.append((label, value.strip()))
    return pairs


_MANIFEST_LINE = re.compile(r"([0-9A-Fa-f]+)[ \t]+(.+)")


def parse_manifest_file(text: str, name: str, algorithm: str) -> tuple[dict[str, str], list[str], list[str]]:
    """(path → lowercase hex, malformed-line messages, unsafe paths) of a (tag) manifest."""
    entries: dict[str, str] = {}
    errors: list[str] = []
    unsafe: list[str] = []
    width = HEX_LENGTHS[algorithm]
    for number, line in enumerate(_lines(text), start=1):
        if not line:
            continue
        match = _MANIFEST_LINE.fullmatch(line)
        if match is None or len(match.group(1)) != width:
            errors.append(f"{name} line {number}: not '<{algorithm} hex> <path>': {line[:80]!r}")
            continue
        raw = decode_manifest_path(match.group(2))
        try:
            rel = safe_entry_path(raw)
        except UnsafePathError as exc:
            unsafe.append(f"{name} line {number} names {raw!r}: {exc}")
            continue
        if rel != raw:
            unsafe.append(f"{name} line {number} names {raw!r}, which is not a normal relative path")
            continue
        if rel in entries:
            errors.append(f"{name} line {number}: {rel} is listed twice")
            continue
        entries[rel] = match.group(1).lower()
    return entries, errors, unsafe


# A manifest exactly as manifest_text writes it, every path plain (ASCII letters, digits, ".", "_", "-"; no "."
# or ".." segment, at most 255 bytes a segment): such a path passes safe_entry_path unchanged and needs no
# percent-decoding, so the whole text is checked by one pattern instead of line by line.
_PLAIN_SEGMENT = r"(?!\.\.?[/\n])[A-Za-z0-9._-]{1,255}"
_WRITTEN_MANIFEST = {
    algorithm: re.compile(rf"(?:[0-9a-f]{{{width}}}  {_PLAIN_SEGMENT}(?:/{_PLAIN_SEGMENT})*\n)*")
    for algorithm, width in HEX_LENGTHS.items()
}


def parse_written_manifest(text: str, algorithm: str) -> dict[str, str] | None:
    """The entries of a (tag) manifest that reads exactly as :func:`manifest_text` writes it (lower-case hex,
    two spaces, lines sorted by path, each path once, LF) with plain paths, or None for any other text.

    What it returns is what :func:`parse_manifest_file` returns for that text (no malformed line, no unsafe
    path), and the text is canonical; any other text is read by :func:`parse_manifest_file`, which says
    what is wrong with it.
    """
    pattern = _WRITTEN_MANIFEST.get(algorithm)
    if pattern is None or pattern.fullmatch(text) is None:
        return None
    width = HEX_LENGTHS[algorithm]
    lines = text.split("\n")
    lines.pop()  # the text ends with LF (or is empty)
    paths = [line[width + 2 :] for line in lines]
    if max(map(len, paths), default=0) > MAX_PATH_BYTES or not all(map(operator.lt, paths, paths[1:])):
        return None  # too long a path, or not sorted, or a path listed twice
    return dict(zip(paths, [line[:width] for line in lines], strict=True))
