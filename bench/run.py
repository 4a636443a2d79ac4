"""``make bench``: the speed targets, each timed against a reference measured in the same run.

Every figure is a median of several runs, alternating ours and the reference; every command is a binary
of this virtual environment (or the system's ``openssl``), never a shell shim. Prints the table and writes
``bench/results.md``. ``BENCH_QUICK=1`` runs smaller sizes (a smoke test of the bench, not the targets);
``--fresh`` makes the data again.

1. verify of one record holding a 1 GiB file vs ``openssl dgst -sha256`` of that file; peak memory.
2. verify of an exported record of 10,000 files of 4 KiB vs ``bagit.py --validate`` of the same bag.
3. verify of 1,000 exported bags of the reference record in one call vs ``bagit.py --validate`` of them.
4. cold start: verify of the reference record vs a minimal typer app with one command.
5. audit of 10,000 records of 5 events: ``--jobs 1`` vs the bare Ed25519 bound; ``--jobs 2`` scaling vs two
   processes of bare verification.
6-9. the collection targets (issue 11), in ``coll_targets.py``; ``--only-collections`` runs them alone.

``--only 2,3,5`` runs the rows named (of 1 to 5) and rewrites only their rows and measured notes in
``results.md`` (the figures of the other rows stay those of their last run).
10. the transparency log (bench/tlog_bench.py): appending a leaf vs a note, proof size at 1,000,000 leaves,
   verify with proofs vs without.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen

ROOT = gen.ROOT
BENCH = ROOT / "bench"
QUICK = os.environ.get("BENCH_QUICK") == "1"
PY = sys.executable


# figures measured once and used by several targets
START_SECONDS = [0.0]  # cold verify of the reference record
BARE_RATE = [1.0]  # bare Ed25519 verifications per second, one process
BARE_PAIR = [1.0]  # throughput of two such processes at once, relative to one


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Run:
    seconds: float
    peak_kib: int
    stdout: str = ""


def run(cmd: Sequence[str], *, expect: Sequence[int] = (0,), env: dict[str, str] | None = None,
        keep_stdout: bool = False) -> Run:
    """Run ``cmd`` (no shell), wall-clock timed. Raises when the exit code is unexpected.

    ``peak_kib`` is not taken from wait4: a child's ru_maxrss counts the pages it shared with this (large)
    process until its exec. :func:`peak_memory` measures memory instead.
    """
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out if keep_stdout else subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL, env=env)
        code = proc.wait()
        seconds = time.perf_counter() - start
        if code not in expect:
            err.seek(0)
            raise SystemExit(f"bench: {' '.join(cmd[:4])}… exited {code}: {err.read()[-2000:]!r}")
        out.seek(0)
        return Run(seconds, 0, out.read().decode() if keep_stdout else "")


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (helpers, pool workers), from /proc."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, ValueError):
            continue
        stack.extend(int(child) for child in children)
    return total


def peak_memory(cmd: Sequence[str], *, expect: Sequence[int] = (0,)) -> float:
    """The largest resident memory (MiB) of ``cmd`` and its descendants together, sampled every 2 ms."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kib(proc.pid))
        time.sleep(0.002)
    if proc.returncode not in expect:
        raise SystemExit(f"bench: {' '.join(cmd[:4])}… exited {proc.returncode}")
    return peak / 1024


def alternate(ours: Callable[[], Run], reference: Callable[[], Run], reps: int) -> tuple[list[Run], list[Run]]:
    """Warm both once (page cache, .pyc), then alternate them ``reps`` times."""
    ours()
    reference()
    mine, theirs = [], []
    for _ in range(reps):
        theirs.append(reference())
        mine.append(ours())
    return mine, theirs


