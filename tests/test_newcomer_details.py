"""Issue 14 item 9, through the installed CLI: the details that cost a newcomer time or trust."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REFERENCE, World, provenance_bin


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_copies_without_a_count_show_none(world: World) -> None:
    """The source says ``Stalin (2), Molotov``: no count is shown for Molotov (the data keeps the
    contract's default count 1, as the shared corpus expects)."""
    r = world.run("ingest", str(REFERENCE), "--json")
    assert r.returncode == 0, r.stderr
    shown = world.run("show", "telegram-23256").stdout
    assert "Stalin (2), Molotov, Malenkov" in shown and "Molotov (1)" not in shown


def test_bag_info_custodian_is_not_an_organisation(lived: World, tmp_path: Path) -> None:
    out = tmp_path / "bundle.zip"
    r = lived.run("export", "telegram-23256", "--out", str(out))
    assert r.returncode == 0, r.stderr
    with zipfile.ZipFile(out) as z:
        info = next(z.read(n) for n in z.namelist() if n.endswith("/bag-info.txt")).decode()
    assert "Source-Organization" not in info
    assert "Provenance-Custodian: Wilson Center Digital Archive" in info
    assert "Copies: Stalin (2), Molotov, Malenkov, Beria, Bulganin" in info
    assert lived.run("verify", str(out)).returncode == 0


def test_closed_pipe_is_not_a_verdict(lived: World) -> None:
    for rid in ("a1", "a2", "a3"):
        assert lived.run("ingest", str(REFERENCE), "--id", rid).returncode == 0
    env = {**lived.env, "PROVENANCE_NOW": "2026-02-01T00:00:00Z"}
    cmd = f"{provenance_bin()} audit --json | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}}"
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, cwd=lived.root)
    assert proc.stdout.strip() in ("0", "141"), proc.stdout  # never 1 (invalid)
    assert proc.stderr == ""


