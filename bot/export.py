"""Exports of the reports for reporting upward: CSV (UTF-8, header row) or XLSX."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import aiosqlite
from openpyxl import Workbook

from bot.forms import FormDefinition, load_form
from db.reports import ExportRow, export_rows

LEADING = ["date", "officer_id", "officer_name", "pml_id", "koseka_id", "kecamatan_code",
           "desa_code", "sls_code"]
TRAILING = ["note", "status", "late", "created_at", "updated_at"]


def header(form: FormDefinition) -> list[str]:
    return [*LEADING, *form.keys, *TRAILING]


def as_row(item: ExportRow, form: FormDefinition) -> list[object]:
    r = item.report
    return [
        r.report_date.isoformat(), r.officer_id, item.officer_name, item.pml_id, item.koseka_id,
        item.kecamatan_code, item.desa_code, r.sls_code,
        *(r.values.get(key) for key in form.keys),
        r.note or "", r.status, int(r.late), r.created_at, r.updated_at,
    ]


async def write_export(
    conn: aiosqlite.Connection,
    out: Path,
    *,
    fmt: str = "csv",
    date_from: date | None = None,
    date_to: date | None = None,
    kecamatan: str | None = None,
    form: FormDefinition | None = None,
) -> int:
    """Write the current version of every matching report; returns how many rows."""
    form = form or load_form()
    items = await export_rows(conn, date_from=date_from, date_to=date_to, kecamatan_code=kecamatan)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [as_row(item, form) for item in items]
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("reports")
        sheet.append(header(form))
        for row in rows:
            sheet.append(row)
        book.save(out)
    else:
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header(form))
            writer.writerows(rows)
    return len(rows)