def median(runs: Sequence[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


@dataclass
class Row:
    number: int
    target: str
    ours: str
    reference: str
    ratio: float
    goal: str
    met: bool
    notes: list[str] = field(default_factory=list)


def ratio_row(number: int, target: str, ours: str, reference: str, ratio: float, goal: str, met: bool) -> Row:
    return Row(number, target, ours, reference, ratio, goal, met)


def py_seconds(code: str) -> float:
    """Run ``code`` in a fresh interpreter of this venv; it prints one number (seconds)."""
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return float(out.strip().splitlines()[-1])


def pair_scaling(code: str) -> tuple[float, float]:
    """(seconds alone, throughput ratio of two at once) for a snippet that prints its own seconds."""
    alone = statistics.median(py_seconds(code) for _ in range(3))
    ratios = []
    for _ in range(3):
        procs = [subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT) for _ in range(2)]
        both = [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
        ratios.append(2 * alone / max(both))
    return alone, statistics.median(ratios)


def steps(*args: str) -> dict[str, float]:
    import json

    out = subprocess.run([PY, str(BENCH / "steps.py"), *args], capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def step_lines(result: dict[str, float], unit: float, unit_name: str, per: str) -> list[str]:
    total = result["total"]
    lines = [f"in one process, {total * unit:,.0f} {unit_name} a {per}:"]
    named = 0.0
    for label, seconds in result.items():
        if label == "total":
            continue
        if not label.startswith(" "):
            named += seconds
        lines.append(f"  - {label.strip()}: {seconds * unit:,.0f} {unit_name}")
    lines.append(f"  - the rest (report, reading folders, start of each target): "
                 f"{max(total - named, 0) * unit:,.0f} {unit_name}")
    return lines


SHA_SNIPPET = (
    "import hashlib, time\nd = bytes(1 << 20)\nt = time.perf_counter()\n"
    "h = hashlib.sha256()\nfor _ in range(512): h.update(d)\nprint(time.perf_counter() - t)"
)
SMALL_FILES_SNIPPET = (
    "import time, os\nfrom provenance.verify.hashing import hash_files\n"
    "root = 'bench/work/main/dossier-bag/data/files/pages'\n"
    "files = sorted(os.path.join(root, n) for n in os.listdir(root))\n"
    "t = time.perf_counter()\nhash_files(files)\nprint(time.perf_counter() - t)"
)


# --------------------------------------------------------------------------------------------------------


def provenance(*args: str) -> list[str]:
    return [gen.bin_path("provenance"), *args]


def target_big(main: Path, size: int) -> tuple[Row, list[str]]:
    archive = main / "archive"
    big = archive / "records" / "big" / "files" / "big.bin"
    reps = 3 if QUICK else 5
    mine, theirs = alternate(
        lambda: run(provenance("verify", str(archive / "records" / "big"), "--archive", str(archive))),
        lambda: run(["openssl", "dgst", "-sha256", str(big)]),
        reps,
    )
    ours_s, ref_s = median(mine), median(theirs)
    peak = max(peak_memory(provenance("verify", str(archive / "records" / "big"), "--archive", str(archive)))
               for _ in range(2))
    ratio = ref_s / ours_s  # throughput ratio: same bytes
    gib = size / (1 << 30)
    hashing = statistics.median(
        py_seconds(
            "import time\nfrom provenance.verify.hashing import sha256_file\nt = time.perf_counter()\n"
            f"sha256_file({str(big)!r})\nprint(time.perf_counter() - t)"
        )
        for _ in range(3)
    )
    row = ratio_row(
        1,
        f"verify, one record with a {gib:g} GiB file: throughput vs openssl dgst -sha256; peak memory",
        f"{ours_s:.3f} s ({size / ours_s / 1e9:.2f} GB/s), peak {peak:.0f} MiB (with its helper)",
        f"{ref_s:.3f} s ({size / ref_s / 1e9:.2f} GB/s)",
        ratio,
        "≥ 0.90× and ≤ 100 MiB",
        ratio >= 0.9 and peak <= 100,
    )
    notes = [
        f"our streaming SHA-256 of the file alone (in a running interpreter, 4 MiB reads): {hashing:.3f} s "
        f"({size / hashing / 1e9:.2f} GB/s), {ref_s / hashing:.2f}× openssl's speed; verify adds "
        f"{ours_s - hashing:.3f} s: the cold start (interpreter, library, trust store, the other checks), "
        "which a helper process forked before the library loads overlaps with the hashing "
        "(see the SHA-256 pair figure in 5 for how much two processes slow each other here)",
    ]
    return row, notes


def target_dossier(main: Path, files: int) -> tuple[Row, list[str]]:
    bag = main / "dossier-bag"
    keys = main / "archive" / "keys"
    reps = 3 if QUICK else 5
    mine, theirs = alternate(
        lambda: run(provenance("verify", str(bag), "--trust", str(keys))),
        lambda: run([gen.bin_path("bagit.py"), "--validate", "--quiet", str(bag)]),
        reps,
    )
    one = [run(provenance("verify", str(bag), "--trust", str(keys), "--jobs", "1")) for _ in range(reps)]
    ours_s, ref_s, one_s = median(mine), median(theirs), median(one)
    ratio = ours_s / ref_s
    row = ratio_row(
        2,
        f"verify, exported record of {files:,} files of 4 KiB vs bagit.py --validate (sha256)",
        f"{ours_s:.3f} s ({ours_s / files * 1e6:.1f} µs/file)",
        f"{ref_s:.3f} s ({ref_s / files * 1e6:.1f} µs/file)",
        ratio,
        "≤ 0.50×",  # issue 15
        ratio <= 0.5,
    )
    hashed_alone, hashed_pair = pair_scaling(SMALL_FILES_SNIPPET)
    notes = [
        f"with --jobs 1: {one_s:.3f} s. Hashing the {files:,} payload files alone (open, read, SHA-256, "
        f"close) takes {hashed_alone:.3f} s ({hashed_alone / files * 1e6:.1f} µs a file) in one process; "
        f"two processes doing it at once get ×{hashed_pair:.2f} the throughput of one",
        *step_lines(steps("bag", str(keys), str(bag)), 1e3, "ms", "verification of the bag"),
        f"a cold start of verify (see 4) adds about {START_SECONDS[0] * 1e3:.0f} ms to the figure above",
    ]
    return row, notes


def target_bundles(main: Path, count: int) -> tuple[Row, list[str]]:
    bags = [str(p) for p in gen.bag_paths(main)]
    keys = main / "archive" / "keys"
    reps = 2 if QUICK else 3
    mine, theirs = alternate(
        lambda: run(provenance("verify", *bags, "--trust", str(keys))),
        lambda: run([gen.bin_path("bagit.py"), "--validate", "--quiet", *bags]),
        reps,
    )
    ours_s, ref_s = median(mine), median(theirs)
    ratio = ours_s / ref_s
    row = ratio_row(
        3,
        f"verify of {count:,} exported bags of the reference record in one call (every signature checked) "
        "vs bagit.py --validate of them",
        f"{ours_s:.3f} s ({ours_s / count * 1e3:.2f} ms/bag)",
        f"{ref_s:.3f} s ({ref_s / count * 1e3:.2f} ms/bag)",
        ratio,
        "≤ 1.00×",  # issue 15
        ratio <= 1.0,
    )
    events = 8
    per_sig = 1 / BARE_RATE[0]
    floor = events * per_sig / BARE_PAIR[0]
    notes = [
        f"the reference record has {events} signed events: at the bare Ed25519 rate measured in this run "
        f"({BARE_RATE[0]:,.0f}/s, ×{BARE_PAIR[0]:.2f} with two processes) its signatures alone take "
        f"{events * per_sig * 1e3:.2f} ms a bag in one process, {floor * 1e3:.2f} ms a bag over two: "
        f"{floor / (ref_s / count):.2f}× bagit.py's whole time per bag before anything else is read",
        *step_lines(steps("bags", str(keys), *bags[:200]), 1e6, "µs", "bag"),
    ]
    return row, notes


def reference_record(main: Path) -> tuple[Path, Path]:
    """The repository's reference record when it is there, else the one made for the bench."""
    if (ROOT / "records" / gen.RID / "manifest.json").is_file():
        return ROOT / "records" / gen.RID, ROOT
    return main / "archive" / "records" / gen.RID, main / "archive"


# verify read by typer alone (no fast parser), ending as the fast path ends: what dropping the fast parser
# would cost (issue 15, item 5: one argument table, or no fast parser at all; both are measured)
TYPER_VERIFY = (
    "import os, sys\nfrom provenance.cli import app\napp._fast_command = lambda args: None\n"
    "try:\n    app.main(sys.argv[1:])\n    code = 0\nexcept SystemExit as exc:\n    code = int(exc.code or 0)\n"
    "sys.stdout.flush()\nos._exit(code)\n"
)


def target_start(main: Path) -> tuple[Row, list[str]]:
    record, archive = reference_record(main)
    reps = 11 if QUICK else 31
    args = ("verify", str(record), "--archive", str(archive))
    commands = [[PY, str(BENCH / "minimal_app.py")], provenance(*args), [PY, "-c", TYPER_VERIFY, *args]]
    for cmd in commands:  # warm each once (page cache, .pyc)
        run(cmd)
    runs: list[list[Run]] = [[], [], []]
    for _ in range(reps):
        for cmd, times in zip(commands, runs, strict=True):
            times.append(run(cmd))
    ref_s, ours_s, typer_s = (median(times) for times in runs)
    START_SECONDS[0] = ours_s
    ratio = ours_s / ref_s
    row = ratio_row(
        4,
        "cold start: verify of the reference record vs a minimal typer app with one command",
        f"{ours_s * 1e3:.0f} ms",
        f"{ref_s * 1e3:.0f} ms",
        ratio,
        "≤ 1.15×",
        ratio <= 1.15,
    )
    bare_python = statistics.median(run([PY, "-c", "pass"]).seconds for _ in range(11))
    typer_import = statistics.median(run([PY, "-c", "import typer"]).seconds for _ in range(11))
    notes = [
        f"python -c pass: {bare_python * 1e3:.0f} ms; python -c 'import typer': {typer_import * 1e3:.0f} ms. "
        "verify with plain arguments does not import typer (typer alone builds a pydantic adapter for every "
        "option of the command it runs); its parser and typer's are built from one table "
        "(provenance/cli/verify_args.py). It imports pydantic for the models, cryptography for Ed25519, and "
        "reads and checks every key card of the trust store (prime-order check of each key); it ends without "
        "the interpreter's teardown (freeing every object one by one) once its output is out",
        f"the same verify read by typer alone (no fast parser; ending the same way), alternated in the same "
        f"runs: {typer_s * 1e3:.0f} ms, {typer_s / ref_s:.2f}× the minimal app",
        import_breakdown(record, archive),
    ]
    return row, notes


_IMPORT_RE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S.*)")


def _imports(cmd: list[str]) -> dict[str, int]:
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    out: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        match = _IMPORT_RE.match(line)
        if match:
            out[match.group(4)] = int(match.group(1))
    return out


def import_breakdown(record: Path, archive: Path) -> str:
    """What verify imports beyond the minimal app (python -X importtime, self times, µs → ms)."""
    runs = 5
    ours: dict[str, list[int]] = {}
    theirs: dict[str, list[int]] = {}
    for _ in range(runs):
        for name, us in _imports([PY, "-X", "importtime", "-m", "provenance.cli.app", "verify", str(record),
                                  "--archive", str(archive)]).items():
            ours.setdefault(name, []).append(us)
        for name, us in _imports([PY, "-X", "importtime", str(BENCH / "minimal_app.py")]).items():
            theirs.setdefault(name, []).append(us)
    extra = {name: statistics.median(v) for name, v in ours.items() if name not in theirs}
    groups: dict[str, float] = {}
    for name, us in extra.items():
        parts = name.split(".")
        group = ".".join(parts[:3]) if parts[0] == "provenance" else parts[0]
        groups[group] = groups.get(group, 0) + us
    total = sum(groups.values())
    top = sorted(groups.items(), key=lambda kv: -kv[1])[:12]
    lines = [f"modules verify imports that the minimal app does not: {total / 1000:.1f} ms in all "
             f"(median self times of {runs} runs of `python -X importtime`); the largest:"]
    lines += [f"  - {group}: {us / 1000:.1f} ms" for group, us in top]
    return "\n".join(lines)


def bare_rates() -> None:
    """Bare Ed25519 verifications per second: one process, and two side by side (BARE_RATE, BARE_PAIR)."""
    bare_n = 5000 if QUICK else 20_000

    def bare(processes: int) -> float:
        procs = [subprocess.Popen([PY, str(BENCH / "ed25519_bound.py"), str(bare_n)], stdout=subprocess.PIPE,
                                  text=True) for _ in range(processes)]
        seconds = [float(p.communicate()[0]) for p in procs]
        return processes * bare_n / max(seconds)

    rate1 = statistics.median(bare(1) for _ in range(3))
    rate2 = statistics.median(bare(2) for _ in range(3))
    BARE_RATE[0] = rate1
    BARE_PAIR[0] = rate2 / rate1


def target_audit(audit_archive: Path, records: int) -> tuple[list[Row], list[str]]:
    rate1, scale_bare = BARE_RATE[0], BARE_PAIR[0]
    bound = rate1 / 5  # records per second: 5 verifications a record
    reps = 1 if QUICK else 3
    audit = provenance("audit", "--archive", str(audit_archive))
    run([*audit, "--jobs", "2"])  # warm (page cache)
    one = [run([*audit, "--jobs", "1"]) for _ in range(reps)]
    two = [run([*audit, "--jobs", "2"]) for _ in range(reps)]
    t1, t2 = median(one), median(two)
    a1, a2 = records / t1, records / t2
    scale_audit = a2 / a1
    peak = max(peak_memory([*audit, "--jobs", "1"]), peak_memory([*audit, "--jobs", "2"]))
    rows = [
        ratio_row(
            5,
            f"audit --jobs 1 of {records:,} records of 5 events vs the bare Ed25519 bound (5 a record)",
            f"{a1:,.0f} records/s ({t1:.2f} s)",
            f"{bound:,.0f} records/s ({rate1:,.0f} verifications/s)",
            a1 / bound,
            "≥ 0.50×",
            a1 / bound >= 0.5,
        ),
        ratio_row(
            5,
            "audit --jobs 2 scaling vs the scaling of two bare verification processes",
            f"×{scale_audit:.2f} ({a2:,.0f} records/s, {t2:.2f} s)",
            f"×{scale_bare:.2f} ({rate1 * scale_bare:,.0f} verifications/s)",
            scale_audit / scale_bare,
            "≥ 0.90×",
            scale_audit / scale_bare >= 0.9,
        ),
    ]
    sample = min(records, 1000)
    halves = (
        "import time\nfrom pathlib import Path\nfrom provenance.archive import Archive\n"
        "from provenance.verify.record import verify_record_folder\nfrom provenance.verify.target import make_context\n"
        "from provenance.model.timefmt import utc_now\n"
        f"a = Archive(Path({str(audit_archive)!r}))\nctx = make_context(a.keys_dir, utc_now())\n"
        f"ids = a.record_ids()[:{sample}]\nfor r in ids[:50]: verify_record_folder(a.record_dir(r), ctx)\n"
        "t = time.perf_counter()\nfor r in ids: verify_record_folder(a.record_dir(r), ctx)\n"
        "print(time.perf_counter() - t)"
    )
    _, python_pair = pair_scaling(halves)
    _, sha_pair = pair_scaling(SHA_SNIPPET)
    details = [
        f"audit --jobs 1: {t1 / records * 1e6:.0f} µs a record, of which the 5 signatures take "
        f"{5 / rate1 * 1e6:.0f} µs at the bare rate: the bound asks for at most {2 * 5 / rate1 * 1e6:.0f} µs "
        f"a record, which leaves {5 / rate1 * 1e6:.0f} µs for everything else (steps below). "
        f"Peak memory of audit (all its processes together): {peak:.0f} MiB for {records:,} records.",
        f"two processes on this machine: bare Ed25519 ×{scale_bare:.2f}; two independent processes each "
        f"verifying records (the code audit runs, no pool) ×{python_pair:.2f}; two processes of SHA-256 at "
        f"once ×{sha_pair:.2f}; audit --jobs 2 ×{scale_audit:.2f}",
        *step_lines(steps("records", str(audit_archive), str(sample)), 1e6, "µs", "record"),
    ]
    return rows, details


# --------------------------------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    head = "| # | target | ours | reference | ratio | goal | met |\n|---|---|---|---|---|---|---|\n"
    body = "".join(
        f"| {r.number} | {r.target} | {r.ours} | {r.reference} | {r.ratio:.2f} | {r.goal} | "
        f"{'yes' if r.met else '**no**'} |\n"
        for r in rows
    )
    return head + body


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        sha_ni = "sha_ni" in Path("/proc/cpuinfo").read_text()
    except OSError:
        sha_ni = False
    openssl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} CPUs ({cpu}{', SHA-NI' if sha_ni else ''}), Python {platform.python_version()}, "
            f"{openssl}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


def main() -> None:
    if "--only-collections" in sys.argv:  # issue 11's targets alone, their section of results.md rewritten
        import coll_targets

        coll_targets.write_section()
        return
    if "--only" in sys.argv:
        only_rows({int(n) for n in sys.argv[sys.argv.index("--only") + 1].split(",")})
        return
    if "--fresh" in sys.argv and gen.WORK.exists():
        gen.make_writable(gen.WORK)
        import shutil

        shutil.rmtree(gen.WORK)
    # Byte-compile the package first: a cold start is a new process, not an uncompiled install (pip
    # compiles what it installs; an editable install, or PYTHONDONTWRITEBYTECODE, would leave every
    # provenance module to be compiled again by each timed run).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "provenance")], check=True,
                   stdout=subprocess.DEVNULL)
    sizes = gen.sizes(QUICK)
    log(f"bench: {'QUICK (smaller sizes: a smoke test, not the targets)' if QUICK else 'full sizes'}")
    log("bench: data (kept in bench/work/ for the next run)")
    started = time.perf_counter()
    main_folder = gen.main_archive(sizes["big"], sizes["dossier"], sizes["bundles"], log)
    audit_archive = gen.audit_archive(sizes["records"], log)
    log(f"bench: data ready in {time.perf_counter() - started:.0f} s")

    rows: list[Row] = []
    notes: dict[int, list[str]] = {}
    log("bench: bare Ed25519 rates (one process, two at once)")
    bare_rates()
    log("bench: 4. cold start")
    start_row, notes[4] = target_start(main_folder)
    log("bench: 1. one record with a large file")
    big_row, notes[1] = target_big(main_folder, sizes["big"])
    log("bench: 2. dossier bag")
    dossier_row, notes[2] = target_dossier(main_folder, sizes["dossier"])
    log("bench: 3. many bags in one verify")
    bundles_row, notes[3] = target_bundles(main_folder, sizes["bundles"])
    log("bench: 5. audit")
    audit_rows, notes[5] = target_audit(audit_archive, sizes["records"])
    log("bench: 6. audit at scale (Dask, S3, resumed)")
    import scale  # bench/scale.py: issue 16's figures

    scale_rows, notes[6] = scale.figures(audit_archive, sizes["records"], QUICK)
    audit_rows += [ratio_row(6, *row) for row in scale_rows]
    log("bench: 10. transparency log")
    import tlog_bench

    tlog_rows, notes[10] = tlog_bench.rows(QUICK, ratio_row, run, provenance, alternate, median)
    rows = [big_row, dossier_row, bundles_row, start_row, *audit_rows, *tlog_rows]
    notes = dict(sorted(notes.items()))

    text = table(rows)
    print()
    print(text)
    for number, items in notes.items():
        for item in items:
            print(f"[{number}] {item}")
    write_results(rows, notes)
    log(f"bench: wrote {BENCH / 'results.md'} ({time.perf_counter() - started:.0f} s in all)")
    import coll_targets  # issue 11: ingest-batch, search, index, agent, in their own section

    coll_targets.write_section()