def test_verify_a_plain_file_is_usage(world: World, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("some notes\n")
    r = world.run("verify", str(notes))
    assert r.returncode == 2
    assert "is neither a record nor a bundle" in r.stderr and "[input.not-verifiable]" in r.stderr
    assert "INVALID" not in r.stdout
    assert world.run("verify", str(notes), "--json").json()["error"]["code"] == "input.not-verifiable"


def test_verify_a_plain_file_among_several_paths_is_usage(ingested: World, tmp_path: Path) -> None:
    """``verify a.txt record/``: the same refusal as for one path (exit 2, input.not-verifiable), before
    anything is verified; never bundle.malformed nor an INVALID summary. Typer's path says the same."""
    notes = tmp_path / "a.txt"
    notes.write_text("some notes\n")
    record = "records/telegram-23256"
    for extra in ([], ["--jobs", "1"], ["-j1"]):  # -j1: through typer, not the fast path
        r = ingested.run("verify", str(notes), record, *extra)
        assert r.returncode == 2, r.stderr
        assert r.stderr == (f"provenance: error: {notes} is neither a record nor a bundle: verify takes a record "
                            "folder, a bag folder, a .zip or a .tar.gz [input.not-verifiable]\n")
        assert r.stdout == ""
    second = tmp_path / "b.txt"
    second.write_text("more notes\n")
    r = ingested.run("verify", record, str(notes), str(second), "--json")
    assert r.returncode == 2
    error = r.json()["error"]
    assert error["code"] == "input.not-verifiable" and error["path"] == str(notes)
    assert "(and 1 more file like it)" in error["message"]
    # a bundle by its bytes whatever its name, and a missing path, are still the verifier's to report
    zipped = tmp_path / "bundle.bin"
    zipped.write_bytes(b"PK\x03\x04 not really")
    r = ingested.run("verify", record, str(zipped), str(tmp_path / "gone"), "--json")
    assert r.returncode == 1
    codes = {p["code"] for p in r.json()["problems"]}
    assert "path.not-found" in codes and "input.not-verifiable" not in codes


def test_ingest_a_folder_says_so(world: World, tmp_path: Path) -> None:
    r = world.run("ingest", str(tmp_path))
    assert r.returncode == 2
    assert f"{tmp_path} is a folder" in r.stderr
    assert "no such file" not in r.stderr


def test_one_event_not_one_events(ingested: World) -> None:
    assert "1 event;" in ingested.run("show", "telegram-23256").stdout
    out = ingested.run("verify", "records/telegram-23256").stdout
    assert "1 event, 1 file," in out and "1 events" not in out and "1 files" not in out
    assert "telegram-23256: 1 event" in ingested.run("log", "telegram-23256").stdout


def test_ctrl_c_at_the_prompt(ingested: World) -> None:
    """Ctrl-C while a command waits for a passphrase: one line, exit 130, the archive as it was."""
    pexpect = pytest.importorskip("pexpect", reason="pexpect (test extra) drives a real terminal")
    before = tree(ingested.root)
    env = {k: v for k, v in ingested.env.items() if k != "PROVENANCE_PASSPHRASE"}
    child = pexpect.spawn(
        provenance_bin(),
        ["note", "telegram-23256", "--quote", "Kim II Sung", "--text", "x", "--key", "T. Translator"],
        env=env,
        cwd=str(ingested.root),
        encoding="utf-8",
        dimensions=(24, 80),
        timeout=60,
        preexec_fn=_interruptible,
    )
    child.expect("(?i)passphrase")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    lines = [line for line in child.before.splitlines() if line.strip()]
    assert child.exitstatus == 130, child.before
    assert lines[-1].startswith("provenance: ") and "nothing was changed" in lines[-1], child.before
    assert sum("provenance:" in line for line in lines) == 1, child.before
    assert tree(ingested.root) == before


def _interruptible() -> None:
    """In the child: Ctrl-C acts as at a terminal, even when the suite itself runs with SIGINT ignored (a
    background job of a non-interactive shell inherits SIGINT ignored, and so would every command)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_export(lived: World) -> None:
    """SIGINT in the middle of a long command: one line on stderr, exit 130, nothing left behind."""
    before = tree(lived.root)
    env = {**lived.env, "PROVENANCE_NOW": "2026-02-01T00:00:00Z"}
    proc = subprocess.Popen(
        [
            provenance_bin(),
            "export",
            "telegram-23256",
            "--out",
            str(lived.root.parent / "b.zip"),
            "--history",
        ],
        env=env,
        cwd=lived.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_interruptible,
    )
    time.sleep(1.0)  # past the interpreter's start-up: from then on, anywhere
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # finished before the signal: nothing to check
        return
    assert proc.returncode == 130, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert tree(lived.root) == before
    assert not list(lived.root.parent.glob("b.zip*")), os.listdir(lived.root.parent)


def test_bag_written_before_still_verifies(lived: World, tmp_path: Path) -> None:
    """A bag exported before issue 14 said ``Source-Organization: <custodian>``: it still verifies, and
    a bag that says both is refused."""
    import hashlib

    out = tmp_path / "bag"
    assert lived.run("export", "telegram-23256", "--out", str(out)).returncode == 0
    info = out / "bag-info.txt"
    text = info.read_text("utf-8")
    legacy = text.replace("Provenance-Custodian:", "Source-Organization:")
    lines = legacy.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("Source-Organization"))
    lines.insert(0, lines.pop(first))  # where the writer put it then: the first essential

    def write(body: str) -> None:
        info.write_text(body, "utf-8")
        manifest = out / "tagmanifest-sha256.txt"
        digest = hashlib.sha256(info.read_bytes()).hexdigest()
        rows = [
            f"{digest}  bag-info.txt" if row.endswith(" bag-info.txt") else row
            for row in manifest.read_text().splitlines()
        ]
        manifest.write_text("\n".join(rows) + "\n")

    write("".join(lines))
    r = lived.run("verify", str(out), "--json")
    assert r.returncode == 0, r.stdout
    write("".join(lines) + "Provenance-Custodian: Wilson Center Digital Archive\n")
    r = lived.run("verify", str(out), "--json")
    assert r.returncode == 1
    assert "bag.info-mismatch" in {p["code"] for p in r.json()["problems"]}
