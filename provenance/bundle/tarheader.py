"""Tar headers read the one way GNU tar, bsdtar, 7-Zip and Python's tarfile agree on.

Formats (POSIX.1-2001 ``pax``, its ``ustar`` base, and GNU tar's): a member is one 512-byte header,
possibly preceded by one pax extended header (typeflag ``x``) or one GNU long-name record (``L``), then
its data padded to 512 bytes. What is accepted, and why the rest is refused:

* magic ``ustar\\0`` version ``00`` (POSIX; the 155-byte prefix is joined to the name, bytes 500-511 are
  zero: star puts its own fields there) or ``ustar  \\0`` (GNU; the area where ustar has the prefix holds
  GNU's atime, ctime, multi-volume offset and sparse map, which must be zero: a ustar reader would take
  them for a prefix). Pre-POSIX (v7) headers are refused.
* the checksum is the unsigned sum (POSIX); every numeric field that a reader parses is plain octal
  (optional leading spaces, then NUL or space padding): tarfile stops reading an archive silently at a
  field it cannot parse, GNU tar warns and reads on. Base-256 numbers are refused.
* text fields end at their first NUL and hold only NULs after it (readers that scan the whole field
  disagree with those that stop); names are UTF-8.
* typeflags ``0`` and NUL (regular file, never with a name ending in ``/``: readers make it a folder or
  not), ``5`` (folder, no data); links ``1`` and ``2``, devices ``3`` ``4`` and FIFOs ``6`` are refused
  as unsafe; contiguous ``7`` (regular for some, special for others), GNU sparse ``S``, volume label
  ``V``, multi-volume ``M``, old long names ``N``, dump directories ``D``, pax global headers ``g``
  (applied to every later member by some readers, ignored by others), Solaris ``X`` and vendor types are
  refused as unsupported.
* a pax record is ``"%d %s=%s\\n"`` with its exact length; keys ``path`` (UTF-8, non-empty), ``size``
  (must equal the header's: a reader that ignores pax reads the header's), the times, ids and names, and
  ``comment`` are read; ``linkpath`` on a regular file, ``GNU.sparse.*`` (sparse formats 0.0, 0.1, 1.0),
  ``hdrcharset``/``charset`` (another decoding of names), ``SCHILY.*``/``LIBARCHIVE.*`` (file types,
  extended attributes that some systems turn into content) and any other key are refused; a key may
  appear once.
* a member has one name: a GNU long name together with a pax ``path``, two pax headers or two long names
  in a row, or a long link name for a member that is no link, are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from provenance.model.problems import ProblemCode as P

BLOCK_SIZE = 512
ZERO_BLOCK = bytes(BLOCK_SIZE)
POSIX_MAGIC, GNU_MAGIC = b"ustar\x0000", b"ustar  \x00"
_NUMBER = re.compile(rb" *([0-7]+)[ \x00]*")
_EMPTY = re.compile(rb"[ \x00]*")
_PAX_LENGTH = re.compile(rb"([1-9][0-9]{0,19}) ")
# (field, start, end, may be blank)
_NUMERIC = (("mode", 100, 108, True), ("uid", 108, 116, True), ("gid", 116, 124, True),
            ("size", 124, 136, False), ("mtime", 136, 148, True), ("devmajor", 329, 337, True),
            ("devminor", 337, 345, True))  # fmt: skip

REGULAR, FOLDER = (b"0", b"\x00"), b"5"
PAX, GLOBAL, LONG_NAME, LONG_LINK = b"x", b"g", b"L", b"K"
UNSAFE_TYPES = {b"1": "hard link", b"2": "symbolic link", b"3": "character device", b"4": "block device",
                b"6": "fifo"}  # fmt: skip
UNSUPPORTED_TYPES = {b"7": "contiguous file", b"S": "GNU sparse file", b"V": "GNU volume label",
                     b"M": "GNU multi-volume continuation", b"N": "GNU old long name", b"D": "GNU dump directory",
                     b"X": "Solaris extended header", b"A": "Solaris access control list",
                     b"E": "Solaris extended attribute", b"I": "inode metadata"}  # fmt: skip
PAX_IGNORED = frozenset({"mtime", "atime", "ctime", "uid", "gid", "uname", "gname", "comment"})


class HeaderError(Exception):
    """A header that cannot be read at all (``bundle.malformed``): the archive's framing is lost."""


@dataclass
class Header:
    """One 512-byte header, as read; ``problems`` lists what is refused in it."""

    type: bytes
    name: str
    size: int
    linkname: bytes
    problems: list[tuple[P, str]] = field(default_factory=list)


def _text(raw: bytes, what: str, problems: list[tuple[P, str]]) -> bytes:
    """A NUL-terminated field; bytes after the first NUL must be NULs."""
    value, nul, rest = raw.partition(b"\x00")
    if nul and rest.strip(b"\x00"):
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, f"its {what} field holds bytes after its end (readers that "
                         "scan the whole field read another name)"))
    return value


