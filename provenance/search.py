"""Finding records again: full-text search and filtered lists over the derived index.

Full text covers each record's text files (transcriptions, translations, attachments), its notes and its
catalogue, Cyrillic and Latin alike: SQLite FTS5 with the ``unicode61 remove_diacritics 2`` tokenizer folds
case and drops diacritics (``kaesong`` finds ``Kaesŏng``), and ``Филиппов*`` is a prefix query. Results are
ranked by BM25 (catalogue matches weigh most, then notes, then the text) and carry their best snippet.

The index is derived: before a result is shown, its manifest's SHA-256 is compared with the indexed one,
and a record that changed is re-indexed and the query run again (:func:`search`). Search finds; only
``verify`` says whether a record can be trusted.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from provenance.errors import ErrorCode, UsageError

if TYPE_CHECKING:
    import sqlite3

    from provenance.archive import Archive
    from provenance.catalogue_index import IndexStatus

HIT_START, HIT_END = "\x02", "\x03"
BM25_WEIGHTS = (5.0, 1.0, 2.0)  # catalogue, text, notes
SORT_COLUMNS = {
    "record": "record",
    "title": "title",
    "sent": "sent",
    "events": "events",
    "changed": "last_time",
}
_DATE = re.compile(r"^-?[0-9]{4}(-[0-9]{2}(-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)?)?)?$")


def fold(text: str) -> str:
    """Case- and diacritic-insensitive form for field filters (as the tokenizer folds the full text)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass
class Filters:
    """What ``search`` and ``list`` narrow by."""

    fields: list[tuple[str, str]] = field(default_factory=list)  # (catalogue field, value it contains)
    sent_from: str | None = None
    sent_to: str | None = None
    signer: str | None = None  # a key id (resolved by the caller) or an agent's name
    released: bool = False


def parse_field_filters(specs: list[str]) -> list[tuple[str, str]]:
    """``F=V`` pairs, F a catalogue field or its Dublin Core name; raises ``UsageError``."""
    if not specs:
        return []  # and the catalogue model (pydantic) stays unloaded
    from provenance.batch.columns import CONTROL_COLUMNS, field_for
    from provenance.model.catalogue import CATALOGUE_FIELDS

    out = []
    for spec in specs:
        name, sep, value = spec.partition("=")
        target = field_for(name) if sep else None
        if target is None or (target in CONTROL_COLUMNS and target != "id"):
            known = ", ".join(CATALOGUE_FIELDS)
            raise UsageError(
                ErrorCode.USAGE, f"field filter {spec!r}: give FIELD=VALUE with a catalogue field ({known})",
                param="fields",
            )
        out.append((target, value))
    return out


def check_date(option: str, value: str | None) -> str | None:
    if value is not None and not _DATE.match(value):
        raise UsageError(ErrorCode.USAGE, f"{option} {value!r}: give an ISO 8601 date such as 1951-08-27")
    return value


@dataclass
class Hit:
    """One record found: what a result line shows and ``--json`` prints."""

    record: str
    title: str | None
    sent: str | None
    released: bool
    events: int
    changed: str | None
    filename: str | None
    catalogue: dict[str, Any]
    manifest_sha256: str
    score: float = 0.0
    snippet: str = ""

    def highlights(self) -> tuple[str, list[list[int]]]:
        """The snippet as plain text and the [start, end) offsets of the matching words."""
        text, spans, pos = [], [], 0
        start = 0
        for part in re.split(f"([{HIT_START}{HIT_END}])", self.snippet):
            if part == HIT_START:
                start = pos
            elif part == HIT_END:
                spans.append([start, pos])
            else:
                part = re.sub(r"\s+", " ", part)  # one line: a snippet spans line breaks
                text.append(part)
                pos += len(part)
        return "".join(text), spans

    def as_json(self, with_snippet: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "record": self.record,
            "title": self.title,
            "sent": self.sent,
            "released": self.released,
            "events": self.events,
            "changed": self.changed,
            "file": self.filename,
            "catalogue": self.catalogue,
        }
        if with_snippet:
            snippet, spans = self.highlights()
            out.update(score=round(self.score, 4), snippet=snippet, highlights=spans)
        return out


def _where(filters: Filters) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if filters.sent_from:
        # a date of coarser precision overlaps the bound when its prefix does: 1951-09 is "from 1951-09-15"
        clauses.append("r.sent >= substr(?, 1, length(r.sent))")
        params.append(filters.sent_from)
    if filters.sent_to:
        clauses.append("substr(r.sent, 1, ?) <= ?")
        params.extend([len(filters.sent_to), filters.sent_to])
    if filters.released:
        clauses.append("r.released = 1")
    if filters.signer:
        clauses.append("r.id IN (SELECT id FROM signers WHERE key = ? OR agent = ?)")
        params.extend([filters.signer, filters.signer])
    return clauses, params


