"""A record as a METS 1.12 document (Library of Congress, ``http://www.loc.gov/METS/``) around its PREMIS.

* ``metsHdr``: created at the time of the record's last event, by this tool;
* ``dmdSec``: the catalogue as simple Dublin Core (see the README's mapping table);
* ``amdSec``: a ``techMD`` per file version (its PREMIS ``object``), a ``rightsMD`` with the PREMIS
  ``rights``, a ``digiprovMD`` per event (its PREMIS ``event``) and one per signer (its PREMIS ``agent``);
* ``fileSec``: the current files (``files/<path>``) and the earlier versions (``objects/sha256/<hex>``), each
  with size, SHA-256 checksum and media type, pointing at its techMD and at the events that touched it;
* ``structMap``: the record, its current files in path order.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from provenance.archive import Archive
from provenance.exports.premis import PremisBuilder, XmlExportResult, event_uuid, export_xml
from provenance.exports.source import LoadedRecord
from provenance.exports.xmlout import (
    DC_NS,
    METS_NS,
    METS_XSD,
    PREMIS_NS,
    PREMIS_XSD,
    XLINK_NS,
    XSI_NS,
    q,
    sub,
    to_bytes,
)
from provenance.model.catalogue import Catalogue

M = METS_NS


def dublin_core(catalogue: Catalogue, record_id: str) -> list[tuple[str, str]]:
    """The catalogue as (Dublin Core element, value) pairs, in a fixed order (the README's table)."""
    c = catalogue
    out: list[tuple[str, str]] = [("identifier", record_id)]
    if c.telegram_number:
        out.append(
            ("identifier", f"telegram {c.telegram_number}" + (f", series {c.series}" if c.series else ""))
        )
    for element, value in (
        ("title", c.title),
        ("creator", c.author),
        ("contributor", c.issuing_body),
        ("type", c.document_type),
        ("date", c.sent),
        ("coverage", c.origin),
        ("language", c.language),
        ("source", c.source),
        ("rights", c.rights),
    ):
        if value:
            out.append((element, value))
    if c.original_language:
        out.append(("relation", f"original language: {c.original_language}"))
    if c.addressee:
        who = c.addressee + (f" [{c.addressee_identified_as}]" if c.addressee_identified_as else "")
        out.append(("description", f"addressee: {who}"))
    if c.sent_as_written:
        out.append(("description", f"sent as written: {c.sent_as_written}"))
    if c.copies:
        copies = ", ".join(f"{x.recipient} ({x.count})" if x.count != 1 else x.recipient for x in c.copies)
        out.append(("description", f"copies: {copies}"))
    return out


def mets_document(rec: LoadedRecord) -> ET.Element:
    """The METS document of a loaded record."""
    builder = PremisBuilder(rec)
    catalogue = rec.manifest.state.catalogue
    from provenance import __version__

    root = ET.Element(
        q(M, "mets"),
        {
            "OBJID": rec.record_id,
            "LABEL": catalogue.title or rec.record_id,
            "TYPE": catalogue.document_type or "record",
            q(XSI_NS, "schemaLocation"): f"{METS_NS} {METS_XSD} {PREMIS_NS} {PREMIS_XSD}",
        },
    )
    header = sub(root, M, "metsHdr", CREATEDATE=rec.manifest.events[0].time, LASTMODDATE=rec.last_time)
    agent = sub(header, M, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
    sub(agent, M, "name", f"provenance {__version__}")
    alt = sub(header, M, "altRecordID", rec.head, TYPE="provenance head event digest")
    del alt

    dmd = sub(root, M, "dmdSec", ID="dmd-1")
    wrap = sub(dmd, M, "mdWrap", MDTYPE="DC", LABEL="catalogue")
    data = sub(wrap, M, "xmlData")
    for element, value in dublin_core(catalogue, rec.record_id):
        sub(data, DC_NS, element, value)

    amd = sub(root, M, "amdSec", ID="amd-1")
    for fv, premis_object in zip(builder.files, builder.objects()[1:], strict=True):
        _wrapped(amd, "techMD", f"techMD-{fv.xml_id}", "PREMIS:OBJECT", premis_object)
    _wrapped(amd, "techMD", "techMD-record", "PREMIS:OBJECT", builder.entity())
    for rights in builder.rights():
        _wrapped(amd, "rightsMD", "rightsMD-1", "PREMIS:RIGHTS", rights)
    for version in rec.versions:
        _wrapped(
            amd, "digiprovMD", f"digiprovMD-event-{version.seq}", "PREMIS:EVENT", builder.event(version.seq)
        )
    for n, agent_element in enumerate(builder.agents(), start=1):
        _wrapped(amd, "digiprovMD", f"digiprovMD-agent-{n}", "PREMIS:AGENT", agent_element)

    file_sec = sub(root, M, "fileSec")
    groups = {
        True: sub(file_sec, M, "fileGrp", USE="current"),
        False: sub(file_sec, M, "fileGrp", USE="earlier versions"),
    }
    seq_by_uuid = {event_uuid(rec.record_id, v.raw_event): v.seq for v in rec.versions}
    for fv in builder.files:
        events = sorted({seq_by_uuid[uid] for uid, _role in fv.links})
        admids = " ".join([f"techMD-{fv.xml_id}", *(f"digiprovMD-event-{s}" for s in events)])
        entry = sub(
            groups[fv.current],
            M,
            "file",
            ID=fv.xml_id,
            MIMETYPE=fv.media_type,
            SIZE=str(fv.size),
            CREATED=rec.versions[fv.first - 1].event.time,
            CHECKSUM=fv.sha256,
            CHECKSUMTYPE="SHA-256",
            ADMID=admids,
        )
        href = f"files/{fv.path}" if fv.current else f"objects/sha256/{fv.sha256}"
        sub(
            entry,
            M,
            "FLocat",
            LOCTYPE="OTHER",
            OTHERLOCTYPE="SYSTEM",
            **{q(XLINK_NS, "href"): href, q(XLINK_NS, "title"): fv.path},
        )
    if not groups[False]:
        file_sec.remove(groups[False])

    struct = sub(root, M, "structMap", TYPE="physical", LABEL="record")
    div = sub(
        struct,
        M,
        "div",
        TYPE="record",
        LABEL=catalogue.title or rec.record_id,
        DMDID="dmd-1",
        ADMID="techMD-record" + (" rightsMD-1" if catalogue.rights else ""),
    )
    for order, fv in enumerate((f for f in builder.files if f.current), start=1):
        item = sub(div, M, "div", TYPE="file", LABEL=fv.path, ORDER=str(order))
        sub(item, M, "fptr", FILEID=fv.xml_id)
    return root


def _wrapped(parent: ET.Element, section: str, xml_id: str, label: str, element: ET.Element) -> None:
    md = sub(parent, M, section, ID=xml_id)
    wrap = sub(md, M, "mdWrap", MDTYPE="PREMIS:OBJECT" if label == "PREMIS:OBJECT" else label)
    if label not in ("PREMIS:OBJECT", "PREMIS:EVENT", "PREMIS:AGENT", "PREMIS:RIGHTS"):  # pragma: no cover
        wrap.set("MDTYPE", "PREMIS")
    data = sub(wrap, M, "xmlData")
    element.set("version", "3.0")
    data.append(element)


def mets_bytes(rec: LoadedRecord) -> bytes:
    return to_bytes(mets_document(rec))


def export_mets(
    archive: Archive, record_id: str, out: Path, *, now: datetime | None = None
) -> XmlExportResult:
    """Verify ``record_id`` and write its METS document to ``out`` (never overwritten)."""
    return export_xml(archive, record_id, out, form="mets", document=mets_bytes, now=now)
