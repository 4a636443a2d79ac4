"""The public API (issue 15 item 1): ``provenance.__all__`` is what the package promises, each name resolves,
``import provenance`` imports nothing else, and the command line uses only these names.

The CLI's imports are read from its source (ast): a ``provenance/cli/*.py`` module may import
``provenance`` (names of ``__all__`` only), ``provenance.cli.*``, and the rendering helpers listed in
RENDERING below; anything else is a library module the CLI should not reach into.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import provenance

CLI = Path(provenance.__file__).parent / "cli"

# Rendering-only helpers the CLI may import from outside the public API, with why:
RENDERING: dict[str, set[str]] = {
    # the one escaping of controls and bidi characters for terminal text and JSON (what the CLI prints)
    "provenance.safetext": {"printable", "json_safe"},
    # bounding the length of any error line, click's and pydantic's included (what the CLI prints)
    "provenance.errors": {"bound_message", "bound_details"},
    # a pydantic validation location as the field name an error line shows (cli/app.py)
    "provenance.model.locations": {"field_name"},
    # the word-level segments of a diff, highlighted on a terminal (cli/inspect_render.py)
    "provenance.diff": {"Segment", "word_hunks"},
}
# CLI modules not yet converted, each with its reason (the list only shrinks):
PENDING: dict[str, str] = {}


def test_all_is_what_the_package_exports() -> None:
    assert set(provenance.__all__) == {"__version__", *provenance._EXPORTS}
    assert len(provenance.__all__) == len(set(provenance.__all__))
    for name in provenance.__all__:
        assert getattr(provenance, name) is not None, name
    with pytest.raises(AttributeError):
        provenance.no_such_name  # noqa: B018 - the access is the test


def test_every_public_name_is_documented() -> None:
    page = (Path(provenance.__file__).parent.parent / "docs" / "api.md").read_text("utf-8")
    table = page[page.index("## What is public") :]
    assert not [n for n in provenance.__all__ if n != "__version__" and f"`{n}`" not in table]


def test_no_public_name_is_hidden_by_a_submodule() -> None:
    """``provenance.verify`` is a package: a function of that name would be replaced by it the moment the
    package is imported (the import system binds submodules on their parent)."""
    submodules = {info.name for info in pkgutil.iter_modules(provenance.__path__)}
    assert not submodules & set(provenance.__all__)


def test_import_provenance_is_light() -> None:
    """Nothing but the package itself is imported (what the interpreter or a coverage tracer loaded before
    does not count)."""
    code = "import sys; before = set(sys.modules); import provenance; print(sorted(set(sys.modules) - before))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['provenance']"


def _library_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) of every import of a ``provenance`` module that is not the CLI's own."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module, names = node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("provenance"):
                    found.append((node.lineno, alias.name, []))
            continue
        else:
            continue
        is_library = module == "provenance" or module.startswith("provenance.")
        if is_library and not module.startswith("provenance.cli"):
            found.append((node.lineno, module, names))
    return found


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_cli_uses_only_the_public_api(path: Path) -> None:
    if path.name in PENDING:
        pytest.skip(f"not converted yet: {PENDING[path.name]}")
    wrong = []
    for line, module, names in _library_imports(path):
        if module == "provenance":
            wrong += [f"{path.name}:{line}: provenance.{n} is not public" for n in names if n not in provenance.__all__]
        elif module in RENDERING and names and set(names) <= RENDERING[module]:
            continue
        else:
            wrong.append(f"{path.name}:{line}: imports {module} ({', '.join(names)})")
    assert not wrong, "\n".join(wrong)


def test_export_format_choices_are_the_librarys() -> None:
    from provenance.cli.export_cmds import FORMATS, READER_FORMATS

    assert (*provenance.EXPORTERS, *(f for f in provenance.EDITIONS if f != "page")) == FORMATS
    assert set(provenance.EDITIONS) - {"page"} == READER_FORMATS
