"""Where a verification's time goes, step by step, in one process (run by run.py; prints one JSON object).

``python bench/steps.py records ARCHIVE N``: the numbered steps of :mod:`provenance.verify.record` over N
records (µs a record). ``python bench/steps.py bags KEYS BAG...``: the bundle steps over the bags (µs a
bag). ``python bench/steps.py bag KEYS BAG``: one bag (ms). Each step is timed around its function, the
best of a few rounds (the machine is shared); the remainder is the report, reading folders and the rest.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# in the order a report lists them
ORDER = [
    "bundle: safe scan of every entry",
    "bag: declaration, manifests, completeness, digests, Oxum",
    "   of which: hashing payload and tag files",
    "bundle: key cards that came with it",
    "1. read the manifest (strict JSON, layout, schema)",
    "   of which: schema (pydantic)",
    "2. chain (canonical bytes and digest of each event)",
    "3-4. signatures (Ed25519) and signers",
    "5. state digest",
    "6. files (walk, hash, compare)",
    "7. history (snapshots and earlier versions)",
    "bundle: explanations",
    "bag: bag-info.txt against the manifest",
]

STEPS: dict[str, list[tuple[str, str]]] = {
    "provenance.verify.record": [
        ("_read_manifest", "1. read the manifest (strict JSON, layout, schema)"),
        ("_schema_problems", "   of which: schema (pydantic)"),
        ("check_chain", "2. chain (canonical bytes and digest of each event)"),
        ("_canonical_events", "2. chain (canonical bytes and digest of each event)"),
        ("check_signatures", "3-4. signatures (Ed25519) and signers"),
        ("check_state", "5. state digest"),
        ("check_payload", "6. files (walk, hash, compare)"),
        ("check_history", "7. history (snapshots and earlier versions)"),
    ],
    "provenance.bundle.verify": [
        ("scan_tree", "bundle: safe scan of every entry"),
        ("_bundle_cards", "bundle: key cards that came with it"),
        ("_explain", "bundle: explanations"),
    ],
    "provenance.bundle.bag": [
        ("check_bag", "bag: declaration, manifests, completeness, digests, Oxum"),
        ("_hash_and_compare", "   of which: hashing payload and tag files"),
        ("check_info", "bag: bag-info.txt against the manifest"),
    ],
}


def instrument(totals: dict[str, float]) -> None:
    import importlib

    for module_name, steps in STEPS.items():
        module = importlib.import_module(module_name)
        for name, label in steps:
            original = getattr(module, name, None)
            if original is None:  # a step another version of the library does not have
                continue

            def timed(*args: Any, _f: Callable[..., Any] = original, _l: str = label, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return _f(*args, **kwargs)
                finally:
                    totals[_l] = totals.get(_l, 0.0) + time.perf_counter() - start

            setattr(module, name, timed)


def measure(run: Callable[[], None], count: int, rounds: int = 3) -> dict[str, float]:
    """Per-item seconds of each step and of the whole, from the fastest of ``rounds`` rounds."""
    best: dict[str, float] | None = None
    for _ in range(rounds):
        totals: dict[str, float] = {}
        instrument_totals.clear()
        start = time.perf_counter()
        run()
        totals["total"] = time.perf_counter() - start
        totals.update(instrument_totals)
        if best is None or totals["total"] < best["total"]:
            best = dict(totals)
    assert best is not None
    return {k: v / count for k, v in best.items()}


instrument_totals: dict[str, float] = {}


def main() -> None:
    from provenance.model.timefmt import utc_now
    from provenance.verify.target import make_context

    instrument(instrument_totals)
    kind = sys.argv[1]
    if kind == "records":
        from provenance.archive import Archive
        from provenance.verify.record import verify_record_folder

        archive = Archive(Path(sys.argv[2]))
        ctx = make_context(archive.keys_dir, utc_now(), archive.config().policy)
        folders = [archive.record_dir(r) for r in archive.record_ids()[: int(sys.argv[3])]]
        for folder in folders[:50]:  # warm: the validators, the caches of the file system
            verify_record_folder(folder, ctx)
        result = measure(lambda: [verify_record_folder(f, ctx) for f in folders] and None, len(folders))
    else:
        from provenance.verify.target import verify_path

        ctx = make_context(Path(sys.argv[2]), utc_now())
        bags = [Path(p) for p in sys.argv[3:]]
        verify_path(bags[0], ctx)
        result = measure(lambda: [verify_path(b, ctx) for b in bags] and None, len(bags))
    ordered = {"total": result["total"]}
    ordered.update((label, result[label]) for label in ORDER if label in result)
    print(json.dumps(ordered))


if __name__ == "__main__":
    main()
