"""OCFL 1.1: objects and storage roots that ocfl-py passes without error or warning, a lossless round trip
through ``import --ocfl``, tampered objects refused with the problem named, and the OCFL/fixtures objects."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance import actions
from provenance.archive import Archive
from provenance.errors import ProvenanceError
from provenance.exports.mets import mets_bytes
from provenance.exports.ocfl import export_ocfl, object_id, object_path
from provenance.exports.premis import premis_bytes
from provenance.exports.source import load_record
from provenance.imports.ocfl import import_ocfl
from provenance.ingest.service import ingest, read_transcription
from tests.conftest import DATA, REFERENCE, World, make_world
from tests.helpers import RID, make_writable, run_in_process, tree_snapshot
from tests.preservation_helpers import mets_errors, ocfl_object_messages, ocfl_root_messages, premis_errors

FIXTURES = DATA / "ocfl-fixtures" / "1.1"


def _object(root: Path, record: str = RID) -> Path:
    return root / object_path(object_id(record))


def _fresh_archive(tmp: Path, keys_from: Archive | None) -> Archive:
    archive, _ = Archive.init(tmp)
    if keys_from is not None:
        for card in keys_from.keys_dir.iterdir():
            shutil.copy(card, archive.keys_dir / card.name)
    return archive


def _rewrite_inventory(obj: Path, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    """An attacker who rewrites the inventory consistently: new inventory, matching sidecar."""
    inventory = json.loads((obj / "inventory.json").read_bytes())
    change(inventory)
    data = json.dumps(inventory, indent=2, sort_keys=True).encode() + b"\n"
    (obj / "inventory.json").write_bytes(data)
    (obj / "inventory.json.sha512").write_text(f"{hashlib.sha512(data).hexdigest()}  inventory.json\n")


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Path]:
    """The reference telegram through its whole life, exported once as an OCFL object (tests copy it)."""
    from tests.conftest import full_life

    world = make_world(tmp_path_factory.mktemp("exported"))
    full_life(world)
    root = world.root.parent / "ocfl"
    export_ocfl(world.archive, RID, root)
    return world, _object(root)


def test_reference_record_object_passes_ocfl_py_and_round_trips(lived: World, tmp_path: Path) -> None:
    root = tmp_path / "ocfl"
    result = export_ocfl(lived.archive, RID, root)
    obj = _object(root)
    assert result.versions == 8 and obj.is_dir()
    ok, messages = ocfl_object_messages(obj)
    assert ok and messages == "", messages
    ok, messages, count = ocfl_root_messages(root)
    assert ok and messages == "" and count == 1, messages
    inventory = json.loads((obj / "inventory.json").read_bytes())
    v6 = inventory["versions"]["v6"]
    assert v6["message"].startswith("Revised telegram-23256.txt")
    assert v6["user"] == {
        "name": "A. Archivist",
        "address": "urn:provenance:key:" + lived.signers["archivist"].card.id,
    }
    assert all(len(d) == 128 for d in inventory["manifest"]) and set(inventory["fixity"]) == {"sha256"}
    # the round trip: the same record, byte for byte, trusted, with the same head
    other = _fresh_archive(tmp_path / "other", lived.archive)
    report = import_ocfl(other, obj, now=lived.tick())
    assert str(report.state) == "trusted", [p.to_json() for p in report.problems]
    original = load_record(lived.archive, RID)
    assert report.head == original.head
    # earlier versions hold the manifest exactly as the tool wrote it then (the head's is rebuilt identically)
    assert original.rebuilt_manifest(8) == original.manifest_bytes
    assert tree_snapshot(other.record_dir(RID)) == tree_snapshot(lived.archive.record_dir(RID))


def test_ocfl_export_is_deterministic_and_into_adds_only_new_versions(lived: World, tmp_path: Path) -> None:
    export_ocfl(lived.archive, RID, tmp_path / "a")
    export_ocfl(lived.archive, RID, tmp_path / "b")
    assert tree_snapshot(tmp_path / "a") == tree_snapshot(tmp_path / "b")
    # one more event: --into brings the object up to date with one version, and then there is nothing to add
    actions.review(lived.archive, RID, lived.signers["reviewer"], note="second look", now=lived.tick())
    first = export_ocfl(lived.archive, RID, tmp_path / "a", into=True)
    assert (first.versions, first.added_versions) == (9, 1)
    again = export_ocfl(lived.archive, RID, tmp_path / "a", into=True)
    assert again.added_versions == 0
    ok, messages = ocfl_object_messages(_object(tmp_path / "a"))
    assert ok and messages == "", messages
    export_ocfl(lived.archive, RID, tmp_path / "c")
    assert tree_snapshot(tmp_path / "a") == tree_snapshot(tmp_path / "c")


def test_storage_root_of_many_records_passes_ocfl_py(world: World, tmp_path: Path) -> None:
    source = read_transcription(REFERENCE)
    ids = [f"telegram-{n}" for n in range(12)]
    for rid in ids:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    root = tmp_path / "root"
    export_ocfl(world.archive, ids[0], root)
    for rid in ids[1:-1]:
        export_ocfl(world.archive, rid, root, into=True)
    result = world.run("export", ids[-1], "--format", "ocfl", "--into", str(root), "--json")
    assert result.returncode == 0, result.stderr
    assert result.json()["object"] == object_path(object_id(ids[-1]))
    ok, messages, count = ocfl_root_messages(root)
    assert ok and messages == "" and count == 12, messages
    assert (
        json.loads((root / "ocfl_layout.json").read_bytes())["extension"]
        == "0004-hashed-n-tuple-storage-layout"
    )


def test_concurrent_exports_into_one_root(world: World, tmp_path: Path) -> None:
    """Three exporters into one storage root at once: each waits for the root's lock, every object lands."""
    import subprocess

    from tests.conftest import provenance_bin

    source = read_transcription(REFERENCE)
    ids = ["telegram-a", "telegram-b", "telegram-c", "telegram-d"]
    for rid in ids:
        ingest(world.archive, source, world.signers["archivist"], now=world.tick(), record_id=rid)
    root = tmp_path / "root"
    export_ocfl(world.archive, ids[0], root)
    env = {**world.env, "PROVENANCE_NOW": world.tick().strftime("%Y-%m-%dT%H:%M:%SZ")}
    procs = [
        subprocess.Popen(
            [provenance_bin(), "export", rid, "--format", "ocfl", "--into", str(root)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        for rid in ids[1:]
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    ok, messages, count = ocfl_root_messages(root)
    assert ok and messages == "" and count == 4, messages


def test_round_trip_through_the_installed_cli(lived: World, tmp_path: Path) -> None:
    root = tmp_path / "ocfl"
    assert lived.run("export", RID, "--format", "ocfl", "--out", str(root)).returncode == 0
    head = lived.run("verify", str(lived.archive.record_dir(RID)), "--json").json()["head"]
    other = _fresh_archive(tmp_path / "other", lived.archive)
    result = lived.run("import", "--ocfl", str(_object(root)), "--archive", str(other.root), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.json()["state"] == "trusted" and result.json()["head"] == head
    check = lived.run("verify", str(other.record_dir(RID)), "--archive", str(other.root), "--json")
    assert check.returncode == 0 and check.json()["head"] == head
    again = lived.run("import", "--ocfl", str(_object(root)), "--archive", str(other.root))
    assert again.returncode == 2 and again.stderr.strip().endswith("[record.exists]")


def test_import_without_the_signers_cards_is_valid_not_trusted(lived: World, tmp_path: Path) -> None:
    root = tmp_path / "ocfl"
    export_ocfl(lived.archive, RID, root)
    other = _fresh_archive(tmp_path / "other", None)
    result = lived.run("import", "--ocfl", str(_object(root)), "--archive", str(other.root), "--json")
    assert result.returncode == 3
    codes = {p["code"] for p in result.json()["problems"]}
    assert codes <= {"signer.unknown", "trust.empty"} and "signer.unknown" in codes
    assert other.has_record(RID)  # intact and signed: imported; the cards inside the object were not trusted
    assert list(other.keys_dir.iterdir()) == []


def _content(obj: Path, logical: str, version: str = "v8") -> Path:
    inventory = json.loads((obj / "inventory.json").read_bytes())
    for digest, paths in inventory["versions"][version]["state"].items():
        if logical in paths:
            return obj / inventory["manifest"][digest][0]
    raise AssertionError(logical)


def _alter_content(obj: Path) -> None:
    path = _content(obj, "files/telegram-23256.txt", "v1")
    path.write_bytes(path.read_bytes().replace(b"Kim II Sung", b"Kim Jong Il", 1))


def _alter_inventory(obj: Path) -> None:
    data = (obj / "inventory.json").read_bytes()
    (obj / "inventory.json").write_bytes(data.replace(b"Revised", b"Rewrote", 1))


def _remove_content(obj: Path) -> None:
    _content(obj, "provenance/manifest.json", "v3").unlink()


def _extra_content(obj: Path) -> None:
    (obj / "v2" / "content" / "smuggled.txt").write_bytes(b"not listed")


def _symlinked_content(obj: Path) -> None:
    """A content file replaced by a link to the same bytes elsewhere: a reader must not follow it."""
    path = _content(obj, "files/telegram-23256.txt", "v1")
    outside = obj.parent / "outside.txt"
    outside.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(outside)


def _no_declaration(obj: Path) -> None:
    (obj / "0=ocfl_object_1.1").unlink()


def _forged_manifest(obj: Path) -> None:
    """Alter the signed manifest and rewrite the inventory to match: OCFL is satisfied, the signatures are not."""
    path = _content(obj, "provenance/manifest.json")
    data = path.read_bytes().replace(b"Released version", b"Withdrawn version", 1)
    path.write_bytes(data)
    new512, new256 = hashlib.sha512(data).hexdigest(), hashlib.sha256(data).hexdigest()
    rel = path.relative_to(obj).as_posix()

    def change(inventory: dict) -> None:  # type: ignore[type-arg]
        for table in (inventory["manifest"], inventory["fixity"]["sha256"]):
            for digest in [d for d, paths in table.items() if rel in paths]:
                del table[digest]
        inventory["versions"]["v8"]["message"] = (
            "Withdrawn version 7"  # the forger keeps the OCFL layer consistent
        )
        inventory["manifest"][new512] = [rel]
        inventory["fixity"]["sha256"][new256] = [rel]
        for version in inventory["versions"].values():
            for digest in [
                d
                for d, paths in version["state"].items()
                if "provenance/manifest.json" in paths and d not in inventory["manifest"]
            ]:
                version["state"][new512] = version["state"].pop(digest)

    _rewrite_inventory(obj, change)


def _truncated_history(obj: Path) -> None:
    """Drop the last version from the inventory: the head manifest then has more events than versions."""

    def change(inventory: dict) -> None:  # type: ignore[type-arg]
        v8 = inventory["versions"].pop("v8")
        inventory["head"] = "v7"
        inventory["versions"]["v7"]["state"] = v8["state"]

    _rewrite_inventory(obj, change)


def _rewritten_message(obj: Path) -> None:
    """The OCFL layer is unsigned: a version message that says otherwise than the signed event is caught."""

    def change(inventory: dict) -> None:  # type: ignore[type-arg]
        inventory["versions"]["v8"]["message"] = "Withdrawn"

    _rewrite_inventory(obj, change)


TAMPER = [
    (_rewritten_message, "ocfl.version-mismatch"),
    (_alter_content, "ocfl.content-digest-mismatch"),
    (_alter_inventory, "ocfl.inventory-digest-mismatch"),
    (_remove_content, "ocfl.content-missing"),
    (_extra_content, "ocfl.content-unexpected"),
    (_no_declaration, "ocfl.not-an-object"),
    (_symlinked_content, "ocfl.content-missing"),
    (_forged_manifest, "event.signature-invalid"),
    (_truncated_history, "ocfl.version-mismatch"),
]


@pytest.mark.parametrize(("tamper", "code"), TAMPER, ids=[t.__name__.strip("_") for t, _ in TAMPER])
def test_a_tampered_object_is_refused_with_the_problem_named(
    exported: tuple[World, Path], tmp_path: Path, tamper: Callable[[Path], None], code: str
) -> None:
    world, original = exported
    obj = tmp_path / "ocfl" / original.name
    shutil.copytree(original, obj)
    make_writable(obj)
    tamper(obj)
    other = _fresh_archive(tmp_path / "other", world.archive)
    report = import_ocfl(other, obj, now=world.tick())
    assert str(report.state) == "invalid"
    assert code in {str(p.code) for p in report.problems}, [p.to_json() for p in report.problems]
    assert other.record_ids() == []
    leftovers = list((other.work_dir / "tmp").iterdir()) if (other.work_dir / "tmp").exists() else []
    assert leftovers == []


def test_a_tampered_object_through_the_cli(exported: tuple[World, Path], tmp_path: Path) -> None:
    world, original = exported
    obj = tmp_path / original.name
    shutil.copytree(original, obj)
    make_writable(obj)
    _alter_content(obj)
    result = world.run("import", "--ocfl", str(obj), "--json")
    assert result.returncode == 1
    problem = result.json()["problems"][0]
    assert problem["code"] == "ocfl.content-digest-mismatch" and problem["path"].startswith(
        "v1/content/files/"
    )
    plain = world.run("import", "--ocfl", str(obj))
    assert plain.returncode == 1 and "ocfl.content-digest-mismatch" in plain.stdout


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("good-objects/spec-ex-full", "ocfl.not-a-record"),
        ("good-objects/minimal_one_version_one_file", "ocfl.not-a-record"),
        ("bad-objects/E092_content_file_digest_mismatch", "ocfl.content-digest-mismatch"),
        ("bad-objects/E060_E064_root_inventory_digest_mismatch", "ocfl.inventory-digest-mismatch"),
        ("bad-objects/E093_fixity_digest_mismatch", "ocfl.content-digest-mismatch"),
        ("bad-objects/E058_no_sidecar", "ocfl.inventory-invalid"),
        ("bad-objects/E092_E093_content_path_does_not_exist", "ocfl.content-missing"),
        ("bad-objects/E025_wrong_digest_algorithm", "ocfl.inventory-invalid"),
    ],
)
def test_ocfl_fixtures(world: World, fixture: str, code: str) -> None:
    """Valid objects are read and found intact (but hold no record); invalid ones are refused as OCFL."""
    report = import_ocfl(world.archive, FIXTURES / fixture, now=world.tick())
    assert [str(p.code) for p in report.problems] == [code]
    if fixture.startswith("good"):
        assert report.checks[0].ok  # the OCFL layer passed
        ok, messages = ocfl_object_messages(FIXTURES / fixture)
        assert ok, messages
    assert world.archive.record_ids() == []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--format", "ocfl", "--into", "{tmp}"], "usage.invalid"),  # not a storage root
        (["--format", "ocfl", "--into", "{tmp}/missing"], "input.not-found"),
        (["--format", "ocfl", "--out", "{tmp}"], "output.exists"),
        (["--format", "ocfl", "--out", "{tmp}/a", "--into", "{tmp}"], "usage.invalid"),
    ],
)
def test_ocfl_export_refusals(ingested: World, tmp_path: Path, args: list[str], code: str) -> None:
    result = run_in_process(ingested, "export", RID, *[a.format(tmp=tmp_path) for a in args], "--json")
    assert result.returncode == 2 and result.json()["error"]["code"] == code