def only_rows(numbers: set[int]) -> None:
    """Run the targets ``numbers`` (of 1 to 5) alone and rewrite their rows and notes in results.md."""
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "provenance")], check=True,
                   stdout=subprocess.DEVNULL)
    sizes = gen.sizes(QUICK)
    log(f"bench: rows {sorted(numbers)} alone; data (kept in bench/work/ for the next run)")
    main_folder = gen.main_archive(sizes["big"], sizes["dossier"], sizes["bundles"], log)
    audit_archive = gen.audit_archive(sizes["records"], log) if 5 in numbers else None
    log("bench: bare Ed25519 rates (one process, two at once)")
    bare_rates()
    rows: list[Row] = []
    notes: dict[int, list[str]] = {}
    if 4 in numbers:
        start_row, notes[4] = target_start(main_folder)
        rows.append(start_row)
    else:  # row 2's notes name the cold start
        record, archive = reference_record(main_folder)
        START_SECONDS[0] = statistics.median(
            run(provenance("verify", str(record), "--archive", str(archive))).seconds for _ in range(7))
    if 1 in numbers:
        row, notes[1] = target_big(main_folder, sizes["big"])
        rows.append(row)
    if 2 in numbers:
        row, notes[2] = target_dossier(main_folder, sizes["dossier"])
        rows.append(row)
    if 3 in numbers:
        row, notes[3] = target_bundles(main_folder, sizes["bundles"])
        rows.append(row)
    if 5 in numbers and audit_archive is not None:
        audit_rows, notes[5] = target_audit(audit_archive, sizes["records"])
        rows += audit_rows
    print(table(rows))
    for number, items in sorted(notes.items()):
        for item in items:
            print(f"[{number}] {item}")
    if not QUICK:
        replace_rows(rows, notes)


