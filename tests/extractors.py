"""Real extractors as oracles: GNU tar, bsdtar (libarchive), Info-ZIP unzip, 7-Zip, Python's zipfile and
tarfile. ``disagreements(archive, form, verified)`` extracts the archive with each one available into a
fresh folder and lists every way its tree differs from the tree ``provenance`` verified: a missing or
extra file or folder, other bytes, a link or special file, or an extractor that fails.

Also runnable as a campaign: ``python -m tests.extractors --seed 1 --count 2000`` prints the figures
docs/security.md quotes (variants, verdicts, extractors, disagreements).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

Tree = dict[str, bytes | None]  # relative path → bytes (a file) or None (a folder)
TIMEOUT = 20


def tree_of(root: Path) -> tuple[Tree, list[str]]:
    """Every file and folder below ``root`` (links and special files are listed as problems)."""
    tree: Tree = {}
    odd: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                odd.append(f"{rel} is a symbolic link")
            elif path.is_dir():
                tree[rel] = None
            elif path.is_file():
                tree[rel] = path.read_bytes()
            else:
                odd.append(f"{rel} is a special file")
    return tree, odd


def _run(argv: list[str], cwd: Path | None = None) -> str | None:
    try:
        proc = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT,
                              check=False)
    except subprocess.TimeoutExpired:
        return f"no result after {TIMEOUT} s"
    if proc.returncode != 0:
        return f"exit {proc.returncode}: {proc.stderr.decode('utf-8', 'replace').strip()[-200:]}"
    return None


def _gnu_tar(archive: Path, out: Path) -> str | None:
    return _run(["tar", "--no-same-owner", "--no-same-permissions", "-xf", str(archive), "-C", str(out)])


def _bsdtar(archive: Path, out: Path) -> str | None:
    return _run(["bsdtar", "-xf", str(archive), "-C", str(out)])


def _unzip(archive: Path, out: Path) -> str | None:
    return _run(["unzip", "-qq", "-n", str(archive), "-d", str(out)])


def _7z(archive: Path, out: Path) -> str | None:
    if archive.name.endswith(".zip"):
        return _run(["7z", "x", "-y", "-bd", f"-o{out}", str(archive)])
    with tempfile.TemporaryDirectory(dir=out.parent) as middle:
        failed = _run(["7z", "x", "-y", "-bd", f"-o{middle}", str(archive)])
        if failed:
            return failed
        inner = list(Path(middle).iterdir())
        if len(inner) != 1:
            return f"the gzip layer held {len(inner)} files"
        return _run(["7z", "x", "-y", "-bd", "-ttar", f"-o{out}", str(inner[0])])


def _python(archive: Path, out: Path) -> str | None:
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as z:
                z.extractall(out)  # noqa: S202 - the extractor under test, in a scratch folder
        else:
            with tarfile.open(archive) as t:
                t.extractall(out, filter="data")
    except Exception as exc:  # any failure is what is recorded
        return f"{type(exc).__name__}: {exc}"
    return None


Extractor = tuple[str, str, Callable[[Path, Path], str | None]]  # (name, command it needs, function)
EXTRACTORS: list[Extractor] = [
    ("GNU tar", "tar", _gnu_tar),
    ("bsdtar", "bsdtar", _bsdtar),
    ("unzip", "unzip", _unzip),
    ("7-Zip", "7z", _7z),
    ("Python", "", _python),
]
FORMS = {"GNU tar": ("tar.gz",), "unzip": ("zip",)}


def available(form: str) -> list[Extractor]:
    return [e for e in EXTRACTORS if form in FORMS.get(e[0], ("zip", "tar.gz")) and (not e[1] or shutil.which(e[1]))]


def missing() -> list[str]:
    return [name for name, command, _ in EXTRACTORS if command and not shutil.which(command)]


def compare(verified: Tree, found: Tree, odd: list[str]) -> list[str]:
    problems = list(odd)
    for rel in sorted(set(verified) | set(found)):
        if rel not in found:
            problems.append(f"{rel}: verified, not extracted")
        elif rel not in verified:
            problems.append(f"{rel}: extracted, not verified")
        elif verified[rel] != found[rel]:
            problems.append(f"{rel}: other bytes" if found[rel] is not None and verified[rel] is not None
                            else f"{rel}: a file for one, a folder for the other")
    return problems


def disagreements(archive: Path, form: str, verified: Tree, scratch: Path) -> dict[str, list[str]]:
    """Each available extractor's differences from ``verified`` (empty lists when they all agree)."""
    out: dict[str, list[str]] = {}
    for name, _, extract in available(form):
        folder = Path(tempfile.mkdtemp(prefix="x-", dir=scratch))
        try:
            failed = extract(archive, folder)
            found, odd = tree_of(folder)
            out[name] = compare(verified, found, odd) + ([f"failed: {failed}"] if failed else [])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return out


