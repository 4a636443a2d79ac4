"""The one decoding of a text file's bytes (provenance/ingest/decoding.py): the text, or where it fails."""

from __future__ import annotations

import pytest

from provenance.errors import ErrorCode, UsageError
from provenance.ingest.decoding import UndecodableError, charset_of, decode, decoded_or_none


def test_valid_bytes_are_decoded_in_the_named_encoding() -> None:
    assert decode("Сталину (2)".encode("cp1251"), "cp1251") == "Сталину (2)"


def test_a_bad_byte_is_named_with_its_offset_and_line() -> None:
    with pytest.raises(UndecodableError) as caught:
        decode(b"first\nsecond \xff\n", "utf-8")
    assert (caught.value.byte, caught.value.offset, caught.value.line) == (0xFF, 13, 2)
    assert str(caught.value) == "not valid utf-8 (byte 0xff at offset 13, line 2)"


def test_an_unknown_encoding_is_usage_invalid() -> None:
    with pytest.raises(UsageError) as caught:
        decode(b"x", "no-such-codec")
    assert caught.value.code is ErrorCode.USAGE


@pytest.mark.parametrize(
    ("media_type", "charset"),
    [
        ("text/plain; charset=cp1251", "cp1251"),
        ("text/plain; charset=utf-8; format=flowed", "utf-8"),  # later parameters are not the charset
        ("text/plain", "utf-8"),  # none named: UTF-8
        ("image/tiff", "utf-8"),
    ],
)
def test_charset_of_a_media_type(media_type: str, charset: str) -> None:
    assert charset_of(media_type) == charset


def test_decoded_or_none_is_the_text_or_none() -> None:
    assert decoded_or_none("Сталину".encode("cp1251"), "text/plain; charset=cp1251") == "Сталину"
    assert decoded_or_none(b"\xff", "text/plain") is None  # not UTF-8
    assert decoded_or_none(b"abc", "text/plain; charset=no-such-charset") is None
