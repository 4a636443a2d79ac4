"""Signed audit reports: ``audit --report`` writes one signed JSON report that agrees with its schema;
``verify-report`` finds any changed byte (invalid, exit 1) and a key it does not trust (valid, exit 3);
``audit --record-events`` appends a fixity-check event, signed by the auditor, to each intact record."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from provenance.audit.check import check_report
from provenance.audit.report import AuditReport
from provenance.contract import validation_errors
from provenance.keys import TrustStore, generate_key
from provenance.manifest_io import event_digest, read_manifest
from provenance.model.events import Role
from tests.conftest import PASSPHRASE, REFERENCE, T0, World, make_world

RECORDS = [f"rec-{index:02d}" for index in range(6)]
AUDITOR = "Au. Ditor"


def _make(world: World) -> World:
    """Six records, rec-03 with an altered file, and an auditor's key."""
    from provenance.ingest.service import ingest, read_transcription

    source = read_transcription(REFERENCE)
    for rid in RECORDS:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    generate_key(world.archive, name=AUDITOR, roles=[Role.AUDITOR], passphrase=PASSPHRASE.encode(), now=T0,
                 rounds=1, home=world.home)
    altered = world.archive.record_dir("rec-03") / "files" / REFERENCE.name
    altered.write_bytes(altered.read_bytes().replace(b"Kaesong", b"Xaesong"))
    return world


@pytest.fixture
def audited(world: World) -> World:
    return _make(world)


def _report(world: World, tmp_path: Path, *extra: str) -> tuple[Path, Any]:
    path = tmp_path / "report.json"
    result = world.run("audit", "--report", str(path), "--key", AUDITOR, "--json", *extra)
    assert result.returncode == 1, result.stderr  # rec-03 is invalid
    return path, result.json()


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Path, Any]:
    """One archive and its signed report, shared by the tests that only read them."""
    tmp = tmp_path_factory.mktemp("reported")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = _make(make_world(tmp))
    path, out = _report(world, tmp)
    return world, path, out


def test_report_is_signed_complete_and_agrees_with_its_schema(reported: tuple[World, Path, Any]) -> None:
    audited, path, out = reported
    document = json.loads(path.read_text())
    assert validation_errors("audit-report", document) == []
    report = AuditReport.model_validate(document)
    assert report.counts.model_dump() == {"trusted": 5, "valid": 0, "invalid": 1} == out["summary"]
    assert [r.record for r in report.records] == RECORDS
    for record in report.records:
        manifest = read_manifest(audited.archive.record_dir(record.record))
        assert record.head == event_digest(manifest.events[-1])  # what was audited: each record's head
    bad = next(r for r in report.records if r.record == "rec-03")
    assert bad.state == "invalid" and "file.digest-mismatch" in [p.code for p in bad.problems]
    assert report.auditor.name == AUDITOR
    assert report.archive == str(audited.root)
    assert report.checkpoint is None  # no log/checkpoint in this archive
    checked = audited.run("verify-report", str(path), "--json")
    assert checked.returncode == 0, checked.stdout
    assert checked.json()["state"] == "trusted"
    assert checked.json()["audit"]["counts"] == {"trusted": 5, "valid": 0, "invalid": 1}


def test_model_and_schema_have_the_same_members() -> None:
    from provenance.audit import report as models
    from provenance.contract import schema

    doc = schema("audit-report")
    pairs = [
        (models.AuditReport, doc), (models.RecordResult, doc["$defs"]["record"]),
        (models.Selection, doc["properties"]["selection"]), (models.Engine, doc["properties"]["engine"]),
        (models.Checkpoint, doc["properties"]["checkpoint"]), (models.Auditor, doc["properties"]["auditor"]),
        (models.Counts, doc["properties"]["counts"]), (models.Trust, doc["properties"]["trust"]),
        (models.Finding, doc["$defs"]["record"]["properties"]["problems"]["items"]),
    ]
    for model, part in pairs:
        assert set(model.model_fields) == set(part["properties"]), model.__name__
        required = {name for name, f in model.model_fields.items() if f.is_required()}
        if model is models.AuditReport:
            required.add("format")  # a default in the model, always written: required of a file
        assert required == set(part["required"]), model.__name__


def test_the_checkpoint_of_the_log_is_named_when_there_is_one(audited: World, tmp_path: Path) -> None:
    started = audited.run("tlog", "init", "--origin", "provenance.example/archive", "--kdf-rounds", "1")
    assert started.returncode == 0, started.stderr
    path, _ = _report(audited, tmp_path)
    report = AuditReport.model_validate_json(path.read_text())
    assert report.checkpoint is not None
    assert report.checkpoint.origin == "provenance.example/archive" and report.checkpoint.size >= len(RECORDS)
    assert report.checkpoint.digest.startswith("sha256:")


