"""A record's notes as a W3C Web Annotation collection (JSON-LD), and reading one back.

Web Annotation Data Model (https://www.w3.org/TR/annotation-model/): an ``AnnotationCollection`` whose
first ``AnnotationPage`` holds one ``Annotation`` per note. Each has a ``TextualBody`` (the note, its
language), a ``SpecificResource`` target naming the record's file with a ``TextQuoteSelector`` (exact,
prefix, suffix) and a ``TextPositionSelector`` (code points, end exclusive), ``creator`` = the signer of
the event that made the note (name, key id, role) and ``created`` = that event's time. What the model has
no term for (note kind, orphaned status, event number and digest, the file's SHA-256) is in a small
vocabulary of ours under ``urn:provenance:terms:``, declared in the context.

:func:`read_collection` parses such a document strictly and bounded (hostile input) into
:class:`IncomingNote` values; :mod:`provenance.note_import` signs them into a record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast, get_args

from provenance.errors import ErrorCode, InputError
from provenance.manifest_io import event_digest
from provenance.model.manifest import NoteKind

if TYPE_CHECKING:
    from provenance.exports.verified import VerifiedSource

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
TERMS = "urn:provenance:terms:"
LOCAL_CONTEXT = {"pv": TERMS}
MAX_COLLECTION_BYTES = 16 << 20
MAX_ANNOTATIONS = 10_000
NOTE_KINDS: tuple[str, ...] = get_args(NoteKind)
# the W3C motivation that best says what each kind of note does (Web Annotation Vocabulary, section 3.3.5)
MOTIVATIONS = {
    "editorial-insertion": "editing",
    "translation": "commenting",
    "editorial": "editing",
    "comment": "commenting",
    "correction": "editing",
}


def record_iri(record: str) -> str:
    return f"urn:provenance:record:{record}"


def collection(source: VerifiedSource) -> dict[str, Any]:
    """The notes of ``source`` (anchored and orphaned) as an AnnotationCollection."""
    manifest = source.manifest
    base = record_iri(manifest.record)
    files = {f.path: f for f in manifest.state.files}
    items = []
    for note in manifest.state.notes:
        event = manifest.events[note.event - 1] if 1 <= note.event <= len(manifest.events) else None
        selectors: list[dict[str, Any]] = [
            {
                "type": "TextQuoteSelector",
                "exact": note.target.quote.exact,
                "prefix": note.target.quote.prefix,
                "suffix": note.target.quote.suffix,
            }
        ]
        if note.target.position is not None:
            selectors.append(
                {
                    "type": "TextPositionSelector",
                    "start": note.target.position.start,
                    "end": note.target.position.end,
                }
            )
        entry = files.get(note.target.source)
        target: dict[str, Any] = {
            "type": "SpecificResource",
            "source": f"{base}/files/{note.target.source}",
            "selector": selectors,
        }
        if entry is not None:
            target["pv:sha256"] = entry.sha256
        body: dict[str, Any] = {"type": "TextualBody", "value": note.text, "format": "text/plain"}
        language = manifest.state.catalogue.language
        if language:
            body["language"] = language
        item: dict[str, Any] = {
            "id": f"{base}/notes/{note.id}",
            "type": "Annotation",
            "motivation": MOTIVATIONS.get(note.kind, "commenting"),
            "body": body,
            "target": target,
            "pv:noteKind": note.kind,
            "pv:status": note.status,
            "pv:event": note.event,
        }
        if event is not None:
            item["created"] = event.time
            item["creator"] = {
                "id": f"urn:provenance:key:{event.key}",
                "type": "Person",
                "name": event.agent,
                "pv:role": event.role.value,
            }
            item["pv:eventDigest"] = event_digest(event)
            imported = event.details.get("imported")
            if isinstance(imported, dict):
                item["pv:importedFrom"] = imported
        items.append(item)
    return {
        "@context": [ANNO_CONTEXT, LOCAL_CONTEXT],
        "id": f"{base}/notes",
        "type": "AnnotationCollection",
        "label": f"Notes on {manifest.state.catalogue.title or manifest.record}",
        "total": len(items),
        "pv:head": source.report.head,
        "pv:state": str(source.state),
        "first": {"id": f"{base}/notes/page1", "type": "AnnotationPage", "startIndex": 0, "items": items},
    }


def collection_bytes(source: VerifiedSource) -> bytes:
    """The collection as pretty UTF-8 JSON, keys in a stable order, one trailing newline."""
    import json

    return (json.dumps(collection(source), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True)
class IncomingNote:
    """One annotation read from a collection: what a note needs, and where it came from."""

    index: int
    id: str | None
    text: str
    kind: NoteKind
    exact: str
    prefix: str
    suffix: str
    start: int | None
    end: int | None
    file: str | None
    status: str
    creator: dict[str, Any] | None
    created: str | None


def _bad(index: int | None, message: str) -> InputError:
    where = f"annotation {index + 1}: " if index is not None else ""
    return InputError(ErrorCode.ANNOTATIONS_INVALID, f"{where}{message}")


def _string(value: object, index: int, name: str, *, required: bool = True, limit: int = 65536) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value) or len(value) > limit:
        raise _bad(index, f"{name} must be a non-empty string of at most {limit} characters")
    return value


def _items(document: object) -> list[object]:
    if not isinstance(document, dict):
        raise _bad(None, "not a JSON object")
    kind = document.get("type")
    if kind == "Annotation":
        return [document]
    if kind == "AnnotationPage":
        found = document.get("items")
    elif kind == "AnnotationCollection":
        first = document.get("first")
        found = first.get("items") if isinstance(first, dict) else document.get("items")
    else:
        raise _bad(None, f"type {kind!r}: expected an AnnotationCollection, AnnotationPage or Annotation")
    if not isinstance(found, list):
        raise _bad(None, "no list of items (only a first page carried inline is read)")
    if len(found) > MAX_ANNOTATIONS:
        raise _bad(None, f"{len(found)} annotations: at most {MAX_ANNOTATIONS} are read at once")
    return found


def _selectors(target: object, index: int) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    if isinstance(target, list):
        target = target[0] if len(target) == 1 else None
    if not isinstance(target, dict):
        raise _bad(index, "target must be one SpecificResource with selectors")
    selector = target.get("selector")
    selectors = selector if isinstance(selector, list) else [selector]
    quote = next((s for s in selectors if isinstance(s, dict) and s.get("type") == "TextQuoteSelector"), None)
    position = next(
        (s for s in selectors if isinstance(s, dict) and s.get("type") == "TextPositionSelector"), None
    )
    if quote is None:
        raise _bad(index, "the target has no TextQuoteSelector")
    source = target.get("source")
    file = None
    if isinstance(source, str) and "/files/" in source:
        file = source.split("/files/", 1)[1]
    return quote, position, file


def _body_text(item: dict[str, Any], index: int) -> str:
    if "bodyValue" in item:
        return _string(item["bodyValue"], index, "bodyValue")
    body = item.get("body")
    if isinstance(body, list):
        body = body[0] if len(body) == 1 else None
    if not isinstance(body, dict) or body.get("type", "TextualBody") != "TextualBody":
        raise _bad(index, "the body must be one TextualBody")
    return _string(body.get("value"), index, "body value")


def _offset(value: object, index: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**53 - 1:
        raise _bad(index, f"TextPositionSelector {name} must be a non-negative integer")
    return value


def read_collection(data: bytes) -> list[IncomingNote]:
    """Parse a Web Annotation collection (or page, or one annotation) strictly.

    Raises ``InputError(annotations.invalid)`` naming the annotation and what is wrong with it.
    """
    from provenance.canonical import StrictJSONError, loads_strict

    try:
        document = loads_strict(data, max_bytes=MAX_COLLECTION_BYTES)
    except StrictJSONError as exc:
        raise _bad(None, f"not strict JSON: {exc}") from exc
    notes = []
    for index, raw in enumerate(_items(document)):
        if not isinstance(raw, dict) or raw.get("type") != "Annotation":
            raise _bad(index, "not an Annotation")
        item = cast("dict[str, Any]", raw)
        quote, position, file = _selectors(item.get("target"), index)
        kind = item.get("pv:noteKind")
        if kind is None:
            kind = "correction" if item.get("motivation") == "editing" else "comment"
        if kind not in NOTE_KINDS:
            raise _bad(index, f"note kind {kind!r}: expected one of {', '.join(NOTE_KINDS)}")
        status = item.get("pv:status", "anchored")
        if status not in ("anchored", "orphaned"):
            raise _bad(index, f"status {status!r}: expected anchored or orphaned")
        start = end = None
        if position is not None:
            start = _offset(position.get("start"), index, "start")
            end = _offset(position.get("end"), index, "end")
            if end < start:
                raise _bad(index, "TextPositionSelector end is before its start")
        creator = item.get("creator")
        created = item.get("created")
        notes.append(
            IncomingNote(
                index=index,
                id=item["id"] if isinstance(item.get("id"), str) else None,
                text=_body_text(item, index),
                kind=cast("NoteKind", kind),
                exact=_string(quote.get("exact"), index, "TextQuoteSelector exact"),
                prefix=_string(quote.get("prefix"), index, "prefix", required=False, limit=1024),
                suffix=_string(quote.get("suffix"), index, "suffix", required=False, limit=1024),
                start=start,
                end=end,
                file=file,
                status=status,
                creator=creator if isinstance(creator, dict) else None,
                created=created if isinstance(created, str) else None,
            )
        )
    return notes
