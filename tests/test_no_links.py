"""Issue 9 item 7: no link is followed, by writers or by the verifier, anywhere in an archive.

A symbolic link is planted at each place of an archive (``.provenance/``, ``records/``, a record's
``files/`` and ``objects/``, ``keys/``, ``log/``, ``provenance.toml``), pointing to a faithful copy of what
was there, so that following it would have worked. Writers must refuse in one line with exit 2 and
``archive.path-unsafe``, writing nothing anywhere (the archive, the link's target, the home folder); the
verifier must report ``file.path-unsafe``, never reading through the link.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REFERENCE, World, make_world

RID = "telegram-23256"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> World:
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    tmp = tmp_path_factory.mktemp("no-links")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = make_world(tmp)
        ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
        actions.add_note(world.archive, RID, world.signers["translator"], quote="Kim II Sung",
                         text="Read: Kim Il Sung.", now=world.tick())
    (world.root / ".provenance" / "locks").mkdir(parents=True, exist_ok=True)
    (world.root / ".provenance" / "tmp").mkdir(parents=True, exist_ok=True)
    (world.root / "log").mkdir()
    (world.root / "log" / "checkpoint").write_text("archive\n1\nAAAA\n", "utf-8")
    return world


def _first(folder: Path) -> str:
    return sorted(os.listdir(folder))[0]


def place(archive: Path, spec: str) -> str:
    """A place named in the table, as a path relative to the archive."""
    record = f"records/{RID}"
    return {
        "records": "records",
        "record": record,
        "files": f"{record}/files",
        "file": f"{record}/files/{RID}.txt",
        "objects": f"{record}/objects",
        "objects-sha256": f"{record}/objects/sha256",
        "object": f"{record}/objects/sha256/" + (_first(archive / record / "objects" / "sha256")),
        "manifest": f"{record}/manifest.json",
        "keys": "keys",
        "card": "keys/" + _first(archive / "keys"),
        "work": ".provenance",
        "locks": ".provenance/locks",
        "tmp": ".provenance/tmp",
        "log": "log",
        "checkpoint": "log/checkpoint",
        "config": "provenance.toml",
    }[spec]


def plant(archive: Path, outside: Path, rel: str) -> None:
    """Move what is at ``rel`` outside the archive and leave a link to it in its place."""
    source = archive / rel
    target = outside / rel.replace("/", "__")
    outside.mkdir(exist_ok=True)
    shutil.move(str(source), str(target))
    os.symlink(target, source, target_is_directory=target.is_dir())


def snapshot(*roots: Path) -> dict[str, str]:
    """Every entry below ``roots``, links not followed: name → content digest, link target or 'dir'."""
    out: dict[str, str] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [*dirnames, *filenames]:
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    out[path] = "-> " + os.readlink(path)
                elif os.path.isdir(path):
                    out[path] = "dir"
                else:
                    with open(path, "rb") as handle:
                        out[path] = hashlib.sha256(handle.read()).hexdigest()
    return out


@pytest.fixture
def archive(pristine: World, tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    shutil.copytree(pristine.root, root, symlinks=True)
    return root


def _run(world: World, archive: Path, *args: str) -> tuple[int, str, str]:
    result = world.run(*args, env={"PROVENANCE_ARCHIVE": str(archive)}, cwd=archive)
    return result.returncode, result.stdout, result.stderr


WRITER_CASES: list[tuple[str, list[str]]] = [
    *[(spec, ["note", RID, "--key", "T. Translator", "--quote", "Syngmann Rhee", "--text", "x"])
      for spec in ("records", "record", "files", "file", "objects", "objects-sha256", "object", "manifest",
                   "keys", "card", "work", "locks", "tmp", "log", "checkpoint", "config")],
    *[(spec, ["ingest", str(CORPUS / "synthetic-telegram-4471.txt"), "--key", "A. Archivist"])
      for spec in ("records", "locks", "log", "config")],
    *[(spec, ["keys", "generate", "--name", "N. Newcomer", "--role", "reviewer", "--kdf-rounds", "1"])
      for spec in ("keys", "config")],
    ("card", ["keys", "revoke", "T. Translator", "--reason", "lost"]),
    ("file", ["export", RID, "--out", "{outside}/bundle.zip"]),
    ("record", ["export", RID, "--out", "{outside}/bundle-folder"]),
    ("records", ["init", "{archive}"]),
]


# the cases also run without --json: one line on stderr
ONE_LINE = {("file", "note"), ("locks", "ingest"), ("card", "keys"), ("file", "export"), ("records", "init")}


@pytest.mark.parametrize(("spec", "args"), WRITER_CASES,
                         ids=[f"{a[0] if a[0] != 'keys' else 'keys-' + a[1]}-{s}" for s, a in WRITER_CASES])
def test_writers_refuse_a_link_anywhere_in_the_archive(
    pristine: World, archive: Path, tmp_path: Path, spec: str, args: list[str]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    plant(archive, outside, place(archive, spec))
    before = snapshot(archive, outside, pristine.home)
    argv = [a.format(outside=outside, archive=archive) for a in args]
    code, out, err = _run(pristine, archive, *argv, "--json")
    assert code == 2, out + err
    assert json.loads(out)["error"]["code"] == "archive.path-unsafe", out
    assert snapshot(archive, outside, pristine.home) == before  # nothing written anywhere
    if (spec, args[0]) not in ONE_LINE:
        return
    code, out, err = _run(pristine, archive, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.rstrip().endswith("[archive.path-unsafe]"), err


VERIFY_CASES: list[tuple[str, set[str]]] = [
    ("record", {"file.path-unsafe"}),
    ("files", {"file.path-unsafe", "file.missing"}),
    ("file", {"file.path-unsafe", "file.missing"}),
    ("objects", {"file.path-unsafe", "object.missing"}),
    ("objects-sha256", {"file.path-unsafe", "object.missing"}),
    ("object", {"file.path-unsafe", "object.missing"}),
    ("manifest", {"file.path-unsafe"}),
    ("card", {"file.path-unsafe", "signer.unknown"}),
    ("keys", {"file.path-unsafe", "signer.unknown", "trust.empty"}),
]


@pytest.mark.parametrize(("spec", "codes"), VERIFY_CASES, ids=[c[0] for c in VERIFY_CASES])
def test_the_verifier_reports_a_link_and_never_follows_it(
    pristine: World, archive: Path, tmp_path: Path, spec: str, codes: set[str]
) -> None:
    rel = place(archive, spec)
    if spec == "card":  # the card of the signer of event 1
        rel = "keys/" + next(n for n in sorted(os.listdir(archive / "keys")) if n.startswith("a-archivist"))
    plant(archive, tmp_path / "outside", rel)
    code, out, _ = _run(pristine, archive, "verify", f"records/{RID}", "--json")
    report = json.loads(out)
    assert {p["code"] for p in report["problems"]} == codes, report["problems"]
    assert code == 1
    if spec in ("record", "files", "objects", "keys"):
        code, out, _ = _run(pristine, archive, "audit", "--json")
        assert code == 1
        audited = json.loads(out)
        assert audited["summary"]["invalid"] == 1
        assert "file.path-unsafe" in {p["code"] for p in audited["reports"][0]["problems"]}


def test_a_link_in_a_trust_store_of_your_own_is_not_followed(pristine: World, tmp_path: Path) -> None:
    trust = tmp_path / "trust"
    shutil.copytree(pristine.archive.keys_dir, trust)
    card = next(n for n in sorted(os.listdir(trust)) if n.startswith("t-translator"))
    plant(trust, tmp_path / "outside", card)
    result = pristine.run("verify", str(pristine.archive.record_dir(RID)), "--trust", str(trust), "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 3
    assert {p["code"] for p in report["problems"]} == {"signer.unknown"}
    assert any("symbolic link" in warning for warning in report["warnings"])
