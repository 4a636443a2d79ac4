"""Batch verification: ``audit --jobs N`` and ``verify PATH...`` give the same reports whatever the number of
processes, exit with the worst state, and print no progress bar under --json or when not on a terminal."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REFERENCE, World, provenance_bin

RECORDS = [f"dossier-{index:02d}" for index in range(10)]  # more than POOL_MIN_TARGETS: the pool is used


@pytest.fixture
def many(world: World) -> World:
    """Ten records; dossier-03 has a translator's note (valid under an archivist-only trust store) and
    dossier-05 an altered file (invalid)."""
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    source = read_transcription(REFERENCE)
    for rid in RECORDS:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    actions.add_note(world.archive, "dossier-03", world.signers["translator"], quote="Kim II Sung",
                     text="Read: Kim Il Sung.", now=world.tick())
    altered = world.archive.record_dir("dossier-05") / "files" / REFERENCE.name
    altered.write_bytes(altered.read_bytes().replace(b"Kaesong", b"Xaesong"))
    return world


def archivist_only(world: World, tmp_path: Path) -> Path:
    trust = tmp_path / "trust"
    trust.mkdir()
    for card in world.archive.keys_dir.glob("a-archivist-*.json"):
        shutil.copy(card, trust)
    return trust


def stable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "bytes_hashed"}


def test_audit_jobs_2_gives_the_report_of_jobs_1(many: World, tmp_path: Path) -> None:
    trust = str(archivist_only(many, tmp_path))
    one = many.run("audit", "--json", "--jobs", "1", "--trust", trust, env={"PROVENANCE_NOW": "2026-02-01T00:00:00Z"})
    two = many.run("audit", "--json", "--jobs", "2", "--trust", trust, env={"PROVENANCE_NOW": "2026-02-01T00:00:00Z"})
    assert one.returncode == two.returncode == 1  # the worst state: dossier-05 is invalid
    first, second = one.json(), two.json()
    assert first["summary"] == second["summary"] == {"trusted": 8, "valid": 1, "invalid": 1}
    assert (first["state"], first["verified"], first["record"], first["records"]) == ("invalid", False, None, 10)
    assert [stable(r) for r in first["reports"]] == [stable(r) for r in second["reports"]]
    assert [r["record"] for r in first["reports"]] == RECORDS  # in archive order
    assert first["problems"] == second["problems"]
    assert {p["record"] for p in first["problems"]} == {"dossier-03", "dossier-05"}
    assert one.stderr == two.stderr == ""  # no progress bar under --json


def test_audit_exit_code_is_the_worst_state(many: World, tmp_path: Path) -> None:
    shutil.rmtree(many.archive.record_dir("dossier-05"))
    trust = str(archivist_only(many, tmp_path))
    assert many.run("audit", "--jobs", "2", "--trust", trust).returncode == 3  # valid: dossier-03
    assert many.run("audit", "--jobs", "2").returncode == 0


def test_audit_text_when_piped_has_no_progress_bar(many: World) -> None:
    result = many.run("audit", "--jobs", "2")
    assert result.returncode == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[-1].startswith(f"audit of {many.root}: 10 verified: 9 trusted, 0 valid, 1 invalid")
    assert any("file.digest-mismatch" in line for line in lines)
    assert not any("dossier-01" in line for line in lines)  # trusted records are only counted


def test_progress_bar_only_on_a_terminal(many: World) -> None:
    leader, follower = pty.openpty()
    env = dict(many.env, COLUMNS="100", TERM="xterm")
    try:
        proc = subprocess.run(
            [provenance_bin(), "audit", "--jobs", "2"], stdout=subprocess.PIPE, stderr=follower, env=env,
            cwd=many.root, stdin=subprocess.DEVNULL, timeout=120,
        )
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert proc.returncode == 1
    assert b"10/10" in seen  # the bar, drawn on the terminal (stderr), then cleared
    assert b"10/10" not in proc.stdout


def test_verify_many_paths_json_shape(many: World) -> None:
    paths = [str(many.archive.record_dir(rid)) for rid in RECORDS]
    one = many.run("verify", *paths, "--json", "--jobs", "1", env={"PROVENANCE_NOW": "2026-02-01T00:00:00Z"})
    two = many.run("verify", *paths, "--json", "--jobs", "2", env={"PROVENANCE_NOW": "2026-02-01T00:00:00Z"})
    assert one.returncode == two.returncode == 1
    first, second = one.json(), two.json()
    assert set(first) >= {"state", "verified", "record", "problems", "reports", "summary"}
    assert first["record"] is None and first["verified"] is False and first["state"] == "invalid"
    assert first["summary"] == {"trusted": 9, "valid": 0, "invalid": 1}
    assert [stable(r) for r in first["reports"]] == [stable(r) for r in second["reports"]]
    assert [p["code"] for p in first["problems"]] == ["file.digest-mismatch"]
    assert two.stderr == ""


def test_verify_one_path_prints_the_report_object(many: World) -> None:
    result = many.run("verify", str(many.archive.record_dir("dossier-01")), "--json", "--jobs", "2")
    assert result.returncode == 0
    report = result.json()
    assert report["record"] == "dossier-01" and report["state"] == "trusted" and "reports" not in report


def test_verify_many_paths_reports_a_missing_one(many: World) -> None:
    paths = [str(many.archive.record_dir("dossier-01")), str(many.root / "records" / "nowhere")]
    result = many.run("verify", *paths, "--json")
    assert result.returncode == 1
    document = result.json()
    assert [r["state"] for r in document["reports"]] == ["trusted", "invalid"]
    assert [p["code"] for p in document["problems"]] == ["path.not-found"]


def test_verify_many_paths_text_summary(many: World) -> None:
    paths = [str(many.archive.record_dir(rid)) for rid in RECORDS[:3]]
    result = many.run("verify", *paths)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.splitlines()[-1].startswith("verify: 3 verified: 3 trusted, 0 valid, 0 invalid")


def test_library_batch_equals_one_by_one(many: World) -> None:
    from provenance.verify.batch import verify_batch
    from provenance.verify.record import verify_record_folder
    from provenance.verify.target import make_context

    ctx = make_context(many.archive.keys_dir, many.tick())
    targets = [many.archive.record_dir(rid) for rid in RECORDS]
    outcomes = list(verify_batch(targets, ctx, kind="record", jobs=2, as_json=True))
    assert [o.index for o in outcomes] == list(range(len(RECORDS)))
    for outcome, target in zip(outcomes, targets, strict=True):
        expected = verify_record_folder(target, ctx).to_json()
        assert outcome.document is not None
        assert json.loads(outcome.document) == expected
        assert str(outcome.state) == expected["state"]
        assert (outcome.report is not None) == bool(expected["problems"] or expected["warnings"])
