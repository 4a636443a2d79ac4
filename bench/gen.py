"""Bench data, made with the library: archives, keys (bcrypt rounds=1), records, dossiers, bundles.

Everything lands under ``bench/work/`` (git-ignored) and is reused by the next run while the library's
sources and the sizes asked for are the same (a stamp file records both); ``--fresh`` in ``run.py``
starts over.

* ``reference``: the reference telegram through its life (8 events), through :mod:`provenance.actions`.
* ``big``: a record holding one file of ``big_bytes`` (attached through the library, streamed).
* ``dossier``: a record of ``dossier_files`` files of 4 KiB (``attach`` of a folder), exported as a bag.
* ``bags``: ``bundles`` copies of the reference record exported as a bag.
* ``audit``: ``records`` records of 5 events each. Appending through :func:`provenance.history.append_event`
  costs about ten fsyncs an event (minutes for 50,000 events), so these are built with the same library
  functions one level down (``prepare_record``, ``sign_event``, ``state_digest``, ``manifest_bytes``) and
  written without fsync, over two processes; ``run.py`` checks that every one verifies trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
REFERENCE_TEXT = ROOT / "tests" / "data" / "corpus" / "telegram-23256.txt"
PASSPHRASE = b"bench passphrase"
T0 = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
RID = "telegram-23256"
ROLES = {
    "archivist": "A. Archivist",
    "translator": "T. Translator",
    "reviewer": "R. Reviewer",
    "publisher": "P. Publisher",
}


def bin_path(name: str) -> str:
    """A console script of the virtual environment running the bench (never a shell shim)."""
    return str(Path(sys.executable).parent / name)


def source_stamp() -> str:
    """A digest of the library's sources: data made by another version is made again."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "provenance").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def fresh(folder: Path, params: dict[str, Any]) -> bool:
    """True when ``folder`` was made for ``params`` by these sources; otherwise it is emptied."""
    stamp = folder / ".stamp.json"
    wanted = json.dumps({"params": params, "sources": source_stamp()}, sort_keys=True)
    if stamp.is_file() and stamp.read_text() == wanted:
        return True
    if folder.exists():
        make_writable(folder)
        shutil.rmtree(folder)
    return False


def done(folder: Path, params: dict[str, Any]) -> None:
    (folder / ".stamp.json").write_text(json.dumps({"params": params, "sources": source_stamp()}, sort_keys=True))


def make_writable(root: Path) -> None:
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)


@dataclass
class Keys:
    home: Path
    cards: Path  # a keys/ folder to copy into every archive


