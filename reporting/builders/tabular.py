"""CSV (one tidy file: a line per published cell) and XLSX (a sheet per table, then notes)."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from ..documents import Document


def render_csv(doc: Document) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["census_date", "area", "table", "row", "column", "value"])
    for sheet in doc.sheets:
        labels = sheet.label_columns
        for row in [*sheet.rows, *([sheet.total] if sheet.total else [])]:
            label = " ".join(str(v) for v in row[:labels] if v != "")
            for column, value in zip(sheet.header[labels:], row[labels:], strict=True):
                writer.writerow(
                    [doc.census_date.isoformat(), doc.area, sheet.title, label, column, value]
                )
    # Excel opens UTF-8 CSV correctly only with the byte-order mark.
    return out.getvalue().encode("utf-8-sig")


def _sheet_name(title: str, used: set[str]) -> str:
    base = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28].strip()
    name, n = base, 2
    while name in used:
        name, n = f"{base[:25]} {n}", n + 1
    used.add(name)
    return name


def render_xlsx(doc: Document) -> bytes:
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for sheet in doc.sheets:
        ws = book.create_sheet(_sheet_name(sheet.title, used))
        ws.append([sheet.title])
        ws["A1"].font = bold
        ws.append([f"Census date {doc.census_date:%d %B %Y}, {doc.area}. {doc.marking}"])
        ws.append([])
        ws.append(sheet.header)
        for cell in ws[4]:
            cell.font = bold
        for row in sheet.rows:
            ws.append(row)
        if sheet.total:
            ws.append(sheet.total)
            for cell in ws[ws.max_row]:
                cell.font = bold
        ws.column_dimensions["A"].width = 28
    notes = book.create_sheet("Notes")
    notes.append(["Notes and definitions"])
    notes["A1"].font = bold
    notes.append([f"{doc.title}. Census date {doc.census_date:%d %B %Y}. {doc.marking}"])
    for line in doc.notes:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
