"""The word-level diff's bounded work (issue 14): ``python bench/word_diff.py`` prints how long
``provenance.diff.word_hunks`` takes on the reference transcription repeated to ~5 KB, ~50 KB, ~1 MB, for a
CR LF conversion, one letter changed per copy, words reversed (nothing in order: the budget's worst case) and
every line joined into one. Not part of ``make bench`` (no target: a terminal view must stay interactive).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from provenance.diff import word_hunks  # noqa: E402


def main() -> None:
    text = (ROOT / "tests" / "data" / "corpus" / "telegram-23256.txt").read_text(encoding="utf-8")
    print("| size | change | seconds | hunks |")
    print("|---:|---|---:|---:|")
    for copies in (1, 10, 200):
        old = text * copies
        changes = {
            "CR LF": old.replace("\n", "\r\n"),
            "one letter per copy": old.replace("Kim II Sung", "Kim Il Sung"),
            "words reversed": " ".join(reversed(old.split(" "))),
            "lines joined": old.replace("\n", " "),
        }
        for name, new in changes.items():
            start = time.perf_counter()
            hunks = word_hunks(old, new)
            print(f"| {len(old):,} | {name} | {time.perf_counter() - start:.2f} | {len(hunks)} |")


if __name__ == "__main__":
    main()
