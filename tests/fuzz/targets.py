"""Fuzz targets: every reader of hostile bytes, behind one entry point ``run_one(data)``.

The first byte of an input picks the target, the rest is the target's input, so that one fuzzing process
(atheris/libFuzzer, or the hypothesis-driven fallback) covers them all and a crashing input is one file
that replays the same way. A target may raise only what its reader documents (a ``ProvenanceError`` for
the CLI to report); anything else is a finding. Verifiers must not raise at all.

Targets:

* ``manifest``: bytes as ``records/<id>/manifest.json`` of a real record, through the whole record
  verifier (strict JSON, schema, chain, signatures, state, payload, history);
* ``json``: the strict I-JSON reader, and RFC 8785 canonical bytes stable across a parse/serialise round trip;
* ``key-card``: a key card through ``parse_card`` (schema, id, weak-key checks);
* ``telegram``: the telegram header parser and the editorial-insertion finder, on the bytes as UTF-8;
* ``zip`` / ``tar.gz``: a bundle archive through the bundle verifier (safe extraction, bag, record);
* ``bag-folder``: one file of a real bag folder replaced by the input (the second byte picks which);
* ``private-key``: an OpenSSH private-key file through ``decrypt_private_key``;
* ``zip-oracle`` / ``tar-oracle``: random header mutations of the real bundle (the input seeds them, see
  ``tests/hostile_archives.py``), with the differential property as oracle: whenever ``verify`` says
  trusted, every installed extractor (GNU tar, bsdtar, unzip, 7-Zip, zipfile/tarfile) must extract
  exactly the tree that was verified.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

RID = "telegram-23256"


@dataclass
class Context:
    """A real lived record, its bundles and a trust store, built once per fuzzing process."""

    root: Path
    record: Path  # a copy of the record folder, its manifest replaced by each input
    manifest: bytes
    trust: Path
    bundles: dict[str, bytes]
    bag: Path  # a bag folder, one file replaced by each input
    bag_files: list[Path]
    cards: list[bytes]
    private_key: bytes
    verify_context: object = None
    scratch: Path = field(default_factory=Path)


_CONTEXT: Context | None = None


def context() -> Context:
    """Build (once) a world with the reference telegram's full life, exported as zip, tar.gz and folder."""
    global _CONTEXT
    if _CONTEXT is not None:
        return _CONTEXT
    from datetime import timedelta

    from provenance.bundle.export import export_record
    from provenance.signing import SigningKey, encrypt_private_key
    from provenance.verify.target import make_context
    from tests.conftest import full_life, make_world

    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else None
    root = Path(tempfile.mkdtemp(prefix="provenance-fuzz-", dir=base))
    world = make_world(root)
    full_life(world)
    record = root / "records-copy" / RID
    shutil.copytree(world.archive.record_dir(RID), record)
    bundles = {}
    for form in ("zip", "tar.gz"):
        out = root / f"bundle.{form}"
        export_record(world.archive, RID, out)
        bundles[form] = out.read_bytes()
    bag = root / "bag"
    export_record(world.archive, RID, bag, history=True)
    bag_files = sorted(p for p in bag.rglob("*") if p.is_file())
    cards = [p.read_bytes() for p in sorted(world.archive.keys_dir.glob("*.json"))]
    _CONTEXT = Context(
        root=root,
        record=record,
        manifest=(record / "manifest.json").read_bytes(),
        trust=world.archive.keys_dir,
        bundles=bundles,
        bag=bag,
        bag_files=bag_files,
        cards=cards,
        private_key=encrypt_private_key(SigningKey.from_seed(bytes(range(32))), b"fuzz", rounds=1),
        verify_context=make_context(world.archive.keys_dir, world.clock[0] + timedelta(minutes=1)),
        scratch=root / "scratch",
    )
    _CONTEXT.scratch.mkdir()
    return _CONTEXT


def _verify(path: Path) -> None:
    from provenance.errors import ErrorCode, InputError
    from provenance.verify.record import VerifyContext
    from provenance.verify.target import verify_path

    ctx = context().verify_context
    assert isinstance(ctx, VerifyContext)
    try:
        report = verify_path(path, ctx)
    except InputError as exc:  # documented: an archive file that cannot be opened at all
        if exc.code is not ErrorCode.BUNDLE_UNREADABLE:
            raise
        return
    report.to_json()  # the report itself must be printable


def fuzz_manifest(data: bytes) -> None:
    ctx = context()
    (ctx.record / "manifest.json").write_bytes(data)
    _verify(ctx.record)


def fuzz_json(data: bytes) -> None:
    from provenance.canonical import StrictJSONError, canonical_bytes, loads_strict

    try:
        value = loads_strict(data)
    except StrictJSONError:
        return
    once = canonical_bytes(value)
    assert loads_strict(once) == value, "canonical bytes do not parse back to the same value"
    assert canonical_bytes(loads_strict(once)) == once, "canonical bytes are not stable"


