"""A record as a TEI P5 edition (https://tei-c.org/guidelines/p5/), written with xml.etree only.

Header: ``fileDesc`` (``titleStmt`` with a ``respStmt`` per signer and role; ``publicationStmt`` naming
the record and its verification; ``sourceDesc/msDesc`` with ``msIdentifier`` (series, telegram number,
record id), ``msContents``, ``history/origin`` (place, date as written and in ISO form) and
``additional/adminInfo/custodialHist`` with one ``custEvent`` per custody transfer), ``profileDesc`` (the
correspondence and ``langUsage``), ``revisionDesc`` with one ``change`` per signed event (who, when,
what, PREMIS type, event digest). Text: the transcription, paragraph by paragraph with ``lb`` at line
ends; each anchored note is a ``note`` placed where its quote ends, pointing at two ``anchor``s around
the quote (``target``/``targetEnd``, so overlapping quotes stay well-formed); orphaned notes are listed
in ``back``. Record content is untrusted: characters XML 1.0 cannot hold become U+FFFD.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from provenance.manifest_io import event_digest
from provenance.model.events import PREMIS_EVENT_TYPES

if TYPE_CHECKING:
    from provenance.exports.verified import VerifiedSource
    from provenance.model.manifest import Event, Note

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
# XML 1.0 section 2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Russian",
    "zh": "Chinese",
    "ko": "Korean",
    "de": "German",
    "fr": "French",
}

ET.register_namespace("", TEI_NS)


def xml_text(value: object) -> str:
    """``value`` as text XML 1.0 can hold: each character it cannot becomes U+FFFD (offsets kept)."""
    return _NOT_XML.sub("\ufffd", str(value))


def _el(parent: ET.Element, tag: str, text: object | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{TEI_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def signer_id(key: str) -> str:
    """An xml:id for a signer's key: ``key-`` + the first 16 hex digits of its id."""
    return f"key-{key.split(':', 1)[1][:16]}"


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag.split("-")[0].lower(), tag)


def tei_bytes(source: VerifiedSource) -> bytes:
    """The TEI document of ``source`` as UTF-8 bytes with an XML declaration."""
    root = ET.Element(f"{{{TEI_NS}}}TEI")
    catalogue = source.manifest.state.catalogue
    root.set(XML_LANG, catalogue.language or "und")
    header = _el(root, "teiHeader")
    _file_desc(header, source)
    _profile_desc(header, source)
    _revision_desc(header, source)
    _text(root, source)
    ET.indent(header, space=" ", level=1)  # the text keeps its own white space
    header.tail = "\n"
    root.text = "\n"
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _file_desc(header: ET.Element, source: VerifiedSource) -> None:
    manifest = source.manifest
    catalogue = manifest.state.catalogue
    file_desc = _el(header, "fileDesc")
    title_stmt = _el(file_desc, "titleStmt")
    _el(title_stmt, "title", catalogue.title or manifest.record)
    if catalogue.author:
        _el(title_stmt, "author", catalogue.author)
    seen: set[tuple[str, str]] = set()
    keys: set[str] = set()
    for event in manifest.events:  # one respStmt per signer and role; the signer's first one carries its id
        if (event.key, event.role.value) in seen:
            continue
        seen.add((event.key, event.role.value))
        resp = _el(title_stmt, "respStmt")
        if event.key not in keys:
            keys.add(event.key)
            resp.set(XML_ID, signer_id(event.key))
        _el(resp, "resp", event.role.value)
        _el(resp, "name", event.agent, ref=f"urn:provenance:key:{event.key}")
    pub = _el(file_desc, "publicationStmt")
    _el(pub, "authority", "provenance: signed, hash-chained record")
    _el(pub, "idno", manifest.record, type="record")
    if source.report.head:
        _el(pub, "idno", source.report.head, type="head-digest")
    availability = _el(pub, "availability")
    _el(availability, "p", catalogue.rights or "Rights not stated in the record.")
    _el(pub, "date", source.verified_at, when=source.verified_at)
    notes = _el(file_desc, "notesStmt")
    state = str(source.state)
    _el(
        notes,
        "note",
        f"Exported from {source.kind} {source.label}, verified {state.upper()} at {source.verified_at}"
        f" (head {source.report.head}). Verify again: {source.reverify}",
        type="verification",
        subtype=state,
    )
    _source_desc(file_desc, source)


