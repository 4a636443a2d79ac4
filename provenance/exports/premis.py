"""A record's history as PREMIS 3.0 XML (Library of Congress, ``http://www.loc.gov/premis/v3``).

* one ``object`` of type ``intellectualEntity`` for the record, and one of type ``file`` per file version
  (a path with the exact bytes it held at some version): SHA-256 fixity, size, format (the media type),
  original name, a structural relationship to the record, and the events that made or used it;
* one ``event`` per signed event: a UUID identifier derived from the event's digest (the same every
  export), the eventType from the Library of Congress vocabulary with its URI (or our local term under
  ``provenance:eventType/`` where PREMIS has none), the date-time, the summary and the type-specific
  details, the outcome, the signer as linking agent and the file versions it made (outcome) or used
  (source); the signed event itself, byte for byte its canonical JSON, rides in ``eventDetailExtension``;
* one ``agent`` per signing key: name, roles, key id as identifier, public key;
* one ``rights`` statement from the catalogue's ``rights`` field.

``for_archivematica`` builds the form Archivematica's "load PREMIS events" step imports: only the current
files, each with ``originalName`` ``objects/<path>``, and every event linked to them.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from provenance.archive import Archive
from provenance.canonical import canonical_bytes
from provenance.exports.source import LoadedRecord, held, load_record
from provenance.exports.writing import Exported, check_new_output, write_output
from provenance.exports.xmlout import (
    PREMIS_NS,
    PREMIS_XSD,
    XSI_NS,
    q,
    sub,
    to_bytes,
)
from provenance.manifest_io import event_digest
from provenance.model.events import LOCAL_BASE, PREMIS_EVENT_TYPES, EventType

P = PREMIS_NS
EVENT_TYPE_AUTHORITY = "http://id.loc.gov/vocabulary/preservation/eventType"
AGENT_ROLE_URI = "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole/"
OBJECT_ROLE_URI = "http://id.loc.gov/vocabulary/preservation/eventRelatedObjectRole/"
AGENT_TYPE_URI = "http://id.loc.gov/vocabulary/preservation/agentType/"
# Event identifiers: UUID version 5 of "<record>/<event digest>" in this name space (fixed, never change)
EVENT_UUID_NAMESPACE = uuid.UUID("5c1b2d4e-3f6a-5b7c-8d9e-0a1b2c3d4e5f")
ID_TYPE_RECORD = "provenance record id"
ID_TYPE_FILE = "provenance file version"
ID_TYPE_KEY = "provenance key id"
ID_TYPE_RIGHTS = "provenance rights statement"
SIGNED_EVENT_TAG = "provenance signed event (RFC 8785 JSON)"


@dataclass(frozen=True)
class FileVersion:
    """One file of the record with the bytes it held at some version."""

    path: str
    sha256: str
    size: int
    media_type: str
    first: int  # the first version (event seq) that holds it
    current: bool
    xml_id: str
    links: list[tuple[str, str]] = field(default_factory=list, compare=False)  # (event uuid, role)

    def identifier(self, for_archivematica: bool) -> str:
        if for_archivematica:
            return f"objects/{self.path}"
        return f"files/{self.path}@sha256:{self.sha256}"


def event_uuid(record_id: str, raw_event: dict[str, object]) -> str:
    """The event's PREMIS identifier: a UUID derived from its digest (stable across exports)."""
    return str(uuid.uuid5(EVENT_UUID_NAMESPACE, f"{record_id}/{event_digest(raw_event, parsed=True)}"))


def file_versions(rec: LoadedRecord, for_archivematica: bool = False) -> list[FileVersion]:
    """Every distinct (path, bytes) of the record's history, in order of first appearance.

    For Archivematica only the current files (what ``objects/`` holds).
    """
    current = {(f.path, f.sha256) for f in rec.manifest.state.files}
    seen: dict[tuple[str, str], FileVersion] = {}
    for version in rec.versions:
        for entry in sorted(version.state.files, key=lambda f: f.path):
            key = (entry.path, entry.sha256)
            if key in seen or (for_archivematica and key not in current):
                continue
            seen[key] = FileVersion(
                path=entry.path,
                sha256=entry.sha256,
                size=entry.size,
                media_type=entry.media_type,
                first=version.seq,
                current=key in current,
                xml_id=f"file-{len(seen) + 1}",
            )
    return list(seen.values())


