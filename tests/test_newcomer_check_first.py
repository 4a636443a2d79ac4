"""Issue 14 item 3: every signing command checks its input before it asks for a passphrase."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REFERENCE, World, provenance_bin

R = "telegram-23256"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


CASES = [
    (
        ["note", R, "--quote", "no such words", "--text", "x", "--key", "T. Translator"],
        "note.quote-not-found",
    ),
    (["ingest", str(REFERENCE), "--key", "A. Archivist"], "record.exists"),
    (["ingest", str(REFERENCE), "--id", "other", "--sent", "1951-13-40"], "metadata.invalid"),
    (["revise", R, str(REFERENCE), "--reason", "x", "--key", "A. Archivist"], "revision.unchanged"),
    (
        ["catalogue", R, "--set", "sent=1951-13-40", "--reason", "x", "--key", "A. Archivist"],
        "metadata.invalid",
    ),
    (["custody", R, "--from", "X", "--to", "X", "--key", "A. Archivist"], "usage.invalid"),
    (["release", R, "--key", "T. Translator"], "role.not-allowed"),
    (["attach", R, "/nonexistent/scan.png", "--as", "scan", "--key", "A. Archivist"], "input.not-found"),
]


@pytest.mark.parametrize(("args", "code"), CASES, ids=[c[1] + ":" + c[0][0] for c in CASES])
def test_refused_before_the_passphrase(ingested: World, args: list[str], code: str) -> None:
    """No passphrase anywhere and no terminal: a command that asked first would say key.passphrase-missing."""
    before = tree(ingested.root)
    env = {k: v for k, v in ingested.env.items() if k != "PROVENANCE_PASSPHRASE"}
    r = ingested.run(*args, "--json", env=env)
    assert r.returncode in (1, 2), r.stderr
    assert r.json()["error"]["code"] == code, r.stderr
    assert tree(ingested.root) == before


def test_no_prompt_on_a_terminal_for_bad_input(ingested: World) -> None:
    pexpect = pytest.importorskip("pexpect", reason="pexpect (test extra) drives a real terminal")
    env = {k: v for k, v in ingested.env.items() if k != "PROVENANCE_PASSPHRASE"}
    child = pexpect.spawn(
        provenance_bin(),
        ["note", R, "--quote", "no such words", "--text", "x", "--key", "T. Translator"],
        env=env,
        cwd=str(ingested.root),
        encoding="utf-8",
        dimensions=(24, 80),
        timeout=60,
    )
    index = child.expect(["(?i)passphrase", pexpect.EOF])
    child.close()
    assert index == 1, "asked for a passphrase before checking the quote"
    assert "note.quote-not-found" in child.before


def test_wrong_passphrase_after_checks_leaves_nothing(ingested: World) -> None:
    before = tree(ingested.root)
    r = ingested.run(
        "note",
        R,
        "--quote",
        "Syngmann Rhee",
        "--text",
        "x",
        "--key",
        "T. Translator",
        env={"PROVENANCE_PASSPHRASE": "wrong"},
    )
    assert r.returncode == 2 and "[key.passphrase-wrong]" in r.stderr
    assert tree(ingested.root) == before
    r = ingested.run("note", R, "--quote", "Syngmann Rhee", "--text", "x", "--key", "T. Translator")
    assert r.returncode == 0, r.stderr
