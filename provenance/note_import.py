"""``note RECORD --from-annotations FILE``: a Web Annotation collection signed into a record, note by note.

Every annotation is checked against the record before anything is signed (all or nothing for bad input);
then each becomes one signed annotation event, in the collection's order. A note is placed by its
TextPositionSelector when the text there is its quote, else found again by its TextQuoteSelector (the best
prefix/suffix match, then the nearest to its old place); a note whose quote does not occur is refused,
unless the collection marks it ``orphaned``: it is then kept orphaned with its selectors, as it was. A note
the record already holds (same kind, text, quote and place) is skipped, so importing twice adds nothing.
The annotation's id, creator and creation time are kept in the event's details (``imported``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from provenance.errors import ErrorCode, InputError
from provenance.history import Signer, append_event
from provenance.model.events import EventType
from provenance.model.manifest import Note, NoteTarget, State, TextPositionSelector, TextQuoteSelector
from provenance.notes import main_text, make_target, next_note_id, reanchor, record_text

if TYPE_CHECKING:
    from provenance.archive import Archive, StagedRecord
    from provenance.exports.annotations import IncomingNote
    from provenance.model.manifest import FileEntry, Manifest


@dataclass
class ImportResult:
    record: str
    added: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # 1-based positions of annotations already present
    orphaned: list[str] = field(default_factory=list)
    events: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "added": self.added,
            "skipped": self.skipped,
            "orphaned": self.orphaned,
            "events": self.events,
        }


def _file_for(state: State, incoming: IncomingNote) -> FileEntry:
    if incoming.file is not None:
        entry = state.file(incoming.file)
        if entry is not None:
            return entry
    return main_text(state)


def _creator(incoming: IncomingNote) -> dict[str, Any]:
    """What the event keeps of where the annotation came from: short strings only."""
    kept: dict[str, Any] = {}
    if incoming.id:
        kept["annotation"] = incoming.id[:4096]
    if incoming.created:
        kept["created"] = incoming.created[:64]
    if incoming.creator:
        creator = {
            k: v[:4096]
            for k, v in incoming.creator.items()
            if k in ("id", "name", "pv:role") and isinstance(v, str)
        }
        if creator:
            kept["creator"] = creator
    return kept


def plan_note(state: State, incoming: IncomingNote, text: str, entry: FileEntry, event: int) -> Note | None:
    """The note ``incoming`` becomes in ``state`` (None: the record already holds it).

    Raises ``InputError(note.quote-not-found)`` when its quote does not occur and it is not marked orphaned.
    """
    if (
        incoming.start is not None
        and incoming.end is not None
        and text[incoming.start : incoming.end] == incoming.exact
    ):
        target = make_target(text, entry.path, incoming.start, incoming.end)
        status = "anchored"
    else:
        given = NoteTarget(
            source=entry.path,
            quote=TextQuoteSelector(exact=incoming.exact, prefix=incoming.prefix, suffix=incoming.suffix),
            position=(
                TextPositionSelector(start=incoming.start, end=incoming.end)
                if incoming.start is not None and incoming.end is not None
                else None
            ),
        )
        provisional = Note(id="note-1", kind=incoming.kind, text=incoming.text, target=given, event=event)
        placed = reanchor(provisional, text, entry.path)
        if placed.status == "orphaned" and incoming.status != "orphaned":
            raise InputError(
                ErrorCode.NOTE_QUOTE_NOT_FOUND,
                f"annotation {incoming.index + 1}: {incoming.exact[:80]!r} does not occur in {entry.path}",
            )
        target, status = placed.target, placed.status
    for note in state.notes:
        same_place = (note.target.position or None) == target.position
        if (note.kind, note.text, note.target.quote.exact, note.status) == (
            incoming.kind,
            incoming.text,
            incoming.exact,
            status,
        ) and same_place:
            return None
    return Note(
        id=next_note_id(state.notes),
        kind=incoming.kind,
        text=incoming.text,
        target=target,
        status=status,
        event=event,
    )


def import_annotations(
    archive: Archive, record_id: str, signer: Signer, notes: list[IncomingNote], *, now: datetime
) -> ImportResult:
    """Sign each of ``notes`` into the record as one annotation event (skipping those already there).

    Raises ``InputError`` (note.quote-not-found, input.not-utf8) before anything is signed when an
    annotation cannot be placed; ``ProvenanceError`` from :func:`append_event` as any writer does.
    """
    from provenance.manifest_io import read_manifest

    record_dir = archive.require_record(record_id)
    manifest = read_manifest(record_dir)
    # all or nothing for bad input: every annotation is placed in the current text before the first event
    texts: dict[str, str] = {}
    for incoming in notes:
        entry = _file_for(manifest.state, incoming)
        if entry.path not in texts:
            texts[entry.path] = record_text(record_dir, entry)
        plan_note(manifest.state, incoming, texts[entry.path], entry, len(manifest.events) + 1)
    result = ImportResult(record=record_id)
    for incoming in notes:

        def mutate(
            stage: StagedRecord, current: Manifest, incoming: IncomingNote = incoming
        ) -> tuple[State, str, dict[str, Any]]:
            state = current.state
            entry = _file_for(state, incoming)
            note = plan_note(state, incoming, record_text(stage.path, entry), entry, len(current.events) + 1)
            if note is None:
                raise _AlreadyThereError
            details: dict[str, Any] = {"note": note.id, "kind": note.kind, "file": entry.path}
            if note.target.position is not None:
                details.update(start=note.target.position.start, end=note.target.position.end)
            if note.status == "orphaned":
                details["status"] = "orphaned"
            imported = _creator(incoming)
            if imported:
                details["imported"] = imported
            summary = f"{note.kind.capitalize()} note on {incoming.exact[:60]!r} (imported annotation)"
            return state.model_copy(update={"notes": [*state.notes, note]}), summary, details

        try:
            updated = append_event(archive, record_id, EventType.ANNOTATION, signer, mutate, now=now)
        except _AlreadyThereError:
            result.skipped.append(incoming.index + 1)
            continue
        added = updated.state.notes[-1]
        result.added.append(added.id)
        result.events.append(updated.events[-1].seq)
        if added.status == "orphaned":
            result.orphaned.append(added.id)
    return result


class _AlreadyThereError(Exception):
    """Raised inside a mutation to abandon it: the record holds the note already."""
