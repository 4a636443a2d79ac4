"""``verify``/``audit`` with plain arguments skip typer: same output and exit code as through typer, and
anything the fast path does not parse goes to typer (which reports it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provenance.cli import app as app_module
from provenance.cli.verify_run import fast_command
from tests.conftest import World
from tests.helpers import RID


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "a"],
        ["verify", "a", "b", "--json"],
        ["verify", "--json", "a", "--trust", "keys", "--archive", "x", "--jobs", "2"],
        ["verify", "a", "-A", "x", "-j", "1", "--trust=keys", "--archive=x", "--jobs=3"],
        ["audit"],
        ["audit", "--jobs", "2", "--json", "-A", "x"],
    ],
)
def test_plain_arguments_take_the_fast_path(argv: list[str]) -> None:
    assert fast_command(argv) is not None


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["show", RID],
        ["verify"],  # missing path: typer says so
        ["verify", "--help"],
        ["verify", "a", "-h"],
        ["verify", "a", "--jobs", "0"],
        ["verify", "a", "--jobs", "two"],
        ["verify", "a", "--jobs"],
        ["verify", "a", "-j2"],
        ["verify", "a", "--jobs=", "b"],
        ["verify", "a", "-A=x"],
        ["verify", "a", "--trust", "--json"],
        ["verify", "a", "--unknown"],
        ["verify", "--", "-a"],
        ["verify", "a", "--json=1"],
        ["audit", "extra"],
        ["audit", "--jobs", "²"],
    ],
)
def test_anything_else_goes_to_typer(argv: list[str]) -> None:
    assert fast_command(argv) is None


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        app_module.main(argv)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


@pytest.mark.parametrize(
    "extra",
    [[], ["--json"], ["--jobs", "1"], ["--trust", "{keys}"], ["--json", "--trust", "{empty}"]],
    ids=["text", "json", "jobs", "trust", "untrusted-json"],
)
def test_fast_path_equals_typer(
    lived: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
) -> None:
    monkeypatch.chdir(lived.root)
    monkeypatch.setenv("PROVENANCE_NOW", "2026-02-01T00:00:00Z")
    (tmp_path / "empty").mkdir()
    extra = [e.format(keys=lived.archive.keys_dir, empty=tmp_path / "empty") for e in extra]
    for argv in (["verify", f"records/{RID}", *extra], ["audit", *extra]):
        fast = run_main(argv, capsys)
        with monkeypatch.context() as patch:
            patch.setattr(app_module, "_fast_command", lambda args: None)
            slow = run_main(argv, capsys)
        assert _untimed(fast) == _untimed(slow)


def _untimed(outcome: tuple[int, str, str]) -> tuple[int, str, str]:
    """The outcome with elapsed times ("0.02 s", "seconds": 0.015) blanked: they differ run to run."""
    code, out, err = outcome
    out = re.sub(r"\b\d+\.\d+ s\b", "T s", out)
    out = re.sub(r'("(?:seconds|elapsed)[a-z_]*": )[0-9.e-]+', r"\1T", out)
    return code, out, err


def test_missing_path_is_the_same_error_both_ways(
    lived: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(lived.root)
    fast = run_main(["verify", "records/nowhere", "--json"], capsys)
    monkeypatch.setattr(app_module, "_fast_command", lambda args: None)
    slow = run_main(["verify", "records/nowhere", "--json"], capsys)
    assert fast == slow
    assert fast[0] == 2 and "input.not-found" in fast[1]


def test_the_verifier_builds_its_validators_without_pydantic_plugins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No entry-point plugin gets into the verifier's validators, and the environment is left as it was."""
    from provenance.model.keycard import KeyCard
    from provenance.model.manifest import Manifest
    from provenance.model.timefmt import utc_now
    from provenance.verify import target

    seen: list[str | None] = []
    original = Manifest.model_rebuild.__func__  # type: ignore[attr-defined]

    def rebuild(cls: type, **kwargs: object) -> object:
        seen.append(__import__("os").environ.get("PYDANTIC_DISABLE_PLUGINS"))
        return original(cls, **kwargs)

    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    monkeypatch.setattr(Manifest, "__pydantic_complete__", False)
    monkeypatch.setattr(KeyCard, "__pydantic_complete__", False)
    monkeypatch.setattr(Manifest, "model_rebuild", classmethod(rebuild))
    monkeypatch.setattr(KeyCard, "model_rebuild", classmethod(rebuild))
    target.make_context(tmp_path, utc_now())
    assert seen == ["__all__", "__all__"]
    import os

    assert "PYDANTIC_DISABLE_PLUGINS" not in os.environ


def test_no_pydantic_plugin_gets_into_any_model_the_verification_builds(lived: World) -> None:
    """Models are built on first use, some in the middle of a verification (the state's and the events'
    serializers): every one is built with plugins off, in a fresh interpreter where none is built yet."""
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "import pydantic.plugin._loader as loader\n"
        "seen = []\n"
        "loader.get_plugins = lambda: seen.append(os.environ.get('PYDANTIC_DISABLE_PLUGINS')) or ()\n"
        "from provenance.model.timefmt import utc_now\n"
        "from provenance.verify.target import make_context, verify_path\n"
        "ctx = make_context(Path(sys.argv[1]) / 'keys', utc_now())\n"
        "report = verify_path(Path(sys.argv[1]) / 'records' / sys.argv[2], ctx)\n"
        "assert str(report.state) == 'trusted', report.problems\n"
        "assert len(seen) >= 4 and set(seen) == {'__all__'}, seen\n"
        "assert 'PYDANTIC_DISABLE_PLUGINS' not in os.environ\n"
    )
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code, str(lived.root), RID], capture_output=True, text=True,
                          env={k: v for k, v in lived.env.items() if k != "PYDANTIC_DISABLE_PLUGINS"})
    assert proc.returncode == 0, proc.stderr


def test_the_fast_path_skips_the_teardown_only_when_no_exit_handler_waits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its output is flushed first; with an exit handler registered (coverage, multiprocessing, logging)
    the process exits as usual, so that the handler runs."""
    exits: list[int] = []
    monkeypatch.setattr(app_module.os, "_exit", exits.append)
    monkeypatch.setattr(app_module.atexit, "_ncallbacks", lambda: 1)
    app_module._exit_now(3)
    assert exits == []
    monkeypatch.setattr(app_module.atexit, "_ncallbacks", lambda: 0)
    print("report", end="")
    app_module._exit_now(3)
    assert exits == [3]
    assert capsys.readouterr().out == "report"
