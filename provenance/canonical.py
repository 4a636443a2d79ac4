"""Canonical bytes (RFC 8785) for hashing and signing, and a strict JSON reader.

* :func:`canonical_bytes` is the JSON Canonicalization Scheme (RFC 8785) as implemented by the
  ``rfc8785`` package. Our documents hold no floats, so floats are refused unless a caller asks for them
  explicitly (``allow_floats=True``, used only to check the published JCS test vectors).
* :func:`loads_strict` reads JSON the way the I-JSON profile (RFC 7493) asks for: UTF-8 without a BOM,
  no duplicate member names, no lone surrogates, numbers that are integers in the interoperable range,
  plus limits on size and nesting so a hostile file cannot exhaust memory or the stack.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Final, Literal

import rfc8785

__all__ = [
    "MAX_DEPTH",
    "MAX_INPUT_BYTES",
    "MAX_SAFE_INTEGER",
    "StrictJSONError",
    "StrictJSONKind",
    "canonical_bytes",
    "digest_of",
    "dumps_pretty",
    "loads_strict",
    "sha256_hex",
]

MAX_INPUT_BYTES: Final = 16 * 1024 * 1024
MAX_DEPTH: Final = 64
# RFC 7493 §2.2 (I-JSON): integers outside [-(2**53)+1, (2**53)-1] do not survive an IEEE 754 double.
MAX_SAFE_INTEGER: Final = 2**53 - 1

StrictJSONKind = Literal[
    "malformed", "duplicate-key", "float", "integer-range", "too-large", "too-deep", "not-utf8", "constant"
]


class StrictJSONError(ValueError):
    """JSON that :func:`loads_strict` refuses. ``kind`` says why; the message names what was found."""

    def __init__(self, kind: StrictJSONKind, message: str) -> None:
        super().__init__(message)
        self.kind: StrictJSONKind = kind
        self.message = message


# --------------------------------------------------------------------------------------------------------
# Canonical bytes and digests


def _floats_in(value: object) -> Iterator[float]:
    """Every float inside ``value`` (iterative, so deep values cannot overflow the stack)."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _plain(value: object) -> bool:
    """True when ``value`` holds only what our documents hold (dict with str keys, list, str, bool, None,
    int within ±(2**53 - 1)), each of exactly that type: the domain where :func:`json.dumps` with sorted
    keys writes RFC 8785 bytes (iterative, so deep values cannot overflow the stack)."""
    stack: list[object] = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is int:
            if -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:  # type: ignore[operator]
                continue
            return False
        if kind is dict:
            for key in item:  # type: ignore[attr-defined]
                if type(key) is not str:
                    return False
            extend(item.values())  # type: ignore[attr-defined]
        elif kind is list:
            extend(item)  # type: ignore[arg-type]
        else:
            return False
    return True


# The fast path: for the plain domain above, RFC 8785 bytes are json.dumps with sorted keys and no spaces.
# Both escape exactly '"', '\\' and U+0000-U+001F (\b \f \n \r \t short, the rest \u00xx lowercase,
# RFC 8785 §3.2.2.2), write integers in decimal (§3.2.2.3 for integers in the I-JSON range), and sort
# names; Python sorts by code point, RFC 8785 §3.2.3 by UTF-16 code unit, which agree unless a name holds
# a character beyond U+FFFF: such text takes the reference implementation (``rfc8785``). Only the
# documented interface of :class:`json.JSONEncoder` is used (its arguments and ``encode``); the tests check
# the bytes against ``rfc8785`` on generated values, so a json module that wrote otherwise would be caught.
_FAST_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False, check_circular=False
)
_BEYOND_BMP = re.compile("[\U00010000-\U0010ffff]")