def _fields_match(record: str, catalogue: dict[str, Any], wanted: list[tuple[str, str]]) -> bool:
    for name, value in wanted:
        want = fold(value)
        if name == "id":
            found: list[str] = [record]
        elif name == "copies":
            found = [str(c.get("recipient", "")) for c in catalogue.get("copies") or []]
        else:
            raw = catalogue.get(name)
            found = [] if raw is None else [str(raw)]
        if not any(want in fold(v) for v in found):
            return False
    return True


_COLUMNS = (
    "r.record, r.title, r.sent, r.released, r.events, r.last_time, r.filename, r.catalogue, r.manifest_sha256"
)


def _hit(row: tuple[Any, ...], score: float = 0.0, snippet: str = "") -> Hit:
    return Hit(
        record=row[0],
        title=row[1],
        sent=row[2],
        released=bool(row[3]),
        events=int(row[4]),
        changed=row[5],
        filename=row[6],
        catalogue=json.loads(row[7]),
        manifest_sha256=row[8],
        score=score,
        snippet=snippet,
    )


def fts_query(text: str) -> str:
    """The user's words as an FTS5 query that cannot be a syntax error: each word a quoted phrase (a
    trailing ``*`` kept as a prefix query), ``OR``/``NOT``/``AND`` between words kept as operators."""
    parts = []
    for word in text.split():
        if word in ("OR", "AND", "NOT"):
            parts.append(word)
            continue
        prefix = word.endswith("*")
        core = word.rstrip("*").replace('"', '""')
        if core:
            parts.append(f'"{core}"' + ("*" if prefix else ""))
    if not parts or parts[0] in ("OR", "AND", "NOT") or parts[-1] in ("OR", "AND", "NOT"):
        raise UsageError(ErrorCode.USAGE, f"search {text!r}: give at least one word")
    return " ".join(parts)


def _stale(archive: Archive, hit: Hit) -> bool:
    """True when the record's manifest on disk is not the one indexed (the manifest always wins)."""
    try:
        data = (archive.records_dir / hit.record / "manifest.json").read_bytes()
    except OSError:
        return True
    return hashlib.sha256(data).hexdigest() != hit.manifest_sha256


def _confirm(db: sqlite3.Connection, archive: Archive, hits: list[Hit]) -> bool:
    """Re-index the hits whose manifest changed; True when none had."""
    from provenance.catalogue_index import index_record

    stale = [h.record for h in hits if _stale(archive, h)]
    if not stale:
        return True
    db.execute("BEGIN IMMEDIATE")
    for record in stale:
        index_record(db, archive, record)
    db.execute("COMMIT")
    return False


@dataclass
class Found:
    hits: list[Hit]
    total: int
    status: IndexStatus
    rechecked: int = 0


def search(archive: Archive, query: str, filters: Filters, *, limit: int = 20) -> Found:
    """Records whose text, notes or catalogue match ``query``, best first, each checked against its
    manifest. Raises ``UsageError`` for an empty query, ``ProvenanceError(index.unavailable)``.

    Two steps: the ranking (BM25 over every match, no snippet), then the shown results' rows and snippets.
    """
    from provenance.catalogue_index import open_index

    match = fts_query(query)
    db, status = open_index(archive)
    try:
        rechecked = 0
        for _attempt in range(3):
            ranked, total = _rank(db, match, filters, limit)
            hits = _shown(db, match, ranked)
            if _confirm(db, archive, hits):
                break
            rechecked += 1
        return Found(hits=hits, total=total, status=status, rechecked=rechecked)
    finally:
        db.close()


