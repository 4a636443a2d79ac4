"""The signing agent: keys unlocked once, signing for the user's commands over a private Unix socket.

Like ``ssh-agent``: ``provenance agent start`` asks for the passphrase once, decrypts the keys in memory
(never on disk: the process is made non-dumpable and gets no core file), and serves signatures on a Unix
socket until its timeout. Signing commands find it through ``$PROVENANCE_AGENT_SOCK``, else the well-known
path ``$XDG_RUNTIME_DIR/provenance/agent.sock``, and fall back to the passphrase when no agent runs or it
does not hold the key.

Who may talk to it: the socket is created mode 0600 in a folder of mode 0700 (``$XDG_RUNTIME_DIR`` or a
private temporary folder); a client refuses a socket, or its folder, owned by another user or open to
others (``agent.socket-unsafe``), and the agent refuses a peer whose uid (``SO_PEERCRED``) is not its own.

What it signs (domain separation): only provenance events, i.e. messages that start with the event context
``provenance/event/v1\\x00`` followed by the RFC 8785 canonical JSON of exactly the signed event fields,
whose ``key`` field names the key asked for. Any other bytes are refused, so the agent cannot be used as
a general Ed25519 oracle (for another protocol's messages, or for bytes that merely start with the prefix).

Protocol: one JSON object per line each way, one request per connection.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import stat
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provenance.errors import (
    ConflictError,
    ErrorCode,
    KeyStoreError,
    ProvenanceError,
    UnavailableError,
    UsageError,
)

if TYPE_CHECKING:
    from provenance.model.keycard import KeyCard
    from provenance.signing import SigningKey

SOCK_ENV = "PROVENANCE_AGENT_SOCK"
PID_ENV = "PROVENANCE_AGENT_PID"
SOCKET_NAME = "agent.sock"
MAX_LINE = 1 << 20
MAX_TIMEOUT = 7 * 24 * 3600
CLIENT_TIMEOUT = 10.0


def parse_duration(text: str) -> int:
    """``15m``, ``2h``, ``90s``, ``1d`` or a number of seconds; raises ``UsageError``."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    scale = units.get(value[-1:])
    number = value[:-1] if scale else value
    if not number.isdigit() or int(number) <= 0 or int(number) * (scale or 1) > MAX_TIMEOUT:
        raise UsageError(
            ErrorCode.USAGE, f"timeout {text!r}: give a duration such as 15m, 2h or 90s (at most 7d)",
            param="timeout",
        )
    return int(number) * (scale or 1)


def well_known_socket() -> Path | None:
    """``$XDG_RUNTIME_DIR/provenance/agent.sock``, when the runtime folder is set."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime, "provenance", SOCKET_NAME) if runtime else None


def find_socket() -> Path | None:
    """Where a running agent listens: ``$PROVENANCE_AGENT_SOCK``, else the well-known path if present."""
    env = os.environ.get(SOCK_ENV)
    if env:
        return Path(env)
    known = well_known_socket()
    if known is not None and os.path.lexists(known):
        return known
    return None


def _unsafe(path: Path, why: str) -> ProvenanceError:
    return KeyStoreError(
        ErrorCode.AGENT_SOCKET_UNSAFE,
        f"agent socket {path}: {why}; refused (another user could read or answer the signing requests). "
        f"Stop that agent, or unset {SOCK_ENV}",
        path=str(path),
    )


def check_socket(path: Path) -> None:
    """Refuse a socket (or its folder) that is not this user's alone. Raises ``agent.socket-unsafe``."""
    uid = os.getuid()
    info = os.lstat(path)
    if not stat.S_ISSOCK(info.st_mode):
        raise _unsafe(path, "not a socket")
    if info.st_uid != uid:
        raise _unsafe(path, f"owned by uid {info.st_uid}, not by you (uid {uid})")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise _unsafe(path, f"mode {stat.S_IMODE(info.st_mode):04o} lets others connect (0600 expected)")
    folder = os.lstat(path.parent)
    if folder.st_uid != uid or stat.S_IMODE(folder.st_mode) & 0o077:
        raise _unsafe(
            path, f"its folder {path.parent} is not private to you (mode {stat.S_IMODE(folder.st_mode):04o})"
        )


def request(path: Path, message: dict[str, Any], *, timeout: float = CLIENT_TIMEOUT) -> dict[str, Any]:
    """One request to the agent at ``path``; raises ``OSError`` when it cannot be reached."""
    check_socket(path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(path))
        conn.sendall(json.dumps(message).encode() + b"\n")
        reply = _read_line(conn)
    if reply is None:
        raise ConnectionError("the agent closed the connection")
    answer = json.loads(reply)
    if not isinstance(answer, dict):
        raise ConnectionError("the agent gave no answer")
    return answer


