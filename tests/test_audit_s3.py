"""Archives on S3-compatible object storage, read-only, against a real local S3 server (moto in server
mode, started by the fixture): audit and verify give the findings they give on disk; a missing object is
a finding; a missing bucket, an unreachable store, a store that times out or goes away mid-run are named."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from provenance.audit import source as source_module
from provenance.audit.run import Plan, prepare, run_audit
from provenance.audit.source import ReadFailedError, RemoteSource
from tests.conftest import REFERENCE, T0, World
from tests.s3_server import S3Server, s3_server

RECORDS = [f"rec-{index:02d}" for index in range(10)]
URL = "s3://archive-bucket/korea-1951"


@pytest.fixture(scope="module")
def server() -> Iterator[S3Server]:
    with s3_server() as running:
        yield running


@pytest.fixture
def stored(world: World, server: S3Server, monkeypatch: pytest.MonkeyPatch) -> World:
    """Ten records on disk; rec-03 altered; all uploaded to a fresh prefix, then rec-05's manifest-named
    file deleted from the store (a missing object)."""
    from provenance.ingest.service import ingest, read_transcription

    source = read_transcription(REFERENCE)
    for rid in RECORDS:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    altered = world.archive.record_dir("rec-03") / "files" / REFERENCE.name
    altered.write_bytes(altered.read_bytes().replace(b"Kaesong", b"Xaesong"))
    world.env.update(server.env)
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    url = f"{URL}-{os.urandom(4).hex()}"
    server.upload(world.root, url)
    server.fs().rm_file(f"{url.split('://')[1]}/records/rec-05/files/{REFERENCE.name}")
    world.env["TEST_URL"] = url
    return world


def test_audit_from_s3_names_what_it_finds(stored: World) -> None:
    url = stored.env["TEST_URL"]
    result = stored.run("audit", "--archive", url, "--json", "--jobs", "2")
    assert result.returncode == 1, result.stderr
    out = result.json()
    assert out["summary"] == {"trusted": 8, "valid": 0, "invalid": 2}
    codes = {r["record"]: [p["code"] for p in r["problems"]] for r in out["results"]}
    assert codes["rec-03"] == ["file.digest-mismatch"]
    assert codes["rec-05"] == ["file.missing"]  # a missing object is a finding
    assert [r["record"] for r in out["results"]] == RECORDS
    local = stored.run("audit", "--json", "--sample", "100%")
    heads = {r["record"]: r["head"] for r in local.json()["results"]}
    assert heads == {r["record"]: r["head"] for r in out["results"]}  # the same records were read


def test_signed_report_of_an_s3_archive(stored: World, tmp_path: Path) -> None:
    from provenance.keys import generate_key
    from provenance.model.events import Role
    from tests.conftest import PASSPHRASE

    url = stored.env["TEST_URL"]
    trust = tmp_path / "auditor-trust"
    generate_key(stored.archive, name="Au. Ditor", roles=[Role.AUDITOR], passphrase=PASSPHRASE.encode(), now=T0,
                 rounds=1, home=stored.home)
    report = tmp_path / "report.json"
    result = stored.run("audit", "--archive", url, "--trust", str(stored.archive.keys_dir), "--report", str(report),
                        "--key", "Au. Ditor")
    assert result.returncode == 1, result.stderr
    assert json.loads(report.read_text())["archive"] == url
    del trust
    assert stored.run("verify-report", str(report)).returncode == 0


def test_verify_a_record_on_s3(stored: World) -> None:
    url = stored.env["TEST_URL"]
    assert stored.run("verify", f"{url}/records/rec-01").returncode == 0
    bad = stored.run("verify", f"{url}/records/rec-03", "--json")
    assert bad.returncode == 1 and bad.json()["problems"][0]["code"] == "file.digest-mismatch"
    by_id = stored.run("verify", "rec-01", "records/rec-02", "--archive", url, "--json")
    assert by_id.returncode == 0 and by_id.json()["summary"]["trusted"] == 2
    missing = stored.run("verify", f"{url}/records/rec-99")
    assert missing.returncode == 2 and "[input.not-found]" in missing.stderr


def test_record_events_are_refused_on_object_storage(stored: World) -> None:
    result = stored.run("audit", "--archive", stored.env["TEST_URL"], "--record-events")
    assert result.returncode == 2 and "read-only" in result.stderr and "[usage.invalid]" in result.stderr


@pytest.mark.parametrize(
    ("url", "env", "code"),
    [
        ("s3://no-such-bucket/x", {}, "archive.not-found"),
        (URL + "-nothing-here", {}, "archive.not-found"),
        ("s3://archive-bucket/x", {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, "storage.unavailable"),
    ],
    ids=["bucket missing", "no archive under the prefix", "store unreachable"],
)
def test_bad_locations_are_one_line(stored: World, url: str, env: dict[str, str], code: str) -> None:
    result = stored.run("audit", "--archive", url, env=env)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and f"[{code}]" in result.stderr


def test_a_timeout_is_retried_then_reported(stored: World, server: S3Server, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setattr(source_module, "READ_TIMEOUT_S", 0.3)
    monkeypatch.setattr(source_module, "CONNECT_TIMEOUT_S", 0.3)
    monkeypatch.setattr(source_module, "ATTEMPTS", 2)
    monkeypatch.setattr(source_module, "BOTO_ATTEMPTS", 1)
    monkeypatch.setattr(source_module, "BACKOFF_S", 0.05)
    remote = RemoteSource(stored.env["TEST_URL"])
    remote.fs()  # connected before the server stops answering
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(ReadFailedError, match=r"(?i)time"):
            remote.fetch_record("rec-01", tmp_path)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    folder, _ = remote.fetch_record("rec-01", tmp_path / "again")  # answering again: read
    assert (folder / "manifest.json").is_file()


def test_the_store_going_away_mid_run_loses_and_doubles_nothing(world: World, server: S3Server,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from provenance.ingest.service import ingest, read_transcription

    source = read_transcription(REFERENCE)
    ids = [f"r-{index:02d}" for index in range(12)]
    for rid in ids:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    monkeypatch.setattr(source_module, "ATTEMPTS", 2)
    monkeypatch.setattr(source_module, "BOTO_ATTEMPTS", 1)
    monkeypatch.setattr(source_module, "BACKOFF_S", 0.05)
    with s3_server() as own:
        for name, value in own.env.items():
            monkeypatch.setenv(name, value)
        own.upload(world.root, URL)
        now = T0 + timedelta(days=1)

        def run(on_results: Any = None) -> Any:
            prepared = prepare(URL, None, now)
            try:
                return run_audit(prepared, Plan(), home=world.home, clock=lambda: now, on_results=on_results)
            finally:
                prepared.close()

        def kill_after_first(batch: list[dict[str, Any]]) -> None:
            own.process.kill()

        first = run(kill_after_first)
    assert first.selection["stopped"] == "storage-unavailable"
    names = [r["record"] for r in first.results]
    assert len(names) == len(set(names)) and first.selection["remaining"] > 0
    assert first.selection["audited"] + first.selection["remaining"] == len(ids)
    failed = [r for r in first.results if r["problems"] and r["problems"][0]["code"] == "storage.read-failed"]
    assert failed and all(r["state"] == "invalid" for r in failed)
    assert first.warnings and "stopped answering" in first.warnings[0]
    # the store is back (here: another server, the same archive uploaded to it)
    for name, value in server.env.items():
        monkeypatch.setenv(name, value)
    server.upload(world.root, URL)
    second = run()
    done_first = {r["record"] for r in first.results if r not in failed}
    done_second = {r["record"] for r in second.results}
    assert not done_first & done_second  # nothing twice
    assert done_first | done_second == set(ids)  # nothing lost: the unread records were audited now


def test_hostile_object_keys_are_named_not_written(stored: World, server: S3Server, tmp_path: Path) -> None:
    """An object under a file's own name (``x.txt/inner``) cannot be laid out beside it: it is reported as
    file.path-unsafe and nothing is written outside the record's temporary folder."""
    from provenance.audit.work import AuditJob, audit_batch
    from provenance.verify.target import make_context

    url = stored.env["TEST_URL"]
    base = url.split("://")[1]
    server.fs().pipe_file(f"{base}/records/rec-06/files/{REFERENCE.name}/inner", b"hostile")
    ctx = make_context(stored.archive.keys_dir, T0 + timedelta(days=1))
    [result] = audit_batch(AuditJob(RemoteSource(url), ctx), ["rec-06"])
    assert result["state"] == "invalid"
    assert "file.path-unsafe" in [p["code"] for p in result["problems"]]
