"""Issue 14 item 7: `log` on an 80-column terminal breaks no word; a compact one-line-per-event form."""

from __future__ import annotations

import json

import pytest

from tests.conftest import World, provenance_bin


def test_log_at_80_columns_breaks_no_word(lived: World) -> None:
    pexpect = pytest.importorskip("pexpect", reason="pexpect (test extra) drives a real terminal")
    child = pexpect.spawn(
        provenance_bin(),
        ["log", "telegram-23256"],
        env=lived.env,
        cwd=str(lived.root),
        encoding="utf-8",
        dimensions=(50, 80),
        timeout=60,
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    text = child.before.replace("\r\n", "\n")
    assert max(len(line) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    manifest = json.loads(lived.archive.record_dir("telegram-23256").joinpath("manifest.json").read_text())
    summaries = [event["summary"] for event in manifest["events"]]
    assert len(summaries) == 8
    for summary in summaries:
        assert summary in flat, summary  # every word whole, in order
    assert "#6" in text and "revision" in text


def test_log_compact_piped_is_one_line_per_event(lived: World) -> None:
    r = lived.run("log", "telegram-23256", "--compact")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == 1 + 8
    assert lines[6].startswith("#6  ") and "revision" in lines[6] and "Kim II Sung is Kim Il Sung" in lines[6]


@pytest.mark.parametrize(("columns", "args"), [(80, ("--table",)), (120, ()), (120, ("--table",))])
def test_log_table_breaks_no_word(lived: World, columns: int, args: tuple[str, ...]) -> None:
    """The table at 80 and 120 columns: every word of every summary whole, ids, dates and key ids never cut."""
    from tests.terminal_helpers import plain, run_in_pty

    text = plain(run_in_pty(lived, "log", "telegram-23256", *args, columns=columns))
    assert max(len(line) for line in text.splitlines()) <= columns
    words = set(text.split())
    assert "summary" in words and "…" not in text  # the table, nothing cut
    manifest = json.loads(lived.archive.record_dir("telegram-23256").joinpath("manifest.json").read_text())
    for event in manifest["events"]:
        for word in event["summary"].split() + event["agent"].split():
            assert word in words, (word, text)
        date, _, clock = event["time"].rstrip("Z").partition("T")
        assert {date, clock, event["key"][8:20], event["type"]} <= words
