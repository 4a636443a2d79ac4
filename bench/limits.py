"""Hostile input, bounded: each limit of the README's "Limits" table, measured with and without it.

``python bench/limits.py`` (``BENCH_QUICK=1`` for smaller sizes) builds the hostile inputs of issue 9 item 8
in a temporary folder and runs the installed command on each twice: with the default limits ("after"), and
with the limit raised far beyond the input (what the command did before the limit existed, "before"),
that run stopped after ``BEFORE_TIMEOUT`` seconds. Wall time and peak resident memory (the process's own
``VmHWM``, sampled from /proc) are written to ``bench/limits.md``.

1. ``ingest`` of a 20 MiB text with 600,000 bracketed editorial insertions (and of a 200 MiB one).
2. ``audit`` of an archive of 100,000 records.
3. ``verify`` of a record whose files/ holds 100,000 files.
4. ``keys list`` with 100,000 distinct key cards in keys/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent / "provenance"
QUICK = os.environ.get("BENCH_QUICK") == "1"
BEFORE_TIMEOUT = float(os.environ.get("BENCH_BEFORE_TIMEOUT", "300"))
N = 10_000 if QUICK else 100_000
UNLIMITED = {"PROVENANCE_MAX_NOTES": "1000000000", "PROVENANCE_MAX_RECORDS": "1000000000",
             "PROVENANCE_MAX_FILES": "1000000000", "PROVENANCE_MAX_KEYS": "1000000000"}


@dataclass
class Measured:
    seconds: float
    peak_mib: float
    code: int | None  # None: stopped at the timeout
    last_line: str


def measure(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Measured:
    """Wall time, peak resident memory and exit code of ``cmd`` (stopped after ``timeout`` seconds)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                cwd=cwd)
        peak = 0
        code: int | None = None
        while True:
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            code = proc.poll()
            if code is not None:
                break
            if time.perf_counter() - start > timeout:
                proc.kill()
                proc.wait()
                code = None
                break
            time.sleep(0.005 if time.perf_counter() - start < 2 else 0.05)
        seconds = time.perf_counter() - start
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    return Measured(seconds, peak / 1024, code, lines[-1][:160] if lines else "")


def bracket_text(path: Path, mib: int) -> int:
    """A text of ``mib`` MiB, three bracketed insertions a line; returns how many insertions."""
    line = "Line {}: the [Soviet] side [USSR] agrees with [Comrade] Filippov on the question of armistice talks.\n"
    target = mib << 20
    count = size = 0
    with path.open("w", encoding="utf-8") as out:
        while size < target:
            text = line.format(count // 3)
            out.write(text)
            size += len(text)
            count += 3
    return count


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="provenance-limits-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env.update(PROVENANCE_HOME=str(tmp / "home"), PROVENANCE_NOW="2026-01-05T09:00:00Z")
    env["PROVENANCE_PASSPHRASE"] = "bench"  # noqa: S105 (a throw-away key of the benchmark)
    archive = tmp / "archive"
    subprocess.run([str(BIN), "init", str(archive)], env=env, check=True, capture_output=True)
    subprocess.run([str(BIN), "keys", "generate", "--name", "A. Archivist", "--role", "archivist", "--kdf-rounds",
                    "1"], env=env, cwd=archive, check=True, capture_output=True)
    rows: list[tuple[str, Measured | None, Measured]] = []

    def both(name: str, cmd: list[str], cwd: Path, before_too: bool = True) -> None:
        print(f"limits: {name}", file=sys.stderr, flush=True)
        after = measure(cmd, env, cwd, 120)
        before = measure(cmd, {**env, **UNLIMITED}, cwd, BEFORE_TIMEOUT) if before_too else None
        rows.append((name, before, after))
        # whatever "before" wrote is removed, so that each case starts from the same archive
        shutil.rmtree(archive / "records" / "bench-big", ignore_errors=True)

    for mib in ((2,) if QUICK else (20, 200)):
        text = tmp / f"brackets-{mib}.txt"
        count = bracket_text(text, mib)
        both(f"ingest of a {mib} MiB text with {count:,} bracketed insertions",
             [str(BIN), "ingest", str(text), "--profile", "generic", "--title", "Brackets", "--id", "bench-big"],
             archive, before_too=mib < 100)  # 200 MiB without the limit: tens of GiB (issue 9), not run
        text.unlink()

    many = tmp / "many-records"
    subprocess.run([str(BIN), "init", str(many)], env=env, check=True, capture_output=True)
    shutil.copytree(archive / "keys", many / "keys", dirs_exist_ok=True)
    for i in range(N):
        (many / "records" / f"r{i:06d}").mkdir()
        (many / "records" / f"r{i:06d}" / "manifest.json").write_text("{}\n")
    both(f"audit of an archive of {N:,} records", [str(BIN), "audit", "--json", "--jobs", "1"], many)
    shutil.rmtree(many)

    subprocess.run([str(BIN), "ingest", str(ROOT / "tests" / "data" / "corpus" / "telegram-23256.txt")], env=env,
                   cwd=archive, check=True, capture_output=True)
    files = archive / "records" / "telegram-23256" / "files"
    for i in range(N):
        (files / f"extra-{i:06d}.txt").write_bytes(b"x")
    both(f"verify of a record whose files/ holds {N:,} files",
         [str(BIN), "verify", "records/telegram-23256", "--json", "--jobs", "1"], archive)
    shutil.rmtree(archive / "records" / "telegram-23256")

    sys.path.insert(0, str(ROOT))
    from provenance.keys import b64url
    from provenance.signing import SigningKey

    keys = tmp / "many-keys"
    keys.mkdir()
    for i in range(N):
        key = SigningKey.generate()
        card = {"format": "provenance-key-card/1", "id": key.key_id, "algorithm": "ed25519",
                "public_key": b64url(key.public_bytes()), "name": f"Signer {i}", "roles": ["reviewer"],
                "valid_from": "2026-01-01T00:00:00Z"}
        (keys / f"signer-{i:06d}.json").write_text(json.dumps(card, indent=2) + "\n")
    shutil.rmtree(archive / "keys")
    keys.rename(archive / "keys")
    both(f"keys list with {N:,} key cards in keys/", [str(BIN), "keys", "list", "--json"], archive)

    out = ["# Hostile input, bounded (`python bench/limits.py`)", "",
           "Each row: the same command on the same input, with the default limits (after) and with the limit",
           f"raised beyond the input, as the command behaved before the limit existed (before; stopped after "
           f"{BEFORE_TIMEOUT:.0f} s). Peak memory is the process's own VmHWM.", "",
           "| input | before: time, peak memory, exit | after: time, peak memory, exit | after: message |",
           "| --- | --- | --- | --- |"]
    for name, before, after in rows:
        def cell(m: Measured | None) -> str:
            if m is None:
                return "not run (see the issue: 24 GB for 200 MB)"
            code = "killed at the timeout" if m.code is None else f"exit {m.code}"
            return f"{m.seconds:.2f} s, {m.peak_mib:,.0f} MiB, {code}"
        out.append(f"| {name} | {cell(before)} | {cell(after)} | {after.last_line.replace('|', '/')} |")
    text = "\n".join(out) + "\n"
    print(text)
    if not QUICK:
        (ROOT / "bench" / "limits.md").write_text(text, encoding="utf-8")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
