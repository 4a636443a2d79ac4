"""Building collections (a folder of transcriptions and a catalogue sheet) for the ingest-batch tests."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

from tests.conftest import CORPUS

CORPUS_FILES = [
    "telegram-23256.txt",
    "synthetic-telegram-4471.txt",
    "synthetic-telegram-7702-ru.txt",
    "synthetic-memo-crlf.txt",
]
HEADER = ["filename", "id", "dc.title", "copies", "dc.language", "dc.date"]
ROWS = [
    ["telegram-23256.txt", "", "Mao Zedong to Filippov [Stalin], 27 August 1951", "", "en", ""],
    ["synthetic-telegram-4471.txt", "", "Synthetic telegram 4471", "Stalin (2)|Molotov", "", ""],
    ["synthetic-telegram-7702-ru.txt", "", "Синтетическая телеграмма 7702", "", "ru", ""],
    ["synthetic-memo-crlf.txt", "memo-crlf", "Memorandum on the observers", "", "en", "1951-09-03"],
]


def csv_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def make_collection(
    base: Path, rows: list[list[str]] | None = None, header: list[str] | None = None
) -> tuple[Path, Path]:
    """``base/in`` with the corpus files, and ``base/metadata.csv`` (outside the folder) describing them."""
    folder = base / "in"
    folder.mkdir(parents=True, exist_ok=True)
    for name in CORPUS_FILES:
        shutil.copyfile(CORPUS / name, folder / name)
    sheet = base / "metadata.csv"
    sheet.write_text(csv_text(header or HEADER, ROWS if rows is None else rows), encoding="utf-8")
    return folder, sheet


def make_xlsx(
    path: Path, rows: list[list[object]], *, merge: str | None = None, cached: dict[str, str] | None = None
) -> Path:
    """An XLSX sheet written by openpyxl; ``cached`` gives formula cells the saved value a spreadsheet
    program would have stored (openpyxl itself stores none: ``<v/>``, or ``<v></v>`` when lxml writes)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    book.save(path)
    if cached:
        with zipfile.ZipFile(path) as zin:
            items = [(info, zin.read(info)) for info in zin.infolist()]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for info, data in items:
                if info.filename == "xl/worksheets/sheet1.xml":
                    text = data.decode()
                    for cell, value in cached.items():
                        text = re.sub(
                            rf'<c r="{cell}"><f>(.*?)</f>(?:<v\s*/>|<v></v>)',
                            lambda m, v=value, c=cell: f'<c r="{c}" t="str"><f>{m.group(1)}</f><v>{v}</v>',
                            text,
                        )
                    data = text.encode()
                zout.writestr(info, data)
    return path
