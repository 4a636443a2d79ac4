"""Bounded fuzzing of every reader of hostile bytes (see targets.py), and replay of what fuzzing found.

* Every input under ``regressions/`` (each named after what it reproduced) and every seed replays
  in-process on every run: none may raise.
* One bounded pass: atheris (libFuzzer) for ``--fuzz-seconds`` (3 in ``make test`` and CI; ``make fuzz``
  passes ``$FUZZ_SECONDS``, 60 by default), with a per-input timeout (a hang), an RSS and a single-allocation
  limit (unbounded memory). Where atheris is not installed, hypothesis-driven byte fuzzing (random bytes
  and mutations of the seeds) runs for the same time instead. A crashing input is copied into
  ``regressions/`` (``found-<target>-<sha1>``) and the test fails with the fuzzer's report: rename it after
  what it reproduces, fix the code, and it stays as a regression fixture.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fuzz.targets import NAMES, run_one, seeds, target_of

HERE = Path(__file__).parent
REGRESSIONS = HERE / "regressions"
ROOT = HERE.parent.parent


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("*")), ids=lambda p: p.name)
def test_regression_input_replays(path: Path) -> None:
    run_one(path.read_bytes())


def test_every_seed_replays() -> None:
    found = seeds()
    assert {target_of(data) for data in found} == set(NAMES)
    for data in found:
        run_one(data)


def _keep(found: Path) -> Path:
    data = found.read_bytes()
    kept = REGRESSIONS / f"found-{target_of(data)}-{hashlib.sha1(data).hexdigest()[:12]}"  # noqa: S324
    shutil.copyfile(found, kept)
    return kept


def _atheris(seconds: int, tmp_path: Path) -> tuple[int, str]:
    corpus, artifacts = tmp_path / "corpus", tmp_path / "artifacts"
    corpus.mkdir()
    artifacts.mkdir()
    for path in REGRESSIONS.glob("*"):
        shutil.copy(path, corpus / path.name)
    env = dict(os.environ, PROVENANCE_FUZZ_SEED_DIR=str(corpus), PYTHONPATH=str(ROOT))
    flags = [
        f"-max_total_time={seconds}",
        "-timeout=20",  # one input running longer is a hang
        "-rss_limit_mb=1536",  # the process growing past this is unbounded memory
        "-malloc_limit_mb=512",  # so is one allocation this large
        "-print_final_stats=1",
        f"-artifact_prefix={artifacts}/",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.run_atheris", *flags, str(corpus)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        kept = [_keep(found) for found in sorted(artifacts.iterdir())]
        tail = "\n".join(output.splitlines()[-40:])
        pytest.fail(f"the fuzzer found an input that fails ({', '.join(p.name for p in kept)}):\n{tail}")
    match = re.search(r"stat::number_of_executed_units: (\d+)", output)
    assert match, output[-2000:]
    return int(match.group(1)), output


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        where = rng.randrange(len(out) + 1)
        choice = rng.random()
        if choice < 0.4 and out:
            out[min(where, len(out) - 1)] = rng.randrange(256)
        elif choice < 0.7:
            out[where:where] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            del out[where : where + rng.randint(1, 64)]
    return bytes(out)


def _hypothesis(seconds: int) -> int:
    """Byte fuzzing with hypothesis where atheris is not installed: random bytes and mutated seeds."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    corpus = seeds() + [p.read_bytes() for p in REGRESSIONS.glob("*")]
    count = 0

    @settings(max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(
        st.one_of(
            st.binary(max_size=4096),
            st.builds(
                lambda pick, seed: _mutate(random.Random(seed), corpus[pick % len(corpus)]),
                st.integers(min_value=0),
                st.integers(min_value=0),
            ),
        )
    )
    def one(data: bytes) -> None:
        nonlocal count
        count += 1
        run_one(data)

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        one()
    return count


def test_bounded_fuzzing_pass(fuzz_seconds: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("atheris") is not None:
        engine = "atheris"
        executions, _output = _atheris(fuzz_seconds, tmp_path)
    else:
        engine = "hypothesis"
        executions = _hypothesis(fuzz_seconds)
    assert executions > 0
    with capsys.disabled():
        print(
            f"\nfuzzing ({engine}, {len(NAMES)} targets, {fuzz_seconds} s): {executions} executions, no failure"
        )