def _number(raw: bytes, what: str, blank_ok: bool) -> int:
    match = _NUMBER.fullmatch(raw)
    if match is not None:
        return int(match.group(1), 8)
    if raw[0] & 0x80:
        raise HeaderError(f"base-256 {what} field (a GNU extension not every reader decodes alike)")
    if blank_ok and _EMPTY.fullmatch(raw):
        return 0
    raise HeaderError(f"its {what} field {raw!r} is not an octal number")


def parse_header(block: bytes) -> Header:
    """Read one header block (not all zero); raises ``HeaderError`` when its framing cannot be trusted."""
    stored = _number(block[148:156], "checksum", False)
    if stored != sum(block[:148]) + 8 * 32 + sum(block[156:]):
        raise HeaderError("its checksum does not match (or is computed over signed bytes)")
    size = 0
    for what, start, end, blank in _NUMERIC:  # every field tarfile parses: it stops silently at a bad one
        value = _number(block[start:end], what, blank)
        if what == "size":
            size = value
    problems: list[tuple[P, str]] = []
    magic = block[257:265]
    name = _text(block[0:100], "name", problems)
    if magic == POSIX_MAGIC:
        prefix = _text(block[345:500], "prefix", problems)
        if block[500:512].strip(b"\x00"):
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, "bytes 500-511 of its header are in use (star's "
                             "format, which readers decode differently)"))
        if prefix:
            name = prefix + b"/" + name
    elif magic == GNU_MAGIC:
        if block[345:500].strip(b"\x00"):
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, "its GNU header uses the access/change times, "
                             "multi-volume or sparse fields (a ustar reader takes them for a name prefix)"))
    else:
        raise HeaderError(f"magic {magic!r}: not a POSIX or GNU tar header (v7 headers are not read)")
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, "its name is not UTF-8 (readers decode it differently)"))
        text = name.decode("utf-8", "replace")
    linkname = _text(block[157:257], "link name", problems)
    return Header(block[156:157], text, size, linkname, problems)


def parse_pax(data: bytes) -> tuple[dict[str, bytes], list[tuple[P, str]]]:
    """The records of a pax extended header (POSIX.1-2001 ``pax`` "extended header"), strictly.

    Raises ``HeaderError`` when the records do not parse (their framing is lost).
    """
    records: dict[str, bytes] = {}
    problems: list[tuple[P, str]] = []
    at = 0
    while at < len(data):
        match = _PAX_LENGTH.match(data, at)
        if match is None:
            raise HeaderError("a pax record without its decimal length")
        length = int(match.group(1))
        record = data[at : at + length]
        if len(record) != length or not record.endswith(b"\n"):
            raise HeaderError("a pax record whose length does not end at its newline")
        key_bytes, equals, value = record[match.end() - at : -1].partition(b"=")
        if not equals or not key_bytes:
            raise HeaderError("a pax record without 'key=value'")
        key = key_bytes.decode("utf-8", "replace")
        if key in records:
            problems.append((P.BUNDLE_HEADER_MISMATCH, f"the pax key {key!r} appears twice (readers keep the "
                             "first or the last)"))
        records[key] = value
        at += length
    for key in records:
        if key in ("path", "size", "linkpath") or key in PAX_IGNORED:
            continue
        if key.startswith("GNU.sparse."):
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"a sparse member (pax key {key!r})"))
        elif key in ("hdrcharset", "charset"):
            problems.append((P.BUNDLE_AMBIGUOUS_NAME, f"pax key {key!r}: names in another encoding"))
        else:
            problems.append((P.BUNDLE_UNSUPPORTED_FEATURE, f"pax key {key!r}, which provenance does not read "
                             "(some readers give it a meaning)"))
    return records, problems


def long_name(data: bytes, problems: list[tuple[P, str]]) -> str:
    """The name in a GNU ``L`` record: up to its NUL, only NULs after."""
    value = _text(data, "GNU long name", problems)
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, "its GNU long name is not UTF-8"))
        return value.decode("utf-8", "replace")


def pax_name(value: bytes, problems: list[tuple[P, str]]) -> str:
    """The pax ``path``: UTF-8, not empty (an empty value unsets it: readers differ), no NUL."""
    if not value or b"\x00" in value:
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, "its pax path is empty or holds a NUL"))
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        problems.append((P.BUNDLE_AMBIGUOUS_NAME, "its pax path is not UTF-8"))
        return value.decode("utf-8", "replace")


def pax_size(value: bytes) -> int | None:
    """The pax ``size`` as a number, or None when it is not plain decimal."""
    return int(value) if value.isdigit() and value.isascii() and len(value) <= 20 else None
