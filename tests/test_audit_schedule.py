"""Scheduled audits: a reproducible sample, records not checked for a while, a time budget that stops a
run cleanly, and the audit state that makes the next run continue where the last stopped (a full cycle
covers every record exactly once)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from provenance.audit.run import Plan, prepare, run_audit
from provenance.audit.sampling import sample
from tests.conftest import REFERENCE, T0, World

RECORDS = [f"rec-{index:02d}" for index in range(24)]


@pytest.fixture
def many(world: World) -> World:
    from provenance.ingest.service import ingest, read_transcription

    source = read_transcription(REFERENCE)
    for rid in RECORDS:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    return world


def _run(world: World, plan: Plan, at: timedelta = timedelta(days=1), **kwargs: Any) -> Any:
    now = T0 + at
    prepared = prepare(str(world.root), None, now)
    try:
        return run_audit(prepared, plan, home=world.home, clock=lambda: now, **kwargs)
    finally:
        prepared.close()


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--sample", "0%"], "more than 0%"),
        (["--sample", "120%"], "at most 100%"),
        (["--older-than", "soon"], "duration"),
        (["--max-time", "0s"], "duration"),
        (["--seed", "7"], "--sample"),
        (["--engine", "dask"], "--scheduler"),
        (["--engine", "spark"], "engines"),
    ],
)
def test_bad_schedule_options_are_one_line_exit_2(many: World, args: list[str], word: str) -> None:
    result = many.run("audit", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "[usage.invalid]" in result.stderr and word in result.stderr
    assert not (many.root / ".provenance" / "audit-state.sqlite").exists()


def test_cli_sample_is_the_seeded_sample(many: World) -> None:
    result = many.run("audit", "--sample", "25%", "--seed", "7", "--json")
    assert result.returncode == 0, result.stderr
    out = result.json()
    assert [r["record"] for r in out["results"]] == sample(RECORDS, 0.25, "7")
    assert out["selection"]["seed"] == "7" and out["selection"]["selected"] == 6


def test_max_time_stops_cleanly_and_the_next_run_continues(many: World) -> None:
    """Run 1 stops after its first batch (its time is up), run 2 audits the rest, run 3 starts cycle 2:
    every record once per cycle, none lost, none twice."""
    def slow(batch: list[dict[str, Any]]) -> None:
        time.sleep(0.4)

    first = _run(many, Plan(max_time=timedelta(seconds=0.3), max_time_text="0.3s"), on_results=slow)
    assert first.selection["stopped"] == "max-time"
    assert 0 < first.selection["audited"] < len(RECORDS)
    assert first.selection["remaining"] == len(RECORDS) - first.selection["audited"]
    second = _run(many, Plan())
    assert second.selection["cycle"] == 1 and second.selection["stopped"] is None
    done_first = {r["record"] for r in first.results}
    done_second = {r["record"] for r in second.results}
    assert not done_first & done_second and done_first | done_second == set(RECORDS)
    third = _run(many, Plan())
    assert third.selection["cycle"] == 2 and {r["record"] for r in third.results} == set(RECORDS)


def test_older_than_audits_only_records_not_checked_for_that_long(many: World) -> None:
    _run(many, Plan(sample=0.5, sample_text="50%", seed="s"), at=timedelta(days=1))
    # 10 days later: the checked half is recent, the other half was never checked
    recent = _run(many, Plan(older_than=timedelta(days=30), older_than_text="30d"), at=timedelta(days=11))
    assert {r["record"] for r in recent.results} == set(RECORDS) - set(sample(RECORDS, 0.5, "s"))
    # cycle 1 is complete; 10 days on, nothing was checked more than 30 days ago
    none = _run(many, Plan(older_than=timedelta(days=30), older_than_text="30d"), at=timedelta(days=21))
    assert none.results == [] and none.selection["cycle"] == 2 and none.selection["eligible"] == 0
    later = _run(many, Plan(older_than=timedelta(days=30), older_than_text="30d"), at=timedelta(days=45))
    assert {r["record"] for r in later.results} == set(RECORDS)




def test_a_local_worker_killed_mid_run_loses_and_doubles_nothing(many: World) -> None:
    """A pool process killed (as the OOM killer would) while batches are in flight: it is replaced and its
    batch runs again. The run is in a child process with a timeout (tests/audit_trials.py): were the
    engine ever to hang on a dead worker, this test fails instead of stalling the suite."""
    from tests.audit_trials import run_trial

    outcome = run_trial("audit-kill", str(many.root), str(many.home))
    assert outcome["killed"] and outcome["workers"] == 2
    assert outcome["records"] == RECORDS  # each once
    assert outcome["counts"]["trusted"] == len(RECORDS)
    assert outcome["left"] == []
    again = _run(many, Plan())  # the audit state has every record of the cycle once: nothing left to do
    assert again.selection["cycle"] == 2 and again.selection["selected"] == len(RECORDS)