def verified_tree(archive: Path, scratch: Path) -> Tree:
    """The tree provenance read (and verified): written by its own reader, as ``unpack`` would."""
    from provenance.bundle.readers import extract

    folder = Path(tempfile.mkdtemp(prefix="v-", dir=scratch))
    try:
        extract(archive, folder)
        return tree_of(folder)[0]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def campaign(seed: int, count: int) -> None:  # pragma: no cover - run by hand for docs/security.md
    """Every construct and ``count`` seeded mutations: verdicts, extractor disagreements when trusted, and
    for each refused construct, which extractors silently extract a tree other than the genuine one."""
    from collections import Counter

    from provenance.verify.target import verify_path
    from tests.hostile_archives import constructs, mutations
    from tests.test_differential import make_base

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        base, ctx = make_base(scratch)
        genuine: Tree = {}
        for name, data in base.entries:
            genuine[name] = data
            parts = name.split("/")
            genuine.update({"/".join(parts[:i]): None for i in range(1, len(parts)) if "/".join(parts[:i]) not in genuine})
        verdicts: Counter[str] = Counter()
        codes: Counter[str] = Counter()
        runs = 0
        found: list[str] = []
        silent: list[str] = []
        variants = [*constructs(base), *mutations(base, seed, count)]
        for variant in variants:
            path = scratch / f"v.{variant.form}"
            path.write_bytes(variant.data)
            report = verify_path(path, ctx)
            verdicts[str(report.state)] += 1
            codes.update({str(p.code) for p in report.problems})
            if str(report.state) == "trusted":
                for name, problems in disagreements(path, variant.form, verified_tree(path, scratch), scratch).items():
                    runs += 1
                    if problems:
                        found.append(f"{variant.name} / {name}: {problems[:3]}")
            elif variant.codes is not None:
                differ = [name for name, problems in disagreements(path, variant.form, genuine, scratch).items()
                          if problems and not any(p.startswith("failed") for p in problems)]
                if differ:
                    silent.append(f"{variant.name}: {', '.join(differ)}")
        constructs_count = sum(1 for v in variants if v.codes is not None)
        print(f"variants: {len(variants)} ({constructs_count} constructs, {count} mutations, seed {seed})")
        print(f"verdicts: {dict(verdicts)}")
        print(f"codes: {dict(codes.most_common())}")
        print(f"extractions of trusted variants: {runs}; missing extractors: {missing() or 'none'}")
        print(f"disagreements: {len(found)}")
        for line in found:
            print("  " + line)
        print(f"refused constructs that some extractor silently reads otherwise than the genuine bundle: {len(silent)}")
        for line in silent:
            print("  " + line)


if __name__ == "__main__":  # pragma: no cover
    arguments = dict(zip(sys.argv[1::2], sys.argv[2::2], strict=False))
    campaign(int(arguments.get("--seed", "1")), int(arguments.get("--count", "500")))
