"""One self-contained HTML page for readers of a record (``provenance page``).

The page loads nothing: its style is inline (allowed by a hash in its Content-Security-Policy, which also
forbids every fetch, script, font and frame), it has no script, and note markers are buttons that open a
popover (HTML popover attribute: no script needed; where a browser lacks it the notes stay readable in
the list below the text). It shows the catalogue card, the transcription with each anchored note marked
at its quote, orphaned notes apart, the timeline of signed events, the chain of custody, each revision as
a word-level diff, the files with their languages, and the verification made when the page was written,
with the one command that verifies the record again. A page of a record that is not trusted (written
with ``--force``) opens with a banner saying so.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from provenance.exports.page_style import CSS
from provenance.exports.page_text import clean, esc, transcription_html, word_diff_html
from provenance.exports.tei import language_name
from provenance.model.events import PREMIS_EVENT_TYPES

if TYPE_CHECKING:
    from provenance.exports.verified import VerifiedSource
    from provenance.model.manifest import Event, FileEntry, Note

UI_LANG = "en"
MAX_SHOWN_TEXT = 512 << 10  # a further text file longer than this is listed, not shown


def page_bytes(source: VerifiedSource) -> bytes:
    """The page as UTF-8 bytes."""
    return page_html(source).encode("utf-8")


def _lang(tag: str | None) -> str:
    """A ``lang`` attribute for content in ``tag`` (none when it is the page's own language)."""
    if not tag or tag == UI_LANG:
        return ""
    return f' lang="{esc(tag)}"'


def _time(value: str) -> str:
    shown = value.replace("T", " ").replace("Z", " UTC")
    return f'<time datetime="{esc(value)}">{esc(shown)}</time>'


def page_html(source: VerifiedSource) -> str:
    manifest = source.manifest
    catalogue = manifest.state.catalogue
    title = catalogue.title or manifest.record
    style_hash = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")
    csp = (
        "default-src 'none'; style-src 'sha256-" + style_hash + "'; img-src data:; "
        "base-uri 'none'; form-action 'none'"
    )
    content_lang = catalogue.language
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{UI_LANG}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f'<meta name="generator" content="provenance page; record {esc(manifest.record)}; head {esc(source.report.head or "")}">',
        f"<title>{esc(title)} — provenance</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        _banner(source),
        '<header class="top">',
        f'<p class="kicker">{esc(catalogue.document_type or "record")} · {esc(manifest.record)}</p>',
        f"<h1{_lang(content_lang)}>{esc(title)}</h1>",
        f'<p>Verification when this page was written: <span class="state {source.state}">{_state_words(source)}</span> '
        f'<a href="#verification">details</a></p>',
        "</header>",
        '<main class="layout">',
        '<div class="side">',
        _catalogue(source),
        _verification(source),
        "</div>",
        _transcription(source),
        _timeline(source),
        _custody(source),
        _revisions(source),
        _files(source),
        "</main>",
        "<footer><p>Written by <code>provenance page</code> from the "
        + ("verified content of the bundle " if source.kind == "bundle" else "verified record ")
        + f"<code>{esc(source.label)}</code> at {_time(source.verified_at)}. This page loads nothing from the "
        "network and needs no script.</p></footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(p for p in parts if p)


def _state_words(source: VerifiedSource) -> str:
    return {
        "trusted": "TRUSTED — every byte intact, every event signed by a trusted key",
        "valid": "VALID BUT NOT TRUSTED — intact and signed, but a signer is not trusted",
        "invalid": "INVALID — something was altered, is missing, or is not what it claims to be",
    }[str(source.state)]


def _banner(source: VerifiedSource) -> str:
    if source.trusted:
        return ""
    first = source.report.problems[0] if source.report.problems else None
    why = f" First problem: {esc(first.code)} — {esc(first.message)}" if first is not None else ""
    return (
        f'<div class="banner {source.state}" role="alert"><p>Warning: this record is '
        f"{esc(str(source.state).upper())}. It did not verify as trusted when this page was written; do not rely "
        f"on what follows.{why}</p></div>"
    )


def _catalogue(source: VerifiedSource) -> str:
    c = source.manifest.state.catalogue
    lang = _lang(c.language)
    rows: list[tuple[str, str]] = []

    def add(label: str, value: str | None, *, raw: str | None = None) -> None:
        if value:
            rows.append((label, raw if raw is not None else f"<span{lang}>{esc(value)}</span>"))

    add("Number", c.telegram_number)
    add("Series", c.series)
    add("Document", c.document_type)
    add("Issued by", c.issuing_body)
    if c.copies:
        items = "".join(
            f"<li><span{lang}>{esc(copy.recipient)}</span>"
            + ("" if copy.count == 1 else f" ({copy.count} copies)")  # no count shown where none is given
            + "</li>"
            for copy in c.copies
        )
        rows.append(("Copies", f'<ul class="copies">{items}</ul>'))
    add("Origin", c.origin)
    if c.sent or c.sent_as_written:
        written = f"<span{lang}>{esc(c.sent_as_written)}</span> (as written)" if c.sent_as_written else ""
        iso = (
            f'<time datetime="{esc(c.sent.rstrip("?~%"))}">{esc(c.sent)}</time> (ISO 8601)' if c.sent else ""
        )
        rows.append(("Sent", "; ".join(p for p in (written, iso) if p)))
    if c.addressee:
        ident = (
            f" — identified as <span{lang}>{esc(c.addressee_identified_as)}</span>"
            if c.addressee_identified_as
            else ""
        )
        rows.append(("Addressee", f"<span{lang}>{esc(c.addressee)}</span>{ident}"))
    add("Author", c.author)
    if c.language:
        original = (
            f", translated from {esc(language_name(c.original_language))}" if c.original_language else ""
        )
        rows.append(("Language", f"{esc(language_name(c.language))}{original}"))
    add("Source", c.source)
    add("Rights", c.rights or "not stated in the record")
    if source.manifest.state.custodian:
        add("Custodian", source.manifest.state.custodian)
    cells = "".join(f"<dt>{esc(label)}</dt><dd>{value}</dd>" for label, value in rows)
    return f'<section aria-labelledby="h-card"><h2 id="h-card">Catalogue card</h2><dl class="card">{cells}</dl></section>'


def _verification(source: VerifiedSource) -> str:
    report = source.report
    checks = "".join(
        f"<li>{'✓' if c.ok else '✗'} {esc(c.name)}{(' — ' + esc(c.detail)) if c.detail else ''}</li>"
        for c in report.checks
    )
    problems = ""
    if report.problems:
        items = "".join(f"<li><code>{esc(p.code)}</code> {esc(p.message)}</li>" for p in report.problems[:50])
        problems = f"<h3>Problems found</h3><ul>{items}</ul>"
    checkpoint = (
        f"<h3>Transparency log checkpoint</h3><p class=\"muted\">As the {'bundle' if source.kind == 'bundle' else 'archive'} "
        f"carries it (a signed note; <code>provenance verify</code> checks it):</p><pre>{esc(source.checkpoint)}</pre>"
        if source.checkpoint
        else '<p class="muted">No transparency-log checkpoint was at hand.</p>'
    )
    origin = (
        f"Made only from the verified content of the bundle <code>{esc(source.label)}</code>."
        if source.kind == "bundle"
        else f"Made from the record <code>{esc(source.label)}</code> as verified."
    )
    return (
        '<section id="verification" aria-labelledby="h-verification"><h2 id="h-verification">Verification</h2>'
        f'<p><span class="state {source.state}">{esc(str(source.state).upper())}</span> at {_time(source.verified_at)}. {origin}</p>'
        f'<dl class="card"><dt>Head digest</dt><dd><code>{esc(report.head or "none")}</code></dd>'
        f"<dt>Events</dt><dd>{len(source.manifest.events)}</dd></dl>"
        f"{checkpoint}"
        f"<p>Verify it yourself (compare the head digest):</p><pre><code>{esc(source.reverify)}</code></pre>"
        f'<details><summary>Checks made</summary><ul class="checks">{checks}</ul></details>{problems}</section>'
    )


def _popover(note: Note, number: int, source: VerifiedSource, text_lang: str | None) -> str:
    event = _event(source, note.event)
    who = _who(event)
    return (
        f'<div popover id="pop-{esc(note.id)}" class="note-pop" role="dialog" aria-labelledby="pop-{esc(note.id)}-h">'
        f'<h3 id="pop-{esc(note.id)}-h">Note {number} · {esc(note.kind)}</h3>'
        f"<p>On <q{_lang(text_lang)}>{esc(note.target.quote.exact)}</q>:</p>"
        f"<p{_lang(source.manifest.state.catalogue.language)}>{esc(note.text)}</p>"
        f'<p class="who">{who}</p>'
        f'<button type="button" class="close" popovertarget="pop-{esc(note.id)}" popovertargetaction="hide">Close</button>'
        "</div>"
    )


def _event(source: VerifiedSource, seq: int) -> Event | None:
    events = source.manifest.events
    return events[seq - 1] if 1 <= seq <= len(events) else None


def _who(event: Event | None) -> str:
    if event is None:
        return ""
    return (
        f"Signed by {esc(event.agent)} ({esc(event.role.value)}) at {_time(event.time)}, event {event.seq}, "
        f"key <code>{esc(event.key)}</code>"
    )


def _transcription(source: VerifiedSource) -> str:
    entry = source.main_text()
    text = source.text_of(entry) if entry is not None else None
    notes = source.manifest.state.notes
    if entry is None or text is None:
        return (
            '<section aria-labelledby="h-text"><h2 id="h-text">Transcription</h2>'
            '<p class="muted">This record holds no transcription text.</p></section>'
        )
    text_lang = entry.language or source.manifest.state.catalogue.language
    anchored = [n for n in notes if n.status == "anchored" and n.target.source == entry.path]
    numbers = {n.id: i for i, n in enumerate(anchored, start=1)}

    def marker(note: Note, number: int) -> str:
        return (
            f'<button type="button" class="marker" popovertarget="pop-{esc(note.id)}" '
            f'aria-label="Note {number}: {esc(note.kind)} on {esc(note.target.quote.exact[:80])}" '
            f'id="ref-{esc(note.id)}">{number}</button>'
        )

    body = transcription_html(text, anchored, marker)
    pops = "".join(_popover(n, numbers[n.id], source, text_lang) for n in anchored)
    listed = "".join(_note_item(n, numbers[n.id], source, text_lang) for n in anchored)
    placed = {n.id for n in anchored}
    orphaned = [n for n in notes if n.id not in placed]
    orphan_html = ""
    if orphaned:
        items = "".join(_note_item(n, None, source, text_lang) for n in orphaned)
        orphan_html = (
            '<h3 id="h-orphaned">Notes whose quote no longer occurs</h3>'
            '<p class="muted">Kept as they were signed, never dropped or moved: the text they were written on was '
            "revised.</p>"
            f'<ol class="notes orphaned" aria-labelledby="h-orphaned">{items}</ol>'
        )
    return (
        '<section aria-labelledby="h-text"><h2 id="h-text">Transcription</h2>'
        f'<p class="muted">File <code>{esc(entry.path)}</code>, {esc(language_name(text_lang) if text_lang else "language not stated")}; '
        f"{len(anchored)} note(s) marked at their quotes: choose a number to read the note.</p>"
        f'<div class="text"{_lang(text_lang)}>{body}</div>{pops}'
        f'<h3 id="h-notes">Notes</h3><ol class="notes" aria-labelledby="h-notes">{listed}</ol>{orphan_html}</section>'
    )


def _note_item(note: Note, number: int | None, source: VerifiedSource, text_lang: str | None) -> str:
    pos = note.target.position
    where = f"characters {pos.start}–{pos.end}" if pos is not None else "no position"
    status = " · orphaned" if note.status == "orphaned" else ""
    value = f' value="{number}"' if number is not None else ""
    return (
        f'<li id="{esc(note.id)}"{value}><strong>{esc(note.kind)}</strong>{status} on '
        f"<q{_lang(text_lang)}>{esc(note.target.quote.exact)}</q> ({where} of <code>{esc(note.target.source)}</code>): "
        f"<span{_lang(source.manifest.state.catalogue.language)}>{esc(note.text)}</span>"
        f'<br><span class="who">{_who(_event(source, note.event))}</span></li>'
    )


def _timeline(source: VerifiedSource) -> str:
    items = []
    for event in source.manifest.events:
        uri = PREMIS_EVENT_TYPES[event.type][1]
        items.append(
            f'<li id="event-{event.seq}"><strong>{event.seq}. {esc(event.type.value)}</strong> '
            f"(PREMIS: {esc(event.premis_type)}, <code>{esc(uri)}</code>) — {_time(event.time)}<br>"
            f"{esc(event.agent)}, {esc(event.role.value)}, key <code>{esc(event.key)}</code><br>"
            f"{esc(event.summary)}</li>"
        )
    return (
        '<section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline of signed events</h2>'
        f'<ol class="timeline">{"".join(items)}</ol></section>'
    )


def _custody(source: VerifiedSource) -> str:
    transfers = [e for e in source.manifest.events if e.type.value == "custody-transfer"]
    if not transfers:
        chain = '<p class="muted">No custody transfer is recorded.</p>'
    else:
        items = "".join(
            f"<li>{esc(e.details.get('from', '?'))} → {esc(e.details.get('to', '?'))} — {_time(e.time)}, "
            f"signed by {esc(e.agent)} ({esc(e.role.value)})"
            + (f": {esc(e.details['note'])}" if e.details.get("note") else "")
            + "</li>"
            for e in transfers
        )
        chain = f"<ol>{items}</ol>"
    current = source.manifest.state.custodian
    now = f"<p>Current custodian: <strong>{esc(current)}</strong></p>" if current else ""
    return f'<section class="custody" aria-labelledby="h-custody"><h2 id="h-custody">Chain of custody</h2>{chain}{now}</section>'


def _revisions(source: VerifiedSource) -> str:
    revisions = [e for e in source.manifest.events if e.type.value == "revision"]
    if not revisions:
        return (
            '<section aria-labelledby="h-revisions"><h2 id="h-revisions">Revisions</h2>'
            '<p class="muted">The text was never revised.</p></section>'
        )
    blocks = []
    files = {f.path: f for f in source.manifest.state.files}
    for event in revisions:
        path = str(event.details.get("file", ""))
        before, after = event.details.get("previous_sha256"), event.details.get("sha256")
        entry = files.get(path)
        old = _version_text(source, entry, before)
        new = _version_text(source, entry, after)
        if old is None or new is None:
            diff = (
                '<p class="muted">The earlier version is not part of this '
                + (
                    "bundle (export it with --history to show the change)."
                    if source.kind == "bundle"
                    else "record."
                )
                + "</p>"
            )
        else:
            body, count = word_diff_html(old, new)
            lang = _lang((entry.language if entry else None) or source.manifest.state.catalogue.language)
            diff = (
                f'<p class="muted">{count} change(s), word by word:</p><div class="diff"{lang}>{body}</div>'
            )
        blocks.append(
            f"<h3>Event {event.seq}: <code>{esc(path)}</code> revised</h3>"
            f"<p>{_time(event.time)} by {esc(event.agent)} ({esc(event.role.value)}). Reason: {esc(event.details.get('reason', ''))}</p>"
            f"{diff}"
        )
    return f'<section aria-labelledby="h-revisions"><h2 id="h-revisions">Revisions</h2>{"".join(blocks)}</section>'


def _version_text(source: VerifiedSource, entry: FileEntry | None, sha256: object) -> str | None:
    if not isinstance(sha256, str) or entry is None:
        return None
    return source.text_of(entry, sha256)


def _files(source: VerifiedSource) -> str:
    state = source.manifest.state
    translations = {
        str(e.details.get("file")): e for e in source.manifest.events if e.type.value == "translation"
    }
    rows = []
    shown = []
    for entry in state.files:
        lang = entry.language or (state.catalogue.language if entry.role == "transcription" else None)
        extra = ""
        event = translations.get(entry.path)
        if event is not None:
            extra = (
                f" (translation of <code>{esc(event.details.get('source_file', '?'))}</code>, "
                f"{esc(event.details.get('source_language', '?'))} → {esc(event.details.get('target_language', '?'))})"
            )
        rows.append(
            f"<tr><td><code>{esc(entry.path)}</code>{extra}</td><td>{esc(entry.role)}</td>"
            f"<td>{esc(language_name(lang) + ' (' + lang + ')') if lang else '—'}</td>"
            f"<td>{entry.size:,} bytes</td><td><code>{esc(entry.sha256)}</code></td></tr>"
        )
        if (
            entry.role != "transcription"
            and entry.media_type.startswith("text/")
            and entry.size <= MAX_SHOWN_TEXT
        ):
            text = source.text_of(entry)
            if text is not None:
                shown.append(
                    f"<details><summary>Read <code>{esc(entry.path)}</code>"
                    f"{(' (' + esc(language_name(lang)) + ')') if lang else ''}</summary>"
                    f'<div class="text"{_lang(lang)}>{esc(text)}</div></details>'
                )
    table = (
        '<div class="scroll"><table><caption class="visually-hidden">Files of the record</caption>'
        '<thead><tr><th scope="col">File</th><th scope="col">Role</th><th scope="col">Language</th>'
        '<th scope="col">Size</th><th scope="col">SHA-256</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return (
        '<section aria-labelledby="h-files"><h2 id="h-files">Files, attachments and translations</h2>'
        f"{table}{''.join(shown)}</section>"
    )


__all__ = ["clean", "page_bytes", "page_html"]
