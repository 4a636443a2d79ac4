"""RFC 8785 canonical bytes, strict JSON parsing (RFC 7493 I-JSON) and pretty files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.canonical import (
    MAX_SAFE_INTEGER,
    StrictJSONError,
    canonical_bytes,
    digest_of,
    dumps_pretty,
    loads_strict,
    sha256_hex,
)

JCS = Path(__file__).parent / "data" / "vectors" / "jcs"
JCS_NAMES = sorted(p.name for p in (JCS / "input").glob("*.json"))


# ---------------------------------------------------------------------------------------------------------
# RFC 8785 vectors: cyberphone/json-canonicalization testdata/ (commit 19d51d7, Apache-2.0), copied into
# tests/data/vectors/jcs/ (see its README.md). Each input must canonicalise to exactly its output's bytes.
# Some inputs hold floats (values.json, structures.json has 56.0), which our own documents never do, so
# the inputs are read with the permissive json.loads and canonicalised with allow_floats=True.


def test_jcs_vectors_present() -> None:
    assert JCS_NAMES == [
        "arrays.json",
        "french.json",
        "structures.json",
        "unicode.json",
        "values.json",
        "weird.json",
    ]


@pytest.mark.parametrize("name", JCS_NAMES)
def test_jcs_vector(name: str) -> None:
    value = json.loads((JCS / "input" / name).read_bytes())
    expected = (JCS / "output" / name).read_bytes()
    assert canonical_bytes(value, allow_floats=True) == expected


@pytest.mark.parametrize("name", JCS_NAMES)
def test_jcs_vector_through_strict_parser(name: str) -> None:
    """Float-free vectors go through loads_strict and the default (float-refusing) canonical_bytes."""
    data = (JCS / "input" / name).read_bytes()
    expected = (JCS / "output" / name).read_bytes()
    if name in {"values.json", "structures.json"}:
        with pytest.raises(StrictJSONError) as info:
            loads_strict(data)
        assert info.value.kind == "float"
        return
    assert canonical_bytes(loads_strict(data)) == expected
    assert canonical_bytes(loads_strict(expected)) == expected


# ---------------------------------------------------------------------------------------------------------
# canonical_bytes, digests


def test_canonical_sorts_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16, after it in code points
    assert canonical_bytes({"\ufb33": 1, "\U0001f600": 2, "a": 3}) == (
        '{"a":3,"\U0001f600":2,"\ufb33":1}'.encode()
    )


@pytest.mark.parametrize("value", [1.5, 1.0, [0.0], {"a": {"b": [2.5]}}, float("nan")])
def test_canonical_refuses_floats(value: object) -> None:
    with pytest.raises(ValueError, match="float"):
        canonical_bytes(value)


def test_canonical_allow_floats() -> None:
    assert canonical_bytes({"n": [1.0, 1e30, 0.002]}, allow_floats=True) == b'{"n":[1,1e+30,0.002]}'


@pytest.mark.parametrize("value", [2**53, -(2**53), {"a": 10**20}, {1: "x"}, "\ud800", object()])
def test_canonical_refuses_values_outside_i_json(value: object) -> None:
    with pytest.raises(ValueError):
        canonical_bytes(value)


def test_canonical_integer_bounds() -> None:
    assert canonical_bytes([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]) == b"[9007199254740991,-9007199254740991]"


def test_digests() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert digest_of({"b": 1, "a": [True, None]}) == "sha256:" + sha256_hex(b'{"a":[true,null],"b":1}')


# ---------------------------------------------------------------------------------------------------------
# loads_strict: each refused input with the kind it must report

DEEP_ARRAYS = b"[" * 10_000 + b"]" * 10_000
DEEP_OBJECTS = b'{"a":' * 10_000 + b"1" + b"}" * 10_000

STRICT_CASES: list[tuple[str, bytes | str, str]] = [
    ("duplicate key", b'{"a":1,"a":2}', "duplicate-key"),
    ("nested duplicate key", b'{"x":[{"k":1,"j":2,"k":3}]}', "duplicate-key"),
    ("float", b"[1.5]", "float"),
    ("float with zero fraction", b"1.0", "float"),
    ("exponent", b"1e3", "float"),
    ("negative exponent", b'{"n":-2E-3}', "float"),
    ("big int", b"9007199254740992", "integer-range"),
    ("big negative int", b"[-9007199254740992]", "integer-range"),
    ("huge int", b"1" + b"0" * 10_000, "integer-range"),
    ("NaN", b"NaN", "constant"),
    ("Infinity", b"[Infinity]", "constant"),
    ("-Infinity", b'{"a":-Infinity}', "constant"),
    ("BOM", b"\xef\xbb\xbf{}", "not-utf8"),
    ("BOM in str", "\ufeff{}", "not-utf8"),
    ("bad UTF-8", b'"\xff"', "not-utf8"),
    ("overlong UTF-8", b'"\xc0\xaf"', "not-utf8"),
    ("UTF-8 encoded surrogate", b'"\xed\xa0\x80"', "not-utf8"),
    ("truncated UTF-8", b'"\xe2\x82"', "not-utf8"),
    ("UTF-16", '{"a":1}'.encode("utf-16"), "not-utf8"),
    ("lone high surrogate", b'"\\ud800"', "malformed"),
    ("lone low surrogate in key", b'{"\\udc00":1}', "malformed"),
    ("reversed surrogate pair", b'["\\ude02\\ud83d"]', "malformed"),
    ("depth 10_000 arrays", DEEP_ARRAYS, "too-deep"),
    ("depth 10_000 objects", DEEP_OBJECTS, "too-deep"),
    ("100k unclosed arrays", b"[" * 100_000, "too-deep"),
    ("depth 65", b"[" * 65 + b"]" * 65, "too-deep"),
    ("too large", b"[" + b"1," * (8 * 1024 * 1024) + b"1]", "too-large"),
    ("empty", b"", "malformed"),
    ("trailing comma", b"[1,]", "malformed"),
    ("single quotes", b"{'a':1}", "malformed"),
    ("comment", b"[1] // no", "malformed"),
    ("raw control character", b'"a\x01b"', "malformed"),
    ("leading zero", b"01", "malformed"),
    ("unterminated string", b'["abc', "malformed"),
    ("unterminated after backslash", b'["[[[[\\', "malformed"),
]


@pytest.mark.parametrize(
    ("data", "kind"), [(d, k) for _, d, k in STRICT_CASES], ids=[n for n, _, _ in STRICT_CASES]
)
def test_strict_refuses(data: bytes | str, kind: str) -> None:
    with pytest.raises(StrictJSONError) as info:
        loads_strict(data)
    assert info.value.kind == kind


def test_strict_message_names_the_duplicate_key() -> None:
    with pytest.raises(StrictJSONError) as info:
        loads_strict(b'{"title":1,"author":2,"title":3}')
    assert "'title'" in str(info.value)


def test_strict_message_names_the_float() -> None:
    with pytest.raises(StrictJSONError) as info:
        loads_strict(b'{"n": 12.75}')
    assert "12.75" in str(info.value)


def test_strict_max_bytes_counts_utf8_bytes() -> None:
    text = '"' + "ж" * 10 + '"'  # 12 characters, 22 UTF-8 bytes
    assert loads_strict(text, max_bytes=22) == "ж" * 10
    with pytest.raises(StrictJSONError) as info:
        loads_strict(text, max_bytes=21)
    assert info.value.kind == "too-large"
    with pytest.raises(StrictJSONError) as info:
        loads_strict(text.encode(), max_bytes=21)
    assert info.value.kind == "too-large"


def test_strict_depth_limit_is_inclusive_and_configurable() -> None:
    assert loads_strict(b"[" * 64 + b"]" * 64) is not None
    assert loads_strict(b"[" * 5 + b"]" * 5, max_depth=5) == [[[[[]]]]]
    with pytest.raises(StrictJSONError) as info:
        loads_strict(b"[" * 6 + b"]" * 6, max_depth=5)
    assert info.value.kind == "too-deep"


def test_strict_brackets_inside_strings_do_not_count() -> None:
    text = '["' + "[" * 1000 + '", "\\"{{{{", "\\\\", "]]]"]'
    assert loads_strict(text) == ["[" * 1000, '"{{{{', "\\", "]]]"]


def test_strict_never_raises_recursion_error() -> None:
    # Even with the depth limit lifted, a stack-deep document is reported, not crashed on.
    with pytest.raises(StrictJSONError) as info:
        loads_strict(b"[" * 100_000 + b"]" * 100_000, max_depth=10**6)
    assert info.value.kind == "too-deep"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"9007199254740991", MAX_SAFE_INTEGER),
        (b"-9007199254740991", -MAX_SAFE_INTEGER),
        (b"-0", 0),
        (b'"\\ud83d\\ude02"', "\U0001f602"),
        (b' {"a" : [true, false, null, "\\u00e9"]} \n', {"a": [True, False, None, "é"]}),
        ('{"ж":"ё"}', {"ж": "ё"}),
        (b'"\\u0000"', "\x00"),
    ],
)
def test_strict_accepts(data: bytes | str, expected: object) -> None:
    assert loads_strict(data) == expected


def test_strict_is_an_error_with_kind_and_message() -> None:
    error = StrictJSONError("float", "a message")
    assert isinstance(error, ValueError)
    assert (error.kind, error.message, str(error)) == ("float", "a message", "a message")


# ---------------------------------------------------------------------------------------------------------
# dumps_pretty


def test_dumps_pretty() -> None:
    out = dumps_pretty({"z": 1, "a": ["é", None]})
    assert out == '{\n  "z": 1,\n  "a": [\n    "é",\n    null\n  ]\n}\n'.encode()
    assert loads_strict(out) == {"z": 1, "a": ["é", None]}


def test_dumps_pretty_refuses_nan() -> None:
    with pytest.raises(ValueError):
        dumps_pretty({"n": float("nan")})


# ---------------------------------------------------------------------------------------------------------
# Properties (hypothesis): JSON-able values without floats survive canonical bytes and the strict parser.

safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
json_values = st.recursive(
    st.none() | st.booleans() | safe_ints | st.text(),  # st.text() never draws surrogates
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300)
@given(json_values)
def test_canonical_round_trip(value: object) -> None:
    data = canonical_bytes(value)
    parsed = loads_strict(data)
    assert parsed == value
    assert canonical_bytes(parsed) == data  # idempotent through a round trip


@settings(max_examples=200)
@given(json_values)
def test_pretty_round_trip_has_the_same_canonical_bytes(value: object) -> None:
    assert canonical_bytes(loads_strict(dumps_pretty(value))) == canonical_bytes(value)


@settings(max_examples=200)
@given(st.dictionaries(st.text(), safe_ints, min_size=2, max_size=8))
def test_canonical_ignores_insertion_order(value: dict[str, int]) -> None:
    reordered = dict(reversed(list(value.items())))
    assert canonical_bytes(reordered) == canonical_bytes(value)
