"""provenance.audit.state and provenance.audit.sampling: the persistent audit state (cycles, each record
once per cycle, last check) and the reproducible sample, called directly. The scheduled runs built on them
are in tests/test_audit_schedule.py (the parsing and state unit tests that were there moved here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.audit.sampling import parse_duration, parse_sample, sample
from provenance.audit.state import AuditState, state_path
from provenance.errors import ErrorCode
from tests.coded import raises_code


def _result(rid: str, state: str = "trusted") -> dict[str, object]:
    return {"record": rid, "state": state, "head": f"sha256:{rid}"}


def test_a_cycle_covers_every_record_once_then_the_next_begins(tmp_path: Path) -> None:
    state = AuditState(tmp_path / "s.sqlite")
    ids = ["a", "b", "c"]
    assert state.start(ids) == (1, ids)
    state.record([_result("a"), _result("b")], 1, "2026-01-05T09:00:00Z")
    assert state.start(ids) == (1, ["c"])
    state.record([_result("c", "invalid")], 1, "2026-01-05T10:00:00Z")
    assert state.done(1) == {"a", "b", "c"}
    assert state.start(ids) == (2, ids) and state.cycle == 2
    assert state.last_checked() == {"a": "2026-01-05T09:00:00Z", "b": "2026-01-05T09:00:00Z",
                                    "c": "2026-01-05T10:00:00Z"}
    state.close()
    again = AuditState(tmp_path / "s.sqlite")  # kept on disk
    assert again.cycle == 2 and again.start(ids) == (2, ids)
    again.close()


def test_a_record_added_mid_cycle_is_pending_and_an_empty_archive_stays_in_cycle_1(tmp_path: Path) -> None:
    state = AuditState(tmp_path / "s.sqlite")
    assert state.start([]) == (1, [])
    state.record([_result("a")], 1, "2026-01-05T09:00:00Z")
    assert state.start(["a", "new"]) == (1, ["new"])
    state.close()


def test_a_batch_recorded_twice_is_one_row(tmp_path: Path) -> None:
    state = AuditState(tmp_path / "s.sqlite")
    state.record([_result("a")], 1, "2026-01-05T09:00:00Z")
    state.record([_result("a", "valid")], 1, "2026-01-05T09:05:00Z")
    assert state.done(1) == {"a"} and state.last_checked() == {"a": "2026-01-05T09:05:00Z"}
    state.close()


def test_state_path_is_in_the_archive_or_under_home_by_url(tmp_path: Path) -> None:
    assert state_path(tmp_path / "arch", "file://x", tmp_path / "home") == (
        tmp_path / "arch" / ".provenance" / "audit-state.sqlite")
    remote = state_path(None, "s3://bucket/prefix", tmp_path / "home")
    assert remote.parent == tmp_path / "home" / "audit-state" and remote.suffix == ".sqlite"
    assert remote != state_path(None, "s3://bucket/other", tmp_path / "home")


def test_an_unwritable_state_is_coded(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with raises_code(ErrorCode.WRITE_FAILED, "cannot open the audit state"):
        AuditState(tmp_path / "file" / "s.sqlite")


@pytest.mark.parametrize(("text", "fraction"), [("10%", 0.1), ("100%", 1.0), ("0.5%", 0.005), ("33.3%", 0.333)])
def test_parse_sample(text: str, fraction: float) -> None:
    value, shown = parse_sample(text)
    assert value == pytest.approx(fraction) and shown == text


@pytest.mark.parametrize("text", ["0%", "120%", "100.5%", "101%", "-5%", "-1%", "ten", "10", "%", ""])
def test_parse_sample_refusals_are_usage_errors(text: str) -> None:
    with raises_code(ErrorCode.USAGE):
        parse_sample(text)


@pytest.mark.parametrize(("text", "seconds"), [("90d", 90 * 86400), ("1h", 3600), ("1h30m", 5400), ("2w", 1209600),
                                               ("45s", 45)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text, "--max-time").total_seconds() == seconds


@pytest.mark.parametrize("text", ["0s", "1y", "soon", "90", "1x", "d", ""])
def test_parse_duration_refusals_name_the_option(text: str) -> None:
    with raises_code(ErrorCode.USAGE, "--older-than"):
        parse_duration(text, "--older-than")


def test_sample_is_seeded_sized_and_a_subset() -> None:
    ids = [f"r{i:03d}" for i in range(200)]
    chosen = sample(ids, 0.25, "seed")
    assert len(chosen) == 50 and set(chosen) <= set(ids) and chosen == sorted(chosen, key=ids.index)
    assert set(chosen) == set(sample(list(reversed(ids)), 0.25, "seed"))  # chosen by id, not by position
    assert sample([], 0.5, "s") == []


def test_a_sample_is_reproducible_and_sized() -> None:
    ids = [f"r{i:04d}" for i in range(1000)]
    first = sample(ids, 0.1, "2026")
    assert first == sample(ids, 0.1, "2026") and len(first) == 100
    assert first != sample(ids, 0.1, "2027")
    assert sample(ids[:7], 0.1, "x") and len(sample(ids[:7], 0.1, "x")) == 1  # at least one record
    grown = sample([*ids, "zz-new"], 0.1, "2026")
    assert len(set(first) & set(grown)) >= 99  # a new record moves at most one of the others out
