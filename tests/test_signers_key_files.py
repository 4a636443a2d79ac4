"""Who signed it, item 4: private key files as OpenSSH treats them, and bounded reading (issue 17).

Whoever can read a private-key file can try passphrases offline; whoever can swap it (a link, a folder
others may write to) can make a command unlock a key of their choosing; a FIFO or an endless file must
not hang a command. Each case runs the installed CLI with a timeout.
"""

# ruff: noqa: S103 - permissive modes are the attack under test
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.keys import private_key_path
from tests.conftest import World
from tests.helpers import RID, assert_one_clear_line, json_error, tree_snapshot
from tests.signers_helpers import cli


def _key_file(world: World) -> Path:
    return private_key_path(world.signers["archivist"].card.id, world.home)


def readable_by_others(world: World) -> None:
    os.chmod(_key_file(world), 0o644)


def readable_by_group(world: World) -> None:
    os.chmod(_key_file(world), 0o640)


def writable_by_others(world: World) -> None:
    os.chmod(_key_file(world), 0o602)


def a_symbolic_link(world: World) -> None:
    path = _key_file(world)
    real = path.with_name("elsewhere.key")
    path.rename(real)
    path.symlink_to(real)


def a_link_to_dev_zero(world: World) -> None:
    path = _key_file(world)
    path.unlink()
    path.symlink_to("/dev/zero")


def a_fifo(world: World) -> None:
    path = _key_file(world)
    path.unlink()
    os.mkfifo(path, 0o600)


def larger_than_any_key(world: World) -> None:
    path = _key_file(world)
    path.write_bytes(path.read_bytes() + b"\n" * (1 << 20))
    os.chmod(path, 0o600)


def a_folder(world: World) -> None:
    path = _key_file(world)
    path.unlink()
    path.mkdir(mode=0o700)


def keys_folder_writable_by_others(world: World) -> None:
    os.chmod(_key_file(world).parent, 0o777)


def home_writable_by_others(world: World) -> None:
    os.chmod(world.home, 0o777)


UNSAFE: dict[str, Callable[[World], None]] = {
    "readable-by-others": readable_by_others,
    "readable-by-group": readable_by_group,
    "writable-by-others": writable_by_others,
    "symbolic-link": a_symbolic_link,
    "link-to-dev-zero": a_link_to_dev_zero,
    "fifo": a_fifo,
    "larger-than-any-key": larger_than_any_key,
    "a-folder": a_folder,
    "keys-folder-writable-by-others": keys_folder_writable_by_others,
    "home-writable-by-others": home_writable_by_others,
}


@pytest.mark.parametrize("make_unsafe", list(UNSAFE.values()), ids=list(UNSAFE))
def test_an_unsafe_private_key_file_is_refused_before_anything_is_signed(
    ingested: World, make_unsafe: Callable[[World], None], request: pytest.FixtureRequest
) -> None:
    make_unsafe(ingested)
    before = tree_snapshot(ingested.archive.record_dir(RID))
    result = cli(ingested, request)(
        "custody", RID, "--key", "A. Archivist", "--from", "a", "--to", "b", "--json", timeout=30
    )
    assert (result.returncode, json_error(result)["code"]) == (2, "key.file-unsafe")
    assert tree_snapshot(ingested.archive.record_dir(RID)) == before
    assert_one_clear_line(result, 2, "key.file-unsafe")  # and one line on stderr


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_key_only_its_owner_can_read_is_used(ingested: World, mode: int) -> None:
    os.chmod(_key_file(ingested), mode)
    result = ingested.run("custody", RID, "--key", "A. Archivist", "--from", "a", "--to", "b")
    assert result.returncode == 0, result.stderr


def test_keys_generate_keeps_its_home_to_its_owner(world: World, tmp_path: Path) -> None:
    home = tmp_path / "fresh-home"
    env = {"PROVENANCE_HOME": str(home)}
    old = os.umask(0o002)  # a permissive umask must not make the new home group-writable
    try:
        result = world.run("keys", "generate", "--name", "N. New", "--role", "auditor", "--kdf-rounds", "1", env=env)
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert os.stat(home).st_mode & 0o077 == 0 and os.stat(home / "keys").st_mode & 0o077 == 0
    key = next((home / "keys").iterdir())
    assert os.stat(key).st_mode & 0o777 == 0o600
    os.chmod(home, 0o777)
    refused = world.run("keys", "generate", "--name", "N. Other", "--role", "auditor", "--kdf-rounds", "1", env=env)
    assert_one_clear_line(refused, 2, "key.file-unsafe")


def test_a_fifo_in_a_card_folder_is_skipped_never_waited_on(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    assert world.run("keys", "export", "--all", "--out", str(folder)).returncode == 0
    os.mkfifo(folder / "0-planted.json")
    (folder / "1-zero.json").symlink_to("/dev/zero")
    publisher = tmp_path / "publisher"
    assert world.run("init", str(publisher)).returncode == 0
    result = world.run("keys", "import", str(folder), "-A", str(publisher), timeout=30)
    assert result.returncode == 0, result.stderr
    assert "skipped" in result.stderr and "0-planted.json" in result.stderr
    assert len(list((publisher / "keys").glob("*.json"))) == len(world.signers)


def test_a_fifo_in_the_trust_store_does_not_hang_the_verifier_or_a_writer(ingested: World) -> None:
    os.mkfifo(ingested.archive.keys_dir / "planted.json")
    assert ingested.run("verify", f"records/{RID}", timeout=30).returncode == 0
    writer = ingested.run("custody", RID, "--key", "A. Archivist", "--from", "a", "--to", "b", timeout=30)
    assert_one_clear_line(writer, 2, "archive.path-unsafe")  # refused at once (issue 9), never waited on
