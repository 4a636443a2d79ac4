"""The public API (issue 15 item 1): a small core, ``provenance.__all__``, and a few public namespaces
(``provenance.records``, ``provenance.verifying``, …), each with its own ``__all__``. Each name resolves and
has one home, each namespace is documented in its section of ``docs/api.md``, ``import provenance`` (or a
namespace) imports nothing else, type checkers see what the run time serves, and the command line uses
only these names.

The CLI's imports are read from its source (ast): a ``provenance/cli/*.py`` module may import ``provenance``
and ``provenance.<namespace>`` (names of their ``__all__`` only) and ``provenance.cli.*``; anything else is a
library module the CLI should not reach into.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import provenance

CLI = Path(provenance.__file__).parent / "cli"
DOC = Path(provenance.__file__).parent.parent / "docs" / "api.md"
CORE_SIZE = range(20, 36)  # "small": what a publisher's pipeline or an archivist's script needs

GROUPS: dict[str, ModuleType] = {
    f"provenance.{name}": importlib.import_module(f"provenance.{name}") for name in provenance._GROUPS
}
NAMESPACES: dict[str, ModuleType] = {"provenance": provenance, **GROUPS}


def _public(module: ModuleType) -> set[str]:
    return set(module.__all__) - {"__version__"}


def test_the_core_is_small() -> None:
    assert len(provenance.__all__) in CORE_SIZE, sorted(provenance.__all__)


@pytest.mark.parametrize("name", NAMESPACES)
def test_all_is_what_the_namespace_serves(name: str) -> None:
    module = NAMESPACES[name]
    assert _public(module) == set(provenance._exports(module._EXPORTS))
    assert len(module.__all__) == len(set(module.__all__))
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018 - the access is the test


def _type_checking_imports(module: ModuleType) -> dict[str, tuple[str, str]]:
    """public name → (module, name there) of the ``if TYPE_CHECKING:`` imports of ``module``'s source."""
    tree = ast.parse(Path(module.__file__ or "").read_text("utf-8"))
    found: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.module.startswith("provenance"):
                    for alias in stmt.names:
                        found[alias.asname or alias.name] = (stmt.module, alias.name)
    return found


@pytest.mark.parametrize("name", NAMESPACES)
def test_type_checkers_see_what_the_run_time_serves(name: str) -> None:
    """The imports for type checkers and editors name the same objects as the run-time table."""
    module = NAMESPACES[name]
    seen = _type_checking_imports(module)
    served = provenance._exports(module._EXPORTS)
    if module is provenance:  # the namespaces, as modules
        served |= {group: ("provenance", group) for group in provenance._GROUPS}
    assert seen == served


def test_every_public_name_has_one_home() -> None:
    homes: dict[str, list[str]] = {}
    for name, module in NAMESPACES.items():
        for public in _public(module):
            homes.setdefault(public, []).append(name)
    assert not {public: where for public, where in homes.items() if len(where) > 1}


def test_the_namespaces_are_reached_from_the_package() -> None:
    assert set(provenance._GROUPS) <= set(dir(provenance))
    for name in provenance._GROUPS:
        assert getattr(provenance, name) is GROUPS[f"provenance.{name}"]


def _sections() -> dict[str, str]:
    """The text of each section of docs/api.md whose heading names a namespace (``## … `provenance.x` ``)."""
    found: dict[str, str] = {}
    for section in re.split(r"^(?=## )", DOC.read_text("utf-8"), flags=re.M):
        heading = section.splitlines()[0] if section else ""
        named = re.search(r"`(provenance(?:\.\w+)?)`\s*$", heading)
        if heading.startswith("## ") and named:
            found[named.group(1)] = section
    return found


@pytest.mark.parametrize("name", NAMESPACES)
def test_every_public_name_is_documented(name: str) -> None:
    section = _sections().get(name)
    assert section is not None, f"docs/api.md has no section headed with `{name}`"
    assert not [n for n in sorted(_public(NAMESPACES[name])) if f"`{n}`" not in section]


def test_no_public_name_is_hidden_by_a_submodule() -> None:
    """``provenance.verify`` is a package: a function of that name would be replaced by it the moment the
    package is imported (the import system binds submodules on their parent). The namespaces are the
    submodules meant to be reached that way."""
    submodules = {info.name for info in pkgutil.iter_modules(provenance.__path__)}
    assert not submodules & set(provenance.__all__)
    assert set(provenance._GROUPS) <= submodules


@pytest.mark.parametrize("name", NAMESPACES)
def test_import_is_light(name: str) -> None:
    """Nothing but the package and the namespace itself is imported (what the interpreter or a coverage
    tracer loaded before does not count)."""
    code = f"import sys; before = set(sys.modules); import {name}; print(sorted(set(sys.modules) - before))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(sorted({"provenance", name}))


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
    wrong = []
    for line, module, names in _library_imports(path):
        if module not in NAMESPACES or not names:
            wrong.append(f"{path.name}:{line}: imports {module} ({', '.join(names)}), not a public namespace")
            continue
        public = set(NAMESPACES[module].__all__)
        wrong += [f"{path.name}:{line}: {module}.{n} is not public" for n in names if n not in public]
    assert not wrong, "\n".join(wrong)


def test_export_format_choices_are_the_librarys() -> None:
    from provenance.cli.export_cmds import FORMATS, READER_FORMATS
    from provenance.publishing import EDITIONS, EXPORTERS

    assert (*EXPORTERS, *(f for f in EDITIONS if f != "page")) == FORMATS
    assert set(EDITIONS) - {"page"} == READER_FORMATS