def env(home: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    out.update(PROVENANCE_HOME=str(home), PROVENANCE_PASSPHRASE=PASSPHRASE.decode())
    return out


def archive_with_keys(root: Path) -> tuple[Any, dict[str, Any]]:
    """An archive at ``root`` with one key per role (rounds=1), and the unlocked signers."""
    from provenance.archive import Archive
    from provenance.history import Signer
    from provenance.keys import generate_key, unlock
    from provenance.model.events import Role

    archive, _ = Archive.init(root)
    home = root.parent / "home"
    signers = {}
    for role, name in ROLES.items():
        card = generate_key(
            archive, name=name, roles=[Role(role)], passphrase=PASSPHRASE, now=T0, rounds=1, home=home
        )
        signers[role] = Signer(card=card, key=unlock(card, PASSPHRASE, home), role=Role(role))
    return archive, signers


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def reference_life(archive: Any, signers: dict[str, Any], clock: Clock) -> None:
    """The reference telegram through its life (the README's walk-through): 8 signed events."""
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    ingest(archive, read_transcription(REFERENCE_TEXT), signers["archivist"], now=clock.tick())
    t = signers["translator"]
    actions.add_note(archive, RID, t, quote="Kim II Sung", text="Read: Kim Il Sung (OCR-like error).",
                     now=clock.tick())
    actions.add_note(archive, RID, t, quote="Syngmann Rhee", text="Usually spelled Syngman Rhee.", now=clock.tick())
    actions.add_note(archive, RID, t, quote="Gaeseong [Kaesong]", text="Two romanisations of one city.",
                     now=clock.tick())
    actions.transfer_custody(archive, RID, signers["archivist"], from_="Archive of the President",
                             to="Wilson Center Digital Archive", now=clock.tick())
    fixed = archive.root.parent / "telegram-23256-fixed.txt"
    fixed.write_bytes(REFERENCE_TEXT.read_bytes().replace(b"Kim II Sung", b"Kim Il Sung"))
    actions.revise(archive, RID, signers["archivist"], source=fixed, reason="Kim II Sung is Kim Il Sung",
                   now=clock.tick())
    fixed.unlink()
    actions.review(archive, RID, signers["reviewer"], note="Checked against the published translation",
                   now=clock.tick())
    actions.release(archive, RID, signers["publisher"], now=clock.tick())


def random_file(path: Path, size: int, seed: int) -> None:
    """``size`` pseudo-random bytes (incompressible, reproducible), written in 4 MiB blocks."""
    rng = random.Random(seed)
    with path.open("wb") as handle:
        left = size
        while left:
            step = min(left, 4 << 20)
            handle.write(rng.randbytes(step))
            left -= step


def export(archive_root: Path, home: Path, record: str, out: Path) -> None:
    subprocess.run(
        [bin_path("provenance"), "export", record, "--out", str(out), "--archive", str(archive_root)],
        check=True, env=env(home), stdout=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------------------------------------
# The main archive: reference record, big record, dossier (+ its bag), the bags of the reference record


def main_archive(big_bytes: int, dossier_files: int, bundles: int, log: Any) -> Path:
    """``bench/work/main``: archive/ (reference, big, dossier), dossier-bag/, bags/ref-NNNN/."""
    from provenance import actions

    folder = WORK / "main"
    params = {"big": big_bytes, "dossier": dossier_files, "bundles": bundles}
    if fresh(folder, params):
        return folder
    folder.mkdir(parents=True)
    log("  making the reference record (8 events, through provenance.actions)")
    archive, signers = archive_with_keys(folder / "archive")
    clock = Clock()
    reference_life(archive, signers, clock)

    from provenance.ingest.service import ingest, read_transcription

    log(f"  making a record with one file of {big_bytes / (1 << 20):,.0f} MiB (attach, streamed)")
    text = read_transcription(REFERENCE_TEXT)
    ingest(archive, text, signers["archivist"], now=clock.tick(), record_id="big")
    big = folder / "big.bin"
    random_file(big, big_bytes, seed=1)
    actions.attach(archive, "big", signers["archivist"], source=big, role="original", now=clock.tick())
    big.unlink()

    log(f"  making a dossier of {dossier_files:,} files of 4 KiB (attach of a folder) and exporting it")
    ingest(archive, text, signers["archivist"], now=clock.tick(), record_id="dossier")
    pages = folder / "pages"
    pages.mkdir()
    rng = random.Random(2)
    for index in range(dossier_files):
        (pages / f"page-{index:05d}.bin").write_bytes(rng.randbytes(4096))
    actions.attach(archive, "dossier", signers["archivist"], source=pages, role="scan", now=clock.tick())
    shutil.rmtree(pages)
    export(archive.root, folder / "home", "dossier", folder / "dossier-bag")

    log(f"  exporting the reference record and copying the bag {bundles:,} times")
    bags = folder / "bags"
    bags.mkdir()
    first = bags / "ref-0000"
    export(archive.root, folder / "home", RID, first)
    for index in range(1, bundles):
        shutil.copytree(first, bags / f"ref-{index:04d}")
    done(folder, params)
    return folder


def bag_paths(folder: Path) -> list[Path]:
    return sorted((folder / "bags").iterdir())


# --------------------------------------------------------------------------------------------------------
# The audit archive: many records of 5 events


_GEN: dict[str, Any] = {}


def _audit_setup(archive_root: str) -> None:
    """Per worker: the signers and the base state (the telegram profile, its insertion notes)."""
    from provenance.archive import Archive
    from provenance.history import Signer
    from provenance.ingest.service import prepare_record, read_transcription
    from provenance.keys import TrustStore, unlock
    from provenance.model.events import Role

    archive = Archive(Path(archive_root))
    trust = TrustStore.load(archive.keys_dir)
    home = Path(archive_root).parent / "home"
    signers = {}
    for card in trust.cards.values():
        role = card.roles[0]
        signers[role.value] = Signer(card=card, key=unlock(card, PASSPHRASE, home), role=Role(role))
    source = read_transcription(REFERENCE_TEXT)
    _, state, used = prepare_record(source, profile="auto", sidecar=None, overrides={}, record_id="x")
    _GEN.update(archive=archive, signers=signers, source=source, state=state, profile=used)


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _audit_record(index: int) -> None:
    """One record of 5 events: registration, annotation, custody transfer, review, release."""
    from provenance.history import sign_event
    from provenance.manifest_io import event_digest, manifest_bytes, state_canonical, state_digest
    from provenance.model.events import EventType
    from provenance.model.manifest import Manifest, Note
    from provenance.notes import locate_quote, make_target, next_note_id

    rid = f"rec-{index:05d}"
    signers, source, state0 = _GEN["signers"], _GEN["source"], _GEN["state"]
    record_dir = _GEN["archive"].records_dir / rid
    objects = record_dir / "objects" / "sha256"
    objects.mkdir(parents=True)
    (record_dir / "files").mkdir()
    _write(record_dir / "files" / source.name, source.data)
    when = T0 + timedelta(seconds=index)
    events: list[Any] = []
    snapshots: dict[str, bytes] = {}

    def add(kind: EventType, role: str, state: Any, summary: str, details: dict[str, Any]) -> None:
        nonlocal when
        when += timedelta(minutes=1)
        digest = state_digest(state)
        snapshots[digest.split(":", 1)[1]] = state_canonical(state)
        events.append(
            sign_event(
                record=rid, seq=len(events) + 1, event_type=kind, signer=signers[role], now=when,
                summary=summary, details=details, new_state_digest=digest,
                previous_digest=event_digest(events[-1]) if events else None,
            )
        )

    add(EventType.REGISTRATION, "archivist", state0, f"Registered {source.name} ({_GEN['profile']} profile)",
        {"profile": _GEN["profile"], "file": source.name, "encoding": source.encoding,
         "size": len(source.data), "notes": len(state0.notes)})
    start, end = locate_quote(source.text, "Kim II Sung", None, source=source.name)
    note = Note(id=next_note_id(state0.notes), kind="translation", text=f"Read: Kim Il Sung ({rid}).",
                target=make_target(source.text, source.name, start, end), event=2)
    state1 = state0.model_copy(update={"notes": [*state0.notes, note]})
    add(EventType.ANNOTATION, "translator", state1, "Translation note on 'Kim II Sung'",
        {"note": note.id, "kind": "translation", "file": source.name, "start": start, "end": end})
    state2 = state1.model_copy(update={"custodian": "Reading room"})
    add(EventType.CUSTODY_TRANSFER, "archivist", state2, "Custody transferred from Stacks to Reading room",
        {"from": "Stacks", "to": "Reading room"})
    add(EventType.REVIEW, "reviewer", state2, "Reviewed version 3: approved", {"outcome": "approved", "version": 3})
    add(EventType.RELEASE, "publisher", state2, "Released version 4", {"version": 4})
    for hex_digest, data in snapshots.items():
        _write(objects / hex_digest, data, 0o444)
    _write(record_dir / "manifest.json", manifest_bytes(Manifest(record=rid, state=state2, events=events)))


def _audit_chunk(indices: list[int]) -> int:
    for index in indices:
        _audit_record(index)
    return len(indices)


def audit_archive(records: int, log: Any) -> Path:
    """``bench/work/audit/archive``: ``records`` records of 5 events each."""
    import multiprocessing

    folder = WORK / "audit"
    params = {"records": records}
    if fresh(folder, params):
        return folder / "archive"
    folder.mkdir(parents=True)
    log(f"  making {records:,} records of 5 events (library functions, two processes)")
    archive, _ = archive_with_keys(folder / "archive")
    chunks = [list(range(i, min(i + 250, records))) for i in range(0, records, 250)]
    context = multiprocessing.get_context("fork")
    with context.Pool(2, _audit_setup, (str(archive.root),)) as pool:
        made = sum(pool.imap_unordered(_audit_chunk, chunks))
    assert made == records
    done(folder, params)
    return folder / "archive"


def sizes(quick: bool) -> dict[str, int]:
    if quick:
        return {"big": 128 << 20, "dossier": 2000, "bundles": 200, "records": 2000}
    return {"big": 1 << 30, "dossier": 10_000, "bundles": 1000, "records": 10_000}
