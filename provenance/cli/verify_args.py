"""The arguments of ``verify`` and ``audit``, declared once (issue 15, item 5), as tables of
:mod:`provenance.cli.arg_table`.

typer's parameters are built from them (:mod:`provenance.cli.verify_cmds`), and :func:`parse_plain` reads
them to run a command with plain arguments without importing typer at all; tests/test_verify_args.py
checks that the two parse every argv the same way.

This module imports nothing beyond the standard library: it runs before anything else is loaded.
"""

from __future__ import annotations

from provenance.cli.arg_table import ARCHIVE, JSON
from provenance.cli.arg_table import Arg as Arg
from provenance.cli.arg_table import Kind as Kind
from provenance.cli.arg_table import parse_plain as parse_plain


def _local(text: str) -> bool:
    return "://" not in text


TRUST = Arg("trust", ("--trust",), "path", "Trust store: a folder of key cards (default: the archive's keys/).")
JOBS = Arg(
    "jobs", ("--jobs", "-j"), "int", "Processes to verify with (default: one per CPU; 1: this process only).",
    minimum=1,
)
MAX_SIZE = Arg(
    "max_size", ("--max-size",), "str",
    "Largest a .zip/.tar.gz bundle may decompress to (e.g. 4G, 512M; default 8G); beyond it the bundle is "
    "refused as bundle.too-large.", metavar="SIZE",
)

VERIFY: tuple[Arg, ...] = (
    Arg("paths", (), "paths", "Record folder(s), bag folder(s), .zip or .tar.gz bundle(s)."),
    TRUST,
    ARCHIVE,
    JOBS,
    MAX_SIZE,
    Arg("state", ("--state",), "path",
        "Remember the newest log checkpoint and record heads here; report log.fork and log.rollback against "
        "them."),
    Arg("consistency", ("--consistency",), "path",
        "A consistency proof ('tlog prove') from the remembered checkpoint."),
    Arg("witnesses", ("--witnesses",), "int",
        "Trusted witnesses that must cosign each checkpoint (default: the trust store's log-policy.toml, "
        "else 0).", minimum=0),
    JSON,
)

# audit's own options; those of audit at scale (--report, --sample, --engine, ...) are typer's alone
# (provenance.cli.audit_cmds): an argv naming one goes to typer whole
AUDIT: tuple[Arg, ...] = (
    TRUST,
    Arg("archive", ("--archive", "-A"), "str",
        "Archive folder or s3://bucket/prefix (default: $PROVENANCE_ARCHIVE, else the current folder).",
        plain=_local),
    JOBS,
    Arg("since", ("--since",), "path", "An earlier log checkpoint: prove the log is consistent with it."),
    JSON,
)

TABLES: dict[str, tuple[Arg, ...]] = {"verify": VERIFY, "audit": AUDIT}

