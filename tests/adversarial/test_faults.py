"""Faults: every writing command killed at a random moment, a full disk, a read-only archive, mixed writers.

* SIGKILL: each writing command (init, ingest, note, custody, revise, review, release, catalogue, attach,
  translate, keys generate / revoke / import, export) runs as a real subprocess and is killed after a
  random delay within the time it takes when left alone. Afterwards every record verifies ``trusted``, has
  the events it had or exactly one more, every key card parses, no card is left without its private key, and
  an export is absent or a bundle that verifies. The default suite kills each command once; ``make stress``
  runs ``$PROVENANCE_STRESS_TRIALS`` (200) trials spread over all of them.
* A full disk (a 1 MiB tmpfs, filled to several levels) and a read-only archive (a read-only bind mount as
  root, ``chmod -R a-w`` otherwise): each writing command fails with ``io.write-failed`` in one line and the
  archive is byte-for-byte as it was; reading commands still work on the read-only archive.
* Eight different writing commands on one record at once lose no event.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.archive import Archive
from provenance.keys import TrustStore, generate_key, private_key_path
from provenance.manifest_io import read_manifest
from provenance.model.events import Role
from provenance.model.problems import TrustState
from provenance.verify.record import verify_record_folder
from provenance.verify.target import make_context, verify_path
from tests.adversarial.forge import RID, outsider, write_card
from tests.conftest import PASSPHRASE, REFERENCE, World, make_world, provenance_bin
from tests.helpers import tree_snapshot

ARCHIVIST, TRANSLATOR, REVIEWER, PUBLISHER = "A. Archivist", "T. Translator", "R. Reviewer", "P. Publisher"


@dataclass
class Trial:
    """One run of a writing command: its arguments, and what it is expected to add if it completes."""

    args: list[str]
    adds_event_to: str | None = None
    output: Path | None = None  # export: the bundle it writes


Writer = Callable[[World, int, Path], Trial]


def _text(scratch: Path, name: str, data: bytes) -> str:
    path = scratch / name
    path.write_bytes(data)
    return str(path)


def _revise(w: World, n: int, scratch: Path) -> Trial:
    data = REFERENCE.read_bytes() + f"\n[Revision {n} {time.monotonic_ns()}]\n".encode()
    return Trial(
        ["revise", RID, _text(scratch, f"rev-{n}.txt", data), "--reason", f"trial {n}", "--key", ARCHIVIST],
        RID,
    )


def _revoke(w: World, n: int, scratch: Path) -> Trial:
    card = generate_key(
        w.archive,
        name=f"Revocable {n}",
        roles=[Role.CUSTODIAN],
        passphrase=PASSPHRASE.encode(),
        now=w.clock[0],
        rounds=1,
        home=w.home,
    )
    return Trial(["keys", "revoke", card.id, "--reason", "trial"])


def _import(w: World, n: int, scratch: Path) -> Trial:
    _key, card = outsider(f"Imported {n}", [Role.AUDITOR])
    return Trial(["keys", "import", str(write_card(scratch, card, f"card-{n}.json"))])


WRITERS: dict[str, Writer] = {
    "init": lambda w, n, s: Trial(["init", str(s / f"new-archive-{n}")]),
    "ingest": lambda w, n, s: Trial(["ingest", str(REFERENCE), "--id", f"t-{n}", "--key", ARCHIVIST]),
    "note": lambda w, n, s: Trial(
        ["note", RID, "--quote", "Syngmann Rhee", "--text", f"n{n}", "--key", TRANSLATOR], RID
    ),
    "custody": lambda w, n, s: Trial(
        ["custody", RID, "--from", "x", "--to", f"desk {n}", "--key", ARCHIVIST], RID
    ),
    "revise": _revise,
    "review": lambda w, n, s: Trial(["review", RID, "--note", f"r{n}", "--key", REVIEWER], RID),
    "release": lambda w, n, s: Trial(["release", RID, "--note", f"r{n}", "--key", PUBLISHER], RID),
    "catalogue": lambda w, n, s: Trial(
        ["catalogue", RID, "--set", f"title=Title {n}", "--key", ARCHIVIST], RID
    ),
    "attach": lambda w, n, s: Trial(
        ["attach", RID, _text(s, f"a-{n}.txt", b"attached\n"), "--as", "attachment", "--key", ARCHIVIST], RID
    ),
    "translate": lambda w, n, s: Trial(
        ["translate", RID, _text(s, f"tr-{n}.txt", b"translated\n"), "--to", "fr", "--key", ARCHIVIST], RID
    ),
    "keys generate": lambda w, n, s: Trial(
        ["keys", "generate", "--name", f"Generated {n}", "--role", "transcriber", "--kdf-rounds", "1"]
    ),
    "keys revoke": _revoke,
    "keys import": _import,
    "export": lambda w, n, s: Trial(
        ["export", RID, "--out", str(s / f"bundle-{n}.zip")], output=s / f"bundle-{n}.zip"
    ),
}


def _env(world: World) -> dict[str, str]:
    return dict(world.env, PROVENANCE_NOW=world.tick().strftime("%Y-%m-%dT%H:%M:%SZ"))


def _events(world: World) -> dict[str, int]:
    return {
        rid: len(read_manifest(world.archive.record_dir(rid)).events) for rid in world.archive.record_ids()
    }


def assert_archive_sound(world: World) -> None:
    """Every record trusted, every key card whole, every generated card with its private key."""
    ctx = make_context(world.archive.keys_dir, world.tick())
    for rid in world.archive.record_ids():
        report = verify_record_folder(world.archive.record_dir(rid), ctx)
        assert report.state is TrustState.TRUSTED, (rid, [p.to_json() for p in report.problems])
    for entry in world.archive.records_dir.iterdir():
        assert (entry / "manifest.json").is_file(), f"{entry} is a half-made record"
    store = TrustStore.load(world.archive.keys_dir)
    assert not store.rejected, store.rejected
    for card in store.cards.values():
        if card.name.startswith("Generated "):
            assert private_key_path(card.id, world.home).is_file(), f"{card.name} has no private key"


def kill_trial(world: World, name: str, n: int, scratch: Path, delay: float) -> str:
    """Run one trial of ``name``, SIGKILL it after ``delay`` seconds, check the archive; 'before' or 'after'."""
    trial = WRITERS[name](world, n, scratch)
    before = _events(world)
    cards_before = len(list(world.archive.keys_dir.glob("*.json")))
    proc = subprocess.Popen(
        [provenance_bin(), *trial.args],
        env=_env(world),
        cwd=world.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.kill()
    _, stderr = proc.communicate(timeout=60)
    assert b"Traceback" not in stderr, stderr
    finished = proc.returncode == 0
    assert_archive_sound(world)
    after = _events(world)
    if trial.adds_event_to is not None:
        grew = after[trial.adds_event_to] - before[trial.adds_event_to]
        assert grew in (0, 1), (name, grew)
        assert finished <= (grew == 1), "the command said it was done but no event was added"
    if trial.output is not None and trial.output.exists():
        report = verify_path(trial.output, make_context(world.archive.keys_dir, world.tick()))
        assert report.state is TrustState.TRUSTED, [p.to_json() for p in report.problems]
    if name == "init":
        target = scratch / f"new-archive-{n}"
        if (target / "provenance.toml").exists():
            json.dumps(Archive(target).config().policy, default=str)  # whole, parseable
    changed = after != before or len(list(world.archive.keys_dir.glob("*.json"))) != cards_before
    return "after" if changed or finished else "before"


def calibrate(world: World, scratch: Path, base: int = 10_000) -> dict[str, float]:
    """How long each command takes when left alone (and that it works at all)."""
    durations = {}
    for number, name in enumerate(WRITERS):
        trial = WRITERS[name](world, base + number, scratch)
        started = time.monotonic()
        result = subprocess.run(
            [provenance_bin(), *trial.args],
            env=_env(world),
            cwd=world.root,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        durations[name] = time.monotonic() - started
        assert result.returncode == 0, (name, result.stderr)
    assert_archive_sound(world)
    return durations


def kill_campaign(
    world: World, scratch: Path, trials: int, seed: int, *, measure: bool = True
) -> Counter[str]:
    """``trials`` kills, round robin over the commands; ``measure`` times each command first (else ~0.6 s)."""
    rng = random.Random(seed)
    durations = calibrate(world, scratch) if measure else dict.fromkeys(WRITERS, 0.6)
    names = list(WRITERS)
    outcomes: Counter[str] = Counter()
    for n in range(trials):
        name = names[n % len(names)]
        # half the kills aim at the end of the run, where the stage is written and swapped in
        low, high = (0.75, 1.05) if rng.random() < 0.5 else (0.0, 0.75)
        delay = rng.uniform(low * durations[name], high * durations[name])
        outcome = kill_trial(world, name, n, scratch, delay)
        outcomes[f"{name}:{outcome}"] += 1
        outcomes[outcome] += 1
    # and afterwards every command still works: no lock or stage is left in the way
    if measure:
        assert calibrate(world, scratch, base=20_000)
    else:
        result = subprocess.run(
            [provenance_bin(), *WRITERS["note"](world, 20_000, scratch).args],
            env=_env(world),
            cwd=world.root,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    return outcomes


def test_every_writing_command_killed_once(lived: World, tmp_path: Path) -> None:
    outcomes = kill_campaign(lived, tmp_path, len(WRITERS), seed=20260105, measure=False)
    assert outcomes["before"] + outcomes["after"] == len(WRITERS)


@pytest.mark.stress
def test_every_writing_command_killed_stress(
    lived: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trials = max(len(WRITERS), int(os.environ.get("PROVENANCE_STRESS_TRIALS", "200")))
    seed = int(os.environ.get("PROVENANCE_STRESS_SEED", time.time()))
    outcomes = kill_campaign(lived, tmp_path, trials, seed)
    with capsys.disabled():
        print(
            f"\nkill campaign (seed {seed}): {trials} trials, {outcomes['before']} killed before the commit, "
            f"{outcomes['after']} after; "
            + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()) if ":" in k)
        )
    assert outcomes["before"] + outcomes["after"] == trials
    if trials >= 100:
        assert outcomes["before"] and outcomes["after"], outcomes


# --- a full disk and a read-only archive ------------------------------------------------------------------------


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def small_disk(where: Path, size: str = "1m") -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    try:
        _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    except (subprocess.CalledProcessError, FileNotFoundError, PermissionError) as exc:
        pytest.skip(
            f"cannot mount a small tmpfs here ({exc}); the full-disk test needs root or CAP_SYS_ADMIN"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True, timeout=30)


def _fill(disk: Path, leave: int) -> None:
    """Fill the disk up to ``leave`` free bytes (tmpfs counts whole pages)."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        handle.write(b"\0" * max(0, free - leave))