def _read_line(conn: socket.socket) -> bytes | None:
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_LINE:
            return None
    return bytes(data)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class AgentKey:
    """A key held by the agent; signs like ``SigningKey`` (``sign``, ``public_bytes``, ``key_id``)."""

    path: Path
    card: KeyCard

    @property
    def key_id(self) -> str:
        return self.card.id

    def public_bytes(self) -> bytes:
        from provenance.keys import card_public_key

        return card_public_key(self.card)

    def sign(self, message: bytes) -> bytes:
        """The agent's signature of ``message``, checked against the card before it is used.

        Raises ``ProvenanceError`` (agent.unavailable, agent.refused).
        """
        from provenance import signing

        try:
            answer = request(self.path, {"op": "sign", "key": self.card.id, "data": _b64(message)})
        except (OSError, ValueError) as exc:
            raise UnavailableError(
                ErrorCode.AGENT_UNAVAILABLE,
                f"the signing agent at {self.path} stopped answering ({exc}); nothing "
                "was signed: run again (the passphrase is asked when no agent runs)",
            ) from None
        if not answer.get("ok"):
            raise KeyStoreError(
                ErrorCode.AGENT_REFUSED, f"the signing agent refused: {answer.get('error')}"
            )
        signature = _unb64(str(answer.get("signature", "")))
        if not signing.verify_signature(self.public_bytes(), message, signature):
            raise KeyStoreError(
                ErrorCode.AGENT_REFUSED, "the signing agent's signature does not verify; not used"
            )
        return signature


def agent_key_for(card: KeyCard) -> AgentKey | None:
    """The running agent's handle for ``card``, or None (no agent, a stale socket, or the key not held).

    Raises ``agent.socket-unsafe`` for a socket that is not the user's alone.
    """
    path = find_socket()
    answer = _hello(path)
    if path is None or answer is None:
        return None
    held = {k.get("id") for k in answer.get("keys", []) if isinstance(k, dict)}
    return AgentKey(path, card) if card.id in held else None


def _hello(path: Path | None) -> dict[str, Any] | None:
    """The hello of the agent at ``path`` (pid, expiry, keys), or None when no socket is there or none answers."""
    if path is None or not os.path.lexists(path):
        return None
    try:
        return request(path, {"op": "hello"}, timeout=2.0)
    except (OSError, ValueError):
        return None


def status(path: Path | None = None) -> dict[str, Any] | None:
    """The running agent's hello (pid, socket, expiry, keys), or None when none answers."""
    path = path or find_socket()
    answer = _hello(path)
    if answer is not None:
        answer["socket"] = str(path)
    return answer


def stop(path: Path | None = None, *, wait: float = 5.0) -> dict[str, Any]:
    """Ask the running agent to end; wait until its socket is gone. Raises ``agent.unavailable``."""
    hello = status(path)
    if hello is None:
        raise UnavailableError(ErrorCode.AGENT_UNAVAILABLE, "no signing agent is running (nothing to stop)")
    sock = Path(hello["socket"])
    request(sock, {"op": "stop"})
    deadline = time.monotonic() + wait
    while os.path.lexists(sock) and time.monotonic() < deadline:
        time.sleep(0.02)
    return hello


# ---------------------------------------------------------------------------------------------------------
# The agent itself


def check_event_message(message: bytes, key_id: str) -> str | None:
    """Why the agent will not sign ``message`` for ``key_id``, or None: only a provenance event's signed
    bytes (context prefix + canonical JSON of exactly the signed fields, naming this key) are signed."""
    from provenance.canonical import StrictJSONError, canonical_bytes, loads_strict
    from provenance.model.manifest import EVENT_SIGNING_CONTEXT, SIGNED_EVENT_FIELDS

    if not message.startswith(EVENT_SIGNING_CONTEXT):
        return "not a provenance event (the context prefix is missing)"
    body = message[len(EVENT_SIGNING_CONTEXT) :]
    try:
        fields = loads_strict(body)
    except StrictJSONError as exc:
        return f"not a provenance event ({exc})"
    if not isinstance(fields, dict) or set(fields) != set(SIGNED_EVENT_FIELDS):
        return "not a provenance event (not the signed event fields)"
    if canonical_bytes(fields, parsed=True) != body:
        return "not a provenance event (not RFC 8785 canonical JSON)"
    if fields.get("key") != key_id:
        return "the event names another key than the one asked to sign"
    return None


