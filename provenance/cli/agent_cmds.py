"""``provenance agent start|stop|status``: unlock keys once, sign for a day's work."""

from __future__ import annotations

from typing import Annotated

import typer

from provenance.cli.common import (
    ArchiveOpt,
    JsonOpt,
    PassFileOpt,
    emit_json,
    open_archive,
    passphrase_source,
    printable,
)

app = typer.Typer(
    help="A signing agent, as ssh-agent: keys unlocked once, used by every signing command until its timeout.\n\n"
    'Example: eval "$(provenance agent start --timeout 2h)"',
    no_args_is_help=True,
)


@app.command("start")
def start(
    timeout: Annotated[
        str, typer.Option("--timeout", "-t", help="How long the agent lives: 15m, 2h, 90s (at most 7d).")
    ] = "15m",
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key", "-k", help="Unlock this key (repeatable; default: every key of this archive here)."
        ),
    ] = None,
    passphrase_file: PassFileOpt = None,
    archive: ArchiveOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Unlock keys once and serve signatures on a private Unix socket until the timeout.

    Prints shell lines that set PROVENANCE_AGENT_SOCK (as ssh-agent does); signing commands then use the
    agent instead of asking for the passphrase. The decrypted keys live only in the agent's memory.

    Example: eval "$(provenance agent start --timeout 2h)"; provenance ingest-batch incoming/ -c sheet.csv
    """
    from provenance.keyring import AgentStarted, start_agent

    arch = open_archive(archive)

    def ready(started: AgentStarted) -> None:
        if json_out:
            emit_json(
                {"socket": str(started.socket), "pid": started.pid, "expires": started.expires,
                 "keys": started.keys, "skipped": started.skipped}
            )
            return
        print(started.shell_lines, end="")
        import sys

        for name in started.skipped:
            sys.stderr.write(
                printable(f"provenance: note: the passphrase does not open {name}'s key; not held\n")
            )

    start_agent(arch, keys=key, timeout=timeout, passphrase=passphrase_source(passphrase_file), on_ready=ready)


@app.command("stop")
def stop(json_out: JsonOpt = False) -> None:
    """Stop the running agent (found by $PROVENANCE_AGENT_SOCK or the well-known socket).

    Example: provenance agent stop
    """
    from provenance.keyring import stop_agent

    hello = stop_agent()
    if json_out:
        emit_json({"stopped": True, "pid": hello.get("pid"), "socket": hello["socket"]})
    else:
        print(f"agent stopped (pid {hello.get('pid')})")


@app.command("status")
def status(json_out: JsonOpt = False) -> None:
    """Whether an agent runs, until when, and which keys it holds.

    Example: provenance agent status --json
    """
    from provenance.keyring import agent_status

    hello = agent_status()
    if json_out:
        emit_json({"running": hello is not None, **({} if hello is None else _public(hello))})
        return
    if hello is None:
        print("no agent running")
        return
    print(
        printable(
            f"agent pid {hello.get('pid')} at {hello['socket']}, until {hello.get('expires')} "
            f"({hello.get('seconds_left')} s left), {hello.get('signed')} signature(s) made"
        )
    )
    for held in hello.get("keys", []):
        print(printable(f"  {held.get('name')}  {held.get('id')}"))


def _public(hello: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in hello.items() if k != "ok"}
