"""What an attacker does to a record, written once: read and write a manifest, re-sign, re-chain, forge keys.

The signing here goes through the same public pieces an attacker could use (``event_signing_bytes`` and an
Ed25519 key); nothing reaches into the verifier. Every function works on plain JSON (``Doc``), the way an
attacker edits a file.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from provenance.archive import Archive
from provenance.canonical import canonical_bytes, dumps_pretty
from provenance.keys import b64url
from provenance.manifest_io import event_digest, event_signing_bytes, state_digest
from provenance.model.events import Role
from provenance.model.keycard import KeyCard
from provenance.model.manifest import SIGNED_EVENT_FIELDS
from provenance.signing import SigningKey
from tests.conftest import T0, CliResult, World

Doc = dict[str, Any]
RID = "telegram-23256"


def record_dir(world: World, record: str = RID) -> Path:
    return world.archive.record_dir(record)


def load(world: World, record: str = RID) -> Doc:
    data: Doc = json.loads((record_dir(world, record) / "manifest.json").read_bytes())
    return data


def save(world: World, doc: Doc, record: str = RID) -> None:
    (record_dir(world, record) / "manifest.json").write_bytes(dumps_pretty(doc))


def sign(event: Doc, key: SigningKey) -> Doc:
    """``event`` signed by ``key`` (its ``key`` field is left as it is: a liar may name another key)."""
    fields = {name: event[name] for name in SIGNED_EVENT_FIELDS}
    return {**event, "signature": b64url(key.sign(event_signing_bytes(fields)))}


def rechain(doc: Doc, keys: dict[str, SigningKey], start: int = 0) -> Doc:
    """Re-link every event from ``start`` on and re-sign those whose key the attacker holds (``keys``)."""
    events = doc["events"]
    for index in range(start, len(events)):
        event = dict(events[index])
        event["previous_digest"] = event_digest(events[index - 1]) if index else None
        if event["key"] in keys:
            event = sign(event, keys[event["key"]])
        events[index] = event
    return doc


def commit_state(world: World, doc: Doc, record: str = RID) -> Doc:
    """Store the current state's snapshot object and point the last event at it (digests consistent)."""
    data = canonical_bytes(doc["state"])
    hex_digest = hashlib.sha256(data).hexdigest()
    path = record_dir(world, record) / "objects" / "sha256" / hex_digest
    if not path.exists():
        path.write_bytes(data)
    doc["events"][-1]["state_digest"] = state_digest(doc["state"])
    return doc


def outsider(name: str, roles: list[Role], *, seed: bytes | None = None) -> tuple[SigningKey, KeyCard]:
    """A key nobody trusts, with a well-formed card (``name`` may copy a trusted signer's name)."""
    key = SigningKey.from_seed(seed) if seed else SigningKey.generate()
    card = KeyCard(
        id=key.key_id,
        public_key=b64url(key.public_bytes()),
        name=name,
        roles=roles,
        valid_from="2026-01-01T00:00:00Z",
    )
    return key, card


def write_card(folder: Path, card: KeyCard | Doc, name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = card.as_json() if isinstance(card, KeyCard) else card
    path = folder / (name or f"{str(doc['id'])[8:20]}.json")
    path.write_bytes(dumps_pretty(doc))
    return path


def keys_of(world: World) -> dict[str, SigningKey]:
    """The private keys of every signer of the world (an insider, or a thief who took them all)."""
    return {signer.card.id: signer.key for signer in world.signers.values()}


def make_writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_file() and not path.is_symlink():
            path.chmod(0o644)


def second_record(world: World, record: str = "telegram-4471") -> str:
    """Register another corpus telegram in the same archive, and give it a note (two events)."""
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription
    from tests.conftest import CORPUS

    source = read_transcription(CORPUS / "synthetic-telegram-4471.txt")
    ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=record)
    text = (record_dir(world, record) / "files" / "synthetic-telegram-4471.txt").read_text("utf-8")
    quote = text.split()[10]
    actions.add_note(
        world.archive,
        record,
        world.signers["translator"],
        quote=quote,
        text="x",
        now=world.tick(),
        occurrence=1,
    )
    return record


def run_in_process(world: World, *args: str, cwd: Path | None = None) -> CliResult:
    """The CLI's ``main()`` in this process, with the world's environment: the same code path as the
    command, without the interpreter start-up (used where a table runs the verifier many times)."""
    import contextlib
    import io
    import os

    from provenance.cli.app import main

    env = dict(world.env)
    env["PROVENANCE_NOW"] = world.tick().strftime("%Y-%m-%dT%H:%M:%SZ")
    saved = dict(os.environ)
    old_cwd = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.clear()
        os.environ.update(env)
        os.chdir(cwd or world.root)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = int(exc.code or 0)
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(saved)
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return CliResult(code, out.getvalue(), err.getvalue())


def verify(world: World, target: Path, *extra: str) -> tuple[int, Doc, set[str]]:
    """``provenance verify TARGET --json`` through the CLI: (exit code, report, problem codes)."""
    result = run_in_process(world, "verify", str(target), "--json", *extra)
    report = result.json()
    return result.returncode, report, {p["code"] for p in report["problems"]}


def copy_archive(world: World, dst: Path) -> Archive:
    shutil.copytree(world.root, dst, symlinks=True)
    return Archive(dst)


__all__ = [
    "RID",
    "T0",
    "Doc",
    "commit_state",
    "copy_archive",
    "keys_of",
    "load",
    "make_writable",
    "outsider",
    "rechain",
    "record_dir",
    "save",
    "second_record",
    "sign",
    "verify",
    "write_card",
]