@dataclass
class Agent:
    """The serving side: unlocked keys by id, a listening socket, a deadline."""

    keys: dict[str, tuple[KeyCard, SigningKey]]
    listener: socket.socket
    path: Path
    deadline: float
    expires: str
    started: float = field(default_factory=time.monotonic)
    signed: int = 0
    running: bool = True

    def hello(self) -> dict[str, Any]:
        return {
            "ok": True,
            "pid": os.getpid(),
            "expires": self.expires,
            "seconds_left": max(0, int(self.deadline - time.monotonic())),
            "signed": self.signed,
            "keys": [{"id": kid, "name": card.name} for kid, (card, _) in sorted(self.keys.items())],
        }

    def answer(self, request_line: bytes) -> dict[str, Any]:
        try:
            req = json.loads(request_line)
        except ValueError:
            return {"ok": False, "error": "not JSON"}
        if not isinstance(req, dict):
            return {"ok": False, "error": "not a request"}
        op = req.get("op")
        if op == "hello":
            return self.hello()
        if op == "stop":
            self.running = False
            return {"ok": True, "pid": os.getpid()}
        if op == "sign":
            held = self.keys.get(str(req.get("key")))
            if held is None:
                return {"ok": False, "error": "the agent does not hold that key"}
            try:
                message = _unb64(str(req.get("data", "")))
            except ValueError:
                return {"ok": False, "error": "data is not base64url"}
            why = check_event_message(message, held[0].id)
            if why is not None:
                return {"ok": False, "error": why}
            self.signed += 1
            return {"ok": True, "signature": _b64(held[1].sign(message))}
        return {"ok": False, "error": f"unknown op {op!r}"}

    def serve(self) -> None:
        """Answer requests until stopped or the deadline passes; then remove the socket."""
        uid = os.getuid()
        try:
            while self.running and time.monotonic() < self.deadline:
                self.listener.settimeout(max(0.05, min(0.5, self.deadline - time.monotonic())))
                try:
                    conn, _ = self.listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    if _peer_uid(conn) != uid:
                        continue  # another user reached the socket despite its mode: never answered
                    conn.settimeout(5.0)
                    try:
                        line = _read_line(conn)
                        if line is not None:
                            conn.sendall(json.dumps(self.answer(line)).encode() + b"\n")
                    except OSError:
                        continue
        finally:
            self.close()

    def close(self) -> None:
        self.listener.close()
        try:
            if os.path.lexists(self.path):
                os.unlink(self.path)
            os.rmdir(self.path.parent)
        except OSError:
            pass
        self.keys.clear()


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def socket_folder() -> Path:
    """A private folder for the socket: ``$XDG_RUNTIME_DIR/provenance`` (0700), else a new temporary one."""
    import tempfile

    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        info = os.stat(runtime)
        if info.st_uid == os.getuid() and not stat.S_IMODE(info.st_mode) & 0o077:
            folder = Path(runtime, "provenance")
            folder.mkdir(mode=0o700, exist_ok=True)
            os.chmod(folder, 0o700)
            return folder
    return Path(tempfile.mkdtemp(prefix="provenance-agent-"))


def listen(folder: Path) -> tuple[socket.socket, Path]:
    """A listening socket ``folder/agent.sock``, mode 0600 from its creation (umask), refusing to replace a
    live agent (``agent.running``); a stale socket file is removed."""
    path = folder / SOCKET_NAME
    if os.path.lexists(path):
        if status(path) is not None:
            raise ConflictError(
                ErrorCode.AGENT_RUNNING, f"an agent already listens at {path}; stop it first"
            )
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        listener.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    listener.listen(16)
    return listener, path


def _harden() -> None:
    """No core file and no ptrace by other processes of the user: the keys stay in this process's memory."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4: 0 forbids core dumps and ptrace attach
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def daemonize(agent: Agent, on_ready: Callable[[int], None]) -> None:
    """Serve ``agent`` in a detached grandchild process (setsid, stdio on /dev/null) and return in the
    parent once it runs; ``on_ready(pid)`` is called in the parent with the agent's pid."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the detached process (its end is observed by the tests)
        try:
            os.close(read_end)
            os.setsid()
            if os.fork() != 0:
                os._exit(0)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.chdir("/")
            _harden()
            import signal

            # SIGTERM ends the agent as 'agent stop' does: the socket is removed on the way out
            signal.signal(signal.SIGTERM, lambda _signo, _frame: setattr(agent, "running", False))
            os.write(write_end, str(os.getpid()).encode())
            os.close(write_end)
            agent.serve()
        finally:
            os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    pid_text = b""
    while chunk := os.read(read_end, 64):
        pid_text += chunk
    os.close(read_end)
    agent.listener.close()
    agent.keys.clear()
    if not pid_text:
        raise UnavailableError(ErrorCode.AGENT_UNAVAILABLE, "the agent process did not start")
    on_ready(int(pid_text))


def unlock_keys(
    cards: list[KeyCard], passphrase: bytes, home: Path | None = None
) -> tuple[dict[str, tuple[KeyCard, SigningKey]], list[str]]:
    """Unlock every card's private key with one passphrase; returns the unlocked keys and the names of
    those the passphrase does not open. Raises ``key.passphrase-wrong`` when it opens none."""
    from provenance import keys

    unlocked: dict[str, tuple[KeyCard, SigningKey]] = {}
    skipped: list[str] = []
    for card in cards:
        try:
            unlocked[card.id] = (card, keys.unlock(card, passphrase, home))
        except KeyStoreError:
            skipped.append(card.name)
    if not unlocked:
        raise KeyStoreError(
            ErrorCode.KEY_PASSPHRASE_WRONG, "the passphrase opens none of the keys; no agent started"
        )
    return unlocked, skipped


def shell_lines(path: Path, pid: int) -> str:
    """What ``eval "$(provenance agent start)"`` runs, as ``ssh-agent`` prints it."""
    import shlex

    quoted = shlex.quote(str(path))
    return (
        f"{SOCK_ENV}={quoted}; export {SOCK_ENV};\n"
        f"{PID_ENV}={pid}; export {PID_ENV};\n"
        f"echo Agent pid {pid};\n"
    )