def test_into_refuses_an_object_that_is_not_an_earlier_export(ingested: World, tmp_path: Path) -> None:
    root = tmp_path / "ocfl"
    export_ocfl(ingested.archive, RID, root)
    inventory = _object(root) / "inventory.json"
    make_writable(_object(root))
    inventory.write_bytes(inventory.read_bytes().replace(b"Registered", b"Something else", 1))
    before = tree_snapshot(root)
    result = run_in_process(ingested, "export", RID, "--format", "ocfl", "--into", str(root), "--json")
    assert result.returncode == 2 and result.json()["error"]["code"] == "output.exists"
    assert tree_snapshot(root) == before


def test_import_of_a_missing_path(world: World, tmp_path: Path) -> None:
    result = world.run("import", "--ocfl", str(tmp_path / "nope"), "--json")
    assert result.returncode == 1 and result.json()["problems"][0]["code"] == "path.not-found"


# ---- random histories: every format valid, the OCFL round trip lossless

STEPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("note"),
            st.sampled_from(["Kim II Sung", "Syngmann Rhee", "Gaeseong"]),
            st.text(min_size=1, max_size=40),
        ),
        st.tuples(st.just("custody"), st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20)),
        st.tuples(
            st.just("revise"),
            st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
            st.just(""),
        ),
        st.tuples(st.just("review"), st.text(max_size=20), st.just("")),
        st.tuples(st.just("metadata"), st.text(min_size=1, max_size=30), st.just("")),
    ),
    max_size=5,
)