def _source_desc(file_desc: ET.Element, source: VerifiedSource) -> None:
    manifest = source.manifest
    catalogue = manifest.state.catalogue
    ms = _el(_el(file_desc, "sourceDesc"), "msDesc")
    ident = _el(ms, "msIdentifier")
    if catalogue.series:
        _el(ident, "collection", f"Series {catalogue.series}", type="series")
    if catalogue.telegram_number:
        _el(ident, "idno", catalogue.telegram_number, type="telegram-number")
    alt = _el(ident, "altIdentifier", type="record")
    _el(alt, "idno", manifest.record, type="record")
    contents = _el(ms, "msContents")
    item = _el(contents, "msItem")
    if catalogue.author:
        _el(item, "author", catalogue.author)
    _el(item, "title", catalogue.title or manifest.record)
    if catalogue.document_type or catalogue.copies or catalogue.issuing_body:
        note = _el(item, "note", type="document")
        parts = []
        if catalogue.document_type:
            parts.append(catalogue.document_type.capitalize())
        if catalogue.issuing_body:
            parts.append(f"issued by {catalogue.issuing_body}")
        if catalogue.copies:
            copies = ", ".join(c.recipient + (f" ({c.count})" if c.count != 1 else "") for c in catalogue.copies)
            parts.append(f"copies: {copies}")
        note.text = xml_text("; ".join(parts))
    if catalogue.language:
        lang = _el(item, "textLang", language_name(catalogue.language), mainLang=catalogue.language)
        if catalogue.original_language:
            lang.text = xml_text(
                f"{language_name(catalogue.language)}, translated from {language_name(catalogue.original_language)}"
            )
    history = _el(ms, "history")
    origin = _el(history, "origin")
    if catalogue.origin:
        _el(origin, "origPlace", catalogue.origin)
    if catalogue.sent or catalogue.sent_as_written:
        date = _el(origin, "origDate", catalogue.sent_as_written or catalogue.sent)
        if catalogue.sent:
            iso = catalogue.sent.rstrip("?~%")
            date.set("when-iso" if "T" in iso else "when", xml_text(iso))
    if not len(origin):
        _el(origin, "p", "Origin not stated in the record.")
    if catalogue.source:
        _el(_el(history, "provenance"), "p", catalogue.source)
    additional = _el(ms, "additional")
    admin = _el(additional, "adminInfo")
    custodial = _el(admin, "custodialHist")
    transfers = [e for e in manifest.events if e.type.value == "custody-transfer"]
    for event in transfers:
        details = event.details
        text = f"Custody transferred from {details.get('from', '?')} to {details.get('to', '?')}"
        if details.get("note"):
            text += f": {details['note']}"
        _el(
            custodial,
            "custEvent",
            f"{text} (signed by {event.agent}, event {event.seq})",
            type="transfer",
            when=event.time,
            resp=f"#{signer_id(event.key)}",
        )
    if not transfers:
        _el(custodial, "p", "No custody transfer recorded.")
    if manifest.state.custodian:
        _el(admin, "note", f"Current custodian: {manifest.state.custodian}", type="custodian")


def _profile_desc(header: ET.Element, source: VerifiedSource) -> None:
    catalogue = source.manifest.state.catalogue
    profile = _el(header, "profileDesc")
    if catalogue.author or catalogue.addressee:
        corresp = _el(profile, "correspDesc")
        sent = _el(corresp, "correspAction", type="sent")
        _el(sent, "persName", catalogue.author or "unknown")
        if catalogue.origin:
            _el(sent, "placeName", catalogue.origin)
        if catalogue.sent:
            iso = catalogue.sent.rstrip("?~%")
            _el(sent, "date", catalogue.sent_as_written or iso, **{"when-iso" if "T" in iso else "when": iso})
        received = _el(corresp, "correspAction", type="received")
        name = catalogue.addressee or "unknown"
        if catalogue.addressee_identified_as:
            name += f" [{catalogue.addressee_identified_as}]"
        _el(received, "persName", name)
    usage = _el(profile, "langUsage")
    tags: list[str] = []
    for tag in (
        catalogue.language,
        catalogue.original_language,
        *(f.language for f in source.manifest.state.files),
    ):
        if tag and tag not in tags:
            tags.append(tag)
    for tag in tags or ["und"]:
        _el(usage, "language", language_name(tag) if tag != "und" else "Undetermined", ident=tag)


def _revision_desc(header: ET.Element, source: VerifiedSource) -> None:
    revisions = _el(header, "revisionDesc")
    for event in reversed(source.manifest.events):  # TEI lists the most recent change first
        change = _el(
            revisions,
            "change",
            when=event.time,
            who=f"#{signer_id(event.key)}",
            n=str(event.seq),
            type=event.type.value,
        )
        premis = PREMIS_EVENT_TYPES[event.type][1]
        change.text = xml_text(
            f"{event.summary} ({event.agent}, {event.role.value}; PREMIS {event.premis_type} "
        )
        ptr = _el(change, "ptr", target=premis)
        ptr.tail = xml_text(f"; event digest {event_digest(event)})")