def replace_rows(rows: list[Row], notes: dict[int, list[str]]) -> None:
    """Put ``rows`` and their ``notes`` in place of the same-numbered ones of results.md (its first table
    and the measured notes after it), and say when they were run."""
    path = BENCH / "results.md"
    lines = path.read_text().split("\n")
    numbers = {row.number for row in rows}

    def number(line: str) -> int | None:
        found = re.match(r"(?:\| |- \[)(\d+)[ \]]", line)
        return int(found.group(1)) if found else None

    head = lines.index("| # | target | ours | reference | ratio | goal | met |")
    end = head + 2
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    kept = [line for line in lines[head + 2 : end] if number(line) not in numbers]
    table_rows = sorted(kept + table(rows).split("\n")[2:-1], key=lambda line: number(line) or 0)
    lines[head + 2 : end] = table_rows
    first = lines.index("## Where the time goes (measured in this run)") + 2
    last = first
    while last < len(lines) and (lines[last].startswith(("- [", "  "))):
        last += 1
    entries: list[list[str]] = []
    for line in lines[first:last]:
        if line.startswith("- ["):
            entries.append([line])
        elif entries:
            entries[-1].append(line)
    entries = [entry for entry in entries if number(entry[0]) not in numbers]
    entries += [(f"- [{n}] " + item.replace("\n", "\n  ")).split("\n") for n, items in sorted(notes.items())
                for item in items]
    entries.sort(key=lambda entry: number(entry[0]) or 0)
    lines[first:last] = [line for entry in entries for line in entry]
    stamp = (f" Rows {', '.join(map(str, sorted(numbers)))} re-run alone (`run.py --only`), "
             f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.")
    # the explanations (bench/NOTES.md) as they are now, in place of those of the last run
    start = lines.index("## What bounds the targets that are not met")
    end = lines.index("## How it was measured", start) + 1
    while end < len(lines) and not lines[end].startswith(("## ", "<!--")):
        end += 1
    lines[start:end] = [*(BENCH / "NOTES.md").read_text().rstrip("\n").split("\n"), ""]
    # the stamp of this run replaces that of an earlier --only run
    lines = [re.sub(r" Rows [0-9, ]+ re-run alone .*$", "", line) + stamp if line.startswith("Machine: ") else line
             for line in lines]
    path.write_text("\n".join(lines))


def write_results(rows: list[Row], notes: dict[int, list[str]]) -> None:
    notes_path = BENCH / "NOTES.md"
    explained = notes_path.read_text() if notes_path.is_file() else ""
    measured = "\n".join(f"- [{number}] " + item.replace("\n", "\n  ")
                         for number, items in notes.items() for item in items)
    document = (
        "# Benchmark results\n\n"
        f"{'**BENCH_QUICK run: smaller sizes, a smoke test of the bench, not the targets.**' if QUICK else ''}\n\n"
        f"Machine: {machine()}. Medians of alternated runs; ratios are against the reference measured in the "
        "same run (`make bench`, see bench/run.py).\n\n"
        + table(rows)
        + "\n## Where the time goes (measured in this run)\n\n"
        + measured
        + "\n\n"
        + explained
    )
    (BENCH / "results.md").write_text(document)


if __name__ == "__main__":
    main()