def _step(world: World, tmp: Path, n: int, kind: str, first: str, second: str) -> None:
    a = world.archive
    if kind == "note":
        actions.add_note(a, RID, world.signers["translator"], quote=first, text=second, now=world.tick())
    elif kind == "custody":
        actions.transfer_custody(a, RID, world.signers["archivist"], from_=first, to=second, now=world.tick())
    elif kind == "revise":
        text = tmp / f"rev-{n}.txt"
        text.write_bytes(REFERENCE.read_bytes() + first.encode("utf-8"))
        actions.revise(
            a, RID, world.signers["archivist"], source=text, reason=f"add {first!r}", now=world.tick()
        )
    elif kind == "review":
        actions.review(a, RID, world.signers["reviewer"], note=first or None, now=world.tick())
    else:
        actions.change_metadata(
            a, RID, world.signers["archivist"], changes={"rights": first}, reason=None, now=world.tick()
        )


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_random_histories_export_valid_and_round_trip(steps: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        world = make_world(Path(tmp))
        a = world.archive
        ingest(a, read_transcription(REFERENCE), world.signers["archivist"], now=world.tick())
        for n, (kind, first, second) in enumerate(steps):
            try:
                _step(world, Path(tmp), n, kind, first, second)
            except ProvenanceError:
                continue  # an input the tool refuses (the record is left as it was)
        rec = load_record(a, RID, now=world.tick())
        assert premis_errors(premis_bytes(rec)) == []
        assert premis_errors(premis_bytes(rec, for_archivematica=True)) == []
        assert mets_errors(mets_bytes(rec)) == []
        root = Path(tmp) / "ocfl"
        export_ocfl(a, RID, root)
        ok, messages = ocfl_object_messages(_object(root))
        assert ok and messages == "", messages
        other = _fresh_archive(Path(tmp) / "other", a)
        report = import_ocfl(other, _object(root), now=world.tick())
        assert str(report.state) == "trusted", [p.to_json() for p in report.problems]
        assert report.head == rec.head
        assert tree_snapshot(other.record_dir(RID)) == tree_snapshot(a.record_dir(RID))


def _set(key: str, value: object) -> Callable[[dict], None]:  # type: ignore[type-arg]
    def change(inventory: dict) -> None:  # type: ignore[type-arg]
        if value is None:
            del inventory[key]
        else:
            inventory[key] = value

    return change


def _first_manifest_entry(change: Callable[[str, list[str], dict], None]) -> Callable[[dict], None]:  # type: ignore[type-arg]
    def apply(inventory: dict) -> None:  # type: ignore[type-arg]
        digest = sorted(inventory["manifest"])[0]
        change(digest, inventory["manifest"][digest], inventory)

    return apply


def _swap_digest(digest: str, paths: list[str], inventory: dict) -> None:  # type: ignore[type-arg]
    inventory["manifest"]["A" * 128] = inventory["manifest"].pop(digest)


def _escape(digest: str, paths: list[str], inventory: dict) -> None:  # type: ignore[type-arg]
    paths[0] = "v1/content/../../../etc/passwd"


def _outside_content(digest: str, paths: list[str], inventory: dict) -> None:  # type: ignore[type-arg]
    paths[0] = "v1/elsewhere/file.txt"


def _twice(digest: str, paths: list[str], inventory: dict) -> None:  # type: ignore[type-arg]
    other = sorted(inventory["manifest"])[1]
    inventory["manifest"][other] = [paths[0]]


def _dangling_state(inventory: dict) -> None:  # type: ignore[type-arg]
    inventory["versions"]["v1"]["state"]["0" * 128] = ["files/ghost.txt"]


def _no_state(inventory: dict) -> None:  # type: ignore[type-arg]
    del inventory["versions"]["v2"]["state"]


MALFORMED = [
    ("no-id", _set("id", None)),
    ("wrong-type", _set("type", "https://ocfl.io/9.9/spec/#inventory")),
    ("sha256-algorithm", _set("digestAlgorithm", "sha256")),
    ("other-content-directory", _set("contentDirectory", "stuff")),
    ("no-versions", _set("versions", {})),
    ("head-not-last", _set("head", "v3")),
    ("no-manifest", _set("manifest", None)),
    ("uppercase-digest", _first_manifest_entry(_swap_digest)),
    ("escaping-path", _first_manifest_entry(_escape)),
    ("path-outside-content", _first_manifest_entry(_outside_content)),
    ("path-listed-twice", _first_manifest_entry(_twice)),
    ("state-names-unknown-content", _dangling_state),
    ("version-without-state", _no_state),
    ("fixity-not-a-block", _set("fixity", ["sha256"])),
]


@pytest.mark.parametrize("change", [c for _n, c in MALFORMED], ids=[n for n, _c in MALFORMED])
def test_a_malformed_inventory_is_refused(
    exported: tuple[World, Path],
    tmp_path: Path,
    change: Callable[[dict], None],  # type: ignore[type-arg]
) -> None:
    world, original = exported
    obj = tmp_path / original.name
    shutil.copytree(original, obj)
    make_writable(obj)
    _rewrite_inventory(obj, change)
    report = import_ocfl(world.archive, obj, now=world.tick())
    assert [str(p.code) for p in report.problems] == ["ocfl.inventory-invalid"]
    assert world.archive.record_ids() == [RID]  # the one it already had: nothing added


def test_an_inventory_that_is_not_json_is_refused(exported: tuple[World, Path], tmp_path: Path) -> None:
    world, original = exported
    obj = tmp_path / original.name
    shutil.copytree(original, obj)
    make_writable(obj)
    for data in (b"{not json", b"[1, 2]"):
        (obj / "inventory.json").write_bytes(data)
        (obj / "inventory.json.sha512").write_text(f"{hashlib.sha512(data).hexdigest()}  inventory.json\n")
        report = import_ocfl(world.archive, obj, now=world.tick())
        assert [str(p.code) for p in report.problems] == ["ocfl.inventory-invalid"]
    (obj / "inventory.json").unlink()
    report = import_ocfl(world.archive, obj, now=world.tick())
    assert [str(p.code) for p in report.problems] == ["ocfl.not-an-object"]


@pytest.mark.parametrize(
    ("layout", "config", "code"),
    [
        ({"extension": "0002-flat-direct-storage-layout", "description": "flat"}, None, "usage.invalid"),
        (None, None, "usage.invalid"),
        (
            {"extension": "0004-hashed-n-tuple-storage-layout", "description": "x"},
            {"tupleSize": 2},
            "usage.invalid",
        ),
        (
            {"extension": "0004-hashed-n-tuple-storage-layout", "description": "x"},
            "not json",
            "usage.invalid",
        ),
    ],
)
def test_into_refuses_roots_of_other_layouts(
    ingested: World, tmp_path: Path, layout: object, config: object, code: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "0=ocfl_1.1").write_text("ocfl_1.1\n")
    if layout is not None:
        (root / "ocfl_layout.json").write_text(json.dumps(layout))
    if config is not None:
        folder = root / "extensions" / "0004-hashed-n-tuple-storage-layout"
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    result = run_in_process(ingested, "export", RID, "--format", "ocfl", "--into", str(root), "--json")
    assert result.returncode == 2 and result.json()["error"]["code"] == code
    assert {p.name for p in root.iterdir()} <= {"0=ocfl_1.1", "ocfl_layout.json", "extensions"}