# Tampering: (name, change to the text) → the codes verify-report must give
TAMPER: list[tuple[str, Any, set[str]]] = [
    ("a space added", lambda t: t.replace('"format": ', '"format":  ', 1), {"report.malformed"}),
    ("a state rewritten", lambda t: t.replace('"state": "invalid"', '"state": "trusted"', 1),
     {"report.signature-invalid", "report.inconsistent"}),
    ("a head rewritten", lambda t: re.sub(r'("head": "sha256:)([0-9a-f])', lambda m: m.group(1) + "0123456789abcdef"[
        (int(m.group(2), 16) + 1) % 16], t, count=1), {"report.signature-invalid"}),
    ("a count rewritten", lambda t: t.replace('"invalid": 1', '"invalid": 0', 1),
     {"report.signature-invalid", "report.inconsistent"}),
    ("truncated", lambda t: t[: len(t) // 2], {"report.malformed"}),
    ("a member added", lambda t: t.replace("{\n", '{\n  "note": "x",\n', 1), {"report.schema"}),
    ("the signature of another report", None, {"report.signature-invalid"}),
]


@pytest.mark.parametrize(("name", "change", "codes"), TAMPER, ids=[t[0] for t in TAMPER])
def test_tampered_report_is_invalid(reported: tuple[World, Path, Any], tmp_path: Path, name: str, change: Any,
                                    codes: set[str]) -> None:
    audited, original, _ = reported
    text = original.read_text()
    if change is None:  # a second report of the same archive: its signature moved onto the first
        other = tmp_path / "other.json"
        assert audited.run("audit", "--report", str(other), "--key", AUDITOR).returncode == 1
        signature = json.loads(other.read_text())["signature"]
        changed = text.replace(json.loads(text)["signature"], signature)
    else:
        changed = change(text)
    assert changed != text
    path = tmp_path / "tampered.json"
    path.write_text(changed)
    report, _ = check_report(path, TrustStore.load(audited.archive.keys_dir))
    found = {p.code.value for p in report.problems}
    assert codes <= found, (name, found)
    assert str(report.state) == "invalid"


def test_verify_report_of_a_tampered_report_exits_1(reported: tuple[World, Path, Any], tmp_path: Path) -> None:
    audited, original, _ = reported
    path = tmp_path / "tampered.json"
    path.write_text(original.read_text().replace('"invalid": 1', '"invalid": 0', 1))
    result = audited.run("verify-report", str(path), "--json")
    assert result.returncode == 1 and result.json()["state"] == "invalid"
    assert "report.signature-invalid" in {p["code"] for p in result.json()["problems"]}


def test_any_byte_changed_is_found(reported: tuple[World, Path, Any], tmp_path: Path) -> None:
    """A property over the report's bytes: every one of 300 single-byte changes is found (library call)."""
    audited, path, _ = reported
    data = path.read_bytes()
    trust = TrustStore.load(audited.archive.keys_dir)
    rng = random.Random(16)
    target = tmp_path / "changed.json"
    for _ in range(300):
        where = rng.randrange(len(data))
        value = rng.choice([b for b in range(256) if b != data[where]])
        target.write_bytes(data[:where] + bytes([value]) + data[where + 1 :])
        report, _ = check_report(target, trust)
        assert str(report.state) == "invalid", (where, value)


def test_unknown_auditor_key_is_valid_not_trusted(reported: tuple[World, Path, Any], tmp_path: Path) -> None:
    audited, path, _ = reported
    trust = tmp_path / "trust"
    trust.mkdir()
    for card in audited.archive.keys_dir.glob("a-archivist-*.json"):
        shutil.copy(card, trust)
    result = audited.run("verify-report", str(path), "--trust", str(trust), "--json")
    assert result.returncode == 3
    assert [p["code"] for p in result.json()["problems"]] == ["signer.unknown"]
    text = audited.run("verify-report", str(path), "--trust", str(trust))
    assert text.returncode == 3 and "VALID BUT NOT TRUSTED" in text.stdout and "signer.unknown" in text.stdout


def test_verify_report_bad_input_is_one_line(reported: tuple[World, Path, Any], tmp_path: Path) -> None:
    audited = reported[0]
    missing = audited.run("verify-report", str(tmp_path / "nope.json"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("provenance: error:") and "[input.not-found]" in missing.stderr
    assert len(missing.stderr.splitlines()) == 1
    existing = tmp_path / "exists.json"
    existing.write_text("{}")
    refused = audited.run("audit", "--report", str(existing), "--key", AUDITOR)
    assert refused.returncode == 2 and "[output.exists]" in refused.stderr


def test_record_events_appends_a_signed_fixity_check_to_intact_records(audited: World, tmp_path: Path) -> None:
    path, out = _report(audited, tmp_path, "--record-events")
    assert out["events_appended"] == 5
    report = AuditReport.model_validate_json(path.read_text())
    for record in report.records:
        manifest = read_manifest(audited.archive.record_dir(record.record))
        if record.record == "rec-03":  # invalid: nothing appended
            assert len(manifest.events) == 1 and record.fixity_event is None
            continue
        last = manifest.events[-1]
        assert (last.type, last.premis_type, last.agent) == ("fixity-check", "fixity check", AUDITOR)
        assert last.details["audited_head"] == record.head
        assert record.fixity_event == event_digest(last)
    verified = audited.run("verify", str(audited.archive.record_dir("rec-01")), "--json")
    assert verified.returncode == 0, verified.stdout
