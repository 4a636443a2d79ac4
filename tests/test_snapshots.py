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


def _missing(objects: Path, event: Event, tmp_path: Path) -> tuple[list[Path], Event, dict[str, int]]:
    (objects / snapshot_hex(event)).unlink()
    return [objects], event, {}


def _damaged(objects: Path, event: Event, tmp_path: Path) -> tuple[list[Path], Event, dict[str, int]]:
    path = objects / snapshot_hex(event)
    path.write_bytes(path.read_bytes().replace(b"telegram", b"Telegram", 1))
    return [objects], event, {}


def _not_json(objects: Path, event: Event, tmp_path: Path) -> tuple[list[Path], Event, dict[str, int]]:
    return [objects], _pointing_at(event, b"{not json", objects), {}


def _not_an_object(objects: Path, event: Event, tmp_path: Path) -> tuple[list[Path], Event, dict[str, int]]:
    return [objects], _pointing_at(event, b"[]", objects), {}


def _not_a_state(objects: Path, event: Event, tmp_path: Path) -> tuple[list[Path], Event, dict[str, int]]:
    return [objects], _pointing_at(event, b'{"files": 3}', objects), {}


def _over_the_bound(objects: Path, event: Event, tmp_path: Path) -> tuple[list[Path], Event, dict[str, int]]:
    return [objects], event, {"max_bytes": 10}


def _no_place(objects: Path, event: Event, tmp_path: Path) -> tuple[list[Path], Event, dict[str, int]]:
    return [], event, {}


REFUSED = {
    "missing": (_missing, "not stored", "is not stored"),
    "damaged": (_damaged, "damaged", "is damaged"),
    "not-json": (_not_json, "cannot be read", "cannot be read"),
    "not-an-object": (_not_an_object, "cannot be read", "cannot be read"),
    "not-a-state": (_not_a_state, "cannot be read", "cannot be read"),
    "larger-than-max-bytes": (_over_the_bound, "not stored", "is not stored"),
    "no-place": (_no_place, "not stored", "is not stored"),
}


@pytest.mark.parametrize(("make", "reason", "words"), list(REFUSED.values()), ids=list(REFUSED))
def test_a_snapshot_that_cannot_be_used_is_refused_with_its_reason(
    ingested: World, tmp_path: Path, make: object, reason: str, words: str
) -> None:
    objects, event = _first(ingested)
    places, event, options = make(objects, event, tmp_path)  # type: ignore[operator]
    with pytest.raises(SnapshotError) as caught:
        read_snapshot(places, event, **options)
    assert caught.value.reason == reason and caught.value.seq == event.seq
    assert str(caught.value) == f"the state snapshot of version {event.seq} {words}"


def test_show_of_a_version_whose_snapshot_is_damaged_is_refused_with_record_corrupt(ingested: World) -> None:
    from provenance.errors import ErrorCode, StorageError
    from provenance.history import state_at

    objects, event = _first(ingested)
    (objects / snapshot_hex(event)).write_bytes(b"{}")
    with pytest.raises(StorageError) as caught:
        state_at(ingested.archive, "telegram-23256", 1)
    assert caught.value.code is ErrorCode.RECORD_CORRUPT
