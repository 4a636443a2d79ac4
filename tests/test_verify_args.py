"""One argument table for ``verify`` and ``audit`` (issue 15, item 5): typer's parameters and the fast
parser are built from :mod:`provenance.cli.verify_args`, and they read every argv the same way.

The property: whenever the fast parser takes an argv, typer takes it too and gives the same values; so an
argv typer refuses (a missing value, ``--jobs 0``, an unknown option) is never run by the fast path, and
typer reports it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.cli import app as app_module
from provenance.cli import verify_args, verify_cmds, verify_run
from provenance.cli.verify_args import AUDIT, TABLES, VERIFY, parse_plain


@pytest.fixture(scope="module")
def commands() -> dict[str, Any]:
    return _commands()


def typer_values(command: Any, argv: list[str]) -> dict[str, Any] | None:
    """The values typer's ``command`` hands to :func:`verify_run.run`, or None when it refuses ``argv``."""
    seen: list[dict[str, Any]] = []
    original = verify_run.run
    verify_run.run = lambda name, values: seen.append(values) or 0  # type: ignore[assignment]
    try:
        command.main(args=argv, prog_name="provenance", standalone_mode=False)
    except Exception as exc:  # click's usage errors (typer vendors click): exit code 2
        if getattr(exc, "exit_code", None) != 2:
            raise
        return None
    finally:
        verify_run.run = original
    assert len(seen) == 1
    return seen[0]


def option_argvs() -> Iterator[tuple[str, list[str]]]:
    """For every option of every table: an argv giving it a plain value, both ways of spelling it."""
    samples = {"path": "some/folder", "str": "4G", "int": "3", "flag": None}
    for command, table in TABLES.items():
        lead = ["a-record", "b.zip"] if command == "verify" else []
        for arg in table:
            if not arg.names:
                continue
            text = samples[arg.kind]
            for name in arg.names:
                if text is None:
                    yield command, [*lead, name]
                else:
                    yield command, [name, text, *lead]
                    if name.startswith("--"):
                        yield command, [*lead, f"{name}={text}"]


@pytest.mark.parametrize(("command", "argv"), list(option_argvs()), ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_each_option_reads_the_same_both_ways(
    commands: dict[str, Any], command: str, argv: list[str]
) -> None:
    fast = parse_plain(TABLES[command], argv)
    assert fast is not None, "a plain value is the fast path's to take"
    assert fast == typer_values(commands[command], argv)


# Words an argv is made of: options of both commands, spelt every way, good and bad values, and words
# typer reads differently from what they look like (``--``, ``-``, ``-j2``, ``-A=x``).
WORDS = [
    "rec", "b.zip", "dir/sub", "-", "--", "--json", "--json=1", "--trust", "--trust=keys", "--trust=",
    "-A", "--archive", "--archive=x", "-A=x", "s3://bucket/prefix", "--jobs", "-j", "-j2", "--jobs=3",
    "--jobs=", "0", "1", "02", "-1", "+2", "²", " 3", "999999", "1234567", "--max-size", "--max-size=4G",
    "--state", "--consistency", "--witnesses", "--witnesses=0", "--since", "--since=cp.txt", "--unknown",
    "x=y",
]


@settings(max_examples=300, deadline=None)
@given(command=st.sampled_from(sorted(TABLES)), argv=st.lists(st.sampled_from(WORDS), max_size=7))
def test_what_the_fast_path_takes_typer_reads_the_same(command: str, argv: list[str]) -> None:
    fast = parse_plain(TABLES[command], argv)
    if fast is not None:
        assert fast == typer_values(_commands()[command], argv)


_CACHE: dict[str, Any] = {}


def _commands() -> dict[str, Any]:
    """The typer commands, built once (hypothesis does not take function-scoped fixtures)."""
    if not _CACHE:
        group: Any = typer.main.get_command(app_module.build_app("verify"))
        _CACHE.update({name: group.commands[name] for name in TABLES})
    return _CACHE


def test_typer_refusals_are_typers(commands: dict[str, Any]) -> None:
    """Cases where the fast parser must step aside: typer refuses each, with its own message."""
    refused = {
        "verify": [[], ["a", "--jobs", "0"], ["a", "--jobs", "two"], ["a", "--jobs"], ["a", "--trust"],
                   ["a", "--witnesses", "-1"], ["a", "--json=1"], ["a", "--unknown"]],
        "audit": [["extra"], ["--jobs", "²"], ["--since"]],
    }
    for command, argvs in refused.items():
        for argv in argvs:
            assert parse_plain(TABLES[command], argv) is None, argv
            assert typer_values(commands[command], argv) is None, argv


def test_every_typer_parameter_comes_from_the_table_or_goes_to_typer(commands: dict[str, Any]) -> None:
    for command, table in TABLES.items():
        by_dest = {arg.dest: arg for arg in table}
        lead = ["rec"] if command == "verify" else []
        for param in commands[command].params:
            arg = by_dest.pop(str(param.name), None)
            if arg is None:  # audit at scale's options, and --help: typer's alone
                for name in param.opts:
                    assert parse_plain(table, [*lead, name, "value"]) is None, name
                    assert parse_plain(table, [*lead, name]) is None, name
                continue
            assert tuple(param.opts) == (arg.names or (arg.dest,))
            assert bool(param.required) == (arg.kind == "paths")
            if arg.kind != "paths":
                assert param.default == arg.default
        assert not by_dest, f"{command}: in the table but not a typer parameter: {sorted(by_dest)}"


def test_shared_option_types_agree_with_the_table() -> None:
    """unpack takes --trust and --max-size as verify does: their typer types are those of the table."""
    for alias, arg in ((verify_cmds.TrustOpt, verify_args.TRUST), (verify_cmds.MaxSizeOpt, verify_args.MAX_SIZE)):
        kind, declaration = get_args(alias)
        assert kind == verify_cmds._TYPES[arg.kind]
        # in Annotated, typer.Option's first name is held as its "default"
        assert (declaration.default, *declaration.param_decls) == arg.names


@pytest.mark.parametrize(
    ("text", "kind", "minimum", "value"),
    [("3", "int", 1, 3), ("0", "int", 1, None), ("0", "int", 0, 0), ("٣", "int", None, None),
     ("1" * 7, "int", None, None), ("", "str", None, None), ("-x", "path", None, None),
     ("x", "path", None, Path("x")), ("4G", "str", None, "4G")],
)
def test_convert(text: str, kind: verify_args.Kind, minimum: int | None, value: object) -> None:
    assert verify_args.Arg("x", ("--x",), kind, "help", minimum=minimum).convert(text) == value


def test_an_archive_on_object_storage_goes_to_typer_for_audit() -> None:
    assert parse_plain(AUDIT, ["--archive", "s3://bucket/prefix"]) is None
    assert parse_plain(VERIFY, ["rec", "--archive", "s3://bucket/prefix"]) is not None  # verify reads it
