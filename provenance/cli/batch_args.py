"""The arguments of ``ingest-batch``, declared once (issue 15, item 5), as a table of
:mod:`provenance.cli.arg_table`: typer's parameters (:mod:`provenance.cli.batch_cmds`) and the fast
parser (:mod:`provenance.cli.batch_run`) are both built from it.

This module imports nothing beyond the standard library: it runs before anything else is loaded.
"""

from __future__ import annotations

from provenance.cli.arg_table import ARCHIVE, JSON, KEY, PASSPHRASE_FILE, ROLE, Arg

INGEST_BATCH: tuple[Arg, ...] = (
    Arg("folder", (), "path", "Folder holding the transcriptions the sheet names."),
    Arg("catalogue", ("--catalogue", "-c"), "path",
        "Catalogue sheet, .csv (UTF-8) or .xlsx: one row per file; a 'filename' column relative to FOLDER, "
        "catalogue columns by field name or Dublin Core (dc.title, dc.date, …), optional id.", required=True),
    Arg("dry_run", ("--dry-run",), "flag", "Check everything and report every problem; write nothing."),
    Arg("encoding", ("--encoding",), "str", "Encoding of a CSV sheet that is not UTF-8 (cp1251, latin-1)."),
    KEY,
    PASSPHRASE_FILE,
    ROLE,
    ARCHIVE,
    JSON,
)
