"""The reader's page in a real browser: Debian's Chromium (tests/system/packages.txt), driven by playwright
with the system browser's executable (``playwright install`` is never run).

The page renders with no console error and no request beyond its own file; every note marker opens its
note by click and by keyboard; the timeline lists every event; the revision shows ``II`` → ``Il``;
screenshots at 360 and 1440 px are written to tests/artifacts/; axe-core (vendored, tests/data/axe) finds no
serious or critical violation; the Nu HTML Checker (npm ``vnu-jar``, run with Java) finds no error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, full_life, make_world

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) drives the browser")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="Chromium is not installed (make sysdeps installs Debian's chromium; it could not be installed here)",
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
RID = "telegram-23256"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference telegram through its whole life, a Russian original attached, its page written."""
    from provenance import actions
    from provenance.exports.page import page_bytes
    from provenance.exports.verified import open_verified

    world = make_world(tmp_path_factory.mktemp("browser"))
    full_life(world)
    original = world.root.parent / "telegram-23256-ru.txt"
    original.write_text("Товарищу ФИЛИППОВУ [Сталину]\nТоварищ Филиппов!\n", "utf-8")
    actions.attach(world.archive, RID, world.signers["archivist"], source=original, role="original",
                   language="ru", now=world.tick())
    with open_verified(RID, archive_path=world.archive.root, trust=None, now=world.tick() + timedelta(seconds=1)) as s:
        data = page_bytes(s)
        manifest = s.manifest
    page = world.root.parent / "telegram-23256.html"
    page.write_bytes(data)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "page.html").write_bytes(data)  # the page the screenshots show, kept beside them
    return {"path": page, "url": page.resolve().as_uri(), "manifest": manifest}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def _open(browser: Any, url: str, width: int, **options: Any) -> tuple[Any, Any, dict[str, list[str]]]:
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    page = context.new_page()
    seen: dict[str, list[str]] = {"errors": [], "requests": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.goto(url, wait_until="load")
    return context, page, seen


def test_page_renders_with_no_console_error_and_no_request(browser: Any, built: dict[str, Any]) -> None:
    context, page, seen = _open(browser, built["url"], 1440)
    try:
        page.wait_for_timeout(200)
        assert seen["errors"] == []
        assert seen["requests"] == [built["url"]]  # the file itself, nothing else
        assert page.evaluate("document.documentElement.lang") == "en"
        russian = page.locator('[lang="ru"]')
        assert russian.count() >= 1 and "Товарищ" in russian.first.text_content()
        assert page.locator(".text[lang]").count() >= 1 or page.locator(".text").count() >= 1
    finally:
        context.close()


@pytest.mark.parametrize("script", [True, False], ids=["script-on", "script-off"])
def test_every_note_marker_opens_its_note_by_click_and_by_keyboard(
    browser: Any, built: dict[str, Any], script: bool
) -> None:
    """Markers are buttons opening popovers declaratively: the same with script switched off."""
    context, page, _ = _open(browser, built["url"], 1440, java_script_enabled=script)
    try:
        markers = page.locator("button.marker")
        anchored = [n for n in built["manifest"].state.notes if n.status == "anchored"]
        assert markers.count() == len(anchored) == 8
        for index in range(markers.count()):
            marker = markers.nth(index)
            target = marker.get_attribute("popovertarget")
            popover = page.locator(f"#{target}")
            assert not popover.is_visible()
            marker.click()
            assert popover.evaluate("e => e.matches(':popover-open')") and popover.is_visible()
            note = next(n for n in anchored if f"pop-{n.id}" == target)
            assert note.text in popover.inner_text()
            page.keyboard.press("Escape")
            assert not popover.is_visible()
            marker.focus()
            page.keyboard.press("Enter")
            assert popover.is_visible(), f"{target} does not open from the keyboard"
            popover.locator("button.close").click()  # its own close button
            assert not popover.is_visible()
    finally:
        context.close()


def test_timeline_lists_every_event_and_the_diff_shows_the_correction(browser: Any, built: dict[str, Any]) -> None:
    context, page, _ = _open(browser, built["url"], 1440)
    try:
        items = page.locator("ol.timeline > li")
        events = built["manifest"].events
        assert items.count() == len(events) == 9
        for index, event in enumerate(events):
            text = items.nth(index).inner_text()
            assert event.agent in text and event.role.value in text and event.key in text
            assert event.premis_type in text and event.type.value in text
        pair = page.evaluate(
            "() => [...document.querySelectorAll('.diff del')].map(d => "
            "[d.textContent, d.nextElementSibling && d.nextElementSibling.textContent])"
        )
        assert ["removed: II", "added: Il"] in pair
        assert page.locator(".diff del").first.is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 1440])
def test_screenshots_and_accessibility(browser: Any, built: dict[str, Any], width: int) -> None:
    """A screenshot per width (tests/artifacts/), nothing wider than the screen, and axe-core run in the page
    (its context lets the test inject axe past the page's own Content-Security-Policy)."""
    context, page, _ = _open(browser, built["url"], width, bypass_csp=True)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"page-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.add_script_tag(path=str(DATA / "axe" / "axe.min.js"))
        violations = page.evaluate(
            "async () => (await axe.run(document)).violations.map(v => "
            "({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
        )
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], json.dumps(serious, indent=1)
    finally:
        context.close()


def _nu_checker() -> Path | None:
    """vnu.jar from npm's ``vnu-jar``, installed once into a cache folder; None where it cannot be."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "provenance-tests" / "npm"
    jar = cache / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if jar.exists():
        return jar
    npm = shutil.which("npm")
    if npm is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(cache), "vnu-jar@26"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    return jar if jar.exists() else None


def test_page_passes_the_nu_html_checker(built: dict[str, Any]) -> None:
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java: the Nu HTML Checker cannot run (test_readers.py parses the page strictly with html5lib)")
    jar = _nu_checker()
    if jar is None:
        pytest.skip("npm package vnu-jar could not be installed (test_readers.py parses the page with html5lib)")
    result = subprocess.run(
        [java, "-jar", str(jar), "--errors-only", "--format", "json", str(built["path"])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    assert messages == [], json.dumps(messages, indent=1)[:3000]


def test_print_shows_every_note_in_the_list_and_no_popover(browser: Any, built: dict[str, Any]) -> None:
    context, page, _ = _open(browser, built["url"], 1440)
    try:
        page.locator("button.marker").first.click()
        page.emulate_media(media="print")
        assert page.locator("[popover]:visible").count() == 0
        notes = page.locator("ol.notes > li")
        assert notes.count() == len(built["manifest"].state.notes)
        assert all(notes.nth(i).is_visible() for i in range(notes.count()))
    finally:
        context.close()
