"""``unpack`` and ``verify --max-size``: the verified bytes, and only those, land on disk; nothing is
written for a bundle that is not trusted; bounds name their option; a large honest bundle is never
refused (200 MiB of repetitive text compressing ~300:1 verifies trusted)."""

from __future__ import annotations

import errno
import os
import zipfile
from pathlib import Path

import pytest

from provenance.bundle.export import export_record
from provenance.bundle.members import Collector
from provenance.errors import StorageError
from provenance.model.problems import TrustState
from provenance.verify.target import make_context, verify_path
from tests.conftest import World

RID = "telegram-23256"


def _work(tmp_path: Path) -> Path:
    """A folder of the test's own (the world's archive and home are in tmp_path too)."""
    work = tmp_path / "work"
    work.mkdir()
    return work


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("form", ["zip", "tar.gz"])
def test_unpack_writes_exactly_the_verified_bag(lived: World, tmp_path: Path, form: str) -> None:
    bundle = tmp_path / f"{RID}.{form}"
    export_record(lived.archive, RID, bundle, history=True)
    folder = tmp_path / "as-exported"
    export_record(lived.archive, RID, folder, history=True)
    out = tmp_path / "incoming" / RID
    out.parent.mkdir()
    result = lived.run("unpack", str(bundle), "--out", str(out), "--trust", str(lived.archive.keys_dir))
    assert result.returncode == 0, result.stderr
    assert "TRUSTED" in result.stdout and f"unpacked the verified bag to {out}" in result.stdout
    assert _files(out) == _files(folder)
    assert sorted(p.name for p in out.parent.iterdir()) == [RID]  # no staging folder left beside it
    again = lived.run("verify", str(out), "--trust", str(lived.archive.keys_dir), "--json")
    assert again.returncode == 0 and again.json()["state"] == "trusted"


