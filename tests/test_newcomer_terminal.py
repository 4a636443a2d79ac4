"""Issue 14 items 6-7 at a terminal, in process (a terminal-like stdout, ``$COLUMNS`` for the width): the log
table's column widths, its fall-back for a token wider than any column, and the word diff of Cyrillic text
and of a line end. The pseudo-terminal runs of the installed CLI are in test_newcomer_diff/log.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.cli.inspect_render import SUMMARY_COMFORT, fit_widths
from tests.conftest import REFERENCE, World
from tests.terminal_helpers import plain, run_at_terminal, sgr_runs

DIGEST = "sha256:" + "3f2a9c1d" * 8


def at_terminal(world: World, monkeypatch: pytest.MonkeyPatch, columns: int, *args: str) -> str:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code, out, err = run_at_terminal(
        world, monkeypatch, *args, env={"COLUMNS": str(columns), "TERM": "xterm-256color"}
    )
    assert code == 0, out + err
    return out


def _revise(world: World, text: str, reason: str) -> None:
    from provenance import actions

    source = world.root.parent / f"revision-{world.tick().timestamp():.0f}.txt"
    source.write_bytes(text.encode())
    actions.revise(
        world.archive,
        "telegram-23256",
        world.signers["archivist"],
        source=source,
        reason=reason,
        now=world.tick(),
    )


@pytest.mark.parametrize(
    ("narrowest", "widest", "available", "expected"),
    [
        ([1, 10, 20], [1, 19, 60], 20, None),  # the longest words alone do not fit
        ([1, 10, 20], [1, 19, 60], 100, [1, 19, 60]),  # everything on one line
        ([1, 10, 20], [1, 19, 60], 70, [1, 19, 50]),  # the summary takes what the others leave
        (
            [1, 10, 20],
            [1, 19, 60],
            40,
            [1, 11, 28],
        ),  # too little for that: the room shared by what each lacks
        ([2, 2], [2, 2], 2 + 2, [2, 2]),
    ],
)
def test_fit_widths(
    narrowest: list[int], widest: list[int], available: int, expected: list[int] | None
) -> None:
    widths = fit_widths(narrowest, widest, available)
    assert widths == expected
    if widths is not None:
        assert sum(widths) <= available
        assert all(w >= n for w, n in zip(widths, narrowest, strict=True))
    assert SUMMARY_COMFORT == 40  # the third case depends on it


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_log_table_never_breaks_a_token_it_falls_back_instead(
    ingested: World, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    _revise(ingested, REFERENCE.read_text() + "\nA line.\n", f"{DIGEST} checked against the scan \x1b[2J")
    raw = at_terminal(ingested, monkeypatch, columns, "log", "telegram-23256", "--table")
    text = plain(raw)
    assert max(len(line) for line in text.splitlines()) <= columns
    words = set(text.split())
    assert DIGEST in words  # whole, never folded nor cut
    assert {
        "Registered",
        "telegram-23256.txt",
        "(telegram",
        "profile)",
        "checked",
        "scan",
        "\\x1b[2J",
    } <= words
    assert "\x1b[2J" not in raw
    table = "summary" in words
    assert table == (columns == 200)  # a token of 71 columns leaves no room for a table at 80 or 120
    if not table:
        assert "#2  " in text  # the compact form


def test_diff_at_a_terminal_cyrillic_letter_and_a_line_end(
    ingested: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = REFERENCE.read_text()
    _revise(ingested, base + "\nТоварищ Ким Ир Сен предлагает\n", "Russian line")
    _revise(ingested, base + "\nТоварыщ Ким Ир Сен предлагает\r\n", "one letter and CR LF")
    raw = at_terminal(ingested, monkeypatch, 80, "diff", "telegram-23256", "2", "3")
    changed = [(codes, piece) for codes, piece in sgr_runs(raw) if codes & {"9", "32"}]
    assert changed == [
        (frozenset({"9", "31"}), "и"),
        (frozenset({"1", "32"}), "ы"),
        (frozenset({"1", "32"}), "␍"),  # a change of white space alone is made visible
    ]
    assert "Товарыщ Ким Ир Сен предлагает" in plain(raw).replace("и", "", 1)


def test_diff_at_a_terminal_other_changes(
    ingested: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from provenance import actions

    raw = at_terminal(ingested, monkeypatch, 80, "diff", "telegram-23256", "1", "1")
    assert "no differences" in plain(raw)
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    archivist = ingested.signers["archivist"]
    actions.attach(
        ingested.archive, "telegram-23256", archivist, source=scan, role="scan", now=ingested.tick()
    )
    actions.change_metadata(
        ingested.archive,
        "telegram-23256",
        archivist,
        changes={"title": "A new title"},
        reason=None,
        now=ingested.tick(),
    )
    text = plain(at_terminal(ingested, monkeypatch, 80, "diff", "telegram-23256", "1", "3"))
    assert "file scan.png: added" in text and "@@" not in text and "catalogue title:" in text
    _revise(ingested, "\x1b[2Jtotally new\n", "replaced")
    raw = at_terminal(ingested, monkeypatch, 80, "diff", "telegram-23256")
    assert "\x1b[2J" not in raw and "\\x1b[2Jtotally new" in plain(raw)  # content never reaches it as a code
    changed = [(codes, piece) for codes, piece in sgr_runs(raw) if codes & {"9", "32"}]
    kinds = ["removed" if "9" in codes else "added" for codes, _ in changed]  # (rich restyles each line)
    assert (
        kinds == sorted(kinds, reverse=True) and kinds[-1] == "added"
    )  # a rewrite: one removal, one addition
    assert changed[0][1].startswith("SECOND MAIN") and changed[-1][1] == "\\x1b[2Jtotally new"
