"""docs/api.md runs: every ``>>>`` example of its Python blocks, in order, as one doctest session, in an
empty folder holding a copy of the reference telegram, with real keys (PROVENANCE_HOME a private folder, the
passphrase in PROVENANCE_PASSPHRASE, the variable the page documents)."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from tests.conftest import PASSPHRASE, REFERENCE

DOC = Path(__file__).parent.parent / "docs" / "api.md"


def python_blocks(text: str) -> str:
    """The page with every line outside its ```python blocks blanked: the examples keep their line numbers,
    and a closing fence is never read as expected output."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```python"
            kept.append("")
        else:
            kept.append(line if inside else "")
    return "\n".join(kept) + "\n"


def test_api_page_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "telegram-23256.txt").write_bytes(REFERENCE.read_bytes())
    monkeypatch.chdir(work)
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PROVENANCE_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("PROVENANCE_ARCHIVE", raising=False)
    monkeypatch.delenv("PROVENANCE_AGENT_SOCK", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))  # no signing agent of this machine is asked
    source = python_blocks(DOC.read_text("utf-8"))
    assert source.count(">>>") > 20, "the page lost its examples"
    test = doctest.DocTestParser().get_doctest(source, {}, "docs/api.md", str(DOC), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's "From Python" example, from the repository's root as it says."""
    readme = DOC.parent.parent / "README.md"
    text = readme.read_text("utf-8")
    section = text[text.index("## From Python"):]
    section = section[: section.index("\n## ", 1)]
    monkeypatch.chdir(readme.parent)
    monkeypatch.delenv("PROVENANCE_ARCHIVE", raising=False)
    source = python_blocks(section)
    assert source.count(">>>") >= 3, "the README lost its Python example"
    test = doctest.DocTestParser().get_doctest(source, {}, "README.md", str(readme), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
