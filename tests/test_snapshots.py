"""The one reading of a stored state snapshot (provenance/snapshots.py): found, hashed, parsed, or refused
with the reason each caller turns into its own message."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from provenance.archive import OBJECTS_DIR
from provenance.manifest_io import read_manifest
from provenance.model.manifest import Event
from provenance.snapshots import SnapshotError, read_snapshot, snapshot_hex
from tests.conftest import World


def _first(world: World) -> tuple[Path, Event]:
    record_dir = world.archive.record_dir("telegram-23256")
    return record_dir / OBJECTS_DIR, read_manifest(record_dir).events[0]


def _pointing_at(event: Event, data: bytes, folder: Path) -> Event:
    digest = hashlib.sha256(data).hexdigest()
    (folder / digest).write_bytes(data)
    return event.model_copy(update={"state_digest": f"sha256:{digest}"})


def test_an_intact_snapshot_is_read_with_its_bytes_json_and_state(ingested: World) -> None:
    objects, event = _first(ingested)
    snapshot = read_snapshot(objects, event)
    assert hashlib.sha256(snapshot.data).hexdigest() == snapshot_hex(event)
    assert snapshot.raw["files"][0]["path"] == snapshot.state.files[0].path


def test_the_first_place_holding_it_intact_is_used(ingested: World, tmp_path: Path) -> None:
    objects, event = _first(ingested)
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / snapshot_hex(event)).write_bytes(b"{}")
    assert read_snapshot([tmp_path / "absent", damaged, objects], event).state.files


def _prepare(case: str, objects: Path, event: Event) -> tuple[list[Path], Event, dict[str, int]]:
    """The folders, the event and the options that make ``case``."""
    path = objects / snapshot_hex(event)
    if case == "missing":
        path.unlink()
    elif case == "damaged":
        path.write_bytes(path.read_bytes().replace(b"telegram", b"Telegram", 1))
    elif case in NOT_A_STATE:
        event = _pointing_at(event, NOT_A_STATE[case], objects)
    return ([] if case == "no-place" else [objects]), event, ({"max_bytes": 10} if case == "too-large" else {})


NOT_A_STATE = {"not-json": b"{not json", "not-an-object": b"[]", "not-a-state": b'{"files": 3}'}
REFUSED = {
    "missing": ("not stored", "is not stored"),
    "damaged": ("damaged", "is damaged"),
    "not-json": ("cannot be read", "cannot be read"),
    "not-an-object": ("cannot be read", "cannot be read"),
    "not-a-state": ("cannot be read", "cannot be read"),
    "too-large": ("not stored", "is not stored"),
    "no-place": ("not stored", "is not stored"),
}


@pytest.mark.parametrize(("case", "reason", "words"), [(k, *v) for k, v in REFUSED.items()], ids=list(REFUSED))
def test_a_snapshot_that_cannot_be_used_is_refused_with_its_reason(
    ingested: World, case: str, reason: str, words: str
) -> None:
    objects, event = _first(ingested)
    places, event, options = _prepare(case, objects, event)
    with pytest.raises(SnapshotError) as caught:
        read_snapshot(places, event, **options)
    assert caught.value.reason == reason and caught.value.seq == event.seq
    assert str(caught.value) == f"the state snapshot of version {event.seq} {words}"


def test_show_of_a_version_whose_snapshot_is_damaged_is_refused_with_record_corrupt(ingested: World) -> None:
    from provenance.errors import ErrorCode, InputError
    from provenance.history import state_at

    objects, event = _first(ingested)
    (objects / snapshot_hex(event)).write_bytes(b"{}")
    with pytest.raises(InputError) as caught:  # record.corrupt is an InputError (errors.ERROR_CLASS)
        state_at(ingested.archive, "telegram-23256", 1)
    assert caught.value.code is ErrorCode.RECORD_CORRUPT
