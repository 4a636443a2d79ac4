"""Issue 14, through the installed CLI: command-line basics and the details a newcomer trips on."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from provenance import __version__
from tests.conftest import REFERENCE, World, provenance_bin


def test_version(world: World) -> None:
    for flag in ("--version", "-V"):
        r = world.run(flag)
        assert (r.returncode, r.stdout) == (0, f"provenance {__version__}\n")
    assert "--version" in world.run("--help").stdout


def test_archive_before_the_command(ingested: World, tmp_path: Path) -> None:
    """Before the command as after it, on typer's path and on verify/audit's fast path."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PROVENANCE_ARCHIVE": ""}
    root = str(ingested.root)
    r = ingested.run("--archive", root, "log", "telegram-23256", env=env, cwd=elsewhere)
    assert r.returncode == 0, r.stderr
    assert "registration" in r.stdout
    r = ingested.run(f"--archive={root}", "audit", "--json", env=env, cwd=elsewhere)
    assert (r.returncode, r.json()["summary"]["trusted"]) == (0, 1), r.stdout
    r = ingested.run("-A", root, "verify", "records/telegram-23256", env=env, cwd=ingested.root)
    assert r.returncode == 0, r.stdout + r.stderr
    r = ingested.run("-A", root, "keys", "list", env=env, cwd=elsewhere)
    assert r.returncode == 0 and "A. Archivist" in r.stdout


def test_help_has_no_placeholders(world: World) -> None:
    for command in (["verify"], ["catalogue"], ["diff"], ["note"], ["keys", "import"], ["keys", "generate"]):
        out = world.run(*command, "--help").stdout
        assert "{" not in out.split("\n", 1)[0], out
        assert "<list[" not in out, out
        assert "Example: provenance" in out
    assert "Usage: provenance verify [OPTIONS] PATHS..." in world.run("verify", "--help").stdout
    assert "Usage: provenance diff [OPTIONS] RECORD [A] [B]" in world.run("diff", "--help").stdout


def test_every_help_in_words() -> None:
    """Every command and group, in process (the installed CLI's app, as main() builds it)."""
    import typer.main

    from provenance.cli.app import build_app
    from provenance.cli.help_text import plain_help

    root = typer.main.get_command(build_app())
    plain_help(root)

    def walk(cmd: object, path: list[str]) -> None:
        from typer import _click as click  # typer vendors its click

        ctx = click.Context(cmd, info_name=" ".join(["provenance", *path]))  # type: ignore[arg-type]
        text = cmd.get_help(ctx)  # type: ignore[attr-defined]
        usage = text.split("\n", 1)[0]
        assert "{" not in usage and "<list[" not in text, (path, text)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(root, [])


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--sent", "1951-13-40", "sent: '1951-13-40' is not a date (month 13)"),
        ("--sent", "1951-02-30", "sent: '1951-02-30' is not a date (February has 28 days)"),
        ("--sent", "1951-08-27T25:00", "sent: '1951-08-27T25:00' is not a date (hour 25)"),
        ("--sent", "27.8.1951", "sent: '27.8.1951' is not a date (ISO 8601"),
        ("--language", "e n", "language: 'e n' is not a language tag"),
    ],
)
def test_metadata_errors_in_words(world: World, option: str, value: str, words: str) -> None:
    r = world.run("ingest", str(REFERENCE), option, value)
    assert r.returncode == 2
    assert words in r.stderr and "[metadata.invalid]" in r.stderr
    assert "^" not in r.stderr and "[0-9]" not in r.stderr
    assert not any((world.root / "records").iterdir())


def test_metadata_sidecar_in_words(world: World, tmp_path: Path) -> None:
    sidecar = tmp_path / "meta.json"
    sidecar.write_text('{"sent": "1951-13-40"}')
    r = world.run("ingest", str(REFERENCE), "--metadata", str(sidecar))
    assert r.returncode == 2
    assert "field sent: '1951-13-40' is not a date (month 13)" in r.stderr


def test_shell_completion(world: World) -> None:
    # typer detects the shell from the process tree; a suite run without a shell above it (CI, a
    # background job) names it instead, as a script installing completion would
    r = world.run("--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert r.returncode == 0 and "_PROVENANCE_COMPLETE" in r.stdout
    env = {"_PROVENANCE_COMPLETE": "complete_bash", "COMP_WORDS": "provenance verify-r", "COMP_CWORD": "1"}
    r = world.run(env=env)
    assert r.stdout.split() == ["verify-report"]
    assert "--install-completion" in world.run("--help").stdout


def test_version_is_fast_and_needs_no_archive(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    proc = subprocess.run(
        [provenance_bin(), "--version"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.startswith("provenance ")


def test_keys_by_name(world: World) -> None:
    """A second key of a name already in the archive is refused before any prompt (issue 17 makes this
    unconditional: two trusted keys may share a name only along a rotation), so --key NAME stays unambiguous."""
    before = sorted(p.name for p in (world.root / "keys").iterdir())
    r = world.run("keys", "generate", "--name", "T. Translator", "--role", "translator", "--kdf-rounds", "1")
    assert r.returncode == 2 and "[key.name-confusable]" in r.stderr, r.stderr
    assert sorted(p.name for p in (world.root / "keys").iterdir()) == before
    r = world.run("keys", "revoke", "T. Translator", "--reason", "test")
    assert r.returncode == 0, r.stderr


def test_short_key_id_says_how_many_digits(world: World) -> None:
    r = world.run("keys", "revoke", "ed25519:3fa9c1")
    assert r.returncode == 2
    assert "at least 8 hex digits" in r.stderr and "it has 6" in r.stderr


def test_keys_revoke_help_example_works(world: World) -> None:
    example = next(
        line.strip()
        for line in world.run("keys", "revoke", "--help").stdout.splitlines()
        if "Example:" in line
    )
    import shlex

    words = shlex.split(example.removeprefix("Example:").strip())
    assert words[:3] == ["provenance", "keys", "revoke"]
    r = world.run(*words[1:])
    assert r.returncode == 0, r.stderr
    assert "revoked" in r.stdout
