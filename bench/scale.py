"""Audit at scale (issue 16): the three figures, each a ratio measured in one run on the audit archive of
``gen.audit_archive`` (10,000 records of 5 events; 2,000 with BENCH_QUICK=1).

6a. ``audit --engine dask`` with two local workers (``dask scheduler`` + two ``dask worker`` processes over
    TCP on 127.0.0.1, started before timing, as a cluster is) vs ``audit --jobs 2``, same records.
6b. ``audit --archive s3://…`` from a local S3 server (moto in server mode) vs the same records from local
    disk, both ``--jobs 2`` (a subset of ``S3_RECORDS`` records: uploading 10,000 records to moto takes
    minutes).
6c. an audit stopped at about 50% by ``--max-time`` and resumed, vs one uninterrupted run (both through
    the audit state).

Run alone: ``.venv/bin/python bench/scale.py`` (prints the rows and the per-record cost).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen

S3_RECORDS = 500


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CPU = [0.0]  # CPU seconds (user + system) of the last command timed, its child processes included


def _timed(cmd: list[str], env: dict[str, str] | None = None, expect: tuple[int, ...] = (0,)) -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[0] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in expect:
        raise RuntimeError(f"{' '.join(cmd)}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    return elapsed


def _state(archive: Path) -> None:
    (archive / ".provenance" / "audit-state.sqlite").unlink(missing_ok=True)


def dask_figure(archive: Path, records: int, reps: int) -> dict[str, Any]:
    dask = gen.bin_path("dask")
    port = _port()
    address = f"tcp://127.0.0.1:{port}"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              **quiet)]
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                "--host", "127.0.0.1"], **quiet) for _ in range(2)]
    try:
        from distributed import Client

        client = Client(address, timeout=60)
        client.wait_for_workers(2, timeout=60)
        client.close()
        audit = [gen.bin_path("provenance"), "audit", "--archive", str(archive)]
        local_runs, dask_runs = [], []
        _timed([*audit, "--jobs", "2"])  # warm the page cache
        for _ in range(reps):
            local_runs.append(_timed([*audit, "--jobs", "2"]))
            _state(archive)
            dask_runs.append(_timed([*audit, "--engine", "dask", "--scheduler", address]))
    finally:
        for proc in reversed(procs):  # workers first: without a scheduler they wait to reconnect
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    # the best of alternated runs: on a machine shared with other work the fastest run is the one least
    # slowed by it (both engines get the same chances)
    local, on_dask = min(local_runs), min(dask_runs)
    return {"local": local, "dask": on_dask, "ratio": local / on_dask, "records": records}


def s3_figure(archive: Path, reps: int) -> dict[str, Any]:
    import s3fs

    subset = gen.WORK / "audit-s3" / "archive"
    ids = sorted(os.listdir(archive / "records"))[:S3_RECORDS]
    if not (subset / "records").is_dir() or len(os.listdir(subset / "records")) != len(ids):
        shutil.rmtree(subset.parent, ignore_errors=True)
        (subset / "records").mkdir(parents=True)
        shutil.copytree(archive / "keys", subset / "keys")
        for rid in ids:
            shutil.copytree(archive / "records" / rid, subset / "records" / rid)
    port = _port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
    server = subprocess.Popen([gen.bin_path("moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        credentials = {"key": "bench", "secret": "bench"}  # the local test server's
        fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, **credentials)
        fs.mkdir("bench")
        fs.put(str(subset / "records"), "bench/archive/records", recursive=True)
        fs.put(str(subset / "keys"), "bench/archive/keys", recursive=True)
        # the server's own rate: GETs of the objects of 100 records, 32 at once (s3fs), from one process
        keys = [k for k in fs.find("bench/archive/records") if k.split("/")[3] in set(ids[:100])]
        started = time.perf_counter()
        fs.cat(keys, batch_size=32)
        get_rate = len(keys) / (time.perf_counter() - started)
        per_record = len(keys) / 100 + 1  # its objects, and one listing
        audit = [gen.bin_path("provenance"), "audit", "--jobs", "2", "--sample", "100%"]
        disk_runs, s3_runs = [], []
        for _ in range(reps):
            _state(subset)
            disk_runs.append(_timed([*audit, "--archive", str(subset)], env=env))
            s3_runs.append(_timed([*audit, "--archive", "s3://bench/archive"], env=env))
    finally:
        server.terminate()
        server.wait(10)
    disk, s3 = min(disk_runs), min(s3_runs)
    return {"disk": disk, "s3": s3, "ratio": disk / s3, "records": len(ids), "get_rate": get_rate,
            "requests": per_record}


def resume_figure(archive: Path) -> dict[str, Any]:
    """Wall time, and CPU time of the command and its pool (what the work costs, whatever else the machine
    runs meanwhile), of one run through the audit state vs a run stopped at half its time plus the run that
    continues it."""
    audit = [gen.bin_path("provenance"), "audit", "--archive", str(archive), "--jobs", "2", "--json"]
    _state(archive)
    whole = _timed([*audit, "--sample", "100%"])
    whole_cpu = CPU[0]
    _state(archive)
    half = max(1, round(whole / 2))
    first = _timed([*audit, "--max-time", f"{half}s"])
    first_cpu = CPU[0]
    second = _timed([*audit, "--max-time", f"{4 * half}s"])  # the same scheduled command, run again
    second_cpu = CPU[0]
    _state(archive)
    return {"whole": whole, "stopped": first, "resumed": second, "wall_ratio": (first + second) / whole,
            "whole_cpu": whole_cpu, "cpu": first_cpu + second_cpu, "ratio": (first_cpu + second_cpu) / whole_cpu}


def figures(archive: Path, records: int, quick: bool) -> tuple[list[tuple[str, str, str, float, str, bool]],
                                                               list[str]]:
    reps = 1 if quick else 3
    d = dask_figure(archive, records, reps)
    s = s3_figure(archive, 1)
    r = resume_figure(archive)
    per_record = d["local"] / records * 2  # seconds of one process for one record (two processes ran)
    rows = [
        (f"audit --engine dask, two local workers (TCP), vs audit --jobs 2, {records:,} records",
         f"{records / d['dask']:,.0f} records/s ({d['dask']:.2f} s)",
         f"{records / d['local']:,.0f} records/s ({d['local']:.2f} s)", d["ratio"], "≥ 0.85×", d["ratio"] >= 0.85),
        (f"audit from a local S3 server (moto) vs from local disk, {s['records']:,} records, --jobs 2",
         f"{s['records'] / s['s3']:,.0f} records/s ({s['s3']:.2f} s)",
         f"{s['records'] / s['disk']:,.0f} records/s ({s['disk']:.2f} s)", s["ratio"], "≥ 0.50×", s["ratio"] >= 0.5),
        (f"audit stopped at ~50% (--max-time) and resumed vs one run, {records:,} records, --jobs 2: CPU time "
         "of the commands and their pools",
         f"{r['cpu']:.2f} s CPU (wall {r['stopped']:.2f} + {r['resumed']:.2f} s)",
         f"{r['whole_cpu']:.2f} s CPU (wall {r['whole']:.2f} s)", r["ratio"], "≤ 1.10×", r["ratio"] <= 1.1),
    ]
    notes = [
        f"per-record cost of a full audit (5 events, one process): {per_record * 1e3:.2f} ms, so one worker "
        f"process audits about {3600 / per_record:,.0f} records an hour; N worker processes about "
        f"N × {3600 / per_record:,.0f} (docs/scale.md)",
        f"from S3 each record is one listing and its objects fetched at once; the S3 run costs "
        f"{(s['s3'] - s['disk']) / s['records'] * 1e3:.2f} ms a record more than disk on this machine, where the "
        "S3 server shares the two CPUs with the audit",
        f"the S3 server alone (moto, Python) answers {s['get_rate']:,.0f} GETs/s here (s3fs, 32 at once); a record "
        f"of 5 events is {s['requests']:.0f} requests (one listing, its objects), so the server alone bounds an "
        f"S3 audit to {s['get_rate'] / s['requests']:,.0f} records/s, "
        f"{s['get_rate'] / s['requests'] / (s['records'] / s['disk']):.2f}× the disk audit measured here",
    ]
    return rows, notes


def main() -> None:
    quick = os.environ.get("BENCH_QUICK") == "1"
    size = gen.sizes(quick)["records"]
    archive = gen.audit_archive(size, print)
    rows, notes = figures(archive, size, quick)
    for row in rows:
        print(" | ".join(str(x) for x in row))
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
