"""The fast paths of canonical.py agree with the reference: RFC 8785 bytes equal ``rfc8785.dumps`` for every
value, and the strict parser refuses the same inputs with or without its scan before parsing."""

from __future__ import annotations

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import canonical
from provenance.canonical import MAX_SAFE_INTEGER, StrictJSONError, canonical_bytes, loads_strict

# Names and strings that stress the differences between the json module and RFC 8785: control
# characters, quotes and backslashes, DEL, U+2028, characters on both sides of U+FFFF (UTF-16 order).
tricky_chars = st.sampled_from(
    ["a", "Z", "\x00", "\x01", "\x1f", "\x7f", '"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\u2028",
     "é", "ж", "\ufb33", "\uffff", "\U0001f600", "\U00010000", "\ue000"]
)
tricky_text = st.text(alphabet=tricky_chars, max_size=6) | st.text(max_size=6)
any_ints = st.integers(min_value=-(2**60), max_value=2**60)
values = st.recursive(
    st.none() | st.booleans() | any_ints | tricky_text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(tricky_text, children, max_size=5),
    max_leaves=40,
)


def reference(value: object) -> bytes | type[Exception]:
    try:
        return rfc8785.dumps(value)  # type: ignore[arg-type]
    except rfc8785.CanonicalizationError:
        return ValueError


def ours(value: object) -> bytes | type[Exception]:
    try:
        return canonical_bytes(value)
    except ValueError:
        return ValueError


@settings(max_examples=1500)
@given(values)
def test_fast_canonical_bytes_equal_the_reference(value: object) -> None:
    assert ours(value) == reference(value)


@pytest.mark.parametrize(
    "value",
    [
        {"\ufb33": 1, "\U0001f600": 2},  # UTF-16 order differs from code-point order
        {"a": "\ud800"},  # lone surrogate: refused
        {"a": MAX_SAFE_INTEGER + 1},  # integer out of range: refused
        {1: "a"},  # a name that is not a string: refused
        ("a", 1),  # a tuple is an array for the reference
        {"a": True, "b": False, "c": None, "d": []},
        "\x7f\u2028\x00",
    ],
)
def test_edge_values_equal_the_reference(value: object) -> None:
    assert ours(value) == reference(value)


def test_floats_still_refused_and_allowed_on_request() -> None:
    with pytest.raises(ValueError, match="float"):
        canonical_bytes({"a": [1, 2.5]})
    assert canonical_bytes({"a": [1, 2.5]}, allow_floats=True) == b'{"a":[1,2.5]}'


# ---------------------------------------------------------------------------------------------------------
# loads_strict: the same answers whether depth is scanned before parsing or checked after it

DOCUMENTS = [
    b"[" * 64 + b"]" * 64,
    b"[" * 65 + b"]" * 65,
    b'{"a":' * 70 + b"1" + b"}" * 70,
    b'["\\ud800"]',
    b'{"\\udc00":1}',
    b'["\\ud83d\\ude02", "ok"]',
    b'["\\\\ud800"]',  # an escaped backslash, not a surrogate
    b'{"a":1,"a":2}',
    b'{"a":[1,{"b":"\\udfff"}]}',
    b"[9007199254740991]",
    b"[9007199254740992]",
    b"[" * 3000 + b"]" * 3000,
]


def outcome(data: bytes | str) -> object:
    try:
        return ("ok", loads_strict(data))
    except StrictJSONError as exc:
        return ("error", exc.kind)


@pytest.mark.parametrize("data", DOCUMENTS)
def test_parse_without_scan_agrees_with_scan(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = outcome(data)
    monkeypatch.setattr(canonical, "_SAFE_RECURSION_LIMIT", 0)  # forces the scan before parsing
    assert outcome(data) == fast


def test_raw_surrogate_in_str_input_is_refused() -> None:
    with pytest.raises(StrictJSONError) as info:
        loads_strict('["\ud800"]')
    assert info.value.kind == "malformed"


@settings(max_examples=300)
@given(values)
def test_round_trip_through_the_strict_parser(value: object) -> None:
    try:
        data = canonical_bytes(value)
    except ValueError:
        return
    assert loads_strict(data) == value


# ---------------------------------------------------------------------------------------------------------
# dumps_pretty: exactly json.dumps(indent=2), which a verifier compares a manifest's bytes with

pretty_values = st.recursive(
    st.none() | st.booleans() | any_ints | tricky_text | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(tricky_text, children, max_size=4)
    | st.tuples(children, children),
    max_leaves=40,
)


def json_pretty(value: object) -> bytes | type[Exception]:
    import json

    try:
        return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, allow_nan=False) + "\n").encode()
    except (ValueError, TypeError) as exc:
        return type(exc)


def our_pretty(value: object) -> bytes | type[Exception]:
    from provenance.canonical import dumps_pretty

    try:
        return dumps_pretty(value)
    except (ValueError, TypeError) as exc:
        return type(exc)


@settings(max_examples=1000)
@given(pretty_values)
def test_pretty_equals_json_dumps_indent_2(value: object) -> None:
    assert our_pretty(value) == json_pretty(value)


@pytest.mark.parametrize(
    "value",
    [{}, [], {"a": {}}, [[]], {1: "x", None: 2, False: 3, 2.5: [1]}, float("nan"), [float("inf")],
     {"a": {"b": float("inf")}}, {"a": object()}, {(1, 2): 1}, "\ud800", {"a": ["\ud800"]}, 1.5, True],
)
def test_pretty_edge_values(value: object) -> None:
    assert our_pretty(value) == json_pretty(value)


def test_pretty_refuses_a_cycle() -> None:
    from provenance.canonical import dumps_pretty

    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(ValueError):
        dumps_pretty(cycle)


def test_integer_range_with_the_digit_limit_lifted(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys, "get_int_max_str_digits", lambda: 0)  # literals then go through _parse_int
    for data in (b"9007199254740992", b"[-9007199254740992]", b"1" + b"0" * 10_000):
        with pytest.raises(StrictJSONError) as info:
            loads_strict(data)
        assert info.value.kind == "integer-range"
    assert loads_strict(b"[9007199254740991]") == [MAX_SAFE_INTEGER]


@pytest.mark.parametrize("data", [b"9007199254740992", b'{"a":[1,{"b":-9007199254740992}]}', b"1" + b"0" * 5000])
def test_integer_range_checked_after_parsing(data: bytes) -> None:
    with pytest.raises(StrictJSONError) as info:
        loads_strict(data)
    assert info.value.kind == "integer-range"


def test_parsed_canonical_bytes_equal_the_checked_ones() -> None:
    value = loads_strict(b'{"b":[1,"\\u00e9",{"\\ud83d\\ude00":null,"z":true}],"a":-5}')
    assert canonical_bytes(value, parsed=True) == canonical_bytes(value) == rfc8785.dumps(value)