FAILING_WRITES = [
    "ingest",
    "note",
    "custody",
    "revise",
    "review",
    "release",
    "catalogue",
    "attach",
    "translate",
    "keys generate",
    "keys revoke",
    "keys import",
]


def _snapshot(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """The archive as a reader sees it (locks aside: an flock file holds no data)."""
    return {k: v for k, v in tree_snapshot(root).items() if not k.startswith(".provenance")}


def full_disk_campaign(tmp_path: Path, levels: list[int]) -> Counter[str]:
    """Every failing-prone writer with the disk filled to leave each of ``levels`` bytes free."""
    with small_disk(tmp_path / "disk") as disk:
        from tests.conftest import full_life

        world = make_world(tmp_path / "w")  # private keys stay off the small disk
        full_life(world)
        origin = world.root
        world.root, world.archive = disk / "archive", Archive(disk / "archive")
        world.env["PROVENANCE_ARCHIVE"] = str(world.root)
        scratch = tmp_path / "scratch"
        scratch.mkdir()
        outcomes: Counter[str] = Counter()
        for leave in levels:
            (disk / "filler").unlink(missing_ok=True)
            shutil.rmtree(world.root, ignore_errors=True)  # each level starts from the same archive
            shutil.copytree(origin, world.root)
            for number, name in enumerate(FAILING_WRITES):
                trial = WRITERS[name](world, leave * 100 + number, scratch)
                _fill(disk, leave)
                before = _snapshot(world.root)
                result = subprocess.run(
                    [provenance_bin(), *trial.args, "--json"],
                    env=_env(world),
                    cwd=world.root,
                    capture_output=True,
                    text=True,
                    timeout=120,
                    stdin=subprocess.DEVNULL,
                    check=False,
                )
                assert "Traceback" not in result.stderr, result.stderr
                if result.returncode == 0:
                    outcomes["fitted"] += 1
                else:
                    assert result.returncode == 2, (name, leave, result.stderr)
                    assert json.loads(result.stdout)["error"]["code"] == "io.write-failed", (
                        name,
                        leave,
                        result.stdout,
                    )
                    assert len(result.stderr.strip().splitlines()) == 1
                    after = _snapshot(world.root)
                    assert after == before, (name, leave, set(after) ^ set(before))
                    outcomes["refused"] += 1
                (disk / "filler").unlink(missing_ok=True)
                assert_archive_sound(world)
        return outcomes


def test_full_disk_gives_a_clear_error_and_leaves_the_archive_as_it_was(tmp_path: Path) -> None:
    outcomes = full_disk_campaign(tmp_path, [0, 12288])
    assert outcomes["refused"] >= len(FAILING_WRITES), outcomes  # at least the completely full disk


@pytest.mark.stress
def test_full_disk_stress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = full_disk_campaign(tmp_path, list(range(0, 96 * 1024 + 1, 4096)))
    with capsys.disabled():
        print(f"\nfull disk: {outcomes['refused']} writes refused cleanly, {outcomes['fitted']} fitted")
    assert outcomes["refused"] >= len(FAILING_WRITES)


@contextlib.contextmanager
def read_only(root: Path, view: Path) -> Iterator[Path]:
    """``root`` seen read-only at ``view``: a read-only bind mount as root, ``chmod -R a-w`` otherwise."""
    if os.geteuid() != 0:
        shutil.copytree(root, view, symlinks=True)
        for path in [view, *view.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o222)
        yield view
        return
    view.mkdir()
    try:
        _mount("--bind", str(root), str(view))
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"cannot bind-mount here ({exc})")
    try:
        _mount("-o", "remount,bind,ro", str(view))
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False, capture_output=True, timeout=30)