def test_unpack_json_is_verify_report(lived: World, tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    export_record(lived.archive, RID, bundle)
    out = tmp_path / "out"
    result = lived.run("unpack", str(bundle), "--out", str(out), "--json")
    document = result.json()
    assert result.returncode == 0
    assert (document["state"], document["verified"], document["record"]) == ("trusted", True, RID)
    assert document["unpacked"] == str(out) and (out / "bagit.txt").is_file()


def test_unpack_refuses_an_existing_out(lived: World, tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    export_record(lived.archive, RID, bundle)
    for existing in (tmp_path / "empty-folder", tmp_path / "a-file", tmp_path / "a-link"):
        if existing.name == "empty-folder":
            existing.mkdir()
        elif existing.name == "a-file":
            existing.write_text("x")
        else:
            existing.symlink_to(tmp_path / "nowhere")
        result = lived.run("unpack", str(bundle), "--out", str(existing), "--json")
        assert result.returncode == 2
        assert result.json()["error"]["code"] == "output.exists"
        assert "output.exists" in result.stderr
    assert not (tmp_path / "nowhere").exists()
    assert not (tmp_path / "empty-folder").is_symlink() and list((tmp_path / "empty-folder").iterdir()) == []


def test_unpack_of_an_altered_bundle_writes_nothing(lived: World, tmp_path: Path) -> None:
    tmp_path = _work(tmp_path)
    bundle = tmp_path / "b.zip"
    export_record(lived.archive, RID, bundle)
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(tmp_path / "altered.zip", "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, data.replace(b"Kim Il Sung", b"Kim 1l Sung"))
    result = lived.run("unpack", str(tmp_path / "altered.zip"), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    assert "INVALID" in result.stdout and "nothing was unpacked" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["altered.zip", "b.zip"]


def test_unpack_of_an_untrusted_signer_writes_nothing(lived: World, tmp_path: Path) -> None:
    tmp_path = _work(tmp_path)
    bundle = tmp_path / "b.tar.gz"
    export_record(lived.archive, RID, bundle)
    trust = tmp_path / "trust"
    trust.mkdir()
    result = lived.run("unpack", str(bundle), "--out", str(tmp_path / "out"), "--trust", str(trust), "--json")
    assert result.returncode == 3
    assert result.json()["state"] == "valid" and result.json()["unpacked"] is None
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tar.gz", "trust"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["{folder}", "--out", "{out}"], "usage.invalid"),
        (["{missing}", "--out", "{out}"], "input.not-found"),
        (["{bundle}", "--out", "{nowhere}/out"], "input.not-found"),
        (["{bundle}", "--out", "{out}", "--max-size", "lots"], "usage.invalid"),
    ],
    ids=["a-folder", "no-bundle", "no-parent", "bad-max-size"],
)
def test_unpack_bad_usage(lived: World, tmp_path: Path, args: list[str], code: str) -> None:
    bundle = tmp_path / "b.zip"
    export_record(lived.archive, RID, bundle)
    values = {"folder": str(tmp_path), "out": str(tmp_path / "out"), "missing": str(tmp_path / "no.zip"),
              "bundle": str(bundle), "nowhere": str(tmp_path / "nowhere")}
    result = lived.run("unpack", *[a.format(**values) for a in args], "--json")
    assert result.returncode == 2, result.stderr
    assert result.json()["error"]["code"] == code
    assert not (tmp_path / "out").exists()


def test_unpack_failing_to_write_leaves_nothing(
    lived: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provenance.bundle.unpack import unpack_bundle

    tmp_path = _work(tmp_path)
    bundle = tmp_path / "b.zip"
    export_record(lived.archive, RID, bundle)
    real = Collector.file

    def full_disk(self: Collector, rel: str, size: int) -> object:
        if rel.endswith(".txt") and "files" in rel:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, rel, size)

    monkeypatch.setattr(Collector, "file", full_disk)
    with pytest.raises(StorageError) as caught:
        unpack_bundle(bundle, tmp_path / "out", make_context(lived.archive.keys_dir, lived.tick()))
    assert "the disk is full" in caught.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip"]


def test_help_has_an_example(lived: World) -> None:
    for command in ("unpack", "verify"):
        result = lived.run(command, "--help")
        assert result.returncode == 0 and "Example: provenance" in result.stdout and "--max-size" in result.stdout


def test_verify_max_size_names_the_limit_and_the_option(lived: World, tmp_path: Path) -> None:
    bundle = tmp_path / "b.tar.gz"
    export_record(lived.archive, RID, bundle)
    small = lived.run("verify", str(bundle), "--max-size", "4k", "--json")
    assert small.returncode == 1
    (problem,) = small.json()["problems"]
    assert problem["code"] == "bundle.too-large" and "--max-size" in problem["message"]
    assert "4 KiB" in problem["message"]
    assert lived.run("verify", str(bundle), "--max-size=1G").returncode == 0
    bad = lived.run("verify", str(bundle), "--max-size", "4 lots", "--json")
    assert bad.returncode == 2 and bad.json()["error"]["code"] == "usage.invalid"
    assert lived.run("audit", "--max-size", "1G").returncode == 2  # verify's option only


def test_repetitive_200_mib_text_compressing_300_to_1_verifies_trusted(lived: World, tmp_path: Path) -> None:
    """A bundle export wrote is never refused: the old reader refused any ratio above 200:1 as a bomb."""
    from provenance import actions

    line = b"No. 23256 Filippov [Stalin] to Shtykov, Pyongyang, 1951: received, read, understood.\n"
    text = tmp_path / "long.txt"
    with text.open("wb") as handle:
        block = line * ((1 << 20) // len(line))
        for _ in range(200):
            handle.write(block)
    actions.attach(lived.archive, RID, lived.signers["archivist"], source=text, role="attachment",
                   now=lived.tick())
    text.unlink()
    ctx = make_context(lived.archive.keys_dir, lived.tick())
    for form in ("zip", "tar.gz"):
        bundle = tmp_path / f"big.{form}"
        export_record(lived.archive, RID, bundle)
        size = sum(len(block) for _ in range(200))
        assert size / bundle.stat().st_size > 250  # compresses ~300:1 (deflate, level 6 / gzip 9)
        report = verify_path(bundle, ctx)
        assert report.state is TrustState.TRUSTED, [p.message for p in report.problems]
        assert report.bytes_hashed > 200 << 20
        bundle.unlink()
    assert not any(p.name.startswith("provenance-bundle-") for p in Path(os.environ.get("TMPDIR", "/tmp")).iterdir())