def canonical_bytes(value: object, *, allow_floats: bool = False, parsed: bool = False) -> bytes:
    """The RFC 8785 (JCS) serialisation of ``value``: the bytes we hash and sign.

    RFC 8785 §3.2.3 sorts object members by the UTF-16 code units of their names, §3.2.2.2 fixes the
    string escapes, and §3.2.2.3 serialises numbers as ECMAScript does. Our documents contain no floats,
    so a float raises ``ValueError`` unless ``allow_floats`` is true (kept for the JCS test vectors, whose
    inputs contain floats). Integers outside ±(2**53 - 1) (RFC 7493 §2.2), lone surrogates, non-string
    keys and other types also raise ``ValueError`` (``rfc8785.CanonicalizationError``).

    Values of the plain JSON domain are written by :class:`json.JSONEncoder` (see ``_FAST_ENCODER``);
    anything else goes to the ``rfc8785`` reference implementation, which decides. ``parsed`` says that
    ``value`` is (part of) what :func:`loads_strict` returned, which is plain by construction: the walk
    that checks it is skipped (a verifier canonicalises every event it reads).
    """
    if parsed or _plain(value):
        text = _FAST_ENCODER.encode(value)
        if text.isascii():
            return text.encode("ascii")
        if _BEYOND_BMP.search(text) is None:
            try:
                return text.encode("utf-8")
            except UnicodeEncodeError:
                pass  # a lone surrogate: the reference implementation raises its error
    if not allow_floats:
        for found in _floats_in(value):
            raise ValueError(f"canonical JSON refuses floats; found {found!r}")
    return rfc8785.dumps(value)  # type: ignore[arg-type]  # rfc8785 checks the types itself


def sha256_hex(data: bytes) -> str:
    """Lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def digest_of(value: object) -> str:
    """``"sha256:" + hex`` of :func:`canonical_bytes` of ``value``."""
    return "sha256:" + sha256_hex(canonical_bytes(value))


# --------------------------------------------------------------------------------------------------------
# Strict parsing

_BOM = "\ufeff"
# A JSON string, escapes included. An unterminated string (even one ending in a lone backslash) runs to
# the end of the text, so the pattern always matches at a quote without backtracking; json.loads then
# reports such text as malformed.
_STRING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_BRACKET_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_INT_DIGITS_LIMIT = len(str(MAX_SAFE_INTEGER))  # 16 digits


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than ``max_depth`` with a linear scan, before any recursive parser runs."""
    brackets = _NOT_BRACKET_RE.sub("", _STRING_RE.sub("", text))
    # the running depth after each bracket, at C speed (map, accumulate and max iterate in C)
    if max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > max_depth:
        raise StrictJSONError("too-deep", f"JSON nests deeper than {max_depth} levels")


def _object_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # RFC 7493 §2.3: "Objects in I-JSON messages MUST NOT have members with duplicate names."
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise StrictJSONError("duplicate-key", f"duplicate key {name[:200]!r} in a JSON object")
            seen.add(name)
    return result


def _parse_float(literal: str) -> object:
    # Our documents hold integers only; a fraction or an exponent (even 1.0 or 1e3) is refused.
    raise StrictJSONError("float", f"number with a fraction or exponent is not allowed: {literal[:40]}")


def _parse_int(literal: str) -> int:
    # RFC 7493 §2.2: only integers in [-(2**53)+1, (2**53)-1] interoperate. The digit count is checked
    # before int() so a huge literal costs nothing (and never meets Python's int-conversion limit).
    if len(literal.lstrip("-")) > _INT_DIGITS_LIMIT:
        raise StrictJSONError("integer-range", f"integer outside ±(2**53 - 1): {literal[:40]}...")
    value = int(literal)
    if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        raise StrictJSONError("integer-range", f"integer outside ±(2**53 - 1): {literal}")
    return value


def _parse_constant(name: str) -> object:
    # NaN, Infinity and -Infinity are not JSON (RFC 8259 §6); Python's json accepts them by default.
    raise StrictJSONError("constant", f"{name} is not a JSON value")


