"""A text file's bytes decoded in a named encoding, and where they are not valid in it: one reading for a
transcription (``ingest``) and a catalogue sheet (``ingest-batch``)."""

from __future__ import annotations

from provenance.errors import ErrorCode, UsageError


class UndecodableError(ValueError):
    """The bytes are not valid in ``codec``: the first bad byte, its offset and its line (1-based)."""

    def __init__(self, codec: str, data: bytes, start: int) -> None:
        self.codec = codec
        self.offset = start
        self.byte = data[start]
        self.line = data[:start].count(b"\n") + 1
        super().__init__(f"not valid {codec} ({self.where})")

    @property
    def where(self) -> str:
        return f"byte 0x{self.byte:02x} at offset {self.offset}, line {self.line}"


def decode(data: bytes, codec: str) -> str:
    """``data`` decoded in ``codec``. Raises ``UsageError(usage.invalid)`` for an encoding Python does not
    know, :class:`UndecodableError` for bytes not valid in it."""
    try:
        return data.decode(codec)
    except LookupError:
        raise UsageError(ErrorCode.USAGE, f"unknown encoding {codec!r}") from None
    except UnicodeDecodeError as exc:
        raise UndecodableError(codec, data, exc.start) from None


def charset_of(media_type: str) -> str:
    """The charset a file entry's media type names (``text/plain; charset=cp1251``), UTF-8 when it names none."""
    return media_type.partition("charset=")[2].split(";")[0].strip() or "utf-8"


def decoded_or_none(data: bytes, media_type: str) -> str | None:
    """``data`` as text in the charset ``media_type`` names (UTF-8 unless told); None when it is not text in
    that charset or Python does not know the charset."""
    try:
        return data.decode(charset_of(media_type))
    except (LookupError, UnicodeDecodeError):
        return None
