"""The work a record's verification does once instead of twice gives the answers of doing it twice
(issue 15, the audit's speed): the signed bytes taken from an event's canonical bytes, a signer's key
loaded once for every record, a trusted signer worked out once per verifier context.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance import signing
from provenance.canonical import MAX_SAFE_INTEGER, canonical_bytes
from provenance.manifest_io import event_signing_bytes
from provenance.model.manifest import EVENT_SIGNING_CONTEXT, SIGNED_EVENT_FIELDS
from provenance.verify import record
from tests.conftest import World, full_life

SIGNATURE = "A" * 85 + "Q"
names = st.sampled_from([*SIGNED_EVENT_FIELDS, "signature", "zzz", "a", "\U0001f600", "sig"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(max_size=8)
    | st.sampled_from([SIGNATURE, ',"signature":"' + SIGNATURE + '"', "\U0001f600", 'a"b', "a\\"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=4),
    max_leaves=10,
)


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    """Events as read: mostly every member the tool writes, sometimes one more or one less, a signature
    of another spelling, or the signature's member copied into the details."""
    event: dict[str, Any] = {name: draw(values) for name in SIGNED_EVENT_FIELDS}
    event["signature"] = draw(st.sampled_from([SIGNATURE, "A" * 10, 'x","y":"z', "é", 7, None]) | st.text(max_size=6))
    if draw(st.booleans()):
        event["details"] = {"signature": event["signature"], "a": draw(values), "z": draw(values)}
    if draw(st.integers(0, 4)) == 0:
        event.pop(draw(st.sampled_from([*SIGNED_EVENT_FIELDS, "signature"])))
    if draw(st.integers(0, 4)) == 0:
        event[draw(names)] = draw(values)
    return event


@settings(max_examples=300)
@given(events())
def test_signed_bytes_from_the_event_bytes_are_the_signed_fields_bytes(event: dict[str, Any]) -> None:
    signed = {name: event[name] for name in SIGNED_EVENT_FIELDS if name in event}
    assert record._signed_bytes(event, canonical_bytes(event), parsed=False) == event_signing_bytes(signed)


def test_signed_bytes_shortcut_is_taken_for_an_event_as_written() -> None:
    event = {name: f"v-{name}" for name in SIGNED_EVENT_FIELDS} | {"signature": SIGNATURE}
    text = canonical_bytes(event)
    signed = record._signed_bytes(event, text, parsed=True)
    assert signed == event_signing_bytes({k: v for k, v in event.items() if k != "signature"})
    assert len(signed) == len(EVENT_SIGNING_CONTEXT) + len(text) - len(',"signature":""') - len(SIGNATURE)


def test_verifier_answers_as_verify_signature() -> None:
    key = signing.SigningKey.generate()
    other = signing.SigningKey.generate()
    signature = key.sign(b"message")
    check = signing.verifier(key.public_bytes())
    cases: list[tuple[Any, Any]] = [
        (b"message", signature),
        (b"message!", signature),
        (b"message", signature[:-1]),
        (b"message", bytes([signature[0] ^ 1]) + signature[1:]),
        (b"message", other.sign(b"message")),
        (b"message", bytearray(signature)),
        (b"message", "not bytes"),
        (bytearray(b"message"), signature),
    ]
    for message, sig in cases:
        assert check(message, sig) is signing.verify_signature(key.public_bytes(), message, sig)
    assert check(b"message", signature) is True
    for public in (b"\x01" * 31, b"\x00" * 32, "text"):  # wrong length, not a point, not bytes
        assert signing.verifier(public)(b"message", signature) is False  # type: ignore[arg-type]


def test_a_context_remembers_trusted_signers_and_forgets_replaced_cards(world: World) -> None:
    from provenance.keys import TrustStore
    from provenance.verify.target import make_context

    full_life(world)
    folder = world.archive.record_dir("telegram-23256")
    ctx = make_context(world.archive.keys_dir, world.tick())
    first = record.verify_record_folder(folder, ctx)
    assert str(first.state) == "trusted" and ctx.signer_cache
    again = record.verify_record_folder(folder, ctx)
    assert again.signers == first.signers and again.problems == first.problems
    assert again.signers[0] is not first.signers[0]  # each report has its own entries
    assert pickle.loads(pickle.dumps(ctx.signer_cache)) == {}  # noqa: S301  (our own bytes) never sent on
    # the same folder of cards read again: new card objects, new entries, the same answers
    ctx.trust = TrustStore.load(world.archive.keys_dir)
    third = record.verify_record_folder(folder, ctx)
    assert third.signers == first.signers
    assert all(e.card is ctx.trust.get(k) and e.trust is ctx.trust for k, e in ctx.signer_cache.items())
    # a card taken out of the store: its signer is no longer trusted, whatever the context remembers
    gone = next(iter(ctx.trust.cards))
    del ctx.trust.cards[gone]
    fourth = record.verify_record_folder(folder, ctx)
    assert str(fourth.state) != "trusted"
    assert any(p.code == "signer.unknown" and p.fields.get("key") == gone for p in fourth.problems)


