"""Readers (issue 12): ``page``, ``export --format tei|annotations``, ``note --from-annotations``.

What a reader gets is made only from what verified: refused (exit 1 / 3, one line) when the record or bundle
is not trusted, written with the state in a banner under --force; hostile record content is escaped; the
annotation round trip into a fresh record loses nothing. The TEI schema test is in test_readers_tei.py, the
browser tests in test_page_browser.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from provenance.cli.exits import exit_for_error
from provenance.exports.page_text import esc, transcription_html, word_diff_html
from tests.conftest import World
from tests.helpers import RID, assert_one_clear_line, tree_snapshot

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)> ]]> <!-- \x07\u202eevil\x9b'
# catalogue values refuse controls and bidi overrides at input (issue 17): the markup alone
CATALOGUE_HOSTILE = HOSTILE.translate({0x07: None, 0x202E: None, 0x9B: None})


def _notes_key(notes: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    """What a note is, whatever record and event it is in."""
    return {
        (
            n["kind"],
            n["text"],
            n["status"],
            n["target"]["quote"]["exact"],
            n["target"]["quote"]["prefix"],
            n["target"]["quote"]["suffix"],
            json.dumps(n["target"].get("position"), sort_keys=True),
            n["target"]["source"],
        )
        for n in notes
    }


# ---------------------------------------------------------------------------------------------- text parts
def test_word_diff_shows_the_changed_word_only() -> None:
    html, changes = word_diff_html("the name Kim II Sung here", "the name Kim Il Sung here")
    assert changes == 1
    assert "<del><span class=\"visually-hidden\">removed: </span>II</del>" in html
    assert "<ins><span class=\"visually-hidden\">added: </span>Il</ins>" in html
    assert html.startswith("the name Kim ") and html.endswith(" Sung here")


def test_word_diff_shortens_long_unchanged_runs_and_bounds_its_work() -> None:
    old = " ".join(f"w{i}" for i in range(200))
    html, changes = word_diff_html(old, old.replace("w100", "W100"))
    assert changes == 1 and "unchanged text left out" in html and "w0 " not in html
    assert word_diff_html("a " * 120_000, "b " * 120_000) == (
        '<p class="muted">The two versions are too long to compare word by word here.</p>', 0)


def test_escaping_neutralises_markup_controls_and_bidi() -> None:
    out = esc(HOSTILE)
    assert "<" not in out and ">" not in out and '"' not in out
    assert "\x07" not in out and "\u202e" not in out and "\x9b" not in out
    assert out.count("\ufffd") == 3


def test_overlapping_quotes_are_marked_piece_by_piece(lived: World) -> None:
    from provenance.manifest_io import read_manifest

    manifest = read_manifest(lived.archive.record_dir(RID))
    text = (lived.archive.record_dir(RID) / "files" / "telegram-23256.txt").read_text("utf-8")
    anchored = [n for n in manifest.state.notes if n.status == "anchored"]
    html = transcription_html(text, anchored, lambda note, number: f"[{number}]")
    # "Gaeseong [Kaesong]" (a translator's note) holds "[Kaesong]" (an editorial insertion): both marked
    assert '<mark data-notes="note-9">Gaeseong </mark><mark data-notes="note-2 note-9">[Kaesong]</mark>' in html
    assert html.count("[") >= len(anchored)


# -------------------------------------------------------------------------------------------------- page
def test_page_of_a_record_shows_every_part(lived: World, tmp_path: Path) -> None:
    (lived.archive.root / "log").mkdir()
    (lived.archive.root / "log" / "checkpoint").write_text("example.org/log\n9\nROOT<b>=\n\n— log sig\n", "utf-8")
    out = tmp_path / "page.html"
    result = lived.run("page", RID, "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    summary = result.json()
    assert summary["state"] == "trusted" and summary["head"].startswith("sha256:") and summary["kind"] == "record"
    page = out.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert "<script" not in page and "http://" not in page.split("<body>")[0].replace("http-equiv", "")
    for heading in ("Catalogue card", "Transcription", "Timeline of signed events", "Chain of custody",
                    "Revisions", "Files, attachments and translations", "Verification"):
        assert f">{heading}</h2>" in page
    assert page.count('<li id="event-') == 8
    assert page.count('class="marker"') == 8 and page.count("<div popover") == 8
    assert "Notes whose quote no longer occurs" in page and "Kim II Sung" in page
    assert "<del><span class=\"visually-hidden\">removed: </span>II</del>" in page
    assert "Archive of the President → Wilson Center Digital Archive" in page
    assert summary["head"] in page and "provenance verify " in page
    assert "<pre>example.org/log\n9\nROOT&lt;b&gt;=\n" in page  # the archive's checkpoint, as found
    assert "Stalin</span> (2 copies)" in page and "01:30 27.8.1951</span> (as written)" in page


def test_page_from_a_bundle_says_it_is_made_from_verified_content(lived: World, tmp_path: Path) -> None:
    for history, name in ((True, "b.zip"), (False, "b.tar.gz")):
        bundle = tmp_path / name
        args = ["export", RID, "--out", str(bundle)] + (["--history"] if history else [])
        assert lived.run(*args).returncode == 0
        out = tmp_path / f"page-{history}.html"
        result = lived.run("page", str(bundle), "--out", str(out), "--json")
        assert result.returncode == 0, result.stderr
        assert result.json()["kind"] == "bundle"
        page = out.read_text("utf-8")
        assert f"verified content of the bundle <code>{bundle.name}</code>" in page
        assert f"provenance verify {bundle.name}" in page
        diffed = "<del><span class=\"visually-hidden\">removed: </span>II</del>" in page
        assert diffed is history
        if not history:
            assert "export it with --history" in page


def _tamper(bundle_dir: Path) -> None:
    text = bundle_dir / "data" / "files" / "telegram-23256.txt"
    text.write_bytes(text.read_bytes().replace(b"Kaesong", b"Xaesong", 1))


def test_page_of_an_invalid_bundle_is_refused_and_with_force_shows_a_banner(lived: World, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    assert lived.run("export", RID, "--out", str(bag)).returncode == 0
    _tamper(bag)
    out = tmp_path / "page.html"
    refused = lived.run("page", str(bag), "--out", str(out))
    assert_one_clear_line(refused, 1, "source.invalid")
    assert not out.exists()
    forced = lived.run("page", str(bag), "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "is invalid; the page says so in a banner" in forced.stderr
    page = out.read_text("utf-8")
    body = page.split("<body>", 1)[1]
    assert body.lstrip().startswith('<div class="banner invalid" role="alert">')
    assert "file.digest-mismatch" in body and "INVALID" in body


def test_page_of_an_untrusted_bundle_exits_3(lived: World, tmp_path: Path) -> None:
    bundle = tmp_path / "b.zip"
    assert lived.run("export", RID, "--out", str(bundle)).returncode == 0
    stranger = tmp_path / "stranger-keys"
    stranger.mkdir()
    shutil.copy(next(lived.archive.keys_dir.glob("a-archivist*.json")), stranger)
    out = tmp_path / "page.html"
    refused = lived.run("page", str(bundle), "--out", str(out), "--trust", str(stranger), "--json")
    assert refused.returncode == 3
    assert refused.json()["error"]["code"] == "source.not-trusted"
    assert not out.exists()
    forced = lived.run("page", str(bundle), "--out", str(out), "--trust", str(stranger), "--force")
    assert forced.returncode == 0
    assert '<div class="banner valid" role="alert">' in out.read_text("utf-8")


def test_page_of_a_record_folder_by_path_and_of_a_bundle_outside_any_archive(lived: World, tmp_path: Path) -> None:
    folder = lived.run("page", str(lived.archive.record_dir(RID)), "--out", str(tmp_path / "f.html"), "--json")
    assert folder.returncode == 0 and folder.json()["kind"] == "record"
    bundle = tmp_path / "b.zip"
    assert lived.run("export", RID, "--out", str(bundle)).returncode == 0
    elsewhere = {"PROVENANCE_ARCHIVE": str(tmp_path / "no-archive-here")}
    no_trust = lived.run("page", str(bundle), "--out", str(tmp_path / "b.html"), env=elsewhere, cwd=tmp_path)
    assert_one_clear_line(no_trust, 2, "usage.invalid")
    trusted = lived.run("page", str(bundle), "--out", str(tmp_path / "b.html"), "--trust",
                        str(lived.archive.keys_dir), env=elsewhere, cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    assert f"--trust {lived.archive.keys_dir}" in (tmp_path / "b.html").read_text("utf-8")


def test_page_refuses_what_it_cannot_do(lived: World, tmp_path: Path) -> None:
    out = tmp_path / "page.html"
    out.write_text("already here")
    assert_one_clear_line(lived.run("page", RID, "--out", str(out)), 2, "output.exists")
    assert out.read_text() == "already here"
    assert_one_clear_line(lived.run("page", "no-such-record", "--out", str(tmp_path / "x.html")), 2, "record.not-found")
    assert_one_clear_line(lived.run("page", str(tmp_path / "nope.zip"), "--out", str(tmp_path / "y.html")), 2,
                          "input.not-found")
    assert_one_clear_line(lived.run("page", RID, "--out", str(tmp_path / "no" / "z.html")), 2, "input.not-found")
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    assert_one_clear_line(lived.run("page", str(junk), "--out", str(tmp_path / "j.html")), 1, "source.invalid")
    other = tmp_path / "notes.txt"
    other.write_text("x")
    assert_one_clear_line(lived.run("page", str(other), "--out", str(tmp_path / "k.html")), 2, "usage.invalid")


def test_page_of_a_record_changed_after_verification_is_refused(lived: World, tmp_path: Path) -> None:
    """A record folder changed between its verification and its reading is refused, not shown."""
    import provenance.verify.record as record_module
    from provenance.errors import ProvenanceError
    from provenance.exports import verified as source_module

    original = record_module.verify_record_folder

    def verify_then_change(path: Path, ctx: object) -> object:
        report = original(path, ctx)  # type: ignore[arg-type]
        manifest = path / "manifest.json"
        manifest.write_bytes(manifest.read_bytes().replace(b"Released version 7", b"Released version 9"))
        return report

    record_module.verify_record_folder = verify_then_change  # type: ignore[assignment]
    try:
        with pytest.raises(ProvenanceError) as caught, source_module.open_verified(
            RID, archive_path=lived.archive.root, trust=None, now=lived.tick()
        ):
            pass
    finally:
        record_module.verify_record_folder = original
    assert caught.value.code == "record.corrupt"


def test_hostile_record_content_is_escaped_everywhere(world: World, tmp_path: Path) -> None:
    from provenance import actions
    from provenance.ingest.service import ingest, read_transcription

    text = tmp_path / "hostile.txt"
    text.write_text(f"A letter.\n{HOSTILE}\nThe end [sic].\n", "utf-8")
    ingest(world.archive, read_transcription(text), world.signers["archivist"], now=world.tick(),
           record_id="hostile", overrides={"title": CATALOGUE_HOSTILE, "origin": CATALOGUE_HOSTILE, "language": "en"})
    actions.add_note(world.archive, "hostile", world.signers["translator"], quote="The end", text=HOSTILE,
                     now=world.tick())
    actions.transfer_custody(world.archive, "hostile", world.signers["archivist"], from_=HOSTILE, to="Desk",
                             now=world.tick())
    out = tmp_path / "hostile.html"
    assert world.run("page", "hostile", "--out", str(out)).returncode == 0
    page = out.read_text("utf-8")
    assert "<script" not in page and "<img" not in page and "<!-- " not in page
    assert "\x07" not in page and "\u202e" not in page and "\x9b" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    import html5lib

    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    tei = tmp_path / "hostile.xml"
    assert world.run("export", "hostile", "--format", "tei", "--out", str(tei)).returncode == 0
    import xml.etree.ElementTree as ET

    root = ET.parse(tei).getroot()  # noqa: S314 - our own output: well-formed whatever the content
    assert not root.findall(".//{http://www.w3.org/1999/xhtml}script") and b"<script" not in tei.read_bytes()


def test_page_html_parses_strictly_as_html5(lived: World, tmp_path: Path) -> None:
    """The fallback validator (html5lib, strict: any parse error fails); the Nu validator runs in the
    browser tests where Java and npm are at hand."""
    import html5lib

    out = tmp_path / "page.html"
    assert lived.run("page", RID, "--out", str(out)).returncode == 0
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    document = parser.parse(out.read_bytes())
    assert document.find(".//main") is not None and not parser.errors


# ----------------------------------------------------------------------------------------------- exports
def test_export_format_is_a_small_table_and_bag_stays_the_default(lived: World, tmp_path: Path) -> None:
    from provenance.cli.export_cmds import FORMATS

    assert {"bag", "tei", "annotations"} <= set(FORMATS) and next(iter(FORMATS)) == "bag"
    assert lived.run("export", RID, "--out", str(tmp_path / "b.zip")).returncode == 0
    assert (tmp_path / "b.zip").read_bytes()[:2] == b"PK"
    assert_one_clear_line(lived.run("export", RID, "--format", "docx", "--out", str(tmp_path / "x")), 2,
                          "usage.invalid")
    assert_one_clear_line(lived.run("export", RID), 2, "usage.invalid")
    assert_one_clear_line(lived.run("export", RID, "--format", "tei"), 2, "usage.invalid")
    assert_one_clear_line(lived.run("export", RID, "--out", str(tmp_path / "f.zip"), "--force"), 2, "usage.invalid")


def test_export_tei_and_annotations_write_and_refuse(lived: World, tmp_path: Path) -> None:
    tei = tmp_path / "t.xml"
    result = lived.run("export", RID, "--format", "tei", "--out", str(tei), "--json")
    assert result.returncode == 0, result.stderr
    assert result.json()["format"] == "tei" and tei.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert_one_clear_line(lived.run("export", RID, "--format", "tei", "--out", str(tei)), 2, "output.exists")
    bundle = tmp_path / "b.zip"
    assert lived.run("export", RID, "--out", str(bundle)).returncode == 0
    from_bundle = lived.run("export", str(bundle), "--format", "tei", "--out", str(tmp_path / "b.xml"))
    assert from_bundle.returncode == 0 and b"exported from bundle b.zip" in (tmp_path / "b.xml").read_bytes().lower()
    printed = lived.run("export", RID, "--format", "annotations")
    assert printed.returncode == 0 and json.loads(printed.stdout)["type"] == "AnnotationCollection"
    written = lived.run("export", RID, "--format", "annotations", "--out", str(tmp_path / "a.jsonld"))
    assert written.returncode == 0 and "W3C Web Annotation collection" in written.stdout
    # an altered record is refused; with --force it is written, the state said on stderr and in the TEI
    text = lived.archive.record_dir(RID) / "files" / "telegram-23256.txt"
    text.write_bytes(text.read_bytes() + b"\n")
    assert_one_clear_line(lived.run("export", RID, "--format", "tei", "--out", str(tmp_path / "u.xml")), 1,
                          "source.invalid")
    assert not (tmp_path / "u.xml").exists()
    forced = lived.run("export", RID, "--format", "annotations", "--force")
    assert forced.returncode == 0 and json.loads(forced.stdout)["pv:state"] == "invalid"
    assert "is invalid, written with --force" in forced.stderr


def test_annotations_are_web_annotations_with_both_selectors_and_the_signer(lived: World) -> None:
    document = json.loads(lived.run("export", RID, "--format", "annotations").stdout)
    assert document["@context"][0] == "http://www.w3.org/ns/anno.jsonld"
    items = document["first"]["items"]
    assert document["total"] == len(items) == 9
    by_quote = {item["target"]["selector"][0]["exact"]: item for item in items}
    rhee = by_quote["Syngmann Rhee"]
    assert rhee["type"] == "Annotation" and rhee["body"]["value"] == "Usually spelled Syngman Rhee."
    quote, position = rhee["target"]["selector"]
    assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
    text = (lived.archive.record_dir(RID) / "files" / "telegram-23256.txt").read_text("utf-8")
    assert text[position["start"]:position["end"]] == "Syngmann Rhee"
    assert text[position["start"] - len(quote["prefix"]):position["start"]] == quote["prefix"]
    assert rhee["creator"]["name"] == "T. Translator" and rhee["creator"]["id"].startswith("urn:provenance:key:ed25519:")
    assert rhee["creator"]["pv:role"] == "translator" and rhee["created"].endswith("Z")
    assert by_quote["Kim II Sung"]["pv:status"] == "orphaned"
    assert by_quote["[Stalin]"]["creator"]["name"] == "A. Archivist"


def test_annotation_round_trip_into_a_fresh_record_loses_nothing(lived: World, tmp_path: Path) -> None:
    exported = tmp_path / "notes.jsonld"
    assert lived.run("export", RID, "--format", "annotations", "--out", str(exported)).returncode == 0
    # a fresh record of the same text (the current version), registered in another archive
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(lived.archive.record_dir(RID) / "files" / "telegram-23256.txt", fresh / "telegram-23256.txt")
    other = tmp_path / "other-archive"
    env = {"PROVENANCE_ARCHIVE": str(other)}
    assert lived.run("init", str(other), env=env).returncode == 0
    for card in lived.archive.keys_dir.glob("*.json"):
        shutil.copy(card, other / "keys")
    assert lived.run("ingest", str(fresh / "telegram-23256.txt"), "--key", "A. Archivist", env=env).returncode == 0
    imported = lived.run("note", RID, "--from-annotations", str(exported), "--key", "T. Translator", "--json",
                         env=env)
    assert imported.returncode == 0, imported.stderr
    summary = imported.json()
    assert len(summary["added"]) == 3 and len(summary["skipped"]) == 6 and len(summary["orphaned"]) == 1
    before = lived.run("show", RID, "--json").json()["notes"]
    after = lived.run("show", RID, "--json", env=env).json()["notes"]
    assert _notes_key(after) == _notes_key(before)
    # who wrote each note and when travel too: in the import events, and out again in a second export
    again = json.loads(lived.run("export", RID, "--format", "annotations", env=env).stdout)["first"]["items"]
    origin = {i["body"]["value"]: i.get("pv:importedFrom", {}) for i in again}
    assert origin["Usually spelled Syngman Rhee."]["creator"]["name"] == "T. Translator"
    assert origin["Usually spelled Syngman Rhee."]["created"].endswith("Z")
    assert lived.run("verify", str(other / "records" / RID), "--json", env=env).json()["state"] == "trusted"
    # importing again adds nothing
    twice = lived.run("note", RID, "--from-annotations", str(exported), "--key", "T. Translator", "--json", env=env)
    assert twice.json()["added"] == [] and len(twice.json()["skipped"]) == 9


def _collection(items: list[Any]) -> dict[str, Any]:
    return {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "AnnotationCollection",
            "first": {"type": "AnnotationPage", "items": items}}


def _annotation(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "Annotation",
        "body": {"type": "TextualBody", "value": "A note."},
        "target": {"source": "x", "selector": [{"type": "TextQuoteSelector", "exact": "Syngmann Rhee"}]},
    }
    item.update(changes)
    return item


BAD_COLLECTIONS: list[tuple[str, bytes, str]] = [
    ("not-json", b"{", "annotations.invalid"),
    ("duplicate-key", b'{"type": "Annotation", "type": "Annotation"}', "annotations.invalid"),
    ("float", json.dumps(_collection([_annotation(x=1.5)])).encode(), "annotations.invalid"),
    ("wrong-type", json.dumps({"type": "Dataset"}).encode(), "annotations.invalid"),
    ("no-items", json.dumps({"type": "AnnotationCollection"}).encode(), "annotations.invalid"),
    ("not-annotation", json.dumps(_collection([{"type": "Thing"}])).encode(), "annotations.invalid"),
    ("no-quote", json.dumps(_collection([_annotation(target={"selector": []})])).encode(), "annotations.invalid"),
    ("empty-body", json.dumps(_collection([_annotation(body={"type": "TextualBody", "value": ""})])).encode(),
     "annotations.invalid"),
    ("image-body", json.dumps(_collection([_annotation(body={"type": "Image", "id": "x"})])).encode(),
     "annotations.invalid"),
    ("bad-kind", json.dumps(_collection([_annotation(**{"pv:noteKind": "rant"})])).encode(), "annotations.invalid"),
    ("bad-status", json.dumps(_collection([_annotation(**{"pv:status": "gone"})])).encode(), "annotations.invalid"),
    ("negative-start", json.dumps(_collection([_annotation(target={"selector": [
        {"type": "TextQuoteSelector", "exact": "Rhee"}, {"type": "TextPositionSelector", "start": -1, "end": 3}]})])).encode(),
     "annotations.invalid"),
    ("end-before-start", json.dumps(_collection([_annotation(target={"selector": [
        {"type": "TextQuoteSelector", "exact": "Rhee"}, {"type": "TextPositionSelector", "start": 9, "end": 3}]})])).encode(),
     "annotations.invalid"),
    ("quote-absent", json.dumps(_collection([_annotation(), _annotation(target={"selector": [
        {"type": "TextQuoteSelector", "exact": "Napoleon"}]})])).encode(), "note.quote-not-found"),
    ("too-many", json.dumps(_collection([_annotation()] * 10_001)).encode(), "annotations.invalid"),
]


@pytest.mark.parametrize(("name", "data", "code"), BAD_COLLECTIONS, ids=[c[0] for c in BAD_COLLECTIONS])
def test_a_bad_collection_is_refused_before_anything_is_signed(
    ingested: World, name: str, data: bytes, code: str
) -> None:
    from provenance.errors import ProvenanceError
    from provenance.exports.annotations import read_collection
    from provenance.note_import import import_annotations

    before = tree_snapshot(ingested.archive.root)
    with pytest.raises(ProvenanceError) as caught:
        import_annotations(ingested.archive, RID, ingested.signers["translator"], read_collection(data),
                           now=ingested.tick())
    assert caught.value.code == code and exit_for_error(caught.value) == 2
    assert tree_snapshot(ingested.archive.root) == before


@pytest.mark.parametrize("name", ["not-json", "quote-absent"])
def test_a_bad_collection_is_one_line_through_the_cli(ingested: World, tmp_path: Path, name: str) -> None:
    _, data, code = next(case for case in BAD_COLLECTIONS if case[0] == name)
    path = tmp_path / f"{name}.jsonld"
    path.write_bytes(data)
    before = tree_snapshot(ingested.archive.root)
    result = ingested.run("note", RID, "--from-annotations", str(path), "--key", "T. Translator")
    assert_one_clear_line(result, 2, code)
    assert tree_snapshot(ingested.archive.root) == before


def test_note_import_reads_a_page_or_one_annotation_and_places_by_quote(ingested: World, tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(_annotation(motivation="editing")), "utf-8")
    result = ingested.run("note", RID, "--from-annotations", str(one), "--key", "T. Translator", "--json")
    assert result.returncode == 0, result.stderr
    note = ingested.run("show", RID, "--json").json()["notes"][-1]
    assert note["kind"] == "correction" and note["target"]["quote"]["exact"] == "Syngmann Rhee"
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"type": "AnnotationPage", "items": [_annotation(bodyValue="Plain.")]}), "utf-8")
    printed = ingested.run("note", RID, "--from-annotations", str(page), "--key", "T. Translator")
    assert printed.returncode == 0 and "1 note(s) imported" in printed.stdout


def test_note_options_are_checked(ingested: World, tmp_path: Path) -> None:
    assert_one_clear_line(ingested.run("note", RID, "--key", "T. Translator"), 2, "usage.invalid")
    assert_one_clear_line(ingested.run("note", RID, "--from-annotations", "x.json", "--quote", "a"), 2,
                          "usage.invalid")
    assert_one_clear_line(ingested.run("note", RID, "--from-annotations", str(tmp_path / "none.json")), 2,
                          "input.not-found")
