"""The signing agent: started, used and stopped through the installed CLI; what it signs; who may use it."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import agent
from provenance.canonical import canonical_bytes
from provenance.model.manifest import EVENT_SIGNING_CONTEXT
from tests.conftest import PASSPHRASE, World
from tests.helpers import ARCHIVIST, RID, assert_one_clear_line


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie waiting for its reaper counts as ended)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except FileNotFoundError:
        return False


@pytest.fixture
def agent_env(world: World, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A private runtime folder for the agent's socket; any agent left running is ended afterwards."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    started: list[int] = []
    world.env["XDG_RUNTIME_DIR"] = str(runtime)
    world.agent_pids = started  # type: ignore[attr-defined]
    yield env
    for pid in started:
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)


def _start(world: World, *args: str) -> tuple[int, str]:
    result = world.run("agent", "start", "--json", *args)
    assert result.returncode == 0, result.stderr
    document = result.json()
    world.agent_pids.append(document["pid"])  # type: ignore[attr-defined]
    return int(document["pid"]), str(document["socket"])


def test_agent_start_use_stop_end_to_end(ingested: World, agent_env: dict[str, str]) -> None:
    world = ingested
    pid, sock = _start(world, "--timeout", "5m")
    assert _alive(pid)
    assert sock == str(Path(agent_env["XDG_RUNTIME_DIR"], "provenance", "agent.sock"))
    assert oct(os.stat(sock).st_mode & 0o777) == "0o600"
    assert oct(os.stat(Path(sock).parent).st_mode & 0o777) == "0o700"
    status = world.run("agent", "status", "--json").json()
    assert status["running"] and status["pid"] == pid and len(status["keys"]) == 5

    # no passphrase anywhere: the agent signs (found at the well-known path under XDG_RUNTIME_DIR)
    no_pass = {"PROVENANCE_PASSPHRASE": ""}
    note = world.run(
        "note", RID, "--key", "T. Translator", "--quote", "Kim II Sung", "--text", "Kim Il Sung", env=no_pass
    )
    assert note.returncode == 0, note.stderr
    # and through the environment variable ssh-agent style, from another folder
    by_env = world.run(
        "review",
        RID,
        "--key",
        "R. Reviewer",
        "--note",
        "ok",
        env={**no_pass, agent.SOCK_ENV: sock, "XDG_RUNTIME_DIR": ""},
    )
    assert by_env.returncode == 0, by_env.stderr
    assert world.run("verify", str(world.archive.record_dir(RID))).returncode == 0
    assert world.run("agent", "status", "--json").json()["signed"] == 2

    again = world.run("agent", "start")
    assert_one_clear_line(again, 2, "agent.running")

    stopped = world.run("agent", "stop")
    assert stopped.returncode == 0 and f"pid {pid}" in stopped.stdout
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert not os.path.lexists(sock)
    assert world.run("agent", "status", "--json").json() == {"running": False}
    assert_one_clear_line(world.run("agent", "stop"), 2, "agent.unavailable")
    # without the agent, the passphrase is needed again
    refused = world.run("release", RID, "--key", "P. Publisher", env=no_pass)
    assert_one_clear_line(refused, 2, "key.passphrase-missing")


def test_agent_ends_at_its_timeout(world: World, agent_env: dict[str, str]) -> None:
    pid, sock = _start(world, "--timeout", "1s", "--key", ARCHIVIST)
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert not os.path.lexists(sock)


def test_eval_shell_lines_and_private_temp_folder(world: World, agent_env: dict[str, str]) -> None:
    """Without XDG_RUNTIME_DIR the socket goes in a new private temporary folder named by the shell lines."""
    result = world.run("agent", "start", "--key", ARCHIVIST, env={"XDG_RUNTIME_DIR": ""})
    assert result.returncode == 0, result.stderr
    import re

    pid = int(re.search(rf"{agent.PID_ENV}=(\d+); export {agent.PID_ENV};", result.stdout).group(1))  # type: ignore[union-attr]
    world.agent_pids.append(pid)  # type: ignore[attr-defined]
    sock = re.search(rf"{agent.SOCK_ENV}=(\S+); export", result.stdout).group(1)  # type: ignore[union-attr]
    assert oct(os.stat(Path(sock).parent).st_mode & 0o777) == "0o700"
    status = world.run("agent", "status", "--json", env={agent.SOCK_ENV: sock, "XDG_RUNTIME_DIR": ""}).json()
    assert status["pid"] == pid and [k["name"] for k in status["keys"]] == [ARCHIVIST]
    assert world.run("agent", "stop", env={agent.SOCK_ENV: sock, "XDG_RUNTIME_DIR": ""}).returncode == 0


def test_wrong_passphrase_starts_nothing(world: World, agent_env: dict[str, str]) -> None:
    result = world.run("agent", "start", env={"PROVENANCE_PASSPHRASE": "not it"})
    assert_one_clear_line(result, 2, "key.passphrase-wrong")
    assert not os.path.lexists(Path(agent_env["XDG_RUNTIME_DIR"], "provenance", "agent.sock"))


@pytest.mark.parametrize("case", ["wide-mode", "other-owner", "open-folder"])
def test_a_socket_others_could_use_is_refused(ingested: World, agent_env: dict[str, str], case: str) -> None:
    world = ingested
    pid, sock = _start(world, "--key", "T. Translator")
    if case == "wide-mode":
        os.chmod(sock, 0o666)  # noqa: S103 - the unsafe socket under test
    elif case == "other-owner":
        if os.getuid() != 0:
            pytest.skip("changing a socket's owner needs root")
        os.chown(sock, 54321, -1)
    else:
        os.chmod(Path(sock).parent, 0o755)  # noqa: S103 - the open folder under test
    note = world.run("note", RID, "--key", "T. Translator", "--quote", "Kim II Sung", "--text", "x")
    assert_one_clear_line(note, 2, "agent.socket-unsafe")
    os.kill(pid, signal.SIGTERM)


def test_a_key_the_agent_does_not_hold_falls_back_to_the_passphrase(
    ingested: World, agent_env: dict[str, str]
) -> None:
    world = ingested
    _start(world, "--key", ARCHIVIST)
    note = world.run("note", RID, "--key", "T. Translator", "--quote", "Kim II Sung", "--text", "x")
    assert note.returncode == 0, note.stderr  # unlocked with $PROVENANCE_PASSPHRASE
    assert world.run("agent", "status", "--json").json()["signed"] == 0
    assert world.run("agent", "stop").returncode == 0


# ---------------------------------------------------------------------------------------------------------
# The agent in this process (a thread): what it signs


@pytest.fixture
def served(world: World, tmp_path: Path) -> Iterator[tuple[agent.Agent, World]]:
    folder = tmp_path / "sock"
    folder.mkdir(mode=0o700)
    listener, path = agent.listen(folder)
    keys, skipped = agent.unlock_keys(
        [s.card for s in world.signers.values()], PASSPHRASE.encode(), world.home
    )
    assert not skipped
    server = agent.Agent(keys=keys, listener=listener, path=path, deadline=time.monotonic() + 30, expires="-")
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server, world
    server.running = False
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert not os.path.lexists(path)


def _event_fields(key_id: str) -> dict[str, object]:
    return {
        "seq": 1,
        "record": "r",
        "type": "annotation",
        "premis_type": "x",
        "time": "2026-01-01T00:00:00Z",
        "agent": "A",
        "role": "archivist",
        "key": key_id,
        "summary": "s",
        "details": {},
        "state_digest": "sha256:" + "0" * 64,
        "previous_digest": None,
    }


def test_agent_signs_only_provenance_event_bytes(served: tuple[agent.Agent, World]) -> None:
    from provenance.model.manifest import SIGNED_EVENT_FIELDS
    from provenance.signing import verify_signature

    server, world = served
    card = world.signers["archivist"].card
    fields = _event_fields(card.id)
    assert set(fields) == set(SIGNED_EVENT_FIELDS)
    good = EVENT_SIGNING_CONTEXT + canonical_bytes(fields)
    held = agent.AgentKey(server.path, card)
    assert verify_signature(held.public_bytes(), good, held.sign(good))

    refused = {
        "arbitrary bytes": b"GET / HTTP/1.1\r\n",
        "prefix only": EVENT_SIGNING_CONTEXT + b"anything",
        "other context": b"provenance/event/v2\x00" + canonical_bytes(fields),
        "not canonical": EVENT_SIGNING_CONTEXT + json.dumps(fields, indent=1).encode(),
        "extra field": EVENT_SIGNING_CONTEXT + canonical_bytes({**fields, "x": 1}),
        "other key": EVENT_SIGNING_CONTEXT
        + canonical_bytes(_event_fields(world.signers["reviewer"].card.id)),
    }
    for name, message in refused.items():
        answer = agent.request(server.path, {"op": "sign", "key": card.id, "data": agent._b64(message)})
        assert answer["ok"] is False, name
    assert agent.request(server.path, {"op": "sign", "key": "ed25519:" + "0" * 64, "data": ""})["ok"] is False
    assert agent.request(server.path, {"op": "nope"})["ok"] is False
    assert agent.request(server.path, {"op": "sign", "key": card.id, "data": "@@"})["ok"] is False
    with socket.socket(socket.AF_UNIX) as raw:
        raw.connect(str(server.path))
        raw.sendall(b"not json\n")
        assert b"not JSON" in raw.recv(1000)
    assert server.signed == 1


def test_durations() -> None:
    assert [agent.parse_duration(t) for t in ("15m", "2h", "90s", "1d", "30")] == [900, 7200, 90, 86400, 30]
    for bad in ("", "0m", "-5m", "15x", "8d", "soon"):
        with pytest.raises(Exception, match="duration"):
            agent.parse_duration(bad)
