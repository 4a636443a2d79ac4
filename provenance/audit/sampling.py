"""Choosing what one audit run checks: a reproducible sample, records not checked for a while, a time budget.

A sample is reproducible: each record is ranked by SHA-256 of the seed and its id, and the first
``ceil(P × N)`` of that ranking are taken. The same seed over the same records gives the same sample on any
machine; a record added later does not move the others.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import timedelta

from provenance.errors import ErrorCode, UsageError

_PERCENT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$")
_DURATION = re.compile(r"([0-9]+)\s*(w|d|h|m|s)")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_sample(text: str) -> tuple[float, str]:
    """``"10%"`` as (0.10, ``"10%"``). Raises ``UsageError(usage.invalid)`` for anything not a percentage
    above 0 and at most 100."""
    match = _PERCENT.match(text)
    if match is None:
        raise UsageError(ErrorCode.USAGE, f"sample {text!r}: give a percentage such as 10%", param="sample")
    value = float(match.group(1))
    if not 0 < value <= 100:
        raise UsageError(ErrorCode.USAGE, f"sample {text.strip()}: a sample is more than 0% and at most 100% "
                         "of the records", param="sample")
    return value / 100, match.group(1) + "%"


def parse_duration(text: str, option: str) -> timedelta:
    """``"90d"``, ``"1h"``, ``"1h30m"``, ``"45s"``, ``"2w"`` as a timedelta. Raises ``UsageError`` for anything
    else, or for zero."""
    compact = text.strip().lower()
    pieces = _DURATION.findall(compact)
    if not compact or not pieces or _DURATION.sub("", compact).strip():
        raise UsageError(ErrorCode.USAGE, f"{option} {text!r}: give a duration such as 90d, 12h, 30m or 1h30m",
                         param=option.replace(" ", "_"))
    seconds = sum(int(number) * _UNITS[unit] for number, unit in pieces)
    if seconds <= 0 or seconds > 100 * 365 * 86400:
        raise UsageError(ErrorCode.USAGE, f"{option} {text!r}: a duration is more than 0 s and at most 100 years",
                         param=option.replace(" ", "_"))
    return timedelta(seconds=seconds)


def _rank(seed: str, record_id: str) -> bytes:
    return hashlib.sha256(seed.encode("utf-8") + b"\x00" + record_id.encode("utf-8")).digest()


def sample(record_ids: list[str], fraction: float, seed: str) -> list[str]:
    """The reproducible sample of ``record_ids`` (in id order): ``ceil(fraction × N)`` records."""
    if not record_ids:
        return []
    count = min(len(record_ids), max(1, math.ceil(fraction * len(record_ids) - 1e-9)))
    chosen = set(sorted(record_ids, key=lambda rid: _rank(seed, rid))[:count])
    return [rid for rid in record_ids if rid in chosen]