def _surrogate_error(text: str) -> StrictJSONError | None:
    found = _SURROGATE_RE.search(text)
    if found is None:
        return None
    return StrictJSONError("malformed", f"string contains a lone surrogate \\u{ord(found.group()):04x}")


def _int_error(value: int) -> StrictJSONError:
    return StrictJSONError("integer-range", f"integer outside ±(2**53 - 1): {str(value)[:40]}")


def _check_parsed(value: object, max_depth: int, strings: bool, ints: bool = True) -> None:
    """One walk over a parsed value: nesting depth (when the scan before parsing was skipped), integers
    within ±(2**53 - 1) (RFC 7493 §2.2) and, when ``strings``, lone surrogates (e.g. ``"\\ud800"``), which
    are not Unicode scalar values (RFC 7493 §2.1). Iterative, so deep values cannot overflow the stack."""
    if type(value) is str:
        error = _surrogate_error(value) if strings else None
        if error is not None:
            raise error
        return
    if type(value) is int:
        if ints and not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _int_error(value)
        return
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise StrictJSONError("too-deep", f"JSON nests deeper than {max_depth} levels")
        if type(item) is dict:
            members: Iterable[object] = item.values()
            if strings:
                for name in item:
                    error = _surrogate_error(name)
                    if error is not None:
                        raise error
        elif type(item) is list:
            members = item
        else:
            continue
        for member in members:
            kind = type(member)
            if kind is dict or kind is list:
                stack.append((member, depth + 1))
            elif ints and kind is int:
                if not -MAX_SAFE_INTEGER <= member <= MAX_SAFE_INTEGER:  # type: ignore[operator]
                    raise _int_error(member)  # type: ignore[arg-type]
            elif strings and kind is str:
                error = _surrogate_error(member)  # type: ignore[arg-type]
                if error is not None:
                    raise error


# A lone surrogate can only come from a \u escape (strict UTF-8 decoding refuses encoded ones), so text
# without a \uD800-\uDFFF escape needs no search of its strings.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")
# The C parser of json guards its recursion with the interpreter's limit; while that limit is modest the
# depth is checked after parsing, in the same walk as the surrogates, instead of by a scan before it.
_SAFE_RECURSION_LIMIT = 4000
# Integer literals are read natively while Python refuses those of more digits than this itself.
_NATIVE_INT_DIGITS = 5000
# every digit to "0", every other byte to " ": a run of 16 digits is then a plain substring search
_DIGIT_MAP = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_SIXTEEN_DIGITS = b"0" * 16


def _has_long_digits(raw: bytes | None, text: str) -> bool:
    data = raw if raw is not None else text.encode("utf-8", "surrogatepass")
    return _SIXTEEN_DIGITS in data.translate(_DIGIT_MAP)


