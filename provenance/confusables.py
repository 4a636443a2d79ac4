"""Names a person cannot tell apart: Unicode TR #39 (UTS #39) confusable skeletons.

``skeleton(X)`` is UTS #39 section 4: NFD, every character replaced by its prototype from the
``confusables.txt`` data file, NFD again. Two strings are confusable when their skeletons are equal; this
covers the whole-script ("раураl" all Cyrillic against "paypal") and the mixed-script ("A. Аrchivist"
with one Cyrillic А) cases alike. The data file is Unicode's, vendored unchanged (gzip-compressed) in
``provenance/data/`` with its licence; it is read once, on first use, by the commands that compare names
(``keys import``, ``keys generate``): nothing else pays for it.
"""

from __future__ import annotations

import functools
import unicodedata

DATA_FILE = "confusables.txt.gz"


@functools.cache
def prototypes() -> dict[str, str]:
    """Source character → prototype string, from the vendored ``confusables.txt`` (UTS #39 data)."""
    import gzip
    from importlib import resources

    raw = resources.files("provenance").joinpath("data", DATA_FILE).read_bytes()
    table: dict[str, str] = {}
    for line in gzip.decompress(raw).decode("utf-8-sig").splitlines():
        data = line.split("#", 1)[0].strip()
        if not data:
            continue
        fields = [f.strip() for f in data.split(";")]
        source = "".join(chr(int(c, 16)) for c in fields[0].split())
        target = "".join(chr(int(c, 16)) for c in fields[1].split())
        table[source] = target
    return table


def skeleton(text: str) -> str:
    """UTS #39 ``skeleton(text)``: NFD, each character mapped to its prototype, NFD again."""
    table = prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(char, char) for char in decomposed))


def name_keys(name: str) -> frozenset[str]:
    """The keys under which two names collide: the skeleton of the name as written, and the skeleton of its
    compatibility form, case folded, white space collapsed (full-width letters, ligatures, "a. archivist")."""
    folded = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return frozenset({skeleton(name), skeleton(folded), skeleton(skeleton(folded).casefold())})


def confusable(first: str, second: str) -> bool:
    """Whether a person could take one name for the other (UTS #39 skeletons, case and width folded)."""
    return bool(name_keys(first) & name_keys(second))
