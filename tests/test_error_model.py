"""One error model (issue 15 item 2): every code has one class, every raise site uses it, the exit code is
the command line's decision, and library messages name no command-line option.

Raise sites are read from the source (ast): every call ``SomeError(ErrorCode.X, …)`` in ``provenance/``
must name the class :data:`provenance.errors.ERROR_CLASS` gives ``X``; a call whose code is only known at
run time must go through :func:`provenance.errors.error`, which looks the class up.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import provenance
from provenance import errors
from provenance.cli import exits
from provenance.errors import ERROR_CLASS, ErrorCode, ProvenanceError
from provenance.model.problems import TrustState

ROOT = Path(provenance.__file__).parent
CLASSES = {cls.__name__: cls for cls in {*ERROR_CLASS.values(), ProvenanceError}}


def _calls() -> list[tuple[str, int, str, ast.expr, list[ast.expr]]]:
    """(file, line, class name, first argument, other arguments) of every call of an error class."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in CLASSES:
                found.append((str(path.relative_to(ROOT.parent)), node.lineno, name, node.args[0], node.args[1:]))
    return found


def test_every_code_has_exactly_one_class() -> None:
    assert set(ERROR_CLASS) == set(ErrorCode)
    for code in ErrorCode:
        made = errors.error(code, "message")
        assert type(made) is ERROR_CLASS[code] and made.code is code


def _codes(node: ast.expr) -> list[ErrorCode] | None:
    """The codes an argument can be: ``ErrorCode.X``, or ``ErrorCode.X if … else ErrorCode.Y``."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ErrorCode":
        return [ErrorCode[node.attr]]
    if isinstance(node, ast.IfExp):
        body, orelse = _codes(node.body), _codes(node.orelse)
        return body + orelse if body is not None and orelse is not None else None
    return None


def test_every_raise_site_uses_its_codes_class() -> None:
    wrong = []
    for where, line, name, first, _ in _calls():
        codes = _codes(first)
        if codes is not None:
            wrong += [
                f"{where}:{line}: {name}({code.value}) but {code.value} is a {ERROR_CLASS[code].__name__}"
                for code in codes
                if CLASSES[name] is not ERROR_CLASS[code]
            ]
        elif where != "provenance/errors.py":
            wrong.append(f"{where}:{line}: {name}(<a code known at run time>): use errors.error(code, …)")
    assert not wrong, "\n".join(wrong)


def test_no_library_type_holds_an_exit_code() -> None:
    assert not hasattr(ProvenanceError, "exit_code")
    assert not hasattr(TrustState, "exit_code")


def test_exit_codes_are_the_clis_and_unchanged() -> None:
    """README/DESIGN: 0 trusted, 1 invalid, 2 could not run, 3 valid but not trusted."""
    assert {state: exits.exit_for_state(state) for state in TrustState} == {
        TrustState.TRUSTED: 0, TrustState.INVALID: 1, TrustState.VALID: 3
    }
    for code in ErrorCode:
        expected = {ErrorCode.SOURCE_INVALID: 1, ErrorCode.SOURCE_NOT_TRUSTED: 3}.get(code, 2)
        assert exits.exit_for_error(errors.error(code, "m")) == expected, code


OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]+|'provenance [a-z-]+")  # an option, or a command to run


def _text_of(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text_of(v) for v in node.values)
    if isinstance(node, ast.BinOp):
        return _text_of(node.left) + _text_of(node.right)
    return ""


def test_library_messages_name_no_cli_option_or_command() -> None:
    named = []
    for where, line, _, _, rest in _calls():
        if where.startswith("provenance/cli/") or not rest:
            continue
        found = OPTION.findall(_text_of(rest[0]))
        if found:
            named.append(f"{where}:{line}: {', '.join(found)}")
    assert not named, "\n".join(named)


@pytest.mark.parametrize("code", [ErrorCode.OUTPUT_EXISTS, ErrorCode.KEY_PASSPHRASE_MISSING, ErrorCode.KEY_ROTATION_WIDENS])
def test_the_cli_hints_by_code(code: ErrorCode) -> None:
    assert "--" in exits.hint_for(code, None)


def test_the_error_line_carries_the_clis_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The library's message says what failed; the command line's line and JSON add what to do."""
    import json

    from provenance.cli.app import main

    with pytest.raises(SystemExit) as stopped:
        main(["keys", "list", "--archive", str(tmp_path / "nowhere"), "--json"])
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    document = json.loads(out)["error"]
    assert document["code"] == "archive.not-found" and "--archive" in document["hint"]
    assert err.rstrip().endswith("; run 'provenance init PATH' or give --archive [archive.not-found]")


def test_a_parameter_named_by_an_error_is_shown_as_its_option() -> None:
    document, line = exits.with_hint(
        {"code": "usage.invalid", "message": "m", "param": ["seed", "sample"]}, "m", "audit"
    )
    assert document["hint"] == "see --seed, --sample" and line == "m; see --seed, --sample"
    assert exits.option_for("role", "attach") == "--as" and exits.option_for("older_than", None) == "--older-than"