def _rank(
    db: sqlite3.Connection, match: str, filters: Filters, limit: int
) -> tuple[list[tuple[int, float]], int]:
    """(row id, score) of the best matches, and how many match in all."""
    clauses, params = _where(filters)
    where = " AND ".join(["docs MATCH ?", *clauses])
    weights = ", ".join(map(str, BM25_WEIGHTS))
    base = f"FROM docs JOIN records r ON r.id = docs.rowid WHERE {where}"
    if not filters.fields and not clauses:
        # the whole archive: FTS5 ranks by its configured rank (the same BM25 weights) without a join
        total = db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", [match]).fetchone()[0]
        cap = f" LIMIT {int(limit)}" if limit else ""
        rows = db.execute(
            f"SELECT rowid, rank FROM docs WHERE docs MATCH ? ORDER BY rank{cap}", [match]  # noqa: S608 - an int
        ).fetchall()
        return [(rowid, -score) for rowid, score in rows], int(total)
    if not filters.fields:
        total = db.execute(f"SELECT count(*) {base}", [match, *params]).fetchone()[0]
        cap = f" LIMIT {int(limit)}" if limit else ""
        rows = db.execute(
            f"SELECT r.id, bm25(docs, {weights}) AS score {base} ORDER BY score, r.record{cap}",
            [match, *params],
        ).fetchall()
        return [(rowid, -score) for rowid, score in rows], int(total)
    rows = db.execute(
        f"SELECT r.id, bm25(docs, {weights}) AS score, r.record, r.catalogue {base} ORDER BY score, r.record",
        [match, *params],
    ).fetchall()
    kept = [
        (rowid, -score)
        for rowid, score, record, catalogue in rows
        if _fields_match(record, json.loads(catalogue), filters.fields)
    ]
    return (kept[:limit] if limit else kept), len(kept)


def _shown(db: sqlite3.Connection, match: str, ranked: list[tuple[int, float]]) -> list[Hit]:
    """The rows and snippets of the ranked results, in their order."""
    if not ranked:
        return []
    by_id: dict[int, Hit] = {}
    ids = [rowid for rowid, _ in ranked]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        sql = (
            f"SELECT r.id, {_COLUMNS}, snippet(docs, -1, '{HIT_START}', '{HIT_END}', '…', 16) "  # noqa: S608
            f"FROM docs JOIN records r ON r.id = docs.rowid WHERE docs MATCH ? AND docs.rowid IN ({marks})"
        )
        for row in db.execute(sql, [match, *chunk]):
            by_id[row[0]] = _hit(row[1:10], 0.0, row[10])
    hits = []
    for rowid, score in ranked:
        hit = by_id.get(rowid)
        if hit is not None:
            hit.score = score
            hits.append(hit)
    return hits


def list_records(
    archive: Archive, filters: Filters, *, sort: str = "record", descending: bool = False
) -> Found:
    """Every record matching ``filters``, sorted by ``sort`` (record, title, sent, events, changed, or any
    catalogue field). Raises ``UsageError`` for an unknown sort field."""
    from provenance.batch.columns import field_for
    from provenance.catalogue_index import open_index

    column = SORT_COLUMNS.get(sort)
    json_field = None
    if column is None:
        json_field = field_for(sort)
        if json_field is None or json_field in ("filename", "id", "profile", "encoding"):
            raise UsageError(
                ErrorCode.USAGE, f"sort {sort!r}: use {', '.join(SORT_COLUMNS)} or a catalogue field", param="sort"
            )
    db, status = open_index(archive)
    try:
        clauses, params = _where(filters)
        order = f"r.{column}" if column else "json_extract(r.catalogue, ?)"
        if json_field:
            params.append(f"$.{json_field}")
        direction = "DESC" if descending else "ASC"
        # S608: constants and validated column names only; values travel as parameters
        sql = (
            f"SELECT {_COLUMNS} FROM records r {'WHERE ' + ' AND '.join(clauses) if clauses else ''} "  # noqa: S608
            f"ORDER BY {order} IS NULL, {order} {direction}, r.record"
        )
        if json_field:
            params.append(f"$.{json_field}")
        hits = [_hit(row) for row in db.execute(sql, params)]
    finally:
        db.close()
    if filters.fields:
        hits = [h for h in hits if _fields_match(h.record, h.catalogue, filters.fields)]
    return Found(hits=hits, total=len(hits), status=status)


def catalogue_rows(hits: list[Hit]) -> tuple[list[str], list[list[str]]]:
    """``list --format csv``: a catalogue sheet ``ingest-batch`` reads back. ``filename`` is
    ``<record>/<file>``: copy each record's ``files/`` to ``FOLDER/<record>/`` to register it again."""
    from provenance.model.catalogue import CATALOGUE_FIELDS

    header = ["filename", "id", "encoding", *CATALOGUE_FIELDS]
    rows = []
    for hit in hits:
        cells = [f"{hit.record}/{hit.filename}" if hit.filename else "", hit.record, ""]
        for name in CATALOGUE_FIELDS:
            value = hit.catalogue.get(name)
            if name == "copies" and value:
                cells.append("|".join(f"{c['recipient']} ({c.get('count', 1)})" for c in value))
            else:
                cells.append("" if value is None else str(value))
        rows.append(cells)
    return header, rows
