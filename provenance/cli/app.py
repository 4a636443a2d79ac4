"""The ``provenance`` command: a thin typer layer over the library. Imports stay light at start-up.

``verify`` and ``audit`` with plain arguments skip typer altogether (see
:func:`provenance.cli.verify_run.fast_command`): typer builds a pydantic adapter for every option of the
command it runs, which costs a cold ``verify`` as much as the verification itself. The fast parser and
typer's parameters are built from one table (:mod:`provenance.cli.verify_args`). Anything else, and any
argument the fast path does not take, goes through typer, which parses and reports it.
"""

from __future__ import annotations

import atexit
import errno
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import typer

HELP = (
    "Archive trust for historical transcriptions: signed, hash-chained records, BagIt bundles, and a "
    "verifier that no altered byte gets past.\n\n"
    "Example: provenance init my-archive && cd my-archive && "
    "provenance keys generate --name 'A. Archivist' --role archivist"
)


def build_app(command: str | None = None) -> typer.Typer:
    """The ``provenance`` app. For ``verify`` and ``audit`` only their own group is built: typer turns every
    registered command into a click command at start-up, and the verifier should not pay for twenty of
    them (nor import their modules). Any other command, ``--help`` included, gets the whole app.
    """
    import typer

    from provenance.cli import verify_cmds

    app = typer.Typer(
        name="provenance",
        help=HELP,
        add_completion=True,  # issue 14: --install-completion, --show-completion
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    from provenance.cli import help_text  # issue 14: --version, --archive before the command

    help_text.register(app)
    if command in verify_cmds.COMMANDS:
        verify_cmds.register(app)
        return app
    from provenance.cli import audit_cmds, export_cmds, inspect_cmds, keys_cmds, record_cmds, unpack_cmds

    app.add_typer(keys_cmds.app, name="keys")
    record_cmds.register(app)
    inspect_cmds.register(app)
    verify_cmds.register(app)
    export_cmds.register(app)
    from provenance.cli import tlog_cmds  # transparency log (issue 10)

    tlog_cmds.register(app)
    audit_cmds.register(app)  # verify-report (audit at scale, issue 16)
    from provenance.cli import import_cmds  # i13-preservation

    import_cmds.register(app)
    from provenance.cli import reader_cmds  # page (issue 12)

    reader_cmds.register(app)
    unpack_cmds.register(app)
    from provenance.cli import agent_cmds, batch_cmds, search_cmds  # i11-collections

    batch_cmds.register(app)
    search_cmds.register(app)
    app.add_typer(agent_cmds.app, name="agent")
    return app


def __getattr__(name: str) -> typer.Typer:
    """``app``: the whole app, built when asked for (``from provenance.cli.app import app``)."""
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _wants_json(argv: list[str]) -> bool:
    return "--json" in argv


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; turn every failure into one line (or one JSON document) and an exit code."""
    from provenance import ProvenanceError

    args = sys.argv[1:] if argv is None else argv
    try:
        from provenance.cli.global_options import take

        args = take(args)  # issue 14: --version; --archive before the command
        # Not standalone: usage errors come back as exceptions, so they too become one line (and one JSON
        # document under --json); typer.Exit comes back as the return value, the command's exit code.
        fast = _fast_command(args)
        if fast is not None:
            code = fast()
            _exit_now(code)
        else:
            import typer.main

            from provenance.cli.help_text import plain_help

            command = typer.main.get_command(build_app(args[0] if args else None))
            plain_help(command)  # issue 14: RECORD, not {record}; <str>, not <list[str]>
            try:
                code = command.main(args=args, prog_name="provenance", standalone_mode=False)
            except SystemExit as exc:  # typer exits 1 on a closed pipe, which reads as "invalid"
                context = exc.__context__
                if isinstance(context, OSError) and context.errno == errno.EPIPE:
                    _closed_pipe()
                raise
            if code == 130:  # typer turns Ctrl-C into a silent exit 130: say it, in one line
                raise KeyboardInterrupt
    except ProvenanceError as exc:
        from provenance.cli.exits import exit_for_error, with_hint

        document, message = with_hint(exc.to_json(), exc.message, args[0] if args else None)
        # streamed: verify's JSON stream already ended with this error (one document on stdout)
        _report_error(document, message, [] if getattr(exc, "streamed", False) else args)
        sys.exit(exit_for_error(exc))
    except KeyboardInterrupt:
        sys.stderr.write("provenance: interrupted; nothing was changed\n")
        sys.exit(130)
    except BrokenPipeError:
        _closed_pipe()
    except Exception as exc:
        _report_other(exc, args)
    if isinstance(code, int) and code:
        sys.exit(code)


def _exit_now(code: int) -> None:
    """End a run of the fast path as soon as its output is out, without the interpreter's teardown.

    The teardown frees, one by one, every object of every module loaded (pydantic's, cryptography's, the
    validators built): a fifth of a cold ``verify``'s CPU time, for memory the system takes back anyway.
    Nothing else is left to do: the commands of the fast path (verify, audit, search, ingest-batch) write
    files only through :mod:`provenance.fsio` or a search index committed and closed before they return,
    and run no thread past their own end. Whoever registered exit handlers (coverage
    in the tests, multiprocessing for a pool) gets the ordinary exit instead. A closed pipe on the flush
    raises BrokenPipeError, which :func:`main` handles.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if atexit._ncallbacks() == 0:
        os._exit(code)


def _closed_pipe() -> None:
    """The reader went away (``audit --json | head``): not a verdict, so not exit 1 (invalid). Exit as a
    program killed by SIGPIPE does (128 + 13), silently; stdout goes to /dev/null so that the interpreter's
    last flush does not complain either (issue 14)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout already gone
        pass
    sys.exit(141)


def _fast_command(args: list[str]) -> Callable[[], int] | None:
    if args and args[0] == "search":  # i11-collections: search without typer when its arguments are plain
        from provenance.cli.search_run import fast_command as fast_search

        return fast_search(args)
    if args and args[0] == "ingest-batch":  # i11-batch: without building typer's app when arguments are plain
        from provenance.cli.batch_run import fast_command as fast_batch

        return fast_batch(args)
    from provenance.cli.verify_args import TABLES  # the standard library only

    if not args or args[0] not in TABLES:
        return None
    from provenance.cli.verify_run import fast_command

    return fast_command(args)


def _report_other(exc: Exception, args: list[str]) -> None:
    """Usage errors, refused values and our own bugs: one line each, never a traceback."""
    import typer

    name = type(exc).__name__
    if isinstance(exc, typer.Abort):
        sys.stderr.write("provenance: aborted; nothing was changed\n")
        sys.exit(130)
    if name == "NoArgsIsHelpError":  # `provenance` or `provenance keys` alone: the help, as asked
        sys.stdout.write(exc.format_message() + "\n")  # type: ignore[attr-defined]
        sys.exit(2)
    if hasattr(exc, "format_message") and isinstance(getattr(exc, "exit_code", None), int):
        # click's usage errors (missing option, unknown option, bad value)
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        message = exc.format_message() + where
        _report_error({"code": "usage.invalid", "message": message}, message, args)
        sys.exit(2)
    if name == "ValidationError" and hasattr(exc, "errors"):
        # A value that fails a model's bounds (a 70,000-character note, a 5,000-character key name): the
        # input is refused, named by its field, never reported as a bug.
        first = exc.errors()[0]
        from provenance.rendering import field_name

        where = field_name(first["loc"], str(getattr(exc, "title", "")))
        message = f"{getattr(exc, 'title', 'value')} {where}: {first['msg']}"
        _report_error({"code": "usage.invalid", "message": message, "field": where}, message, args)
        sys.exit(2)
    if os.environ.get("PROVENANCE_DEBUG"):
        raise exc
    message = f"internal error: {name}: {exc} (set PROVENANCE_DEBUG=1 for details)"
    _report_error({"code": "internal.error", "message": message}, message, args)
    sys.exit(2)


def _report_error(document: dict[str, object], message: str, args: list[str]) -> None:
    from provenance.cli.output import emit_json, printable
    from provenance.rendering import bound_details, bound_message

    # Bounded whatever raised it (click's usage errors and pydantic's quote the value they refuse).
    message = bound_message(message)
    document = {**bound_details(document), "message": message}
    if _wants_json(args):
        emit_json({"error": document})

    # One line, whatever the message holds (a file name from a bundle, a pydantic error over several lines).
    sys.stderr.write(f"provenance: error: {printable(message, one_line=True)} [{document['code']}]\n")


if __name__ == "__main__":  # pragma: no cover
    main()
