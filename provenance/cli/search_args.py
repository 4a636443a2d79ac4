"""The arguments of ``search``, declared once (issue 15, item 5), as a table of
:mod:`provenance.cli.arg_table`: typer's parameters (:mod:`provenance.cli.search_cmds`) and the fast
parser (:mod:`provenance.cli.search_run`) are both built from it. The filters are ``list``'s too.

This module imports nothing beyond the standard library: it runs before anything else is loaded.
"""

from __future__ import annotations

from provenance.cli.arg_table import ARCHIVE as ARCHIVE
from provenance.cli.arg_table import JSON as JSON
from provenance.cli.arg_table import Arg

FIELD = Arg("fields", ("--field", "-f"), "strs",
            "FIELD=VALUE: the catalogue field contains VALUE (case and accents aside).")
SENT_FROM = Arg("sent_from", ("--sent-from",), "str", "Sent on or after this date (1951-08-01).")
SENT_TO = Arg("sent_to", ("--sent-to",), "str", "Sent on or before this date (1951-08-31).")
SIGNER = Arg("signer", ("--signer",), "str", "Only records with an event signed by this key (id, short id, name).")
RELEASED = Arg("released", ("--released",), "flag", "Only released records.")

SEARCH: tuple[Arg, ...] = (
    Arg("query", (), "str", "Words to find; Филиппов* for a prefix; OR and NOT between words."),
    FIELD,
    SENT_FROM,
    SENT_TO,
    SIGNER,
    RELEASED,
    Arg("limit", ("--limit", "-n"), "int", "Results shown (0: all).", minimum=0, preset=20),
    ARCHIVE,
    JSON,
)
