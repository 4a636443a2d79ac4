"""The tamper table: every named change to an exported bundle gets exactly the expected state and codes.

Each case copies a clean export (a bag folder of the reference telegram after its full life), changes it
as an attacker or a careless pipeline would, and verifies it: the state (``trusted`` / ``valid`` /
``invalid``) and the *set* of problem codes must be exactly those listed. Cases marked ``cli`` also run
through the real command (``verify --json``), checking the exit code and the one JSON document.

"rebagged" means the attacker also recomputed the bag manifests, Payload-Oxum and tag manifests, so only
the signed record can catch the change.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from provenance.bundle.entries import parse_size
from provenance.bundle.export import export_record
from provenance.keys import card_filename
from provenance.verify.target import make_context, verify_path
from tests.bundle_helpers import (
    ZipExtra,
    copy_bag,
    edit_manifest,
    edit_text,
    read_manifest,
    rebag,
    tar_folder,
    tar_member,
    targz_bomb,
    zip_bomb,
    zip_folder,
)
from tests.conftest import CORPUS, World, full_life, make_world

RID = "telegram-23256"
TEXT = f"data/files/{RID}.txt"


@dataclass
class Base:
    """Clean exports and the world they came from."""

    world: World
    tmp: Path
    plain: Path  # bag folder, current version only
    history: Path  # bag folder with every earlier version
    diacritic: Path  # bag folder of a telegram whose text has a composed ŭ
    keys: Path  # the archive's keys/ (its records/ sit beside it)
    trust_copy: Path  # the same cards, in a folder that is not inside an archive

    def card_file(self, role: str) -> str:
        return card_filename(self.world.signers[role].card)

    def key(self, role: str) -> str:
        return self.world.signers[role].card.id


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    from provenance.ingest.service import ingest, read_transcription

    tmp = tmp_path_factory.mktemp("tamper")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PROVENANCE_HOME", str(tmp / "home"))
        world = make_world(tmp)
        full_life(world)
        other = ingest(
            world.archive,
            read_transcription(CORPUS / "synthetic-telegram-4471.txt"),
            world.signers["archivist"],
            now=world.tick(),
        )
    export_record(world.archive, RID, tmp / "plain")
    export_record(world.archive, RID, tmp / "history", history=True)
    export_record(world.archive, other.record, tmp / "diacritic")
    trust_copy = tmp / "trust-copy"
    shutil.copytree(world.archive.keys_dir, trust_copy)
    return Base(world, tmp, tmp / "plain", tmp / "history", tmp / "diacritic", world.archive.keys_dir, trust_copy)


# --------------------------------------------------------------------------------------------------------
# Building blocks of the cases


def flip_byte(bag: Path) -> None:
    path = bag / TEXT
    data = bytearray(path.read_bytes())
    at = data.index(b"Kim Il Sung")
    data[at + 4] = ord("1")  # 'Kim 1l Sung': same size, one byte
    path.write_bytes(bytes(data))


def event(index: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["events"][index - 1][key] = value

    return change


def trust_without(base: Base, case_dir: Path, *roles: str) -> Path:
    trust = case_dir / "trust"
    shutil.copytree(base.keys, trust)
    for role in roles:
        (trust / base.card_file(role)).unlink()
    return trust


def trust_edit(base: Base, case_dir: Path, role: str, change: Callable[[dict[str, Any]], None]) -> Path:
    trust = case_dir / "trust"
    shutil.copytree(base.keys, trust)
    path = trust / base.card_file(role)
    card = json.loads(path.read_text("utf-8"))
    change(card)
    path.write_text(json.dumps(card, indent=2) + "\n", "utf-8")
    return trust


@dataclass
class Case:
    name: str
    mutate: Callable[[Base, Path], Path | None]  # changes the bag copy; may return another path to verify
    state: str
    codes: frozenset[str]
    source: str = "plain"
    trust: Callable[[Base, Path], Path] | None = None
    cli: bool = False
    explanation: str | None = None  # a substring the first file problem's explanation must hold
    extra: dict[str, Any] = field(default_factory=dict)
    max_size: str | None = None  # verify --max-size


def case(
    name: str,
    mutate: Callable[[Base, Path], Path | None],
    state: str,
    *codes: str,
    **options: Any,
) -> Any:
    return pytest.param(Case(name, mutate, state, frozenset(codes), **options), id=name)


def then_rebag(*steps: Callable[[Path], object]) -> Callable[[Base, Path], None]:
    def mutate(_base: Base, bag: Path) -> None:
        for step in steps:
            step(bag)
        rebag(bag)

    return mutate


def only(*steps: Callable[[Path], object]) -> Callable[[Base, Path], None]:
    def mutate(_base: Base, bag: Path) -> None:
        for step in steps:
            step(bag)

    return mutate


def manifest_change(*changes: Callable[[dict[str, Any]], None], again: bool = True) -> Callable[[Base, Path], None]:
    def mutate(_base: Base, bag: Path) -> None:
        def apply(doc: dict[str, Any]) -> None:
            for change in changes:
                change(doc)

        edit_manifest(bag, apply, again=again)

    return mutate


def raw_manifest(data: bytes) -> Callable[[Base, Path], None]:
    def mutate(_base: Base, bag: Path) -> None:
        (bag / "provenance" / "manifest.json").write_bytes(data)
        rebag(bag)

    return mutate


def crlf(bag: Path) -> None:
    path = bag / TEXT
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def to_nfd(bag: Path) -> None:
    import unicodedata

    for path in (bag / "data" / "files").iterdir():
        path.write_bytes(unicodedata.normalize("NFD", path.read_text("utf-8")).encode("utf-8"))


def trailing_spaces(bag: Path) -> None:
    edit_text(bag / TEXT, lambda t: t.replace("\n", "  \n", 3))


def add_final_newline(bag: Path) -> None:
    edit_text(bag / TEXT, lambda t: t + "\n")  # the reference text ends without one


def edit_line(bag: Path) -> None:
    edit_text(bag / TEXT, lambda t: t.replace("provocative actions", "PROVOCATIVE actions"))


def roll_back(base: Base, bag: Path) -> None:
    manifest = read_manifest(bag)
    current = manifest["state"]["files"][0]["sha256"]
    older = [p for p in (bag / "data" / "objects" / "sha256").iterdir() if p.name != current]
    for path in older:
        data = path.read_bytes()
        if data.startswith(b"SECOND MAIN ADMINISTRATION"):
            (bag / TEXT).write_bytes(data)
    rebag(bag)


def swap_signatures(doc: dict[str, Any]) -> None:
    events = doc["events"]
    events[1]["signature"], events[2]["signature"] = events[2]["signature"], events[1]["signature"]


def swap_events(doc: dict[str, Any]) -> None:
    events = doc["events"]
    events[2], events[3] = events[3], events[2]


def forge_file_digest(bag: Path) -> None:
    import hashlib

    flip_byte(bag)
    doc = read_manifest(bag)
    data = (bag / TEXT).read_bytes()
    doc["state"]["files"][0]["sha256"] = hashlib.sha256(data).hexdigest()
    from tests.bundle_helpers import write_manifest

    write_manifest(bag, doc)


def bag_info(change: Callable[[str], str]) -> Callable[[Path], None]:
    def step(bag: Path) -> None:
        edit_text(bag / "bag-info.txt", change)

    return step


def tagmanifest_only(step: Callable[[Path], object]) -> Callable[[Base, Path], None]:
    """Apply ``step`` after rebagging, then fix the tag manifest alone (the step itself survives)."""

    def mutate(_base: Base, bag: Path) -> None:
        step(bag)
        rebag(bag, oxum=False)

    return mutate


def drop_card(role: str) -> Callable[[Base, Path], None]:
    def mutate(base: Base, bag: Path) -> None:
        (bag / "provenance" / "keys" / base.card_file(role)).unlink()
        rebag(bag)

    return mutate


def forge_card(base: Base, bag: Path) -> None:
    from provenance.keys import b64url
    from provenance.signing import SigningKey

    path = bag / "provenance" / "keys" / base.card_file("translator")
    card = json.loads(path.read_text("utf-8"))
    card["public_key"] = b64url(SigningKey.generate().public_bytes())  # the id no longer matches the key
    path.write_text(json.dumps(card, indent=2) + "\n", "utf-8")
    rebag(bag)


def rename_in_card(base: Base, bag: Path) -> None:
    path = bag / "provenance" / "keys" / base.card_file("translator")
    edit_text(path, lambda t: t.replace("T. Translator", "T. Impostor"))


def alter_object(bag: Path) -> None:
    objects = sorted((bag / "data" / "objects" / "sha256").iterdir())
    victim = next(p for p in objects if p.read_bytes().startswith(b"SECOND"))
    victim.write_bytes(victim.read_bytes().replace(b"Kim II Sung", b"Kim XX Sung"))


def remove_object(bag: Path) -> None:
    objects = sorted((bag / "data" / "objects" / "sha256").iterdir())
    next(p for p in objects if p.read_bytes().startswith(b"SECOND")).unlink()


def tag_line_removed(bag: Path) -> None:
    edit_text(bag / "tagmanifest-sha256.txt", lambda t: "".join(
        line for line in t.splitlines(keepends=True) if not line.endswith("provenance/manifest.json\n")))


def tag_digest_edited(bag: Path) -> None:
    edit_text(bag / "tagmanifest-sha256.txt", lambda t: ("0" * 64) + t[64:])


def payload_digest_edited(bag: Path) -> None:
    edit_text(bag / "manifest-sha256.txt", lambda t: ("0" * 64) + t[64:])


def symlink(target: str, where: str = "data/files/passwd") -> Callable[[Base, Path], None]:
    def mutate(_base: Base, bag: Path) -> None:
        os.symlink(target, bag / where)

    return mutate


def fifo(_base: Base, bag: Path) -> None:
    os.mkfifo(bag / "data" / "files" / "pipe")


def zipped(*extra: ZipExtra, before: Callable[[Path], object] | None = None) -> Callable[[Base, Path], Path]:
    def mutate(_base: Base, bag: Path) -> Path:
        if before is not None:
            before(bag)
        return zip_folder(bag, bag.parent / "bundle.zip", "bundle", extra)

    return mutate


def tarred(*extra: tarfile.TarInfo) -> Callable[[Base, Path], Path]:
    def mutate(_base: Base, bag: Path) -> Path:
        return tar_folder(bag, bag.parent / "bundle.tar.gz", "bundle", extra)

    return mutate


def truncated(packer: Callable[[Base, Path], Path]) -> Callable[[Base, Path], Path]:
    def mutate(base: Base, bag: Path) -> Path:
        path = packer(base, bag)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) * 3 // 5])
        return path

    return mutate


def not_a_bag(_base: Base, bag: Path) -> Path:
    stuff = bag.parent / "stuff"
    stuff.mkdir()
    (stuff / "readme.txt").write_text("hello\n")
    return zip_folder(stuff, bag.parent / "bundle.zip", "stuff")


def zip_bomb_case(_base: Base, bag: Path) -> Path:
    return zip_bomb(bag.parent / "bundle.zip", 64, "bundle/data/files/zeros.bin")


def targz_bomb_case(_base: Base, bag: Path) -> Path:
    return targz_bomb(bag.parent / "bundle.tar.gz", 64, "bundle/data/files/zeros.bin")


def untrusted(*roles: str) -> Callable[[Base, Path], Path]:
    return lambda base, case_dir: trust_without(base, case_dir, *roles)


def empty_trust(_base: Base, case_dir: Path) -> Path:
    trust = case_dir / "trust"
    trust.mkdir()
    return trust


def translator_card(change: Callable[[dict[str, Any]], None]) -> Callable[[Base, Path], Path]:
    return lambda base, case_dir: trust_edit(base, case_dir, "translator", change)


def revoked_at(time: str) -> Callable[[dict[str, Any]], None]:
    return lambda card: card.update(revoked={"time": time, "reason": "key compromised"})


def copy_trust(base: Base, case_dir: Path) -> Path:
    trust = case_dir / "trust"
    shutil.copytree(base.trust_copy, trust)
    return trust


INVALID, VALID, TRUSTED = "invalid", "valid", "trusted"
SIG, CHAIN = "event.signature-invalid", "chain.broken"

CASES = [
    # -- payload bytes, line endings and the like ------------------------------------------------------
    case("payload-byte-flipped", only(flip_byte), INVALID, "bag.digest-mismatch", "file.digest-mismatch",
         explanation="compared with the signed version: line", cli=True),
    case("payload-crlf", only(crlf), INVALID, "bag.digest-mismatch", "bag.oxum-mismatch", "file.size-mismatch",
         explanation="line endings"),
    case("payload-crlf-rebagged", then_rebag(crlf), INVALID, "file.size-mismatch",
         explanation="only line endings changed: LF became CR LF", cli=True),
    case("payload-nfd-rebagged", then_rebag(to_nfd), INVALID, "file.size-mismatch", source="diacritic",
         explanation="NFD"),
    case("payload-trailing-whitespace-rebagged", then_rebag(trailing_spaces), INVALID, "file.size-mismatch",
         explanation="trailing whitespace"),
    case("payload-final-newline-added-rebagged", then_rebag(add_final_newline), INVALID, "file.size-mismatch",
         explanation="a final newline was added"),
    case("payload-line-edited-vs-earlier-version", then_rebag(edit_line), INVALID, "file.digest-mismatch",
         source="history", trust=copy_trust, explanation="earlier version of event 5"),
    case("payload-line-edited-vs-archive", then_rebag(edit_line), INVALID, "file.digest-mismatch",
         explanation="compared with the signed version: line 15, column 213: '…n a whole series of provocative"),
    case("payload-rolled-back", roll_back, INVALID, "file.digest-mismatch", source="history", trust=copy_trust,
         explanation="rolled back"),
    case("payload-extra-file", only(lambda b: (b / "data/files/extra.txt").write_text("x")), INVALID,
         "bag.file-unexpected", "bag.oxum-mismatch", "file.unexpected"),
    case("payload-extra-file-rebagged", then_rebag(lambda b: (b / "data/files/extra.txt").write_text("x")),
         INVALID, "file.unexpected", cli=True),
    case("payload-extra-outside-files-rebagged", then_rebag(lambda b: (b / "data/readme.txt").write_text("x")),
         INVALID, "file.unexpected"),
    case("payload-missing-file", only(lambda b: (b / TEXT).unlink()), INVALID,
         "bag.file-missing", "bag.oxum-mismatch", "file.missing"),
    case("payload-renamed-file", only(lambda b: (b / TEXT).rename(b / "data/files/renamed.txt")), INVALID,
         "bag.file-missing", "bag.file-unexpected", "file.missing", "file.unexpected"),
    case("payload-renamed-file-rebagged", then_rebag(lambda b: (b / TEXT).rename(b / "data/files/renamed.txt")),
         INVALID, "file.missing", "file.unexpected"),
    case("state-file-digest-forged", then_rebag(forge_file_digest), INVALID, "state.mismatch"),
    # -- every signed field of an event ------------------------------------------------------------------
    case("event-summary-edited", manifest_change(event(3, "summary", "Nothing to see")), INVALID, SIG, CHAIN,
         cli=True),
    case("event-details-edited", manifest_change(event(2, "details", {"note": "forged"})), INVALID, SIG, CHAIN),
    case("event-time-edited", manifest_change(event(3, "time", "2026-01-05T09:03:30Z")), INVALID, SIG, CHAIN),
    case("event-agent-edited", manifest_change(event(3, "agent", "Somebody Else")), INVALID, SIG, CHAIN),
    case("event-role-edited", manifest_change(event(2, "role", "archivist")), INVALID, SIG, CHAIN),
    case("event-key-swapped", lambda b, bag: manifest_change(event(3, "key", b.key("reviewer")))(b, bag),
         INVALID, SIG, CHAIN),
    case("event-seq-edited", manifest_change(event(3, "seq", 9)), INVALID, "chain.sequence", SIG, CHAIN),
    case("event-record-edited", manifest_change(event(3, "record", "telegram-99999")), INVALID,
         "chain.record-mismatch", SIG, CHAIN),
    case("event-type-edited", manifest_change(event(3, "type", "review")), INVALID,
         "event.premis-mismatch", SIG, CHAIN),
    case("event-premis-type-edited", manifest_change(event(3, "premis_type", "validation")), INVALID,
         "event.premis-mismatch", SIG, CHAIN),
    case("event-state-digest-edited", manifest_change(event(8, "state_digest", "sha256:" + "0" * 64)), INVALID,
         SIG, "state.mismatch", "bag.info-mismatch"),
    case("event-previous-digest-edited", manifest_change(event(4, "previous_digest", "sha256:" + "1" * 64)),
         INVALID, SIG, CHAIN),
    case("event-signature-removed", manifest_change(lambda d: d["events"][2].pop("signature")), INVALID,
         "event.signature-missing", CHAIN),
    case("event-signatures-swapped", manifest_change(swap_signatures), INVALID, SIG, CHAIN),
    case("event-removed-from-middle", manifest_change(lambda d: d["events"].pop(3)), INVALID,
         "chain.sequence", CHAIN, "bag.info-mismatch"),
    case("event-removed-at-end", manifest_change(lambda d: d["events"].pop()), INVALID, "bag.info-mismatch"),
    case("events-reordered", manifest_change(swap_events), INVALID, "chain.sequence", CHAIN, "chain.time-order"),
    case("state-catalogue-edited", manifest_change(lambda d: d["state"]["catalogue"].update(telegram_number="1")),
         INVALID, "state.mismatch", "bag.info-mismatch"),
    case("manifest-edited-not-rebagged", manifest_change(event(3, "summary", "x"), again=False), INVALID,
         "bag.tag-digest-mismatch", SIG, CHAIN),
    # -- bad manifests ------------------------------------------------------------------------------------
    case("manifest-not-json", raw_manifest(b"{not json"), INVALID, "manifest.malformed", cli=True),
    case("manifest-duplicate-key", raw_manifest(b'{"format": "provenance-manifest/1", "format": "x"}'), INVALID,
         "manifest.duplicate-key"),
    case("manifest-unsupported-format", manifest_change(lambda d: d.update(format="provenance-manifest/2")),
         INVALID, "manifest.unsupported-format"),
    case("manifest-unknown-field", manifest_change(lambda d: d.update(extra=1)), INVALID, "manifest.schema"),
    case("manifest-missing", then_rebag(lambda b: (b / "provenance/manifest.json").unlink()), INVALID,
         "manifest.missing"),
    case("manifest-missing-not-rebagged", only(lambda b: (b / "provenance/manifest.json").unlink()), INVALID,
         "manifest.missing", "bag.file-missing"),
    # -- trust: intact but not trusted, never confused with invalid -----------------------------------------
    case("signer-unknown-card-in-bundle", only(), VALID, "signer.unknown", trust=untrusted("translator"),
         cli=True),
    case("signer-unknown-no-card-anywhere", drop_card("translator"), VALID, "signer.unknown",
         trust=untrusted("translator")),
    case("signer-revoked-before-signing", only(), VALID, "signer.revoked",
         trust=translator_card(revoked_at("2026-01-05T09:00:00Z")), cli=True),
    case("signer-revoked-after-signing", only(), TRUSTED, trust=translator_card(revoked_at("2030-01-01T00:00:00Z"))),
    case("signer-expired", only(), VALID, "signer.expired",
         trust=translator_card(lambda c: c.update(valid_until="2026-01-05T09:01:00Z"))),
    case("signer-role-narrowed", only(), VALID, "signer.role-not-allowed",
         trust=translator_card(lambda c: c.update(roles=["reviewer"]))),
    case("trust-store-empty", only(), VALID, "trust.empty", "signer.unknown", trust=empty_trust, cli=True),
    case("bundle-key-card-forged", forge_card, INVALID, "bundle.key-card-invalid", "signer.unknown",
         trust=untrusted("translator")),
    case("bundle-key-card-edited", rename_in_card, INVALID, "bag.tag-digest-mismatch"),
    # -- bag-info and the bag's own manifests ---------------------------------------------------------------
    case("bag-info-identifier-edited", only(bag_info(lambda t: t.replace(RID, "telegram-99999"))), INVALID,
         "bag.tag-digest-mismatch", "bag.info-mismatch"),
    case("bag-info-edited-rebagged", then_rebag(bag_info(lambda t: t.replace("Series: G", "Series: H"))),
         INVALID, "bag.info-mismatch"),
    case("bag-info-oxum-edited", tagmanifest_only(bag_info(lambda t: t.replace("Payload-Oxum: ", "Payload-Oxum: 1"))),
         INVALID, "bag.oxum-mismatch"),
    case("bag-info-removed", only(lambda b: (b / "bag-info.txt").unlink()), INVALID, "bag.file-missing"),
    case("tagmanifest-digest-edited", only(tag_digest_edited), INVALID, "bag.tag-digest-mismatch"),
    case("tagmanifest-line-removed", only(tag_line_removed), INVALID, "bag.file-unexpected"),
    case("payload-manifest-digest-edited", only(payload_digest_edited), INVALID,
         "bag.digest-mismatch", "bag.tag-digest-mismatch"),
    case("tag-file-unlisted", only(lambda b: (b / "provenance/notes.txt").write_text("x")), INVALID,
         "bag.file-unexpected"),
    case("bagit-txt-version-2", only(lambda b: (b / "bagit.txt").write_text(
        "BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n")), INVALID, "bag.invalid"),
    case("bagit-txt-missing", only(lambda b: (b / "bagit.txt").unlink()), INVALID, "bag.invalid", cli=True),
    case("fetch-txt-added", then_rebag(lambda b: (b / "fetch.txt").write_text("http://x/y 1 data/y\n")),
         INVALID, "bag.invalid"),
    case("manifest-md5-added", then_rebag(lambda b: (b / "manifest-md5.txt").write_text("")), INVALID,
         "bag.invalid"),
    # -- history --------------------------------------------------------------------------------------------
    case("history-object-altered", then_rebag(alter_object), INVALID, "object.digest-mismatch",
         source="history"),
    case("history-object-removed", then_rebag(remove_object), INVALID, "object.missing", source="history"),
    # -- hostile entries --------------------------------------------------------------------------------------
    case("folder-symlink", symlink("/etc/passwd"), INVALID, "bundle.unsafe-entry", cli=True),
    case("folder-symlinked-manifest", symlink("/etc/hostname", "provenance/other.json"), INVALID,
         "bundle.unsafe-entry"),
    case("folder-fifo", fifo, INVALID, "bundle.unsafe-entry"),
    case("zip-clean", zipped(), TRUSTED),
    case("zip-payload-byte-flipped", zipped(before=flip_byte), INVALID, "bag.digest-mismatch",
         "file.digest-mismatch"),
    case("zip-traversal", zipped(ZipExtra("bundle/../../evil.txt", b"x")), INVALID, "bundle.unsafe-entry",
         cli=True),
    case("zip-absolute-path", zipped(ZipExtra("/tmp/evil.txt", b"x")), INVALID, "bundle.unsafe-entry"),
    case("zip-symlink", zipped(ZipExtra("bundle/data/files/link", b"/etc/passwd", stat.S_IFLNK | 0o777)),
         INVALID, "bundle.unsafe-entry"),
    case("zip-device", zipped(ZipExtra("bundle/data/files/null", b"", stat.S_IFCHR | 0o644)), INVALID,
         "bundle.unsafe-entry"),
    case("zip-duplicate-name", zipped(ZipExtra("bundle/bagit.txt", b"BagIt-Version: 1.0\n")), INVALID,
         "bundle.unsafe-entry"),
    case("zip-case-collision", zipped(ZipExtra("bundle/BAGIT.TXT", b"x")), INVALID, "bundle.unsafe-entry"),
    case("zip-backslash-name", zipped(ZipExtra("bundle\\..\\evil.txt", b"x")), INVALID, "bundle.unsafe-entry"),
    case("zip-bomb", zip_bomb_case, INVALID, "bundle.too-large", cli=True, max_size="16M"),
    case("zip-truncated", truncated(zipped()), INVALID, "bundle.malformed", cli=True),
    case("zip-not-a-bag", not_a_bag, INVALID, "bag.invalid"),
    case("targz-clean", tarred(), TRUSTED),
    case("targz-symlink", tarred(tar_member("bundle/data/files/link", tarfile.SYMTYPE, linkname="/etc/passwd")),
         INVALID, "bundle.unsafe-entry"),
    case("targz-hardlink", tarred(tar_member("bundle/data/files/link", tarfile.LNKTYPE, linkname="/etc/passwd")),
         INVALID, "bundle.unsafe-entry"),
    case("targz-char-device", tarred(tar_member("bundle/data/files/null", tarfile.CHRTYPE)), INVALID,
         "bundle.unsafe-entry"),
    case("targz-fifo", tarred(tar_member("bundle/data/files/pipe", tarfile.FIFOTYPE)), INVALID,
         "bundle.unsafe-entry"),
    case("targz-traversal", tarred(tar_member("bundle/../../evil.txt", tarfile.REGTYPE, size=3)), INVALID,
         "bundle.unsafe-entry", cli=True),
    case("targz-absolute-path", tarred(tar_member("/tmp/evil.txt", tarfile.REGTYPE, size=3)), INVALID,
         "bundle.unsafe-entry"),
    case("targz-truncated", truncated(tarred()), INVALID, "bundle.malformed"),
    case("targz-bomb", targz_bomb_case, INVALID, "bundle.too-large", cli=True, max_size="16M"),
]


def _prepare(base: Base, tmp_path: Path, spec: Case) -> tuple[Path, Path]:
    bag = copy_bag(getattr(base, spec.source), tmp_path / "bag")
    target = spec.mutate(base, bag) or bag
    trust = spec.trust(base, tmp_path) if spec.trust is not None else base.keys
    return target, trust


@pytest.mark.parametrize("spec", CASES)
def test_tamper_case(base: Base, tmp_path: Path, spec: Case) -> None:
    target, trust = _prepare(base, tmp_path, spec)
    ctx = make_context(trust, base.world.clock[0])
    if spec.max_size is not None:
        ctx = replace(ctx, max_size=parse_size(spec.max_size))
    report = verify_path(target, ctx)
    codes = {str(p.code) for p in report.problems}
    assert (str(report.state), codes) == (spec.state, set(spec.codes)), [p.message for p in report.problems]
    if spec.explanation is not None:
        explained = [p.fields.get("explanation") or "" for p in report.problems if p.code.startswith("file.")]
        assert any(spec.explanation in text for text in explained), explained
    if spec.cli:
        limit = ["--max-size", spec.max_size] if spec.max_size else []
        result = base.world.run("verify", str(target), "--trust", str(trust), "--json", *limit)
        document = result.json()
        assert result.returncode == {"trusted": 0, "invalid": 1, "valid": 3}[spec.state], result.stderr
        assert document["state"] == spec.state
        assert document["verified"] is (spec.state == "trusted")
        assert {p["code"] for p in document["problems"]} == set(spec.codes)
        for problem in document["problems"]:
            assert problem["message"] and "/tmp/provenance-bundle-" not in problem["message"]


def test_table_is_large_enough() -> None:
    names = [p.values[0].name for p in CASES]  # type: ignore[attr-defined]
    assert len(names) == len(set(names)) >= 30


def test_nothing_is_left_in_the_temporary_folder(base: Base, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    for packer in (zipped(), tarred(), zipped(ZipExtra("bundle/../evil", b"x")), zip_bomb_case):
        case_dir = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
        case_dir.mkdir()
        bag = copy_bag(base.plain, case_dir / "bag")
        verify_path(packer(base, bag), make_context(base.keys, base.world.clock[0]))
        assert list(scratch.iterdir()) == []
    assert not (tmp_path / "evil").exists()
