"""The Dask engine on real clusters: a ``LocalCluster`` of worker processes, and a ``dask scheduler`` with two
``dask worker`` processes over TCP on 127.0.0.1 (started and stopped here). Results are those of the local
engine; they stream into one signed report; a worker killed mid-run loses no result and doubles none."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from provenance.audit.run import Plan, prepare, run_audit
from tests.conftest import PASSPHRASE, REFERENCE, T0, World

pytest.importorskip("distributed", reason="dask[distributed] is not installed (the test extra installs it)")

RECORDS = [f"rec-{index:02d}" for index in range(40)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def many(world: World) -> World:
    from provenance.ingest.service import ingest, read_transcription

    source = read_transcription(REFERENCE)
    for rid in RECORDS:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    altered = world.archive.record_dir("rec-07") / "files" / REFERENCE.name
    altered.write_bytes(altered.read_bytes().replace(b"Kaesong", b"Xaesong"))
    return world


def _audit(world: World, plan: Plan, **kwargs: Any) -> Any:
    now = T0 + timedelta(days=1)
    prepared = prepare(str(world.root), None, now)
    try:
        return run_audit(prepared, plan, home=world.home, clock=lambda: now, **kwargs)
    finally:
        prepared.close()


def _summary(outcome: Any) -> list[tuple[str, str, str | None, list[str]]]:
    return [(r["record"], r["state"], r["head"], [p["code"] for p in r["problems"]]) for r in outcome.results]


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[str]:
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


def test_local_cluster_gives_the_results_of_the_local_engine_in_a_signed_report(
    many: World, local_cluster: str, tmp_path: Path
) -> None:
    """The CLI on a LocalCluster of two worker processes: the results of the local engine, record by
    record, streamed into one signed report that verify-report trusts."""
    from provenance.keys import generate_key
    from provenance.model.events import Role

    reference = _audit(many, Plan(jobs=1))
    (many.root / ".provenance" / "audit-state.sqlite").unlink()  # the same cycle again, on the cluster
    generate_key(many.archive, name="Au. Ditor", roles=[Role.AUDITOR], passphrase=PASSPHRASE.encode(), now=T0,
                 rounds=1, home=many.home)
    report = tmp_path / "report.json"
    result = many.run("audit", "--engine", "dask", "--scheduler", local_cluster, "--report", str(report),
                      "--key", "Au. Ditor", "--json")
    assert result.returncode == 1, result.stderr
    out = result.json()
    assert out["engine"]["name"] == "dask" and out["engine"]["workers"] == 2
    assert [(r["record"], r["state"], r["head"], [p["code"] for p in r["problems"]]) for r in out["results"]] == (
        _summary(reference))
    assert out["summary"] == {"trusted": 39, "valid": 0, "invalid": 1}
    checked = many.run("verify-report", str(report), "--json")
    assert checked.returncode == 0 and checked.json()["audit"]["counts"]["trusted"] == 39


def test_an_unreachable_scheduler_is_named() -> None:
    from provenance.audit.engines import DaskEngine
    from provenance.errors import ErrorCode, ProvenanceError

    with pytest.raises(ProvenanceError) as caught:
        DaskEngine(f"tcp://127.0.0.1:{_free_port()}", connect_timeout=0.5).connect()
    assert caught.value.code is ErrorCode.SCHEDULER_UNREACHABLE and "dask scheduler" in caught.value.message


class TcpCluster:
    """``dask scheduler`` and two ``dask worker`` processes (no nanny: killing one kills the worker)."""

    def __init__(self) -> None:
        dask = str(Path(sys.executable).parent / "dask")
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                           "--no-dashboard"], **quiet)
        self.workers = [
            subprocess.Popen([dask, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                              "--host", "127.0.0.1", "--name", f"w{index}"], **quiet)
            for index in range(2)
        ]

    def wait(self, workers: int = 2, timeout: float = 60) -> None:
        from distributed import Client

        client = Client(self.address, timeout=timeout)
        try:
            client.wait_for_workers(workers, timeout=timeout)
        finally:
            client.close()

    def stop(self) -> None:
        for process in self.workers:  # test processes: no graceful close needed
            if process.poll() is None:
                process.kill()
        if self.scheduler.poll() is None:
            self.scheduler.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def tcp_cluster() -> Iterator[TcpCluster]:
    if not (Path(sys.executable).parent / "dask").exists():
        pytest.skip("the dask command is not installed (pip install 'dask[distributed]')")
    cluster = TcpCluster()
    try:
        cluster.wait()
        yield cluster
    finally:
        cluster.stop()


def test_scheduler_and_two_workers_over_tcp_lose_no_result_when_a_worker_dies(
    many: World, tcp_cluster: TcpCluster
) -> None:
    """A run during which one worker is killed after the first batch comes back: its batches run again on
    the other worker; every record once, the results of the local engine."""
    reference = _audit(many, Plan(jobs=1))
    (many.root / ".provenance" / "audit-state.sqlite").unlink()
    killed: list[int] = []

    def kill_one(batch: list[dict[str, Any]]) -> None:
        if not killed:
            tcp_cluster.workers[0].kill()
            killed.append(tcp_cluster.workers[0].pid)
            time.sleep(0.2)

    outcome = _audit(many, Plan(engine="dask", scheduler=tcp_cluster.address), on_results=kill_one)
    assert killed and tcp_cluster.workers[0].poll() is not None
    assert [r["record"] for r in outcome.results] == RECORDS  # none lost, none twice
    assert _summary(outcome) == _summary(reference)
