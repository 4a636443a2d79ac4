"""A record as an Archivematica standard transfer folder::

    objects/<path>                          the record's current files
    metadata/metadata.csv                   filename + dc.* columns (Archivematica's metadata import)
    metadata/premis.xml                     the events, agents and files in the form Archivematica's "load
                                            PREMIS events" step imports (originalName objects/<path>)
    metadata/checksum.sha256                SHA-256 of every file under objects/ (checked at transfer)
    metadata/provenance/manifest.json       the signed manifest, byte for byte
    metadata/provenance/keys/<card>.json    the key card of every signer

so that the signatures travel into the AIP with the files they cover.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from provenance import fsio
from provenance.archive import Archive
from provenance.canonical import dumps_pretty
from provenance.exports.mets import dublin_core
from provenance.exports.premis import premis_bytes
from provenance.exports.source import LoadedRecord, held, load_record
from provenance.exports.writing import Exported, check_new_output


def metadata_csv(rec: LoadedRecord) -> bytes:
    """``metadata.csv``: one row per file of ``objects/``, the catalogue as repeated ``dc.*`` columns."""
    pairs = dublin_core(rec.manifest.state.catalogue, rec.record_id)
    header = ["filename", *(f"dc.{element}" for element, _value in pairs)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for entry in sorted(rec.manifest.state.files, key=lambda f: f.path):
        writer.writerow([f"objects/{entry.path}", *(value for _element, value in pairs)])
    return buffer.getvalue().encode("utf-8")


def transfer_files(rec: LoadedRecord) -> dict[str, bytes | Path]:
    """Every file of the transfer: its path in the folder → its bytes, or the record file to copy."""
    from provenance.keys import card_filename

    out: dict[str, bytes | Path] = {}
    checksums = []
    for entry in sorted(rec.manifest.state.files, key=lambda f: f.path):
        out[f"objects/{entry.path}"] = rec.file_path(entry.sha256, entry.path)
        checksums.append(f"{entry.sha256}  ../objects/{entry.path}\n")
    out["metadata/metadata.csv"] = metadata_csv(rec)
    out["metadata/premis.xml"] = premis_bytes(rec, for_archivematica=True)
    out["metadata/checksum.sha256"] = "".join(checksums).encode("utf-8")
    out["metadata/provenance/manifest.json"] = rec.manifest_bytes
    for card in rec.cards.values():
        out[f"metadata/provenance/keys/{card_filename(card)}"] = dumps_pretty(card.as_json())
    return out


@dataclass
class TransferResult(Exported):
    """What an Archivematica export wrote."""

    out: Path
    files: int

    def to_json(self) -> dict[str, object]:
        return self.json_with({"format": "archivematica", "out": str(self.out), "files": self.files})

    def line(self) -> str:
        return (
            f"wrote {self.out}: Archivematica transfer of {self.record} ({self.files} file(s) in objects/, "
            f"metadata.csv, premis.xml, signed manifest; head {self.head[:19]}…)"
        )


def export_archivematica(
    archive: Archive, record_id: str, out: Path, *, now: datetime | None = None
) -> TransferResult:
    """Verify ``record_id`` and write it as a new transfer folder ``out`` (never overwritten)."""
    check_new_output(out)
    with held(archive, record_id):  # writers wait: what is copied is what was verified
        rec = load_record(archive, record_id, now=now)
        files = transfer_files(rec)
        with fsio.new_folder(out, what="the transfer") as building:
            building.mkdir()
            for rel in sorted(files):
                path = building / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                content = files[rel]
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    shutil.copyfile(content, path)
            fsio.fsync_tree(building)
    return TransferResult(
        record=record_id, head=rec.head, state=rec.state, warnings=rec.warnings, out=out,
        files=len(rec.manifest.state.files),
    )
