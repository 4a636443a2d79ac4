"""Driving the installed CLI on a real pseudo-terminal of a fixed width, and reading what it printed:
the text without escape codes, and which text carried which SGR codes (bold, strike, colours)."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from tests.conftest import World, provenance_bin


class Terminal(io.StringIO):
    """A stdout or stderr that says it is a terminal (rich then draws colour, bars and tables)."""

    def isatty(self) -> bool:
        return True


def run_at_terminal(
    world: World, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """The CLI run in this process with terminal-like stdout and stderr, in the world's folder and
    environment (plus ``env``): its exit code, stdout and stderr."""
    from provenance.cli.app import main

    for key, value in {**world.env, **(env or {})}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(world.root)
    out, err = Terminal(), Terminal()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def run_in_pty(world: World, *args: str, columns: int, env: dict[str, str] | None = None) -> str:
    """The CLI's output on a ``columns``-wide terminal (line ends as ``\\n``); asserts it exits 0."""
    pexpect = pytest.importorskip("pexpect", reason="pexpect (test extra) drives a real terminal")
    merged = dict(world.env)
    merged.update(TERM="xterm-256color", PROVENANCE_NOW=world.tick().strftime("%Y-%m-%dT%H:%M:%SZ"))
    merged.pop("NO_COLOR", None)
    merged.update(env or {})
    child = pexpect.spawn(
        provenance_bin(),
        list(args),
        env=merged,
        cwd=str(world.root),
        encoding="utf-8",
        dimensions=(50, columns),
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    output = str(child.before).replace("\r\n", "\n")
    assert child.exitstatus == 0, output
    assert "Traceback" not in output, output
    return output


def plain(raw: str) -> str:
    """The text without its SGR escape codes."""
    return _SGR.sub("", raw)


def sgr_runs(raw: str) -> list[tuple[frozenset[str], str]]:
    """The text cut where its SGR codes change, each piece with the codes then in force (``0`` resets)."""
    runs: list[tuple[frozenset[str], str]] = []
    active: set[str] = set()
    position = 0
    for match in _SGR.finditer(raw):
        if match.start() > position:
            runs.append((frozenset(active), raw[position : match.start()]))
        for code in (match.group(1) or "0").split(";"):
            if code in ("", "0"):
                active.clear()
            else:
                active.add(code)
        position = match.end()
    if position < len(raw):
        runs.append((frozenset(active), raw[position:]))
    return runs
