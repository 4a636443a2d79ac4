"""PREMIS 3.0, METS 1.12 and Archivematica exports: valid against the vendored XSDs, complete, deterministic."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from lxml import etree

from provenance.archive import Archive
from provenance.exports.archivematica import export_archivematica
from provenance.exports.mets import export_mets, mets_bytes
from provenance.exports.premis import export_premis, premis_bytes
from provenance.exports.source import load_record
from provenance.exports.xmlout import xml_text
from tests.conftest import World
from tests.helpers import RID, assert_one_clear_line, json_error, make_writable, run_in_process, tree_snapshot
from tests.preservation_helpers import mets_errors, premis_errors

REPO = Path(__file__).resolve().parent.parent
NS = {
    "premis": "http://www.loc.gov/premis/v3",
    "mets": "http://www.loc.gov/METS/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xlink": "http://www.w3.org/1999/xlink",
}


@pytest.fixture(scope="module")
def reference() -> object:
    """The repository's reference record (8 events, 4 signers), loaded and verified."""
    return load_record(Archive.locate(REPO), RID)


def test_reference_premis_is_valid_and_complete(reference: object) -> None:
    data = premis_bytes(reference)  # type: ignore[arg-type]
    assert premis_errors(data) == []
    doc = etree.fromstring(data)
    events = doc.findall("premis:event", NS)
    assert len(events) == 8
    types = [
        (e.findtext("premis:eventType", namespaces=NS), e.find("premis:eventType", NS).get("valueURI"))
        for e in events
    ]
    assert types[0] == ("ingestion", "http://id.loc.gov/vocabulary/preservation/eventType/ing")
    assert types[1] == ("annotation", "provenance:eventType/annotation")  # local term, our namespace
    assert types[-1] == ("dissemination", "http://id.loc.gov/vocabulary/preservation/eventType/dis")
    assert events[0].findtext("premis:eventDateTime", namespaces=NS) == "2026-11-26T09:10:00Z"
    files = doc.findall(
        "premis:object[@xsi:type='premis:file']", {**NS, "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    )
    assert len(files) == 2  # the text before and after the revision
    digests = {f.findtext(".//premis:messageDigest", namespaces=NS) for f in files}
    assert "6359b07215ded8249b51737fddea6d04bf802962862dfbe34657bf610f207aa9" in digests
    assert {f.findtext(".//premis:size", namespaces=NS) for f in files} <= {"4766"} | {
        f.findtext(".//premis:size", namespaces=NS) for f in files
    }
    agents = doc.findall("premis:agent", NS)
    assert sorted(a.findtext("premis:agentName", namespaces=NS) for a in agents) == [
        "Reference Archivist",
        "Reference Publisher",
        "Reference Reviewer",
        "Reference Translator",
    ]
    # every event links its signer, and the signer's identifier is the key id
    for event in events:
        key = event.findtext(
            "premis:linkingAgentIdentifier/premis:linkingAgentIdentifierValue", namespaces=NS
        )
        assert key and key.startswith("ed25519:")
    # the revision made the new text (outcome) from the old one (source)
    revision = events[5]
    roles = {
        link.findtext("premis:linkingObjectRole", namespaces=NS)
        for link in revision.findall("premis:linkingObjectIdentifier", NS)
    }
    assert {"outcome", "source"} <= roles


def test_reference_mets_is_valid_and_complete(reference: object) -> None:
    data = mets_bytes(reference)  # type: ignore[arg-type]
    assert mets_errors(data) == []
    doc = etree.fromstring(data)
    assert len(doc.findall(".//mets:digiprovMD/mets:mdWrap[@MDTYPE='PREMIS:EVENT']", NS)) == 8
    assert doc.findtext(".//mets:dmdSec//dc:title", namespaces=NS).startswith("Ciphered telegram")
    current = doc.findall(".//mets:fileGrp[@USE='current']/mets:file", NS)
    assert len(current) == 1 and current[0].get("CHECKSUMTYPE") == "SHA-256"
    assert current[0].find("mets:FLocat", NS).get(f"{{{NS['xlink']}}}href") == "files/telegram-23256.txt"
    fptrs = doc.findall(".//mets:structMap//mets:fptr", NS)
    assert [f.get("FILEID") for f in fptrs] == [current[0].get("ID")]
    # a broken PREMIS inside METS is caught: the PREMIS is validated strictly, not skipped
    broken = data.replace(b"<premis:eventDateTime>", b"<premis:eventWhen>", 1).replace(
        b"</premis:eventDateTime>", b"</premis:eventWhen>", 1
    )
    assert mets_errors(broken)


def test_xml_text_keeps_what_xml_cannot_hold_visible() -> None:
    assert xml_text("a\x01b\ud800c\tok") == "a\\u0001b\\uD800c\tok"


def test_every_export_is_deterministic(lived: World, tmp_path: Path) -> None:
    a = lived.archive
    for n in (1, 2):
        export_premis(a, RID, tmp_path / f"p{n}.xml")
        export_mets(a, RID, tmp_path / f"m{n}.xml")
        export_archivematica(a, RID, tmp_path / f"am{n}")
    assert (tmp_path / "p1.xml").read_bytes() == (tmp_path / "p2.xml").read_bytes()
    assert (tmp_path / "m1.xml").read_bytes() == (tmp_path / "m2.xml").read_bytes()
    assert tree_snapshot(tmp_path / "am1") == tree_snapshot(tmp_path / "am2")
    assert premis_errors((tmp_path / "p1.xml").read_bytes()) == []
    assert mets_errors((tmp_path / "m1.xml").read_bytes()) == []


def test_archivematica_transfer_layout(lived: World, tmp_path: Path) -> None:
    out = tmp_path / "transfer"
    export_archivematica(lived.archive, RID, out)
    record = lived.archive.record_dir(RID)
    assert (out / "objects" / "telegram-23256.txt").read_bytes() == (
        record / "files" / "telegram-23256.txt"
    ).read_bytes()
    assert (out / "metadata" / "provenance" / "manifest.json").read_bytes() == (
        record / "manifest.json"
    ).read_bytes()
    assert len(list((out / "metadata" / "provenance" / "keys").iterdir())) == 4
    rows = list(csv.reader(io.StringIO((out / "metadata" / "metadata.csv").read_text("utf-8"))))
    assert rows[0][0] == "filename" and all(c.startswith("dc.") for c in rows[0][1:])
    assert rows[1][0] == "objects/telegram-23256.txt"
    premis = (out / "metadata" / "premis.xml").read_bytes()
    assert premis_errors(premis) == []
    doc = etree.fromstring(premis)
    # what Archivematica's event import needs: files named objects/<path>, every event linked to a file
    # and an agent that exist in the document
    names = {o.findtext("premis:originalName", namespaces=NS) for o in doc.findall("premis:object", NS)}
    assert names == {"objects/telegram-23256.txt"}
    ids = {
        o.findtext(".//premis:objectIdentifierValue", namespaces=NS) for o in doc.findall("premis:object", NS)
    }
    agents = {
        a.findtext(".//premis:agentIdentifierValue", namespaces=NS) for a in doc.findall("premis:agent", NS)
    }
    for event in doc.findall("premis:event", NS):
        linked = {v.text for v in event.findall(".//premis:linkingObjectIdentifierValue", NS)}
        assert linked and linked <= ids
        assert {v.text for v in event.findall(".//premis:linkingAgentIdentifierValue", NS)} <= agents
    checksums = (out / "metadata" / "checksum.sha256").read_text()
    assert checksums.split()[1] == "../objects/telegram-23256.txt"


def test_export_formats_through_the_installed_cli(lived: World, tmp_path: Path) -> None:
    for fmt, name in (("premis", "r.premis.xml"), ("mets", "r.mets.xml"), ("archivematica", "transfer")):
        result = lived.run("export", RID, "--format", fmt, "--out", str(tmp_path / name), "--json")
        assert result.returncode == 0, result.stderr
        assert result.json()["head"].startswith("sha256:")
    assert premis_errors((tmp_path / "r.premis.xml").read_bytes()) == []
    assert mets_errors((tmp_path / "r.mets.xml").read_bytes()) == []
    plain = lived.run("export", RID, "--format", "premis", "--out", str(tmp_path / "again.xml"))
    assert plain.returncode == 0 and plain.stdout.startswith("wrote ")
    assert (tmp_path / "again.xml").read_bytes() == (tmp_path / "r.premis.xml").read_bytes()


@pytest.mark.parametrize(
    ("args", "exit_code", "code"),
    [
        (["--format", "premis", "--out", "{tmp}/exists.xml"], 2, "output.exists"),
        (["--format", "mets", "--out", "{tmp}/no/such/folder/m.xml"], 2, "input.not-found"),
        (["--format", "nope", "--out", "{tmp}/x"], 2, "usage.invalid"),
        (["--format", "premis", "--into", "{tmp}"], 2, "usage.invalid"),
        (["--format", "premis"], 2, "usage.invalid"),
        (["--format", "archivematica", "--out", "{tmp}/exists.xml"], 2, "output.exists"),
        ([], 2, "usage.invalid"),
        (["--format", "mets", "--history", "--out", "{tmp}/m.xml"], 2, "usage.invalid"),
    ],
)
def test_export_refusals(ingested: World, tmp_path: Path, args: list[str], exit_code: int, code: str) -> None:
    (tmp_path / "exists.xml").write_bytes(b"keep")
    result = run_in_process(ingested, "export", RID, *[a.format(tmp=tmp_path) for a in args])
    assert_one_clear_line(result, exit_code, code)
    assert (tmp_path / "exists.xml").read_bytes() == b"keep"


@pytest.mark.parametrize("fmt", ["premis", "mets", "archivematica", "ocfl"])
def test_an_altered_record_is_refused_not_exported(ingested: World, tmp_path: Path, fmt: str) -> None:
    record = ingested.archive.record_dir(RID)
    make_writable(record)
    text = record / "files" / "telegram-23256.txt"
    text.write_bytes(text.read_bytes().replace(b"Kim II Sung", b"Kim Jong Il", 1))
    target = tmp_path / "exports"
    target.mkdir()
    result = run_in_process(ingested, "export", RID, "--format", fmt, "--out", str(target / "out"), "--json")
    assert result.returncode == 2
    assert json_error(result)["code"] == "record.corrupt"
    assert list(target.iterdir()) == []  # nothing written, no temporary left behind


def test_a_record_whose_signers_are_unknown_is_exported_with_a_warning(lived: World, tmp_path: Path) -> None:
    shutil.rmtree(lived.archive.keys_dir)
    lived.archive.keys_dir.mkdir()
    result = lived.run("export", RID, "--format", "premis", "--out", str(tmp_path / "p.xml"))
    assert result.returncode == 0, result.stderr
    assert "not trusted" in result.stderr and "no key card" in result.stderr
    assert premis_errors((tmp_path / "p.xml").read_bytes()) == []