@pytest.mark.parametrize("seq", [1, 3])
def test_a_signature_over_other_bytes_is_still_refused(world: World, seq: int) -> None:
    """A member moved out of place in the written text changes no canonical byte, a changed member does:
    the shortcut must refuse the latter as the full encoding did."""
    import json

    full_life(world)
    folder = world.archive.record_dir("telegram-23256")
    path = folder / "manifest.json"
    data = json.loads(path.read_bytes())
    data["events"][seq - 1]["summary"] += "!"
    path.chmod(0o644)
    path.write_bytes((json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
    from provenance.verify.target import make_context

    report = record.verify_record_folder(folder, make_context(world.archive.keys_dir, world.tick()))
    assert any(p.code == "event.signature-invalid" and p.fields.get("event") == seq for p in report.problems)


# ---------------------------------------------------------------------------------------------------------
# A flat folder is listed once; anything else is walked as before: the same files and findings either way


def _walked_as_before(root: Path, label: str) -> tuple[dict[str, str] | None, list[tuple[str, Any]]]:
    """The walk of files/ and objects/ as it was before the one-listing shortcut."""
    import os

    from provenance import limits
    from provenance.model.problems import ProblemCode, VerificationReport
    from provenance.tree_walk import TooManyEntriesError, walk

    report = VerificationReport(path="x", kind="record")
    found: dict[str, str] | None = {}
    assert found is not None
    top = os.fspath(root)
    if os.path.islink(top):
        report.add(ProblemCode.FILE_PATH_UNSAFE, f"{label} is a symbolic link; not followed", path=label)
    elif os.path.isdir(top):
        try:
            for rel, entry in walk(top, limits.FILES.value()):
                record._walked(rel, entry, found, report, label)
        except TooManyEntriesError as exc:
            report.add(ProblemCode.RECORD_TOO_MANY_FILES, limits.FILES.message(label), path=label, limit=exc.bound)
            found = None
    return found, [(str(p.code), p.message) for p in report.problems]


@pytest.mark.parametrize(
    "layout",
    ["flat", "nested", "link", "fifo", "empty", "missing", "top-link", "top-file", "bound-flat", "bound-nested"],
)
def test_one_listing_of_a_flat_folder_finds_what_the_walk_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    import os

    from provenance.model.problems import VerificationReport

    root = tmp_path / "files"
    if layout == "top-link":
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "a.txt").write_bytes(b"a")
        root.symlink_to(tmp_path / "elsewhere")
    elif layout == "top-file":
        root.write_bytes(b"not a folder")
    elif layout != "missing":
        root.mkdir()
        if layout != "empty":
            (root / "a.txt").write_bytes(b"a")
            (root / "b.txt").write_bytes(b"b")
        if layout in ("nested", "bound-nested"):
            (root / "sub").mkdir()
            (root / "sub" / "c.txt").write_bytes(b"c")
        if layout == "link":
            (root / "leak").symlink_to("/etc/hostname")
        if layout == "fifo":
            os.mkfifo(root / "pipe")
    if layout.startswith("bound"):
        monkeypatch.setenv("PROVENANCE_MAX_FILES", "2")
    report = VerificationReport(path="x", kind="record")
    found = record._walk_files(root, report, "files")
    assert (found, [(str(p.code), p.message) for p in report.problems]) == _walked_as_before(root, "files")
    if layout == "flat":
        assert found == {"a.txt": str(root / "a.txt"), "b.txt": str(root / "b.txt")}


def test_record_folder_listing_reports_as_before(world: World) -> None:
    """Links named files/ or objects/, and entries that do not belong, found from the one listing."""
    from provenance.verify.target import make_context

    full_life(world)
    folder = world.archive.record_dir("telegram-23256")
    (folder / "stray.txt").write_bytes(b"x")
    objects = folder / "objects"
    objects.rename(folder / "objects-real")
    objects.symlink_to(folder / "objects-real")
    report = record.verify_record_folder(folder, make_context(world.archive.keys_dir, world.tick()))
    found = [(str(p.code), p.fields.get("path")) for p in report.problems]
    assert ("file.path-unsafe", "objects") in found
    assert ("file.unexpected", "stray.txt") in found and ("file.unexpected", "objects-real") in found
    missing = record.verify_record_folder(folder / "nothing", make_context(world.archive.keys_dir, world.tick()))
    assert [str(p.code) for p in missing.problems] == ["path.not-found"]


def test_a_snapshot_swapped_for_a_link_after_the_walk_is_not_followed(world: World, tmp_path: Path) -> None:
    """Stored objects are read without following a link (as the file hasher reads them): a snapshot the
    walk saw as a file but that is a link when read is not read through it."""
    import hashlib

    from provenance.model.problems import VerificationReport

    full_life(world)
    folder = world.archive.record_dir("telegram-23256")
    stored = sorted((folder / "objects" / "sha256").iterdir())[0]
    data = stored.read_bytes()
    hex_digest = hashlib.sha256(data).hexdigest()
    assert stored.name == hex_digest
    source = record.RecordSource(label="x", manifest_path=folder / "manifest.json", files_root=folder / "files",
                                 objects_root=folder / "objects" / "sha256", history_required=True)
    report = VerificationReport(path="x")
    history = record._History(report, source, {hex_digest: str(stored)})
    assert history._intact_bytes(str(stored), hex_digest, "snapshot", 1) == data and not report.problems
    copy = tmp_path / "copy"
    copy.write_bytes(data)
    link = tmp_path / hex_digest
    link.symlink_to(copy)
    report = VerificationReport(path="x")
    history = record._History(report, source, {hex_digest: str(link)})
    assert history._intact_bytes(str(link), hex_digest, "snapshot", 1) is None
    assert [str(p.code) for p in report.problems] == ["file.missing"]
    assert history.intact[hex_digest] is False