def loads_strict(
    data: bytes | str, *, max_bytes: int = MAX_INPUT_BYTES, max_depth: int = MAX_DEPTH, unique_names: bool = True
) -> object:
    """Parse JSON, refusing anything outside the I-JSON (RFC 7493) subset we write.

    Raises :class:`StrictJSONError` whose ``kind`` is one of ``too-large`` (more than ``max_bytes`` of
    UTF-8), ``not-utf8`` (invalid UTF-8 or a BOM, RFC 7493 §2.1 / RFC 8259 §8.1), ``too-deep`` (more than
    ``max_depth`` nested arrays/objects), ``malformed`` (not JSON, or a lone surrogate), ``duplicate-key``,
    ``float`` (a fraction or exponent), ``integer-range`` (beyond ±(2**53 - 1)) or ``constant``
    (NaN/Infinity). Never raises RecursionError.

    ``unique_names=False`` leaves duplicate names unlooked-for (the last one wins), which spares a Python
    call for every object: only for a caller that proves their absence another way, as the manifest reader
    does when the bytes equal what is written for the value parsed (which names each member once).
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise StrictJSONError("too-large", f"JSON input is {len(raw)} bytes, over the {max_bytes} limit")
        if raw.startswith(b"\xef\xbb\xbf"):
            raise StrictJSONError("not-utf8", "JSON input starts with a byte order mark")
        try:
            text = raw.decode("utf-8")  # strict: rejects overlongs, encoded surrogates, truncations
        except UnicodeDecodeError as exc:
            raise StrictJSONError("not-utf8", f"JSON input is not UTF-8 (byte {exc.start})") from None
    elif isinstance(data, str):
        if len(data) > max_bytes:  # every character is at least one UTF-8 byte
            raise StrictJSONError("too-large", f"JSON input is over the {max_bytes}-byte limit")
        size = len(data.encode("utf-8", "surrogatepass"))
        if size > max_bytes:
            raise StrictJSONError("too-large", f"JSON input is {size} bytes, over the {max_bytes} limit")
        if data.startswith(_BOM):
            raise StrictJSONError("not-utf8", "JSON input starts with a byte order mark")
        text = data
    else:
        raise TypeError(f"loads_strict takes bytes or str, not {type(data).__name__}")

    scanned = sys.getrecursionlimit() > _SAFE_RECURSION_LIMIT
    if scanned:
        _check_depth(text, max_depth)
    # While Python itself refuses integer literals of more than a few thousand digits (its default
    # int_max_str_digits), the parser reads integers natively and their range is checked in the walk after
    # parsing; with that limit lifted, every literal goes through _parse_int, which counts digits first.
    native_ints = 0 < sys.get_int_max_str_digits() <= _NATIVE_INT_DIGITS
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_pairs if unique_names else None,
            parse_float=_parse_float,
            parse_int=None if native_ints else _parse_int,
            parse_constant=_parse_constant,
        )
    except StrictJSONError:
        raise
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise StrictJSONError("malformed", f"invalid JSON: {exc.msg} ({where})") from None
    except RecursionError:  # nesting beyond the interpreter's limit (the json parser guards its recursion)
        raise StrictJSONError("too-deep", "JSON nests too deeply to parse") from None
    except ValueError:  # Python's own limit on the digits of an integer literal
        raise StrictJSONError("integer-range", "integer outside ±(2**53 - 1): too many digits") from None
    strings = _SURROGATE_ESCAPE_RE.search(text) is not None or (
        not isinstance(data, bytes | bytearray | memoryview) and _SURROGATE_RE.search(text) is not None
    )
    # What the walk must look for, found cheaply in the text first: an integer beyond 2**53 has at least
    # 16 digits; nesting deeper than max_depth needs more than max_depth brackets.
    ints = native_ints and _has_long_digits(raw if isinstance(data, bytes | bytearray | memoryview) else None, text)
    deep = not scanned and text.count("[") + text.count("{") > max_depth
    if strings or ints:
        _check_parsed(value, max_depth if deep else MAX_INPUT_BYTES, strings, ints)
    elif deep:  # the parser's own recursion guard held: the parsed value is as deep as the text
        _check_parsed(value, max_depth, False, False)
    return value


# --------------------------------------------------------------------------------------------------------
# Files people read


def dumps_pretty(value: object) -> bytes:
    """Readable UTF-8 JSON for files on disk: indent 2, keys in the given order, trailing newline.

    Not canonical; never hash these bytes. NaN/Infinity raise ``ValueError``, and so does a string that
    cannot be encoded as UTF-8 (a lone surrogate). This is the one layout the tool writes and a verifier
    compares a manifest's bytes with: each member or item on its own line, indented two spaces a level,
    ``": "`` after a name, ``","`` at the end of a line, empty containers as ``{}`` and ``[]``, strings and
    numbers as :class:`json.JSONEncoder` writes them with ``ensure_ascii=False`` (the escapes RFC 8785 also
    uses). It is built from documented calls of :mod:`json` only (see :func:`_pretty`), and equals
    ``json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False)`` (a test compares them).
    """
    try:
        text = _pretty(value, 0)
    except RecursionError:  # a cycle or a deep value: json.dumps says which
        text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


# Each innermost container (one holding no container) is written in one call of a json.JSONEncoder whose
# item separator is ",\n" + the indent of its items (json's documented ``separators`` argument, without
# ``indent``, which CPython 3.11 writes in pure Python); only the containers around those are walked here.
_LEAF_ENCODERS: dict[int, json.JSONEncoder] = {}
_CONTAINERS = (dict, list, tuple)
_SCALAR_TYPES = frozenset({str, int, bool, float, type(None)})
_STRING_ENCODER = json.JSONEncoder(ensure_ascii=False)


def pretty_string(text: str) -> str:
    """A JSON string as :func:`dumps_pretty` writes it (non-ASCII as itself, json's escapes)."""
    return _STRING_ENCODER.encode(text)


def _leaf_encoder(depth: int) -> json.JSONEncoder:
    encoder = _LEAF_ENCODERS.get(depth)
    if encoder is None:
        encoder = _LEAF_ENCODERS[depth] = json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, check_circular=False,
            separators=(",\n" + "  " * (depth + 1), ": "),
        )
    return encoder


