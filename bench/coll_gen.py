"""Bench data for the collection targets (issue 11): a folder of telegram-sized files with its catalogue
sheet, a large archive of records of 5 events (the audit archive's recipe, in its own folder), and an
archive with a key of the default bcrypt cost for the agent figure."""

from __future__ import annotations

import csv
import json
import multiprocessing
import shutil
from pathlib import Path
from typing import Any

import gen


def batch_folder(count: int, log: Any) -> Path:
    """``bench/work/coll-batch-N``: files/ of ``count`` telegrams (the reference text, each made unique)
    and sheet.csv naming them with ids; a template archive (keys, an empty search index) to copy."""
    folder = gen.WORK / f"coll-batch-{count}"
    params = {"count": count}
    if gen.fresh(folder, params):
        return folder
    log(f"  making {count:,} telegram files and their catalogue sheet")
    files = folder / "files"
    files.mkdir(parents=True)
    text = gen.REFERENCE_TEXT.read_bytes()
    rows = []
    for index in range(count):
        name = f"telegram-{index:05d}.txt"
        (files / name).write_bytes(text + f"\nCopy {index} of the reference telegram.\n".encode())
        rows.append([name, f"tg-{index:05d}", f"Mao Zedong to Filippov, copy {index}"])
    with (folder / "sheet.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["filename", "id", "dc.title"])
        writer.writerows(rows)
    archive, _ = gen.archive_with_keys(folder / "template")
    from provenance.catalogue_index import rebuild

    rebuild(archive)  # an archive whose index exists: every commit updates it, as in use
    gen.done(folder, params)
    return folder


def fresh_batch_archive(folder: Path, name: str) -> Path:
    """A copy of the template archive (keys, empty index) to register the batch into."""
    target = folder / name
    if target.exists():
        gen.make_writable(target)
        shutil.rmtree(target)
    shutil.copytree(folder / "template", target)
    return target


def bag_folders(folder: Path, name: str) -> Path:
    """One folder per file, as bagit.make_bag takes them (made before the timing)."""
    target = folder / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for path in sorted((folder / "files").iterdir()):
        one = target / path.stem
        one.mkdir()
        shutil.copyfile(path, one / path.name)
    return target


def big_archive(records: int, log: Any) -> Path:
    """``bench/work/coll-records-N/archive``: ``records`` records of 5 events (the audit recipe)."""
    folder = gen.WORK / f"coll-records-{records}"
    params = {"records": records}
    # Reused whatever changed in the sources since (unlike gen.fresh): at 100,000 records it takes half an
    # hour to make, and search, index and audit read it as any archive. --fresh makes it again.
    stamp = folder / ".stamp.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("params") == params:
        return folder / "archive"
    if gen.fresh(folder, params):
        return folder / "archive"
    folder.mkdir(parents=True)
    log(f"  making {records:,} records of 5 events (library functions, two processes)")
    archive, _ = gen.archive_with_keys(folder / "archive")
    chunks = [list(range(i, min(i + 250, records))) for i in range(0, records, 250)]
    context = multiprocessing.get_context("fork")
    with context.Pool(2, gen._audit_setup, (str(archive.root),)) as pool:
        made = sum(pool.imap_unordered(gen._audit_chunk, chunks))
    assert made == records
    gen.done(folder, params)
    return folder / "archive"


def agent_archive(log: Any) -> tuple[Path, Path]:
    """``bench/work/coll-agent``: the reference record and a translator key of the default bcrypt cost
    (what a user has), for note with and without the agent. Returns (archive, home)."""
    folder = gen.WORK / "coll-agent"
    params = {"kdf": "default"}
    if gen.fresh(folder, params):
        return folder / "archive", folder / "home"
    log("  making an archive with a key of the default KDF cost")
    from provenance.archive import Archive
    from provenance.history import Signer
    from provenance.ingest.service import ingest, read_transcription
    from provenance.keys import generate_key, unlock
    from provenance.model.events import Role

    archive, _ = Archive.init(folder / "archive")
    home = folder / "home"
    card = generate_key(archive, name="T. Translator", roles=[Role.TRANSLATOR, Role.ARCHIVIST],
                        passphrase=gen.PASSPHRASE, now=gen.T0, home=home)
    signer = Signer(card=card, key=unlock(card, gen.PASSPHRASE, home), role=Role.ARCHIVIST)
    ingest(archive, read_transcription(gen.REFERENCE_TEXT), signer, now=gen.T0)
    gen.done(folder, params)
    return folder / "archive", home
