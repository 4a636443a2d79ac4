"""Shared fixtures: real archives, real Ed25519 keys (cheap KDF rounds), real subprocess runs of the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provenance.archive import Archive
from provenance.history import Signer
from provenance.keys import generate_key, unlock
from provenance.model.events import Role

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
REFERENCE = CORPUS / "telegram-23256.txt"
PASSPHRASE = "correct horse battery staple"
T0 = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)


def provenance_bin() -> str:
    """The installed console script of the venv running the tests (never a shell shim)."""
    candidate = Path(sys.executable).parent / "provenance"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("provenance")
    assert found, "the provenance command is not installed (make setup)"
    return found


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.stdout)  # type: ignore[no-any-return]


@dataclass
class World:
    """A temporary archive with one key per role, usable from the library and through the CLI."""

    root: Path
    archive: Archive
    home: Path
    signers: dict[str, Signer]
    env: dict[str, str]
    clock: list[datetime]

    def tick(self, minutes: int = 1) -> datetime:
        self.clock[0] = self.clock[0] + timedelta(minutes=minutes)
        return self.clock[0]

    def run(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd: Path | None = None
    ) -> CliResult:
        """Run the installed CLI as a subprocess; asserts that no traceback ever reaches the user."""
        merged = dict(self.env)
        merged["PROVENANCE_NOW"] = self.tick().strftime("%Y-%m-%dT%H:%M:%SZ")
        if env:
            merged.update(env)
        proc = subprocess.run(
            [provenance_bin(), *args],
            capture_output=True,
            text=True,
            env=merged,
            timeout=timeout,
            cwd=cwd or self.root,
            stdin=subprocess.DEVNULL,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stdout, proc.stdout
        return CliResult(proc.returncode, proc.stdout, proc.stderr)


ROLE_NAMES = {
    "archivist": "A. Archivist",
    "translator": "T. Translator",
    "reviewer": "R. Reviewer",
    "publisher": "P. Publisher",
    "custodian": "C. Custodian",
}


def make_world(tmp: Path, names: dict[str, str] | None = None) -> World:
    """An archive with one key per role (``names``: role → name, default ``ROLE_NAMES``; empty: no keys)."""
    root = tmp / "archive"
    archive, _ = Archive.init(root)
    home = tmp / "home"
    signers = {}
    for role, name in (ROLE_NAMES if names is None else names).items():
        card = generate_key(
            archive,
            name=name,
            roles=[Role(role)],
            passphrase=PASSPHRASE.encode(),
            now=T0,
            rounds=1,
            home=home,
        )
        signers[role] = Signer(card=card, key=unlock(card, PASSPHRASE.encode(), home), role=Role(role))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PROVENANCE_") and k not in ("COLUMNS", "LINES")
    }
    env.update(PROVENANCE_HOME=str(home), PROVENANCE_PASSPHRASE=PASSPHRASE, PROVENANCE_ARCHIVE=str(root))
    return World(root=root, archive=archive, home=home, signers=signers, env=env, clock=[T0])


def bare_world(tmp: Path) -> World:
    """A second archive of its own (an outsider's, a publisher's): its own key home, no keys yet."""
    return make_world(tmp, names={})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stress tests run only when a marker expression names them (``make stress`` passes ``-m stress``)."""
    if "stress" in config.getoption("markexpr"):
        return
    deselected = [item for item in items if item.get_closest_marker("stress") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker("stress") is None]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path / "home"))
    yield make_world(tmp_path)


@pytest.fixture
def ingested(world: World) -> World:
    """The reference telegram registered by the archivist."""
    from provenance.ingest.service import ingest, read_transcription

    ingest(world.archive, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
    return world


def full_life(world: World) -> None:
    """The reference telegram through a full life, through the library (fast)."""
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    a = world.archive
    rid = "telegram-23256"
    if not a.has_record(rid):
        ingest(a, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
    t = world.signers["translator"]
    actions.add_note(
        a, rid, t, quote="Kim II Sung", text="Read: Kim Il Sung (OCR-like error).", now=world.tick()
    )
    actions.add_note(a, rid, t, quote="Syngmann Rhee", text="Usually spelled Syngman Rhee.", now=world.tick())
    actions.add_note(
        a, rid, t, quote="Gaeseong [Kaesong]", text="Two romanisations of one city.", now=world.tick()
    )
    actions.transfer_custody(
        a,
        rid,
        world.signers["archivist"],
        from_="Archive of the President",
        to="Wilson Center Digital Archive",
        now=world.tick(),
    )
    fixed = world.root.parent / "telegram-23256-fixed.txt"
    fixed.write_bytes(REFERENCE.read_bytes().replace(b"Kim II Sung", b"Kim Il Sung"))
    actions.revise(
        a,
        rid,
        world.signers["archivist"],
        source=fixed,
        reason="Kim II Sung is Kim Il Sung",
        now=world.tick(),
    )
    actions.review(
        a, rid, world.signers["reviewer"], note="Checked against the published translation", now=world.tick()
    )
    actions.release(a, rid, world.signers["publisher"], now=world.tick())


@pytest.fixture
def lived(world: World) -> World:
    full_life(world)
    return world


@pytest.fixture
def verify_folder() -> Callable[[World, str], object]:
    def run(w: World, record: str = "telegram-23256") -> object:
        from provenance.verify.record import verify_record_folder
        from provenance.verify.target import make_context

        ctx = make_context(w.archive.keys_dir, w.tick())
        return verify_record_folder(w.archive.record_dir(record), ctx)

    return run
