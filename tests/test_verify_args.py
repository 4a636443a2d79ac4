"""One argument table per command with a fast path (issue 15, item 5): ``verify`` and ``audit``
(:mod:`provenance.cli.verify_args`), ``search`` (:mod:`provenance.cli.search_args`), ``ingest-batch``
(:mod:`provenance.cli.batch_args`). typer's parameters and the fast parser
(:func:`provenance.cli.arg_table.parse_plain`) are built from each, and they read every argv the same way.

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
from provenance.cli import (
    batch_cmds,
    search_args,
    search_cmds,
    search_run,
    verify_args,
    verify_cmds,
    verify_run,
)
from provenance.cli.batch_args import INGEST_BATCH
from provenance.cli.search_args import SEARCH
from provenance.cli.verify_args import AUDIT, VERIFY, parse_plain

TABLES = {**verify_args.TABLES, "search": SEARCH, "ingest-batch": INGEST_BATCH}
# where each command's typer body hands over the values it read: (module, function name)
_RUNNERS: dict[str, tuple[Any, str]] = {"verify": (verify_run, "run"), "audit": (verify_run, "run"),
                                        "search": (search_run, "run_search"),
                                        "ingest-batch": (batch_cmds, "run_ingest_batch")}
# what a plain argv of each command starts with (its positional argument)
_LEAD = {"verify": ["a-record", "b.zip"], "audit": [], "search": ["Stalin"], "ingest-batch": ["incoming"]}


@pytest.fixture(scope="module")
def commands() -> dict[str, Any]:
    return _commands()


def typer_values(command: Any, argv: list[str]) -> dict[str, Any] | None:
    """The values typer's ``command`` hands to the function that runs it (:func:`verify_run.run`,
    :func:`search_run.run_search`, :func:`batch_cmds.run_ingest_batch`), or None when it refuses ``argv``."""
    seen: list[dict[str, Any]] = []
    module, name = _RUNNERS[command.name]
    original = getattr(module, name)

    def record(*args: Any, **values: Any) -> int:
        seen.append(args[1] if args else values)  # verify_run.run(name, values); the others by keyword
        return 0

    setattr(module, name, record)
    try:
        command.main(args=argv, prog_name="provenance", standalone_mode=False)
    except Exception as exc:  # click's usage errors (typer vendors click): exit code 2
        if getattr(exc, "exit_code", None) != 2:
            raise
        return None
    finally:
        setattr(module, name, original)
    assert len(seen) == 1
    return seen[0]


def option_argvs() -> Iterator[tuple[str, list[str]]]:
    """For every option of every table: an argv giving it a plain value, both ways of spelling it."""
    samples = {"path": "some/folder", "str": "4G", "strs": "origin=Beijing", "int": "3", "flag": None}
    for command, table in TABLES.items():
        lead = _LEAD[command] + (["-c", "sheet.csv"] if command == "ingest-batch" else [])
        for arg in table:
            if not arg.names or arg.required:
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
    # search and ingest-batch
    "Филиппов*", "-f", "--field", "--field=origin=Beijing", "origin=Beijing", "--sent-from", "1951-08-01",
    "--sent-to=1951-08-31", "--signer", "--released", "--released=1", "-n", "--limit", "--limit=0", "-c",
    "--catalogue", "--catalogue=s.csv", "--dry-run", "--encoding", "cp1251", "-k", "--key=A. Archivist",
    "--passphrase-file", "--role", "--role=editor",
]


@settings(max_examples=600, deadline=None)
@given(command=st.sampled_from(sorted(TABLES)), argv=st.lists(st.sampled_from(WORDS), max_size=7))
def test_what_the_fast_path_takes_typer_reads_the_same(command: str, argv: list[str]) -> None:
    fast = parse_plain(TABLES[command], argv)
    if fast is not None:
        assert fast == typer_values(_commands()[command], argv)


_CACHE: dict[str, Any] = {}


def _commands() -> dict[str, Any]:
    """The typer commands, built once (hypothesis does not take function-scoped fixtures)."""
    if not _CACHE:
        for name in TABLES:
            group: Any = typer.main.get_command(app_module.build_app(name))
            _CACHE[name] = group.commands[name]
    return _CACHE


def test_typer_refusals_are_typers(commands: dict[str, Any]) -> None:
    """Cases where the fast parser must step aside: typer refuses each, with its own message."""
    refused = {
        "verify": [[], ["a", "--jobs", "0"], ["a", "--jobs", "two"], ["a", "--jobs"], ["a", "--trust"],
                   ["a", "--witnesses", "-1"], ["a", "--json=1"], ["a", "--unknown"]],
        "audit": [["extra"], ["--jobs", "²"], ["--since"]],
        "search": [[], ["a", "b"], ["a", "--limit", "-1"], ["a", "--released=1"], ["a", "--field"]],
        "ingest-batch": [["in"], ["in", "other", "-c", "s.csv"], ["-c", "s.csv"], ["in", "-c"]],
    }
    for command, argvs in refused.items():
        for argv in argvs:
            assert parse_plain(TABLES[command], argv) is None, argv
            assert typer_values(commands[command], argv) is None, argv


def test_every_typer_parameter_comes_from_the_table_or_goes_to_typer(commands: dict[str, Any]) -> None:
    for command, table in TABLES.items():
        by_dest = {arg.dest: arg for arg in table}
        lead = _LEAD[command] + (["-c", "s.csv"] if command == "ingest-batch" else [])
        for param in commands[command].params:
            arg = by_dest.pop(str(param.name), None)
            if arg is None:  # audit at scale's options, and --help: typer's alone
                for name in param.opts:
                    assert parse_plain(table, [*lead, name, "value"]) is None, name
                    assert parse_plain(table, [*lead, name]) is None, name
                continue
            assert tuple(param.opts) == (arg.names or (arg.dest,))
            assert bool(param.required) == (not arg.names or arg.required)
            if arg.names and not arg.required:
                assert param.default == arg.default
        assert not by_dest, f"{command}: in the table but not a typer parameter: {sorted(by_dest)}"


def test_shared_option_types_agree_with_the_table() -> None:
    """unpack takes --trust and --max-size as verify does, list search's filters: their typer types are
    those of the table."""
    shared = ((verify_cmds.TrustOpt, verify_args.TRUST), (verify_cmds.MaxSizeOpt, verify_args.MAX_SIZE),
              (search_cmds.FieldOpt, search_args.FIELD), (search_cmds.SentFromOpt, search_args.SENT_FROM),
              (search_cmds.SentToOpt, search_args.SENT_TO), (search_cmds.SignerOpt, search_args.SIGNER),
              (search_cmds.ReleasedOpt, search_args.RELEASED))
    for alias, arg in shared:
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


def test_the_last_of_a_repeated_option_counts_and_a_repeatable_one_collects() -> None:
    values = parse_plain(INGEST_BATCH, ["in", "-c", "s.csv", "--catalogue", "t.csv"])
    assert values is not None and values["catalogue"] == Path("t.csv")
    values = parse_plain(SEARCH, ["x", "-f", "a=1", "--field=b=2"])
    assert values is not None and values["fields"] == ["a=1", "b=2"] and values["limit"] == 20
