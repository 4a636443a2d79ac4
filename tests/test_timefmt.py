"""provenance.model.timefmt: the one UTC timestamp form every signed time uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from provenance.model.timefmt import check_utc, format_utc, parse_utc, utc_now


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-01-05T09:00:00Z", datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("0999-12-31T00:00:00Z", datetime(999, 12, 31, tzinfo=UTC)),  # four digits, as the pattern wants
    ],
)
def test_parse_and_format_round_trip(text: str, moment: datetime) -> None:
    assert parse_utc(text) == moment and format_utc(moment) == text and check_utc(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05T09:00:00",  # no Z
        "2026-01-05T09:00:00+00:00",  # one form only
        "2026-01-05 09:00:00Z",
        "2026-01-05T09:00:00.5Z",  # no fractions
        "2026-13-01T00:00:00Z",
        "2025-02-29T00:00:00Z",  # not a leap year
        "2026-01-05T24:00:00Z",
        "2026-01-05T23:59:60Z",
        "2026-01-05T09:00:00Z\n",  # a final newline
        " 2026-01-05T09:00:00Z",
        "２０２６-01-05T09:00:00Z",  # full-width digits
        "",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_utc(text)
    with pytest.raises(ValueError):
        check_utc(text)


def test_format_converts_to_utc_and_refuses_a_naive_time() -> None:
    assert format_utc(datetime(2026, 1, 5, 12, 0, tzinfo=timezone(timedelta(hours=3)))) == "2026-01-05T09:00:00Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_utc(datetime(2026, 1, 5, 9, 0))


def test_utc_now_is_aware() -> None:
    assert utc_now().tzinfo is not None
