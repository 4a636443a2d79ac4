"""Who signed it, item 3: a key's status checked at signing time (issue 17).

The command is started on a terminal (a pseudo-terminal), so it asks for its passphrase; while it waits,
the key is revoked, expired, stripped of its role or its card removed; then the passphrase is typed. The
writer re-reads the card under the record lock, immediately before committing, and signs nothing.
"""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, World, provenance_bin
from tests.helpers import RID, tree_snapshot


def run_on_a_terminal(world: World, args: list[str], while_waiting: Callable[[], None]) -> tuple[int, str]:
    """Run the installed CLI on a pty; when it prompts for the passphrase, call ``while_waiting``, then type it."""
    import pty

    env = {k: v for k, v in world.env.items() if k != "PROVENANCE_PASSPHRASE"}
    env["PROVENANCE_NOW"] = world.tick().strftime("%Y-%m-%dT%H:%M:%SZ")
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes the command
        os.chdir(world.root)
        os.execve(provenance_bin(), [provenance_bin(), *args], env)  # noqa: S606 - our own CLI, no shell
    output = b""

    def read_until(marker: bytes | None, timeout: float) -> None:
        nonlocal output
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (marker is None or marker not in output):
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the command has ended and closed the terminal
                return
            if not chunk:
                return
            output += chunk

    try:
        read_until(b"Passphrase", 60)
        assert b"Passphrase" in output, output
        while_waiting()
        os.write(fd, PASSPHRASE.encode() + b"\n")
        read_until(None, 120)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode("utf-8", "replace")


def _card_path(world: World, role: str) -> Path:
    card_id = world.signers[role].card.id
    return next(p for p in world.archive.keys_dir.glob("*.json") if json.loads(p.read_text())["id"] == card_id)


def revoke(world: World) -> None:
    result = world.run("keys", "revoke", world.signers["archivist"].card.id, "--reason", "laptop stolen")
    assert result.returncode == 0, result.stderr


def expire(world: World) -> None:
    path = _card_path(world, "archivist")
    card = json.loads(path.read_text()) | {"valid_until": "2026-01-05T09:00:30Z"}  # ended before the prompt
    path.write_text(json.dumps(card))


def strip_role(world: World) -> None:
    path = _card_path(world, "archivist")
    path.write_text(json.dumps(json.loads(path.read_text()) | {"roles": ["auditor"]}))


def remove_card(world: World) -> None:
    _card_path(world, "archivist").unlink()


RACES: dict[str, tuple[Callable[[World], None], str]] = {
    "revoked": (revoke, "key.revoked"),
    "expired": (expire, "key.expired"),
    "role-removed": (strip_role, "role.not-allowed"),
    "card-removed": (remove_card, "key.not-found"),
}


@pytest.mark.parametrize(("change", "code"), list(RACES.values()), ids=list(RACES))
def test_a_key_changed_while_the_command_waits_for_its_passphrase_signs_nothing(
    ingested: World, change: Callable[[World], None], code: str
) -> None:
    record = ingested.archive.record_dir(RID)
    before = tree_snapshot(record)
    exit_code, output = run_on_a_terminal(
        ingested,
        ["custody", RID, "--key", "A. Archivist", "--from", "Reading room", "--to", "Mallory"],
        lambda: change(ingested),
    )
    assert exit_code == 2, output
    assert f"[{code}]" in output and "Traceback" not in output
    assert tree_snapshot(record) == before


def test_a_registration_by_a_key_revoked_while_it_waits_is_not_written(world: World) -> None:
    from tests.conftest import REFERENCE

    exit_code, output = run_on_a_terminal(
        world, ["ingest", str(REFERENCE), "--key", "A. Archivist"], lambda: revoke(world)
    )
    assert exit_code == 2 and "[key.revoked]" in output, output
    assert not world.archive.has_record(RID)


def test_a_key_left_alone_while_it_waits_signs(ingested: World) -> None:
    exit_code, output = run_on_a_terminal(
        ingested, ["custody", RID, "--key", "A. Archivist", "--from", "Reading room", "--to", "Stacks"], lambda: None
    )
    assert exit_code == 0, output
