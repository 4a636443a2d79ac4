"""ingest-batch: a folder and a catalogue sheet, validated first, registered record by record, resumable."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.batch_helpers import HEADER, ROWS, csv_text, make_collection, make_xlsx
from tests.conftest import World
from tests.helpers import run_in_process, tree_snapshot


def _problems(result_stdout: str) -> list[dict[str, object]]:
    document = json.loads(result_stdout)
    assert document["ok"] is False
    return document["problems"]  # type: ignore[no-any-return]


def test_collection_end_to_end(world: World) -> None:
    """Through the installed CLI: dry run writes nothing, the run registers all, a second run finds them."""
    folder, sheet = make_collection(world.root.parent)
    before = tree_snapshot(world.root)
    dry = world.run("ingest-batch", str(folder), "--catalogue", str(sheet), "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = dry.json()
    assert plan["ok"] and plan["to_register"] == 4 and plan["present"] == 0
    assert [r["record"] for r in plan["records"]] == [
        "telegram-23256",
        "telegram-4471",
        "telegram-7702",
        "memo-crlf",
    ]
    assert tree_snapshot(world.root) == before

    run = world.run("ingest-batch", str(folder), "--catalogue", str(sheet), "--key", "A. Archivist")
    assert run.returncode == 0, run.stderr
    assert "4 registered, 0 already present, 0 refused" in run.stdout

    show = world.run("show", "telegram-4471", "--json").json()
    assert show["catalogue"]["title"] == "Synthetic telegram 4471"
    assert show["catalogue"]["copies"] == [
        {"recipient": "Stalin", "count": 2},
        {"recipient": "Molotov", "count": 1},
    ]
    assert show["catalogue"]["telegram_number"] == "4471"  # the header parser's value, kept
    memo = world.run("show", "memo-crlf", "--json").json()
    assert memo["catalogue"]["sent"] == "1951-09-03" and memo["catalogue"]["language"] == "en"
    audit = world.run("audit")
    assert audit.returncode == 0, audit.stdout + audit.stderr

    again = world.run("ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert again.returncode == 0
    assert again.json()["summary"] == {"registered": 0, "present": 4, "refused": 0}


def test_interrupted_batch_registers_only_what_is_missing(world: World) -> None:
    folder, sheet = make_collection(world.root.parent)
    first = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet))
    assert first.returncode == 0, first.stderr
    # as if the batch had been killed after three records: the fourth record is not there
    shutil.rmtree(world.archive.record_dir("memo-crlf"))
    kept = (world.archive.record_dir("telegram-23256") / "manifest.json").read_bytes()
    second = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert second.returncode == 0, second.stderr
    doc = json.loads(second.stdout)
    assert [r["record"] for r in doc["registered"]] == ["memo-crlf"]
    assert len(doc["present"]) == 3
    assert (world.archive.record_dir("telegram-23256") / "manifest.json").read_bytes() == kept


def test_existing_id_with_other_content_is_a_conflict(world: World) -> None:
    folder, sheet = make_collection(world.root.parent)
    assert run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet)).returncode == 0
    rows = [list(r) for r in ROWS]
    rows[3][2] = "Another title"  # memo-crlf: same id, other catalogue
    sheet.write_text(csv_text(HEADER, rows), encoding="utf-8")
    before = tree_snapshot(world.root)
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert result.returncode == 2
    problems = _problems(result.stdout)
    assert [(p["code"], p["row"], p["value"]) for p in problems] == [("row.conflict", 5, "memo-crlf")]
    assert tree_snapshot(world.root) == before


def _write(base: Path, name: str, data: bytes) -> Path:
    path = base / name
    path.write_bytes(data)
    return path


# (name, sheet bytes, extra files, expected (code, row, column) of every problem)
BAD_SHEETS = [
    (
        "unknown-column",
        b"filename,dc.titel,serie\ntelegram-23256.txt,x,y\n",
        {},
        [("column.unknown", 1, "dc.titel"), ("column.unknown", 1, "serie")],
    ),
    ("no-filename-column", b"title\nx\n", {}, [("column.missing", 1, None)]),
    (
        "path-escaping",
        b"filename\n../outside.txt\n/etc/hostname\nsub/../telegram-23256.txt\nlink.txt\n",
        {"link.txt": "LINK"},
        [
            ("row.path-unsafe", 2, "filename"),
            ("row.path-unsafe", 3, "filename"),
            ("row.path-unsafe", 4, "filename"),
            ("row.path-unsafe", 5, "filename"),
        ],
    ),
    (
        "missing-and-extra-files",
        b"filename\ntelegram-23256.txt\nnot-there.txt\n",
        {"extra.txt": b"A file no row names\n"},
        [("row.file-missing", 3, "filename"), ("file.no-row", None, "filename")],
    ),
    (
        "duplicate-ids-and-files",
        b"filename,id\ntelegram-23256.txt,a\nsynthetic-memo-crlf.txt,a\ntelegram-23256.txt,b\n",
        {},
        [("row.duplicate-id", 3, "id"), ("row.duplicate-file", 4, "filename")],
    ),
    (
        "schema-failures",
        b"filename,dc.date,dc.language,id\ntelegram-23256.txt,1951-02-30,en,\nsynthetic-memo-crlf.txt,,not a tag,\n"
        b"synthetic-telegram-4471.txt,,,Bad Id!\n",
        {},
        [("row.schema", 2, "dc.date"), ("row.schema", 3, "dc.language"), ("row.id-invalid", 4, "id")],
    ),
    (
        "non-utf8-and-empty-files",
        b"filename\nlatin1.txt\nempty.txt\n",
        {"latin1.txt": "Caf\xe9 au lait\n".encode("latin-1"), "empty.txt": b""},
        [("row.not-utf8", 2, "filename"), ("row.empty-file", 3, "filename")],
    ),
    (
        "one-field-twice",
        b"filename,title,dc.title\ntelegram-23256.txt,One,Two\n",
        {},
        [("column.duplicate", 2, "dc.title")],
    ),
    (
        "cp1251-sheet",
        "filename,title\ntelegram-23256.txt,Телеграмма Филиппову\n".encode("cp1251"),
        {},
        [("sheet.encoding", 2, None)],
    ),
    (
        "latin1-sheet",
        "filename,title\ntelegram-23256.txt,Café\n".encode("latin-1"),
        {},
        [("sheet.encoding", 2, None)],
    ),
    (
        "unterminated-quote",
        b'filename,title\ntelegram-23256.txt,"no end\n',
        {},
        [("sheet.unreadable", 2, None)],
    ),
    ("header-only", b"filename,title\n", {}, [("sheet.empty", None, None)]),
]


@pytest.mark.parametrize(
    ("sheet_bytes", "extra", "expected"), [c[1:] for c in BAD_SHEETS], ids=[c[0] for c in BAD_SHEETS]
)
def test_bad_sheets_report_every_problem_and_write_nothing(
    world: World,
    sheet_bytes: bytes,
    extra: dict[str, bytes | str],
    expected: list[tuple[str, int | None, str | None]],
) -> None:
    base = world.root.parent
    folder = base / "in"
    folder.mkdir()
    for name in ("telegram-23256.txt", "synthetic-memo-crlf.txt", "synthetic-telegram-4471.txt"):
        shutil.copyfile(Path(__file__).parent / "data" / "corpus" / name, folder / name)
    outside = _write(base, "outside.txt", b"Outside the folder\n")
    for name, data in extra.items():
        if data == "LINK":
            os.symlink(outside, folder / name)
        else:
            assert isinstance(data, bytes)
            _write(folder, name, data)
    sheet = _write(base, "sheet.csv", sheet_bytes)
    # the folder's other corpus files are named by no row in most cases: only what the case is about counts
    before = tree_snapshot(world.root)
    for dry in (["--dry-run"], []):
        result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json", *dry)
        assert result.returncode == 2, result.stdout
        problems = [
            p
            for p in _problems(result.stdout)
            if not (p["code"] == "file.no-row" and p["value"] != "extra.txt")
        ]
        assert [(p["code"], p.get("row"), p.get("column")) for p in problems] == expected
        assert result.stderr.strip().endswith("[batch.sheet-invalid]")
        assert tree_snapshot(world.root) == before


def test_encoding_named_in_the_refusal_and_accepted_when_given(world: World) -> None:
    folder, _ = make_collection(world.root.parent)
    rows = [list(r) for r in ROWS]
    sheet = world.root.parent / "cp1251.csv"
    sheet.write_bytes(csv_text(HEADER, rows).encode("cp1251"))
    refused = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--dry-run")
    assert refused.returncode == 2
    assert (
        "CP1251" in refused.stdout + refused.stderr and "--encoding cp1251" in refused.stdout + refused.stderr
    )
    accepted = run_in_process(
        world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--encoding", "cp1251"
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    show = json.loads(run_in_process(world, "show", "telegram-7702", "--json").stdout)
    assert show["catalogue"]["title"] == "Синтетическая телеграмма 7702"


def test_bom_quoted_newlines_empty_rows_and_semicolons_are_read(world: World) -> None:
    folder, _ = make_collection(world.root.parent)
    rows = [list(r) for r in ROWS]
    rows[0][2] = "Mao Zedong to Filippov\nsecond line of the title"
    text = csv_text(HEADER, rows, delimiter=";")
    lines = text.split("\r\n")
    text = "\r\n".join([*lines[:3], ";;;;;", "", *lines[3:]])
    sheet = world.root.parent / "bom.csv"
    sheet.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert any("BOM" in n for n in doc["notices"]) and any("empty row" in n for n in doc["notices"])
    assert [r["row"] for r in doc["registered"]] == [2, 3, 6, 7]
    show = json.loads(run_in_process(world, "show", "telegram-23256", "--json").stdout)
    assert show["catalogue"]["title"] == "Mao Zedong to Filippov\nsecond line of the title"


def test_xlsx_formulas_use_cached_values_and_say_so(world: World) -> None:
    folder, _ = make_collection(world.root.parent)
    rows: list[list[object]] = [list(HEADER), *[list(r) for r in ROWS]]
    rows[2][2] = '=CONCAT("Synthetic ","telegram 4471")'
    rows[4][5] = None
    sheet = make_xlsx(world.root.parent / "sheet.xlsx", rows, cached={"C3": "Synthetic telegram 4471"})
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert any("formula" in n and "C3" in n for n in doc["notices"])
    show = json.loads(run_in_process(world, "show", "telegram-4471", "--json").stdout)
    assert show["catalogue"]["title"] == "Synthetic telegram 4471"


def test_xlsx_merged_cells_and_uncached_formulas_are_refused(world: World) -> None:
    folder, _ = make_collection(world.root.parent)
    rows: list[list[object]] = [list(HEADER), *[list(r) for r in ROWS]]
    merged = make_xlsx(world.root.parent / "merged.xlsx", rows, merge="E2:E3")
    before = tree_snapshot(world.root)
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(merged), "--json")
    assert result.returncode == 2
    assert [(p["code"], p["row"], p["value"]) for p in _problems(result.stdout)] == [
        ("sheet.merged-cells", 2, "E2:E3")
    ]
    rows[1][2] = "=1+1"
    uncached = make_xlsx(world.root.parent / "uncached.xlsx", rows)
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(uncached), "--json")
    assert result.returncode == 2
    assert [(p["code"], p["row"]) for p in _problems(result.stdout)] == [("sheet.unreadable", 2)]
    assert tree_snapshot(world.root) == before


def test_xlsx_without_openpyxl_names_the_extra(world: World, tmp_path: Path) -> None:
    import subprocess
    import sys

    folder, _ = make_collection(world.root.parent)
    sheet = make_xlsx(world.root.parent / "s.xlsx", [list(HEADER), *[list(r) for r in ROWS]])
    code = (
        "import sys; sys.modules['openpyxl'] = None\n"
        "from provenance.cli.app import main\n"
        f"main(['ingest-batch', {str(folder)!r}, '--catalogue', {str(sheet)!r}, '--dry-run'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=world.env, check=False
    )
    assert proc.returncode == 2
    assert "provenance[xlsx]" in proc.stderr and proc.stderr.strip().endswith("[dependency.missing]")


def test_a_sheet_of_100000_rows_is_checked_precisely_and_writes_nothing(world: World) -> None:
    folder = world.root.parent / "in"
    folder.mkdir()
    sheet = world.root.parent / "big.csv"
    lines = ["filename,title"] + [f"missing-{n:06d}.txt,Telegram {n}" for n in range(100_000)]
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = tree_snapshot(world.root)
    result = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert result.returncode == 2
    problems = _problems(result.stdout)
    assert len(problems) == 100_000
    assert problems[-1] == {
        "code": "row.file-missing",
        "message": f"row 100001: no file 'missing-099999.txt' in {folder}",
        "row": 100_001,
        "column": "filename",
        "value": "missing-099999.txt",
    }
    text = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet))
    assert "and 99,800 more problem(s)" in text.stdout
    sheet.write_text("\n".join([*lines, "one-more.txt,x"]) + "\n", encoding="utf-8")
    too_many = run_in_process(world, "ingest-batch", str(folder), "--catalogue", str(sheet), "--json")
    assert [(p["code"], p["row"]) for p in _problems(too_many.stdout)] == [("sheet.too-large", 100_002)]
    assert tree_snapshot(world.root) == before


def test_a_killed_batch_leaves_whole_records_and_resumes(world: World) -> None:
    """SIGKILL part-way (one syncfs a record, then the rename): every record present verifies, and the
    same command then registers exactly what is missing."""
    import signal
    import subprocess
    import time

    from tests.conftest import provenance_bin

    base = world.root.parent
    folder = base / "many"
    folder.mkdir()
    text = (Path(__file__).parent / "data" / "corpus" / "telegram-23256.txt").read_bytes()
    rows = []
    for n in range(40):
        (folder / f"t{n:03d}.txt").write_bytes(text + f"\nCopy {n}.\n".encode())
        rows.append([f"t{n:03d}.txt", f"copy-{n:03d}"])
    sheet = base / "many.csv"
    sheet.write_text(csv_text(["filename", "id"], rows), encoding="utf-8")
    env = {**world.env, "PROVENANCE_NOW": "2026-01-05T10:00:00Z"}
    for delay in (0.8, 1.6):
        proc = subprocess.Popen(
            [provenance_bin(), "ingest-batch", str(folder), "--catalogue", str(sheet)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        audit = world.run("audit", "--json", env={"PROVENANCE_NOW": "2026-01-05T11:00:00Z"})
        assert audit.returncode == 0, audit.stdout[-2000:]
    done = world.run(
        "ingest-batch",
        str(folder),
        "--catalogue",
        str(sheet),
        "--json",
        env={"PROVENANCE_NOW": "2026-01-05T10:00:00Z"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.json()["summary"]
    assert summary["registered"] + summary["present"] == 40 and summary["refused"] == 0
    assert len(world.archive.record_ids()) == 40
