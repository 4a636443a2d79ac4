"""The commands that sign an event share their options through one declaration (``cli.common.signs``): each
still offers --key, --passphrase-file, --role, --archive and --json, after its own options and in that
order, with the help text every other command gives them."""

from __future__ import annotations

import typer
import typer.main

from provenance.cli import record_cmds
from provenance.cli.common import SIGNING

SIGNING_COMMANDS = ("ingest", "note", "custody", "revise", "review", "release", "catalogue", "attach", "translate")


def _commands() -> dict[str, object]:
    app = typer.Typer()
    record_cmds.register(app)
    group = typer.main.get_group(app)
    return dict(group.commands)


def test_every_signing_command_offers_the_shared_options_last() -> None:
    commands = _commands()
    shared = [arg.dest for arg in SIGNING]
    for name in SIGNING_COMMANDS:
        params = commands[name].params  # type: ignore[attr-defined]
        assert [p.name for p in params[-len(shared) :]] == shared, name
        for param, arg in zip(params[-len(shared) :], SIGNING, strict=True):
            assert tuple(param.opts) == arg.names and param.help == arg.help, (name, param.name)


def test_init_is_not_a_signing_command() -> None:
    params = _commands()["init"].params  # type: ignore[attr-defined]
    assert "key" not in {p.name for p in params}