def _link_events(
    rec: LoadedRecord, files: list[FileVersion], for_archivematica: bool
) -> dict[int, list[tuple[FileVersion, str]]]:
    """For each event, the file versions it links to and the role: ``outcome`` (it made them) or ``source``."""
    by_key = {(f.path, f.sha256): f for f in files}
    links: dict[int, list[tuple[FileVersion, str]]] = {}
    before: set[tuple[str, str]] = set()
    for version in rec.versions:
        after = {(f.path, f.sha256) for f in version.state.files}
        made = sorted(after - before)
        replaced = sorted(before - after)
        out: list[tuple[FileVersion, str]] = []
        if for_archivematica:
            out = [(f, "outcome" if (f.path, f.sha256) in made else "source") for f in files]
        else:
            out.extend((by_key[k], "outcome") for k in made if k in by_key)
            out.extend((by_key[k], "source") for k in replaced if k in by_key)
            if not made and not replaced:
                out.extend((by_key[k], "source") for k in sorted(after) if k in by_key)
        uid = event_uuid(rec.record_id, version.raw_event)
        for fv, role in out:
            fv.links.append((uid, role))
        links[version.seq] = out
        before = after
    return links


def _identifier(parent: ET.Element, tag: str, id_type: str, value: str) -> ET.Element:
    element = sub(parent, P, tag)
    sub(element, P, f"{tag}Type", id_type)
    sub(element, P, f"{tag}Value", value)
    return element


def _structural(obj: ET.Element, sub_type: str, id_type: str, value: str) -> None:
    """A structural relationship of ``obj`` ("includes", "is included in") to the object ``value``."""
    rel = sub(obj, P, "relationship")
    sub(rel, P, "relationshipType", "structural")
    sub(rel, P, "relationshipSubType", sub_type)
    _identifier(rel, "relatedObjectIdentifier", id_type, value)


def _linking(parent: ET.Element, tag: str, id_type: str, value: str, *roles: tuple[str, str | None]) -> None:
    element = sub(parent, P, tag)
    sub(element, P, f"{tag}Type", id_type)
    sub(element, P, f"{tag}Value", value)
    role_tag = {"linkingAgentIdentifier": "linkingAgentRole", "linkingObjectIdentifier": "linkingObjectRole"}
    for text, uri in roles:
        attrs = {"valueURI": uri} if uri else {}
        sub(element, P, role_tag[tag], text, **attrs)


