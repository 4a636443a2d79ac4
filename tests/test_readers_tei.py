"""The TEI export validates against TEI P5 (the vendored tei_all.rng, TEI P5 4.9.0; lxml's RELAX NG
validator) and holds what the issue asks for: msDesc with identifier, history and one custEvent per
custody transfer, a respStmt per signer and role, a change per event, langUsage, and every note anchored
at its place (orphaned ones in back)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, World
from tests.helpers import RID

lxml_etree = pytest.importorskip("lxml.etree", reason="lxml (test extra) validates the TEI export")
TEI = "{http://www.tei-c.org/ns/1.0}"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


@pytest.fixture(scope="module")
def tei_schema() -> Any:
    """tei_all.rng compiled once (it takes a few seconds)."""
    return lxml_etree.RelaxNG(lxml_etree.parse(str(DATA / "tei" / "tei_all.rng")))


def _validate(schema: Any, data: bytes) -> None:
    document = lxml_etree.fromstring(data)
    assert schema.validate(document), [f"{e.line}: {e.message}" for e in schema.error_log][:10]


def test_tei_of_a_lived_record_validates_and_holds_every_part(lived: World, tmp_path: Path, tei_schema: Any) -> None:
    from provenance import actions

    original = tmp_path / "telegram-23256-ru.txt"
    original.write_text("Товарищу ФИЛИППОВУ [Сталину]\n", "utf-8")
    actions.attach(lived.archive, RID, lived.signers["archivist"], source=original, role="original",
                   language="ru", now=lived.tick())
    out = tmp_path / "t.xml"
    assert lived.run("export", RID, "--format", "tei", "--out", str(out)).returncode == 0
    data = out.read_bytes()
    _validate(tei_schema, data)
    root = ET.fromstring(data)  # noqa: S314 - our own output
    ms = root.find(f"{TEI}teiHeader/{TEI}fileDesc/{TEI}sourceDesc/{TEI}msDesc")
    assert ms is not None
    ident = ms.find(f"{TEI}msIdentifier")
    assert ident is not None
    assert ident.findtext(f"{TEI}idno[@type='telegram-number']") == "23256"
    assert ident.findtext(f"{TEI}collection[@type='series']") == "Series G"
    assert ms.find(f"{TEI}history/{TEI}origin/{TEI}origPlace").text == "Beijing"  # type: ignore[union-attr]
    date = ms.find(f"{TEI}history/{TEI}origin/{TEI}origDate")
    assert date is not None and date.get("when-iso") == "1951-08-27T01:30" and date.text == "01:30 27.8.1951"
    events = ms.findall(f".//{TEI}custodialHist/{TEI}custEvent")
    assert len(events) == 1 and "Archive of the President" in (events[0].text or "")
    resp = root.findall(f".//{TEI}titleStmt/{TEI}respStmt")
    assert sorted(r.findtext(f"{TEI}resp") or "" for r in resp) == ["archivist", "publisher", "reviewer", "translator"]
    ids = {r.get(XML_ID) for r in resp}
    changes = root.findall(f".//{TEI}revisionDesc/{TEI}change")
    assert [c.get("n") for c in changes] == [str(n) for n in range(9, 0, -1)]
    assert all(c.get("who", "")[1:] in ids and "event digest sha256:" in "".join(c.itertext()) for c in changes)
    assert {lang.get("ident") for lang in root.findall(f".//{TEI}langUsage/{TEI}language")} == {"en", "ru"}
    body = root.find(f"{TEI}text/{TEI}body")
    assert body is not None
    notes = body.findall(f".//{TEI}note")
    assert len(notes) == 8
    anchors = {a.get(XML_ID) for a in body.iter(f"{TEI}anchor")}
    assert all(n.get("target", "")[1:] in anchors and n.get("targetEnd", "")[1:] in anchors for n in notes)
    orphaned = root.findall(f"{TEI}text/{TEI}back//{TEI}note[@subtype='orphaned']")
    assert len(orphaned) == 1 and orphaned[0].findtext(f"{TEI}quote") == "Kim II Sung"
    # the text between two anchors is the note's quote
    plain = "".join(body.itertext())
    assert "Syngmann Rhee" in plain


def test_tei_of_a_hostile_and_sparse_record_validates(world: World, tmp_path: Path, tei_schema: Any) -> None:
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    text = tmp_path / "odd.txt"
    text.write_bytes("\n\nFirst line\r\nsecond \x01 line [x]\r\n\r\n\r\nÜber <b>&amp;</b> ]]> \u202e\n".encode())
    ingest(world.archive, read_transcription(text), world.signers["archivist"], now=world.tick(),
           record_id="odd", profile="generic")
    actions.add_note(world.archive, "odd", world.signers["translator"], quote="\n\nFirst", text="<note/> &",
                     now=world.tick())
    actions.add_note(world.archive, "odd", world.signers["translator"], quote="line", occurrence=2,
                     text="second \x02", now=world.tick())
    out = tmp_path / "odd.xml"
    result = world.run("export", "odd", "--format", "tei", "--out", str(out))
    assert result.returncode == 0, result.stderr
    _validate(tei_schema, out.read_bytes())
    root = ET.parse(out).getroot()  # noqa: S314 - our own output
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "und"
    assert len(root.findall(f".//{TEI}body//{TEI}note")) == 3  # [x] and the two notes above