def _text(root: ET.Element, source: VerifiedSource) -> None:
    text_el = _el(root, "text")
    entry = source.main_text()
    lang = (entry.language if entry else None) or source.manifest.state.catalogue.language
    if lang:
        text_el.set(XML_LANG, lang)
    body = _el(text_el, "body")
    content = source.text_of(entry) if entry is not None else None
    div = _el(body, "div", type="transcription")
    anchored = _anchored(source)
    if content is None:
        _el(div, "p", "No transcription text in this record.")
    else:
        _transcription(div, content, anchored, source)  # CR LF kept: offsets count it
    placed = {n.id for n in anchored}
    orphaned = [n for n in source.manifest.state.notes if n.id not in placed]
    if orphaned:
        back = _el(text_el, "back")
        listing = _el(back, "div", type="orphaned-notes")
        _el(listing, "head", "Notes whose quote no longer occurs in the text")
        for note in orphaned:
            element = _note(listing, note, source)
            element.set("subtype", "orphaned")


def _anchored(source: VerifiedSource) -> list[Note]:
    """The notes placed in the text: anchored, on the transcription, their quote where their position says."""
    entry = source.main_text()
    text = source.text_of(entry) if entry is not None else None
    if entry is None or text is None:
        return []
    text = xml_text(text)
    placed = []
    for note in source.manifest.state.notes:
        pos = note.target.position
        if note.status != "anchored" or note.target.source != entry.path or pos is None:
            continue
        if text[pos.start : pos.end] == xml_text(note.target.quote.exact):
            placed.append(note)
    return placed


def _note(parent: ET.Element, note: Note, source: VerifiedSource) -> ET.Element:
    event = _event(source, note.event)
    element = _el(parent, "note", type=note.kind, n=note.id)
    if event is not None:
        element.set("resp", f"#{signer_id(event.key)}")
    if note.status == "orphaned":
        quote = _el(element, "quote", note.target.quote.exact)
        quote.tail = xml_text(f" {note.text}")
    else:
        element.text = xml_text(note.text)
    return element


def _event(source: VerifiedSource, seq: int) -> Event | None:
    events = source.manifest.events
    return events[seq - 1] if 1 <= seq <= len(events) else None


def _transcription(div: ET.Element, text: str, notes: list[Note], source: VerifiedSource) -> None:
    """Paragraphs (split at blank lines) with ``lb`` at line ends, anchors around each quote, notes after."""
    text = xml_text(text)
    spans = [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text)] or [(0, len(text))]
    ends = [end for _, end in spans]
    # offset → notes ending there, notes starting there; an offset between two paragraphs goes to the end
    # of the one before (before the first: to the start of the first)
    points: dict[tuple[int, int], tuple[list[Note], list[Note]]] = {}
    for note in notes:
        pos = note.target.position
        if pos is None or text[pos.start : pos.end] != xml_text(note.target.quote.exact):
            continue
        for offset, which in ((pos.start, 1), (pos.end, 0)):
            placed = _place(spans, ends, offset)
            points.setdefault(placed, ([], []))[which].append(note)
    by_paragraph: dict[int, set[int]] = {}
    for index, offset in points:
        by_paragraph.setdefault(index, set()).add(offset)
    for number, (start, end) in enumerate(spans):
        p = _el(div, "p")
        last: ET.Element | None = None
        cursor = start
        cuts = sorted(
            by_paragraph.get(number, set()) | {start + m.start() for m in _NEWLINE.finditer(text[start:end])}
        )
        for cut in cuts:
            last = _append_text(p, last, text[cursor:cut])
            cursor = cut
            ending, starting = points.get((number, cut), ([], []))
            for note in ending:  # every end anchor first: one quote's note never sits inside another's range
                last = _el(p, "anchor", **{XML_ID: f"{note.id}-end"})
            for note in ending:
                last = _note(p, note, source)
                last.set("target", f"#{note.id}-start")
                last.set("targetEnd", f"#{note.id}-end")
            for note in starting:
                last = _el(p, "anchor", **{XML_ID: f"{note.id}-start"})
            if cut < end and text[cut] == "\n":
                last = _append_text(p, _el(p, "lb"), "\n")
                cursor = cut + 1
        _append_text(p, last, text[cursor:end])


_PARAGRAPH = re.compile(r"\S[^\n]*(?:\n[ \t]*\S[^\n]*)*")
_NEWLINE = re.compile("\n")


def _place(spans: list[tuple[int, int]], ends: list[int], offset: int) -> tuple[int, int]:
    """(paragraph index, offset inside it) for a point of the text (``ends``: each paragraph's end)."""
    import bisect

    index = bisect.bisect_left(ends, offset)  # the first paragraph ending at or after the point
    if index == len(spans):
        return len(spans) - 1, spans[-1][1]
    start = spans[index][0]
    if offset >= start or index == 0:
        return index, max(offset, start)
    return index - 1, spans[index - 1][1]  # in the blank lines before paragraph ``index``


def _append_text(p: ET.Element, last: ET.Element | None, chunk: str) -> ET.Element | None:
    if not chunk:
        return last
    if last is None:
        p.text = (p.text or "") + chunk
    else:
        last.tail = (last.tail or "") + chunk
    return last