class PremisBuilder:
    """The PREMIS elements of one record; METS wraps the same elements one by one."""

    def __init__(self, rec: LoadedRecord, *, for_archivematica: bool = False) -> None:
        self.rec = rec
        self.for_archivematica = for_archivematica
        self.files = file_versions(rec, for_archivematica)
        self.links = _link_events(rec, self.files, for_archivematica)
        self.rights_id = f"{rec.record_id}/rights"

    # ---- objects
    def entity(self) -> ET.Element:
        rec = self.rec
        obj = ET.Element(q(P, "object"), {q(XSI_NS, "type"): "premis:intellectualEntity"})
        _identifier(obj, "objectIdentifier", ID_TYPE_RECORD, rec.record_id)
        if rec.manifest.state.catalogue.title:
            sub(obj, P, "originalName", rec.manifest.state.catalogue.title)
        for fv in self.files:
            _structural(obj, "includes", ID_TYPE_FILE, fv.identifier(False))
        for version in rec.versions:
            _identifier(obj, "linkingEventIdentifier", "UUID", event_uuid(rec.record_id, version.raw_event))
        if rec.manifest.state.catalogue.rights:
            _identifier(obj, "linkingRightsStatementIdentifier", ID_TYPE_RIGHTS, self.rights_id)
        return obj

    def file_object(self, fv: FileVersion) -> ET.Element:
        obj = ET.Element(q(P, "object"), {q(XSI_NS, "type"): "premis:file"})
        _identifier(obj, "objectIdentifier", ID_TYPE_FILE, fv.identifier(self.for_archivematica))
        chars = sub(obj, P, "objectCharacteristics")
        sub(chars, P, "compositionLevel", "0")
        fixity = sub(chars, P, "fixity")
        sub(
            fixity,
            P,
            "messageDigestAlgorithm",
            "SHA-256",
            authority="cryptographicHashFunctions",
            authorityURI="http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions",
            valueURI="http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions/sha256",
        )
        sub(fixity, P, "messageDigest", fv.sha256)
        sub(fixity, P, "messageDigestOriginator", "provenance")
        sub(chars, P, "size", str(fv.size))
        fmt = sub(chars, P, "format")
        designation = sub(fmt, P, "formatDesignation")
        sub(designation, P, "formatName", fv.media_type)
        sub(obj, P, "originalName", f"objects/{fv.path}" if self.for_archivematica else fv.path)
        if not self.for_archivematica:
            _structural(obj, "is included in", ID_TYPE_RECORD, self.rec.record_id)
        for uid in dict.fromkeys(uid for uid, _role in fv.links):
            _identifier(obj, "linkingEventIdentifier", "UUID", uid)
        if self.rec.manifest.state.catalogue.rights and not self.for_archivematica:
            _identifier(obj, "linkingRightsStatementIdentifier", ID_TYPE_RIGHTS, self.rights_id)
        return obj

    def objects(self) -> list[ET.Element]:
        out = [] if self.for_archivematica else [self.entity()]
        return out + [self.file_object(fv) for fv in self.files]

    # ---- events
    def events(self) -> list[ET.Element]:
        return [self.event(version.seq) for version in self.rec.versions]

    def event(self, seq: int) -> ET.Element:
        rec = self.rec
        version = rec.versions[seq - 1]
        ev = version.event
        element = ET.Element(q(P, "event"))
        _identifier(element, "eventIdentifier", "UUID", event_uuid(rec.record_id, version.raw_event))
        label, uri = PREMIS_EVENT_TYPES[EventType(ev.type)]
        if uri.startswith(LOCAL_BASE):
            sub(element, P, "eventType", label, authority="provenance", authorityURI=LOCAL_BASE, valueURI=uri)
        else:
            sub(
                element,
                P,
                "eventType",
                label,
                authority="eventType",
                authorityURI=EVENT_TYPE_AUTHORITY,
                valueURI=uri,
            )
        sub(element, P, "eventDateTime", ev.time)
        detail = sub(element, P, "eventDetailInformation")
        sub(detail, P, "eventDetail", ev.summary)
        if ev.details:
            info = sub(element, P, "eventDetailInformation")
            sub(info, P, "eventDetail", "details: " + canonical_bytes(ev.details).decode("utf-8"))
        signed = sub(element, P, "eventDetailInformation")
        sub(
            signed,
            P,
            "eventDetail",
            f"{SIGNED_EVENT_TAG}: " + canonical_bytes(version.raw_event, parsed=True).decode("utf-8"),
        )
        outcome = sub(element, P, "eventOutcomeInformation")
        result = ev.details.get("outcome") if isinstance(ev.details.get("outcome"), str) else None
        sub(outcome, P, "eventOutcome", result or "success")
        note = sub(outcome, P, "eventOutcomeDetail")
        sub(
            note,
            P,
            "eventOutcomeDetailNote",
            f"event {ev.seq} of {rec.record_id} ({ev.type}), signed with Ed25519 by {ev.key}; "
            f"state after it {ev.state_digest}; previous event {ev.previous_digest or 'none'}",
        )
        _linking(
            element,
            "linkingAgentIdentifier",
            ID_TYPE_KEY,
            ev.key,
            ("implementer", AGENT_ROLE_URI + "imp"),
            (str(ev.role), None),
        )
        if not self.for_archivematica:
            _linking(element, "linkingObjectIdentifier", ID_TYPE_RECORD, rec.record_id)
        for fv, role in self.links[seq]:
            code = "out" if role == "outcome" else "sou"
            _linking(
                element,
                "linkingObjectIdentifier",
                ID_TYPE_FILE,
                fv.identifier(self.for_archivematica),
                (role, OBJECT_ROLE_URI + code),
            )
        return element

    # ---- agents
    def agents(self) -> list[ET.Element]:
        rec = self.rec
        out = []
        for key in dict.fromkeys(e.key for e in rec.manifest.events):
            signed = [v for v in rec.versions if v.event.key == key]
            card = rec.cards.get(key)
            element = ET.Element(q(P, "agent"))
            _identifier(element, "agentIdentifier", ID_TYPE_KEY, key)
            sub(element, P, "agentName", card.name if card else signed[0].event.agent)
            sub(
                element,
                P,
                "agentType",
                "person",
                authority="agentType",
                authorityURI="http://id.loc.gov/vocabulary/preservation/agentType",
                valueURI=AGENT_TYPE_URI + "per",
            )
            roles = [str(r) for r in card.roles] if card else sorted({str(v.event.role) for v in signed})
            sub(element, P, "agentNote", "roles: " + ", ".join(roles))
            if card:
                sub(element, P, "agentNote", f"Ed25519 public key (base64url): {card.public_key}")
            for version in signed:
                _identifier(
                    element, "linkingEventIdentifier", "UUID", event_uuid(rec.record_id, version.raw_event)
                )
            out.append(element)
        return out

    # ---- rights
    def rights(self) -> list[ET.Element]:
        text = self.rec.manifest.state.catalogue.rights
        if not text:
            return []
        element = ET.Element(q(P, "rights"))
        statement = sub(element, P, "rightsStatement")
        _identifier(statement, "rightsStatementIdentifier", ID_TYPE_RIGHTS, self.rights_id)
        sub(
            statement,
            P,
            "rightsBasis",
            "Other",
            authority="rightsBasis",
            authorityURI="http://id.loc.gov/vocabulary/preservation/rightsBasis",
            valueURI="http://id.loc.gov/vocabulary/preservation/rightsBasis/oth",
        )
        other = sub(statement, P, "otherRightsInformation")
        sub(other, P, "otherRightsBasis", "catalogue rights statement")
        sub(other, P, "otherRightsNote", text)
        if not self.for_archivematica:
            _linking(statement, "linkingObjectIdentifier", ID_TYPE_RECORD, self.rec.record_id)
        return [element]

    def document(self) -> ET.Element:
        root = ET.Element(
            q(P, "premis"), {"version": "3.0", q(XSI_NS, "schemaLocation"): f"{PREMIS_NS} {PREMIS_XSD}"}
        )
        root.extend([*self.objects(), *self.events(), *self.agents()])
        if not self.for_archivematica:
            root.extend(self.rights())
        return root


