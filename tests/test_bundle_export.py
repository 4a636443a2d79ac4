"""``export``: BagIt bundles in three forms that verify trusted, byte-for-byte deterministic, refusing what
they must; and the publisher's path (receive a .zip, import the archive's key cards once, verify)."""

from __future__ import annotations

import hashlib
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from provenance.bundle.export import base_name, export_record
from provenance.verify.target import make_context, verify_path
from tests.conftest import World

RID = "telegram-23256"
FORMS = ["bag", "bag.zip", "bag.tar.gz"]


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("history", [False, True], ids=["current", "history"])
@pytest.mark.parametrize("name", FORMS)
def test_clean_export_verifies_trusted(lived: World, tmp_path: Path, name: str, history: bool) -> None:
    out = tmp_path / name
    args = ["export", RID, "--out", str(out), "--json"] + (["--history"] if history else [])
    result = lived.run(*args)
    assert result.returncode == 0, result.stderr
    summary = result.json()
    assert summary["record"] == RID and summary["history"] is history and summary["events"] == 8
    assert summary["files"] == 1 and (summary["objects"] > 0) is history
    assert len(summary["key_cards"]) == 4 and summary["missing_key_cards"] == []

    verified = lived.run("verify", str(out), "--json")
    report = verified.json()
    assert verified.returncode == 0, report["problems"]
    assert report["state"] == "trusted" and report["verified"] is True and report["problems"] == []
    assert report["record"] == RID and report["events"] == 8
    assert {card["name"] for card in report["bundle_key_cards"]} == {
        "A. Archivist", "T. Translator", "R. Reviewer", "P. Publisher"}
    assert all(check["ok"] for check in report["checks"])


def test_human_report_reads_at_a_glance(lived: World, tmp_path: Path) -> None:
    out = tmp_path / "bag.zip"
    assert lived.run("export", RID, "--out", str(out)).returncode == 0
    text = lived.run("verify", str(out)).stdout
    assert "telegram No. 23256" in text
    assert "✓ bag is complete" in text and "✓ every signature" not in text  # names are the checks' own
    assert "✓ every event is signed and every signature holds" in text
    assert "signer T. Translator" in text and "2 annotation 2026-01-05 09:0" in text  # who signed what, when
    assert "key card in bundle (shown, not trusted)" in text
    assert text.rstrip().endswith("TRUSTED: every byte intact, every event signed, every signer trusted for its role")


@pytest.mark.parametrize("name", ["x.zip", "x.tar.gz", "x"])
def test_export_is_deterministic(lived: World, tmp_path: Path, name: str) -> None:
    first, second = tmp_path / "one" / name, tmp_path / "two" / name
    first.parent.mkdir()
    second.parent.mkdir()
    export_record(lived.archive, RID, first, history=True, algorithms=("sha256", "sha512"))
    lived.tick(60)  # a later export, same record: the same bytes
    export_record(lived.archive, RID, second, history=True, algorithms=("sha256", "sha512"))
    if first.is_dir():
        assert _tree(first) == _tree(second)
    else:
        assert first.read_bytes() == second.read_bytes()


def test_archive_layout(lived: World, tmp_path: Path) -> None:
    out = tmp_path / "telegram.zip"
    export_record(lived.archive, RID, out)
    last_event_time = (2026, 1, 5, 9, 8, 0)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {n.split("/")[0] for n in names} == {"telegram"}  # one base folder, named like the file
        assert "telegram/provenance/manifest.json" in names and "telegram/tagmanifest-sha256.txt" in names
        assert {info.date_time for info in archive.infolist()} == {last_event_time}
    tgz = tmp_path / "telegram.tar.gz"
    export_record(lived.archive, RID, tgz)
    assert tgz.read_bytes()[4:8] == b"\0\0\0\0"  # gzip mtime 0
    with tarfile.open(tgz) as archive:
        members = archive.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
        assert {m.mode for m in members if m.isfile()} == {0o644}
        assert all(m.isfile() or m.isdir() for m in members)
    assert base_name(Path("a/b.tar.gz"), RID) == "b" and base_name(Path(".zip"), RID) == RID


def test_bag_contents(lived: World, tmp_path: Path) -> None:
    out = tmp_path / "bag"
    export_record(lived.archive, RID, out, algorithms=("sha256", "sha512"))
    names = set(_tree(out))
    assert {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sha512.txt", "tagmanifest-sha256.txt",
            "tagmanifest-sha512.txt", "provenance/manifest.json", f"data/files/{RID}.txt"} <= names
    assert (out / "bagit.txt").read_bytes() == b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = (out / "bag-info.txt").read_text("utf-8")
    for line in (f"External-Identifier: {RID}", "Telegram-Number: 23256", "Bagging-Date: 2026-01-05",
                 "Provenance-Events: 8", "Payload-Oxum: 4766.1"):
        assert line + "\n" in info
    assert (out / "provenance/manifest.json").read_bytes() == (lived.archive.record_dir(RID) / "manifest.json").read_bytes()
    tags = (out / "tagmanifest-sha256.txt").read_text("utf-8")
    listed = {line.split("  ", 1)[1] for line in tags.splitlines()}
    assert listed == {n for n in names if not n.startswith(("data/", "tagmanifest-"))}
    for line in tags.splitlines():
        digest, rel = line.split("  ", 1)
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest


