"""provenance.bundle.tagfiles: a (tag) manifest written as provenance writes it is read by one pattern
(``parse_written_manifest``); whatever the text, that reading agrees with the line-by-line parser, and it
declines every text the parser would find fault with or that is not canonical."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.bundle import tagfiles
from provenance.bundle.tagfiles import manifest_text, parse_manifest_file, parse_written_manifest

SEGMENTS = st.sampled_from(["a", "B", "page-001.bin", ".", "..", "...", ".hidden", "x" * 255, "y" * 256,
                            "sp ace", "pct%25", "é", "tab\t", "", "C:", "back\\slash"])
PATHS = st.lists(SEGMENTS, min_size=1, max_size=4).map("/".join)
DIGESTS = st.sampled_from(["0" * 64, "ab" * 32, "AB" * 32, "f" * 63, "f" * 128])


def _agrees(text: str, algorithm: str = "sha256") -> None:
    fast = parse_written_manifest(text, algorithm)
    entries, errors, unsafe = parse_manifest_file(text, "manifest-sha256.txt", algorithm)
    if fast is not None:
        assert (fast, errors, unsafe) == (entries, [], [])
        assert list(fast) == list(entries)
        assert manifest_text(fast).decode("utf-8") == text
    elif not errors and not unsafe:  # declined: then it is not plain, or not canonical
        plain = all(tagfiles._WRITTEN_MANIFEST[algorithm].fullmatch(f"{d}  {p}\n") for p, d in entries.items())
        assert not plain or manifest_text(entries).decode("utf-8") != text


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(PATHS, DIGESTS, max_size=6))
def test_written_manifests_read_as_the_parser_reads_them(entries: dict[str, str]) -> None:
    _agrees(manifest_text(entries).decode("utf-8"))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(PATHS, DIGESTS, max_size=6), st.integers(0, 10_000), st.sampled_from(
    [" ", "\t", "\r", "\n", "A", "/", ".", "%", "0", ""]))
def test_any_changed_byte_reads_as_the_parser_reads_it(entries: dict[str, str], at: int, char: str) -> None:
    text = manifest_text(entries).decode("utf-8")
    at = at % (len(text) + 1)
    _agrees(text[:at] + char + text[at + 1 :])
    _agrees(text[:at] + char + text[at:])


def test_unsorted_repeated_or_too_long_is_left_to_the_parser() -> None:
    line = "0" * 64 + "  data/{}\n"
    assert parse_written_manifest(line.format("b") + line.format("a"), "sha256") is None  # not sorted
    assert parse_written_manifest(line.format("a") + line.format("a"), "sha256") is None  # twice
    deep = "/".join(["d" * 255] * 17)  # 4,351 bytes: longer than a path may be
    assert parse_written_manifest(line.format(deep), "sha256") is None
    assert parse_written_manifest("", "sha256") == {}
    assert parse_written_manifest(line.format("a"), "md5") is None
    rng = random.Random(5)
    many = {f"data/files/page-{i:05d}.bin": f"{rng.getrandbits(256):064x}" for i in range(2000)}
    assert parse_written_manifest(manifest_text(many).decode("utf-8"), "sha256") == dict(sorted(many.items()))
    _agrees(line.format("a"), "sha512")


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from([*"aZ09 !~-", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\xa0",
                                          "\u202e", "\u2028", "é", "\ud800"]), max_size=12))
def test_info_value_is_printable_of_the_value_on_one_line_and_its_own_fixed_point(text: str) -> None:
    import re

    from provenance.safetext import printable

    value = tagfiles.info_value(text)
    assert value == printable(re.sub(r"\s+", " ", text).strip(), one_line=True)
    assert tagfiles.info_value(value) == value  # check_info compares given values first as they are