def _pretty(value: object, depth: int) -> str:
    """:func:`dumps_pretty`'s text of ``value`` at ``depth`` (without the final newline)."""
    kind = type(value)
    if kind is str:
        return pretty_string(value)  # type: ignore[arg-type]
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if not isinstance(value, _CONTAINERS):
        return _leaf_encoder(depth).encode(value)
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    inner = "\n" + "  " * (depth + 1)
    outer = "\n" + "  " * depth
    items = value.values() if isinstance(value, dict) else value
    nested = [index for index, item in enumerate(items) if isinstance(item, _CONTAINERS) and item]
    if not nested:  # an innermost container: all of it in one call
        text = _leaf_encoder(depth).encode(value)
        return text[0] + inner + text[1:-1] + outer + text[-1]
    if not isinstance(value, dict) and len(nested) == len(value) and _leaf_dicts(value):
        return _pretty_leaf_dicts(value, depth)  # type: ignore[arg-type]
    # The container written in one call with null in place of each non-empty container it holds, split into
    # its members at the item separator (a written scalar or name never holds a newline: json escapes it),
    # then each null replaced by the text of its container, one level deeper.
    if isinstance(value, dict):
        keys = list(value)
        shallow: dict[object, object] | list[object] = dict(value)
        for index in nested:
            shallow[keys[index]] = None
    else:
        keys = []
        shallow = list(value)
        for index in nested:
            shallow[index] = None
    text = _leaf_encoder(depth).encode(shallow)
    parts = text[1:-1].split("," + inner)
    for index in nested:
        child = value[keys[index]] if keys else value[index]
        parts[index] = parts[index][:-4] + _pretty(child, depth + 1)  # "null" → the container's text
    return text[0] + inner + ("," + inner).join(parts) + outer + text[-1]


def _leaf_dicts(items: object) -> bool:
    """A list of non-empty dicts holding no container (a dossier's file list): one call writes it."""
    if type(items) is not list:
        return False
    scalars = _SCALAR_TYPES.issuperset
    return all(type(item) is dict and item and scalars(map(type, item.values())) for item in items)


def _pretty_leaf_dicts(items: list[dict[object, object]], depth: int) -> str:
    """The list written in one call, with the separator of the dicts' members, then re-indented at the
    seams between items: ``},<newline><indent>{`` occurs nowhere else, since a member is followed by a
    quoted name, never by ``{``, and no scalar ends in ``}``."""
    zero = "\n" + "  " * depth
    one = zero + "  "
    two = one + "  "
    text = _leaf_encoder(depth + 1).encode(items)  # "[{" ... "}]", everything separated by "," + two
    body = text[2:-2].replace("}," + two + "{", one + "}," + one + "{" + two)
    return "[" + one + "{" + two + body + one + "}" + zero + "]"
