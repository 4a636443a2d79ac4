"""Help in plain words (issue 14): usage lines name arguments in capitals (``RECORD``, ``PATHS...``, ``[PATH]``),
never typer's ``{record}``, and repeatable values show their element (``<str>``), never ``<list[str]>``."""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import typer

from provenance.cli.global_options import version_line


def _element(param: Any) -> str | None:
    """``<path>`` for a ``list[Path]`` parameter, ``<str>`` for ``list[str]``; None for anything else."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if get_origin(annotation) is not list:
        return None
    (inner,) = get_args(annotation) or (str,)
    return f"<{getattr(inner, '__name__', 'str').lower()}>"


def plain_help(command: Any) -> None:
    """Rewrite, in place, how every parameter of ``command`` and its subcommands is shown in help."""
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)
    for param in getattr(command, "params", []):
        element = _element(param)
        if getattr(param, "param_type_name", "") == "argument":
            name = (param.metavar or param.name or "value").upper()
            usage = name if param.required else f"[{name}]"
            if param.nargs != 1:
                usage += "..."
            param._usage_display_name = types.MethodType(lambda self, u=usage: u, param)
            if element is not None:
                param.display_type_rich = types.MethodType(lambda self, ctx, e=element: e, param)
        elif element is not None and param.metavar is None:
            param.metavar = element


def show_version(value: bool) -> None:
    if value:
        typer.echo(version_line())
        raise typer.Exit(0)


def register(app: typer.Typer) -> None:
    """``--version`` and ``--archive`` before the command, as ``provenance --help`` shows them."""

    @app.callback()
    def options(
        version: Annotated[
            bool,
            typer.Option(
                "--version", "-V", is_eager=True, callback=show_version, help="Print the version and exit."
            ),
        ] = False,
        archive: Annotated[
            Path | None,
            typer.Option(
                "--archive",
                "-A",
                help="Archive folder, before or after the command (default: $PROVENANCE_ARCHIVE, else the "
                "current folder).",
                show_default=False,
            ),
        ] = None,
    ) -> None:
        if archive is not None:
            os.environ["PROVENANCE_ARCHIVE"] = str(archive)
