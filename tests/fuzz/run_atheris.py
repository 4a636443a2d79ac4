"""libFuzzer (atheris) entry point: ``python -m tests.fuzz.run_atheris [libFuzzer flags] CORPUS_DIR...``.

Coverage is collected from the ``provenance`` package only. The flags are libFuzzer's: ``test_fuzz.py``
passes ``-max_total_time`` (the time bound), ``-timeout`` (a hang), ``-rss_limit_mb`` and
``-malloc_limit_mb`` (unbounded memory), ``-artifact_prefix`` (where a crashing input is written).
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["provenance"]):
    import provenance.bundle.tarheader
    import provenance.bundle.tarread
    import provenance.bundle.verify
    import provenance.bundle.zipread
    import provenance.canonical
    import provenance.ingest.insertions
    import provenance.ingest.telegram
    import provenance.keys
    import provenance.signing
    import provenance.verify.record
    import provenance.verify.target  # noqa: F401  (imported to be instrumented)

from tests.fuzz.targets import context, run_one, seeds


def main() -> None:
    context()  # build the world before fuzzing starts: its cost is not an input's
    seed_dir = os.environ.get("PROVENANCE_FUZZ_SEED_DIR")
    if seed_dir:  # the valid inputs of every target, where the fuzzer starts
        for data in seeds():
            (Path(seed_dir) / hashlib.sha1(data).hexdigest()).write_bytes(data)  # noqa: S324 (a file name)
    atheris.Setup(sys.argv, run_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