def premis_bytes(rec: LoadedRecord, *, for_archivematica: bool = False) -> bytes:
    """The PREMIS 3.0 document of a loaded record."""
    return to_bytes(PremisBuilder(rec, for_archivematica=for_archivematica).document())


@dataclass
class XmlExportResult(Exported):
    """What an XML export (PREMIS, METS) wrote."""

    out: Path
    format: str
    events: int
    files: int
    bytes: int

    def to_json(self) -> dict[str, object]:
        return self.json_with(
            {"out": str(self.out), "format": self.format, "events": self.events, "file_versions": self.files,
             "bytes": self.bytes}
        )

    def line(self) -> str:
        return (
            f"wrote {self.out}: {self.format.upper()} document of {self.record} ({self.events} events, "
            f"{self.files} file version(s), {self.bytes:,} bytes; head {self.head[:19]}…)"
        )


def export_xml(
    archive: Archive,
    record_id: str,
    out: Path,
    *,
    form: str,
    document: Callable[[LoadedRecord], bytes],
    now: datetime | None = None,
) -> XmlExportResult:
    """Verify ``record_id`` and write ``document`` of it to ``out`` (never overwritten) as format ``form``.

    Raises ``ConflictError(output.exists)``, ``NotFoundError``, ``InputError(record.corrupt)`` and the
    verification's refusal; nothing is written then.
    """
    check_new_output(out)
    with held(archive, record_id):
        rec = load_record(archive, record_id, now=now)
    data = document(rec)  # from the verified manifest and snapshots, held in memory
    write_output(out, data)
    return XmlExportResult(
        record=record_id,
        head=rec.head,
        state=rec.state,
        warnings=rec.warnings,
        out=out,
        format=form,
        events=len(rec.versions),
        files=len(file_versions(rec)),
        bytes=len(data),
    )


def export_premis(
    archive: Archive, record_id: str, out: Path, *, now: datetime | None = None
) -> XmlExportResult:
    """Verify ``record_id`` and write its PREMIS 3.0 document to ``out`` (never overwritten)."""
    return export_xml(archive, record_id, out, form="premis", document=premis_bytes, now=now)