def test_each_byte_is_hashed_once(lived: World, tmp_path: Path) -> None:
    out = tmp_path / "bag"
    export_record(lived.archive, RID, out, history=True)
    report = verify_path(out, make_context(lived.archive.keys_dir, lived.tick()))
    assert str(report.state) == "trusted"
    hashed = sum(len(data) for rel, data in _tree(out).items() if not rel.startswith("tagmanifest-"))
    assert report.bytes_hashed == hashed


def test_existing_out_is_refused(lived: World, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    out = tmp_path / "taken.zip"
    out.write_bytes(b"keep me")
    result = lived.run("export", RID, "--out", str(out), "--json")
    assert result.returncode == 2 and result.json()["error"]["code"] == "output.exists"
    assert out.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.zip"]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["no-such-record", "--out", "{tmp}/x.zip"], "record.not-found"),
        ([RID, "--out", "{tmp}/missing/x.zip"], "input.not-found"),
        ([RID, "--out", "{archive}/records/telegram-23256/x.zip"], "usage.invalid"),
        (["--history", "--out", "{tmp}/x.zip"], "usage.invalid"),
    ],
    ids=["unknown-record", "no-such-folder", "inside-the-archive", "no-record"],
)
def test_export_usage_errors(lived: World, tmp_path: Path, args: list[str], code: str) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    args = [a.replace("{tmp}", str(tmp_path)).replace("{archive}", str(lived.root)) for a in args]
    result = lived.run("export", *args, "--json")
    assert result.returncode == 2, result.stderr
    if result.stdout:
        assert result.json()["error"]["code"] == code
    else:  # typer's own usage error: one line on stderr
        assert code == "usage.invalid" and "Traceback" not in result.stderr
    assert not any(lived.archive.record_dir(RID).rglob("x.zip"))
    assert list(tmp_path.iterdir()) == []