def test_read_only_archive_gives_a_clear_error_and_reads_still_work(lived: World, tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    lived.run("keys", "generate", "--name", "Revocable", "--role", "custodian", "--kdf-rounds", "1")
    with read_only(lived.root, tmp_path / "ro") as view:
        before = _snapshot(view)
        for number, name in enumerate(FAILING_WRITES):
            if name == "keys revoke":
                trial = Trial(["keys", "revoke", "Revocable"])
            else:
                trial = WRITERS[name](lived, 500 + number, scratch)
            result = subprocess.run(
                [provenance_bin(), *trial.args, "--json"],
                env=dict(_env(lived), PROVENANCE_ARCHIVE=str(view)),
                cwd=view,
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            assert result.returncode == 2, (name, result.stdout, result.stderr)
            assert json.loads(result.stdout)["error"]["code"] == "io.write-failed", (name, result.stdout)
            assert len(result.stderr.strip().splitlines()) == 1
        assert _snapshot(view) == before
        for args in (
            ["verify", str(view / "records" / RID)],
            ["audit"],
            ["show", RID],
            ["log", RID],
            ["diff", RID, "1", "2"],
            ["keys", "list"],
        ):
            result = subprocess.run(
                [provenance_bin(), *args],
                env=dict(_env(lived), PROVENANCE_ARCHIVE=str(view)),
                cwd=view,
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            assert result.returncode == 0, (args, result.stderr)


# --- eight different writers on one record at once ----------------------------------------------------------------


def test_eight_different_writing_commands_at_once_lose_no_event(lived: World, tmp_path: Path) -> None:
    names = ["note", "note", "custody", "custody", "review", "catalogue", "attach", "release"]
    before = _events(lived)[RID]
    env = _env(lived)
    trials = [WRITERS[name](lived, 900 + n, tmp_path) for n, name in enumerate(names)]
    procs = [
        subprocess.Popen(
            [provenance_bin(), *t.args],
            env=env,
            cwd=lived.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        for t in trials
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err.decode()
    assert_archive_sound(lived)
    manifest = read_manifest(lived.archive.record_dir(RID))
    assert len(manifest.events) == before + len(names)
    assert [e.seq for e in manifest.events] == list(range(1, before + len(names) + 1))
    assert Counter(e.type.value for e in manifest.events[before:]) == Counter(
        {
            "annotation": 2,
            "custody-transfer": 2,
            "review": 1,
            "metadata-change": 1,
            "attachment": 1,
            "release": 1,
        }
    )
