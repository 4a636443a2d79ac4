"""Small helpers shared by the end-to-end, history and tamper tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from tests.conftest import CliResult, World

RID = "telegram-23256"

# Who signs what in the reference life, by the names the conftest world gives the keys.
ARCHIVIST = "A. Archivist"
TRANSLATOR = "T. Translator"
REVIEWER = "R. Reviewer"
PUBLISHER = "P. Publisher"
CUSTODIAN = "C. Custodian"


def tree_snapshot(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every entry below ``root``: relative path → (kind, bytes of a file / target of a link).

    Two snapshots compare equal only when no path was added, removed or changed by a single byte.
    """
    snap: dict[str, tuple[str, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                snap[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                snap[rel] = ("dir", b"")
            else:
                snap[rel] = ("file", path.read_bytes())
    return snap


def assert_one_clear_line(result: CliResult, exit_code: int, code: str) -> None:
    """A refused command: the exit code, one ``provenance: error: … [code]`` line on stderr, nothing else."""
    assert result.returncode == exit_code, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("provenance: error: "), lines[0]
    assert lines[0].endswith(f"[{code}]"), lines[0]


def json_error(result: CliResult) -> dict[str, Any]:
    """The ``{"error": {...}}`` document a refused command prints under ``--json``."""
    document = result.json()
    assert set(document) == {"error"}, document
    error: dict[str, Any] = document["error"]
    return error


def read_manifest_json(world: World, record: str = RID) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((world.archive.record_dir(record) / "manifest.json").read_bytes())
    return data


def write_manifest_json(world: World, document: dict[str, Any], record: str = RID) -> None:
    """Write a hand-edited manifest back in the tool's own layout (indent 2, UTF-8, one newline)."""
    from provenance.canonical import dumps_pretty

    path = world.archive.record_dir(record) / "manifest.json"
    path.write_bytes(dumps_pretty(document))


def make_writable(root: Path) -> None:
    """Objects are stored read-only; a test that tampers with them must first make them writable."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(Path(dirpath) / name, 0o644)


def copy_record(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    make_writable(dst)
    return dst


def run_in_process(world: World, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """The CLI's ``main()`` in this process with the world's environment: the command's own code path
    without the interpreter start-up, for tables that run it many times (a subset also runs as a
    subprocess, see ``World.run``)."""
    import contextlib
    import io

    from provenance.cli.app import main

    merged = dict(world.env)
    merged["PROVENANCE_NOW"] = world.tick().strftime("%Y-%m-%dT%H:%M:%SZ")
    merged.update(env or {})
    saved, old_cwd = dict(os.environ), Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.clear()
        os.environ.update(merged)
        os.chdir(world.root)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(saved)
    assert "Traceback" not in err.getvalue(), err.getvalue()
    return CliResult(code, out.getvalue(), err.getvalue())
