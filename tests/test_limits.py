"""Issue 9 item 8: bounded work on hostile input everywhere, each limit with its own code and README row.

The limits are lowered through their environment variables so that small inputs cross them; the figures for
the real sizes (a 20 MiB text with 600,000 insertions, archives of 100,000 records, files and key cards)
are measured by ``bench/limits.py`` (``bench/limits.md``), not timed here.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from provenance import limits
from provenance.bundle.export import export_record
from provenance.errors import InputError
from provenance.ingest.insertions import TooManyBracketsError, find_editorial_insertions
from tests.conftest import REFERENCE, World, make_world

RID = "telegram-23256"
README = Path(__file__).parent.parent / "README.md"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> World:
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    tmp = tmp_path_factory.mktemp("limits")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = make_world(tmp)
        ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
        actions.add_note(world.archive, RID, world.signers["translator"], quote="Kim II Sung", text="x",
                         now=world.tick())
        ingest(world.archive, read_transcription(REFERENCE.parent / "synthetic-telegram-4471.txt"),
               world.signers["archivist"], now=world.tick())
    export_record(world.archive, RID, tmp / "bundle.zip")
    (tmp / "texts").mkdir()
    (tmp / "texts" / "six.txt").write_text("".join(f"line [{i}] of six\n" for i in range(6)), "utf-8")
    (tmp / "texts" / "five.txt").write_text("".join(f"line [{i}] of five\n" for i in range(5)), "utf-8")
    (tmp / "texts" / "open.txt").write_text("[" * 50 + " never closed\n", "utf-8")
    (tmp / "texts" / "nested.txt").write_text("[a [b [c [d [e [f] g] h] i] j] k] l\n", "utf-8")
    dossier = tmp / "dossier"
    dossier.mkdir()
    for i in range(4):
        (dossier / f"page-{i}.txt").write_text(f"page {i}\n", "utf-8")
    one_card = tmp / "one-card"
    one_card.mkdir()
    shutil.copy(next(world.archive.keys_dir.glob("a-archivist-*.json")), one_card)
    return world


def _copy(base: World, tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    shutil.copytree(base.root, root)
    return root


# (name, env, argv, exit code, error or problem codes, whether the archive must be left as it was)
CASES: list[tuple[str, dict[str, str], list[str], int, set[str]]] = [
    ("notes-one-past-the-limit", {"PROVENANCE_MAX_NOTES": "5"},
     ["ingest", "{tmp}/texts/six.txt", "--profile", "generic", "--key", "A. Archivist"], 2, {"input.too-many-notes"}),
    ("notes-at-the-limit", {"PROVENANCE_MAX_NOTES": "5"},
     ["ingest", "{tmp}/texts/five.txt", "--profile", "generic", "--key", "A. Archivist"], 0, set()),
    ("notes-open-brackets", {"PROVENANCE_MAX_NOTES": "20"},
     ["ingest", "{tmp}/texts/open.txt", "--profile", "generic", "--key", "A. Archivist"], 2, {"input.too-many-notes"}),
    ("notes-nested-pairs", {"PROVENANCE_MAX_NOTES": "5"},
     ["ingest", "{tmp}/texts/nested.txt", "--profile", "generic", "--key", "A. Archivist"], 2,
     {"input.too-many-notes"}),
    ("records-past-the-limit", {"PROVENANCE_MAX_RECORDS": "1"}, ["audit"], 2, {"archive.too-many-records"}),
    ("records-at-the-limit", {"PROVENANCE_MAX_RECORDS": "2"}, ["audit"], 0, set()),
    ("files-in-files-folder", {"PROVENANCE_MAX_FILES": "1"}, ["verify", "records/" + RID], 1,
     {"record.too-many-files"}),
    ("files-attached-folder", {"PROVENANCE_MAX_FILES": "3"},
     ["attach", RID, "{tmp}/dossier", "--as", "scan", "--key", "A. Archivist"], 2, {"record.too-many-files"}),
    ("files-attached-beyond-the-record", {"PROVENANCE_MAX_FILES": "4"},
     ["attach", RID, "{tmp}/dossier", "--as", "scan", "--key", "A. Archivist"], 2, {"record.too-many-files"}),
    ("keys-in-the-archive", {"PROVENANCE_MAX_KEYS": "4"}, ["verify", "records/" + RID], 2, {"keys.too-many"}),
    ("keys-listed", {"PROVENANCE_MAX_KEYS": "4"}, ["keys", "list"], 2, {"keys.too-many"}),
    ("keys-in-a-bundle", {"PROVENANCE_MAX_KEYS": "1"}, ["verify", "{tmp}/bundle.zip", "--trust", "{tmp}/one-card"],
     1, {"bundle.too-large", "signer.unknown"}),
    ("limit-not-a-number", {"PROVENANCE_MAX_RECORDS": "lots"}, ["audit"], 2, {"usage.invalid"}),
]


# the cases also run without --json: one line on stderr, naming how to raise the limit
ONE_LINE = {"notes-one-past-the-limit", "records-past-the-limit", "keys-listed", "limit-not-a-number"}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".provenance" not in p.parts}


@pytest.mark.parametrize(("name", "env", "args", "code", "codes"), CASES, ids=[c[0] for c in CASES])
def test_each_limit_refuses_with_its_code(
    base: World, tmp_path: Path, name: str, env: dict[str, str], args: list[str], code: int, codes: set[str]
) -> None:
    root = _copy(base, tmp_path)
    before = _snapshot(root)
    argv = [a.format(tmp=base.root.parent) for a in args]
    result = base.run(*argv, "--json", env={**env, "PROVENANCE_ARCHIVE": str(root)}, cwd=root)
    assert result.returncode == code, result.stdout + result.stderr
    document = json.loads(result.stdout)
    if code == 2:
        assert {document["error"]["code"]} == codes
        assert _snapshot(root) == before  # nothing written
        if name not in ONE_LINE:
            return
        text = base.run(*argv, env={**env, "PROVENANCE_ARCHIVE": str(root)}, cwd=root)
        assert len(text.stderr.strip().splitlines()) == 1, text.stderr
        if codes != {"usage.invalid"}:
            assert "PROVENANCE_MAX_" in text.stderr  # the message says how to raise it
    else:
        report = document["reports"][0] if "reports" in document else document
        assert {p["code"] for p in report.get("problems", [])} == codes


@pytest.mark.parametrize(("pairs", "limit", "refused"), [(3, 3, False), (4, 3, True), (0, 1, False)])
def test_insertions_are_counted_as_they_are_read(pairs: int, limit: int, refused: bool) -> None:
    text = "x [y] " * pairs
    if refused:
        with pytest.raises(TooManyBracketsError):
            find_editorial_insertions(text, limit=limit)
    else:
        assert len(find_editorial_insertions(text, limit=limit)) == pairs


def test_a_writer_never_writes_a_manifest_its_verifier_would_refuse(
    base: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provenance import manifest_io
    from provenance.manifest_io import read_manifest, writable_manifest_bytes

    manifest = read_manifest(base.archive.record_dir(RID))
    monkeypatch.setattr(manifest_io, "MAX_MANIFEST_BYTES", 1000)
    with pytest.raises(InputError) as caught:
        writable_manifest_bytes(manifest)
    assert caught.value.code == "record.too-large"


def _limits_table() -> list[list[str]]:
    text = README.read_text("utf-8")
    section = text.split("\n## Limits\n", 1)[1].split("\n## ", 1)[0]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| limit") and not line.startswith("| ---")]


def test_every_limit_has_a_row_in_the_readme_limits_table() -> None:
    rows = _limits_table()
    for limit in (limits.NOTES, limits.RECORDS, limits.FILES, limits.KEYS):
        row = next((r for r in rows if limit.env in r[2]), None)
        assert row is not None, limit.env
        assert re.sub(r"[^0-9]", "", row[1]) == str(limit.default), row
        assert f"`{limit.code}`" in row[3], row
