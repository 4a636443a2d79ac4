"""typer's parameters built from a table of :mod:`provenance.cli.arg_table`: the one place where a
table entry becomes a ``typer.Argument`` or ``typer.Option``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from provenance.cli.arg_table import Arg

TYPES: dict[str, Any] = {"paths": list[Path], "path": Path | None, "str": str | None, "strs": list[str] | None,
                         "int": int | None, "flag": bool}
# a positional argument, or a required option, has a value: its type is not Optional
_REQUIRED_TYPES: dict[str, Any] = {"paths": list[Path], "path": Path, "str": str}


def declaration(arg: Arg) -> Any:
    """What typer is told of one entry of a table: its ``typer.Argument`` or ``typer.Option``."""
    if not arg.names:
        return typer.Argument(help=arg.help, metavar=arg.metavar, show_default=False)
    return typer.Option(*arg.names, help=arg.help, metavar=arg.metavar, min=arg.minimum,
                        show_default=arg.preset is not None)


def annotation(arg: Arg) -> Any:
    """The annotated type typer reads ``arg`` with."""
    required = not arg.names or arg.required
    return Annotated[_REQUIRED_TYPES[arg.kind] if required else TYPES[arg.kind], declaration(arg)]


def parameter(arg: Arg) -> inspect.Parameter:
    """The typer parameter of one entry of a table."""
    required = not arg.names or arg.required
    default = inspect.Parameter.empty if required else arg.default
    return inspect.Parameter(arg.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation(arg))


def with_parameters(
    body: Callable[..., None], table: Sequence[Arg], extra: tuple[inspect.Parameter, ...] = ()
) -> Callable[..., None]:
    """``body`` (which takes ``**values``) shown to typer with the parameters of ``table``, then ``extra``."""
    params = [parameter(arg) for arg in table] + list(extra)
    body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    body.__annotations__ = {p.name: p.annotation for p in params}
    return body
