"""The commitments as a table: cells, CSV (UTF-8 with a BOM, so spreadsheet programs read the
Chinese right), XLSX (what journalists open), and download files named after their filter."""
from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from typing import IO

COLUMNS = (
    ("chapter", "章节 chapter"), ("section", "小节 section"), ("milestone", "承诺程度 milestone"),
    ("object", "对象 object"), ("quantity", "数量 quantity"), ("unit", "单位 unit"), ("places", "地点 places"),
    ("deadline", "期限 deadline"), ("quote", "原文 quote"), ("id", "编号 id"), ("notes", "备注 notes"),
)
CSV_COLUMNS = tuple(header for _, header in COLUMNS)
JOIN = "；"  # the Chinese list separator; never the CSV comma, so a cell reads the same in any program


def as_rows(rows: Iterable) -> list[list[str]]:
    """The table's cells under CSV_COLUMNS; several quantities, units or places joined with "；"."""
    out = []
    for c in rows:
        out.append([
            c.chapter, c.section, c.milestone_label, c.object, JOIN.join(q.qualifier + q.value for q in c.quantities),
            JOIN.join(q.unit for q in c.quantities), JOIN.join(p.name for p in c.places), c.deadline.text, c.quote, c.id,
            JOIN.join(c.notes),
        ])
    return out


def to_csv(rows: Iterable, path_or_file: str | os.PathLike | IO) -> int:
    """Write the table as UTF-8 with a BOM to a path, a text file or a binary file; returns the row count."""
    cells = as_rows(rows)
    if isinstance(path_or_file, str | os.PathLike):
        with open(path_or_file, "w", encoding="utf-8-sig", newline="") as f:
            _write(f, cells, bom=False)  # utf-8-sig writes the BOM itself
    elif isinstance(path_or_file, io.RawIOBase | io.BufferedIOBase):
        text = io.TextIOWrapper(path_or_file, encoding="utf-8", newline="", write_through=True)
        _write(text, cells, bom=True)
        text.detach()  # leave the caller's binary file open
    else:
        _write(path_or_file, cells, bom=True)
    return len(cells)


def _write(f: IO[str], cells: list[list[str]], bom: bool) -> None:
    if bom:
        f.write("\ufeff")
    writer = csv.writer(f)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(cells)


# Column widths in characters, for Excel; the quote column wraps.
XLSX_WIDTHS = (28, 22, 12, 30, 10, 8, 18, 10, 60, 36, 24)


def to_xlsx(rows: Iterable, path: str | os.PathLike, title: str = "承诺清单") -> int:
    """Write the table as an Excel workbook: one header row (frozen, bold), wrapped quotes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    cells = as_rows(rows)
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(CSV_COLUMNS))
    for row in cells:
        ws.append([_no_formula(v) for v in row])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, width in enumerate(XLSX_WIDTHS):
        letter = chr(ord("A") + i)
        ws.column_dimensions[letter].width = width
        for cell in ws[letter][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wb.save(path)
    return len(cells)


def _no_formula(value: str) -> str:
    """A cell starting with = + - @ would run as a formula in Excel; a leading apostrophe keeps it text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


MILESTONE_SLUGS = {"done": "完成或投用", "begun": "已开工及以上", "in_use": "投用", "finished": "完工", "started": "开工",
                   "ready": "具备条件", "effort": "推进", "other": "其他"}


def download_name(chapter: int | None, keyword: str | None, milestone: str | None, quantified_only: bool, ext: str) -> str:
    """A file name that says what was filtered: 承诺清单_第6章_完成或投用_有量化目标_学校.xlsx."""
    parts = ["承诺清单"]
    if chapter is not None:
        parts.append("引言" if chapter == 0 else f"第{chapter}章")
    if milestone:
        parts.append(MILESTONE_SLUGS.get(milestone, milestone))
    if quantified_only:
        parts.append("有量化目标")
    word = re.sub(r"[^\w\u4e00-\u9fff]+", "", keyword or "")[:20]
    if word:
        parts.append(word)
    if len(parts) == 1:
        parts.append("全部")
    return "_".join(parts) + f".{ext}"