def fuzz_key_card(data: bytes) -> None:
    from provenance.errors import KeyStoreError
    from provenance.keys import parse_card

    try:
        parse_card(data, source="fuzz")
    except KeyStoreError:
        return


def fuzz_telegram(data: bytes) -> None:
    from provenance.ingest.insertions import find_editorial_insertions
    from provenance.ingest.telegram import looks_like_telegram, parse_telegram

    text = data.decode("utf-8", "replace")
    looks_like_telegram(text)
    parse_telegram(text)
    for insertion in find_editorial_insertions(text):
        assert text[insertion.start : insertion.end] == insertion.exact


def _fuzz_archive(form: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        path = context().scratch / f"input.{form}"
        path.write_bytes(data)
        try:
            _verify(path)
        finally:
            path.unlink(missing_ok=True)

    return run


def fuzz_bag_folder(data: bytes) -> None:
    ctx = context()
    if not data:
        return
    target = ctx.bag_files[data[0] % len(ctx.bag_files)]
    original = target.read_bytes()
    target.write_bytes(data[1:])
    try:
        _verify(ctx.bag)
    finally:
        target.write_bytes(original)


def fuzz_private_key(data: bytes) -> None:
    from provenance.errors import KeyStoreError
    from provenance.signing import decrypt_private_key, openssh_kdf_rounds

    try:
        if (
            openssh_kdf_rounds(data) > 16
        ):  # slow by design (≈8 ms a round, up to MAX_KDF_ROUNDS): not a finding
            return
        decrypt_private_key(data, b"fuzz")
    except KeyStoreError:
        return


_ORACLE: dict[str, bytes] = {}


def _oracle(form: str) -> Callable[[bytes], None]:
    def run(data: bytes) -> None:
        from provenance.model.problems import TrustState
        from provenance.verify.record import VerifyContext
        from provenance.verify.target import verify_path
        from tests.extractors import disagreements, verified_tree
        from tests.hostile_archives import ZIP, Base, base_tar, build_zip, mutate_with, zentries

        ctx = context()
        if not _ORACLE:
            base = Base.from_zip(ctx.root / "bundle.zip")
            _ORACLE["zip"], _ORACLE["tar.gz"] = build_zip(zentries(base)), base_tar(base)
        path = ctx.scratch / f"oracle.{form}"
        path.write_bytes(mutate_with(_ORACLE[form], ZIP if form == "zip" else form, data))
        try:
            verify_ctx = ctx.verify_context
            assert isinstance(verify_ctx, VerifyContext)
            if verify_path(path, verify_ctx).state is not TrustState.TRUSTED:
                return
            found = disagreements(path, form, verified_tree(path, ctx.scratch), ctx.scratch)
            assert all(not problems for problems in found.values()), f"trusted, yet read differently: {found}"
        finally:
            path.unlink(missing_ok=True)

    return run


TARGETS: dict[str, Callable[[bytes], None]] = {
    "manifest": fuzz_manifest,
    "json": fuzz_json,
    "key-card": fuzz_key_card,
    "telegram": fuzz_telegram,
    "zip": _fuzz_archive("zip"),
    "tar.gz": _fuzz_archive("tar.gz"),
    "bag-folder": fuzz_bag_folder,
    "private-key": fuzz_private_key,
    "zip-oracle": _oracle("zip"),
    "tar-oracle": _oracle("tar.gz"),
}
NAMES = list(TARGETS)


def target_of(data: bytes) -> str:
    return NAMES[data[0] % len(NAMES)] if data else "json"


# $PROVENANCE_FUZZ_TARGETS (comma-separated names) restricts a run to some targets; others return at once
_ONLY = frozenset(filter(None, os.environ.get("PROVENANCE_FUZZ_TARGETS", "").split(",")))


def run_one(data: bytes) -> None:
    """Dispatch one input: its first byte picks the target."""
    name = target_of(data)
    if _ONLY and name not in _ONLY:
        return
    TARGETS[name](data[1:])


def seeds() -> list[bytes]:
    """Valid inputs for every target (prefixed with its selector byte): where the fuzzer starts."""
    from tests.conftest import CORPUS

    ctx = context()
    per_target: dict[str, list[bytes]] = {
        "manifest": [ctx.manifest],
        "json": [ctx.manifest, b'{"a": [1, -2, "\\u00e9", true, null, {"b": {}}]}', b"[]"],
        "key-card": ctx.cards,
        "telegram": [p.read_bytes() for p in sorted(CORPUS.glob("*.txt"))],
        "zip": [ctx.bundles["zip"]],
        "tar.gz": [ctx.bundles["tar.gz"]],
        "bag-folder": [bytes([i]) + p.read_bytes() for i, p in enumerate(ctx.bag_files)],
        "private-key": [ctx.private_key],
        "zip-oracle": [b"", b"\x01\x02\x03\x04"],
        "tar-oracle": [b"", b"\x05\x06\x07\x08"],
    }
    return [bytes([NAMES.index(name)]) + data for name, inputs in per_target.items() for data in inputs]