def test_damaged_record_is_not_exported(lived: World, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    text = lived.archive.record_dir(RID) / "files" / f"{RID}.txt"
    text.chmod(0o644)
    text.write_bytes(text.read_bytes().replace(b"Kim Il Sung", b"Kim Jong Un"))
    for name in FORMS:
        result = lived.run("export", RID, "--out", str(tmp_path / name), "--json")
        assert result.returncode == 2 and result.json()["error"]["code"] == "record.corrupt", result.stdout
    assert list(tmp_path.iterdir()) == []


def test_missing_signer_card_is_reported(lived: World, tmp_path: Path) -> None:
    card = next(lived.archive.keys_dir.glob("t-translator-*.json"))
    saved = tmp_path / "saved.json"
    saved.write_bytes(card.read_bytes())
    card.unlink()
    out = tmp_path / "bag.zip"
    result = lived.run("export", RID, "--out", str(out))
    assert result.returncode == 0 and "no key card for signer" in result.stderr
    verified = lived.run("verify", str(out), "--json")
    assert verified.returncode == 3 and {p["code"] for p in verified.json()["problems"]} == {"signer.unknown"}


# --------------------------------------------------------------------------------------------------------
# The publisher's path


def test_publisher_path(lived: World, tmp_path: Path) -> None:
    """Receive a .zip, import the archive's key cards once, verify, read the report."""
    bundle = tmp_path / "telegram-23256.zip"
    assert lived.run("export", RID, "--out", str(bundle)).returncode == 0
    cards = []
    for name in ("A. Archivist", "T. Translator", "R. Reviewer", "P. Publisher"):
        card = tmp_path / f"{name.split()[1].lower()}.json"
        assert lived.run("keys", "export", name, "--out", str(card)).returncode == 0
        cards.append(card)

    publisher = tmp_path / "publisher"
    env = {"PROVENANCE_ARCHIVE": str(publisher)}
    assert lived.run("init", str(publisher), env=env).returncode == 0

    before = lived.run("verify", str(bundle), "--json", env=env)
    assert before.returncode == 3  # intact, but nobody is trusted yet: never "invalid"
    assert {p["code"] for p in before.json()["problems"]} == {"signer.unknown", "trust.empty"}

    for card in cards:
        imported = lived.run("keys", "import", str(card), "--json", env=env)
        assert imported.returncode == 0 and imported.json()["added"] is True
    again = lived.run("keys", "import", str(cards[0]), "--json", env=env)
    assert again.returncode == 0 and again.json()["added"] is False

    after = lived.run("verify", str(bundle), env=env)
    assert after.returncode == 0, after.stdout
    assert "TRUSTED" in after.stdout and "NOT in your trust store" not in after.stdout

    partial = tmp_path / "partial"
    partial.mkdir()
    for card in cards[:3]:
        (partial / card.name).write_bytes(card.read_bytes())
    missing = lived.run("verify", str(bundle), "--trust", str(partial), "--json", env=env)
    assert missing.returncode == 3
    problems = missing.json()["problems"]
    assert {p["code"] for p in problems} == {"signer.unknown"}
    assert all(p["key"] == lived.signers["publisher"].card.id for p in problems)
    assert "P. Publisher" in problems[0]["message"]


def test_publisher_revokes_a_key(lived: World, tmp_path: Path) -> None:
    bundle = tmp_path / "b.tar.gz"
    assert lived.run("export", RID, "--out", str(bundle)).returncode == 0
    # revoked before the translator's notes were signed: intact, but not trusted
    result = lived.run("keys", "revoke", "T. Translator", "--reason", "laptop stolen", "--at", "2026-01-05T09:00:00Z")
    assert result.returncode == 0, result.stderr
    verified = lived.run("verify", str(bundle), "--json")
    assert verified.returncode == 3
    assert {p["code"] for p in verified.json()["problems"]} == {"signer.revoked"}


def test_rotated_key_keeps_its_events(lived: World, tmp_path: Path) -> None:
    """A new key for the same agent; the old card stays (revoked from now on) for the events it signed."""
    result = lived.run("keys", "generate", "--name", "A. Archivist", "--role", "archivist", "--supersedes",
                       "A. Archivist", "--kdf-rounds", "1", "--json")
    assert result.returncode == 0, result.stderr
    new_key = result.json()["key"]
    assert result.json()["card"]["supersedes"] == lived.signers["archivist"].card.id
    old = lived.signers["archivist"].card.id
    assert lived.run("keys", "revoke", old, "--reason", "rotated").returncode == 0
    noted = lived.run("custody", RID, "--from", "Wilson Center Digital Archive", "--to", "Reading Room",
                      "--key", new_key)
    assert noted.returncode == 0, noted.stderr
    bundle = tmp_path / "rotated.zip"
    assert lived.run("export", RID, "--out", str(bundle), "--json").returncode == 0
    verified = lived.run("verify", str(bundle), "--json")
    assert verified.returncode == 0, verified.stdout
    names = {(s["name"], s["key"]) for s in verified.json()["signers"]}
    assert ("A. Archivist", old) in names and ("A. Archivist", new_key) in names


def test_weak_key_card_is_refused(lived: World, tmp_path: Path) -> None:
    from provenance.keys import b64url

    small_order = bytes([1]) + bytes(31)  # the identity point: verifies signatures it never made
    card = {
        "format": "provenance-key-card/1",
        "id": "ed25519:" + hashlib.sha256(small_order).hexdigest(),
        "algorithm": "ed25519",
        "public_key": b64url(small_order),
        "name": "Mallory",
        "roles": ["publisher"],
        "valid_from": "2026-01-01T00:00:00Z",
    }
    path = tmp_path / "weak.json"
    path.write_text(json.dumps(card))
    result = lived.run("keys", "import", str(path), "--json")
    assert result.returncode == 2 and result.json()["error"]["code"] == "key.weak"
    assert not any("mallory" in p.name for p in lived.archive.keys_dir.iterdir())


# --------------------------------------------------------------------------------------------------------
# Explaining a mismatch in a record folder, from the earlier versions it stores


def _explanations(world: World) -> list[str]:
    from provenance.verify.record import verify_record_folder

    report = verify_record_folder(world.archive.record_dir(RID), make_context(world.archive.keys_dir, world.tick()))
    return [str(p.fields.get("explanation")) for p in report.problems if str(p.code).startswith("file.")]


def test_record_folder_mismatch_compared_with_earlier_version(lived: World) -> None:
    text = lived.archive.record_dir(RID) / "files" / f"{RID}.txt"
    text.chmod(0o644)
    text.write_bytes(text.read_bytes().replace(b"provocative actions", b"PROVOCATIVE actions"))
    (why,) = _explanations(lived)
    assert why.startswith("compared with the earlier version of event 5")
    assert "Kim II Sung" in why and "PROVOCATIVE actions" in why


def test_record_folder_rollback_is_named(lived: World) -> None:
    folder = lived.archive.record_dir(RID)
    earlier = next(p for p in (folder / "objects" / "sha256").iterdir() if p.read_bytes().startswith(b"SECOND"))
    text = folder / "files" / f"{RID}.txt"
    text.chmod(0o644)
    text.write_bytes(earlier.read_bytes())
    assert _explanations(lived) == ["the file is the earlier version of event 5: it was rolled back"]


def test_record_folder_line_endings_still_explained_first(lived: World) -> None:
    text = lived.archive.record_dir(RID) / "files" / f"{RID}.txt"
    text.chmod(0o644)
    text.write_bytes(text.read_bytes().replace(b"\n", b"\r\n"))
    assert _explanations(lived) == ["only line endings changed: LF became CR LF"]
