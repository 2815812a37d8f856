"""Exports of the reports for reporting upward: CSV (UTF-8, header row) or XLSX.

`write_export` writes a file for the command line; `scope_workbook` builds the workbook of
one officer's scope that /ekspor sends.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import aiosqlite
from openpyxl import Workbook

from bot.rules.forms import FormDefinition, load_form
from db.models import AreaProgress
from db.progress import area_progress
from db.reports import ExportRow, export_rows
from db.wilayah import list_desa, list_kecamatan

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


PROGRESS_SHEETS = ("progress per officer", "per desa", "per kecamatan")


async def scope_workbook(
    conn: aiosqlite.Connection, officer_ids: list[str] | None, day: date, form: FormDefinition
) -> bytes:
    """An XLSX of one scope up to `day`: the reports and done/target per officer, desa, kecamatan.

    `officer_ids` None means everyone (the admin's regency); otherwise only the reports of
    these officers and the work areas assigned to them are included.
    """
    items = await export_rows(conn, date_to=day, officer_ids=officer_ids)
    areas = await area_progress(conn, officer_ids=officer_ids, until=day)
    desa = {d.code: d for d in await list_desa(conn)}
    kecamatan = {k.code: k.name for k in await list_kecamatan(conn)}

    book = Workbook(write_only=True)
    sheet = book.create_sheet("reports")
    sheet.append(header(form))
    for item in items:
        sheet.append(as_row(item, form))

    officers: dict[str, AreaProgress] = {}  # an area of each officer, for name and PML
    per_officer: dict[str, list[int]] = {}
    per_desa: dict[str, list[int]] = {}
    per_kecamatan: dict[str, list[int]] = {}
    for row in areas:
        officers.setdefault(row.officer_id, row)
        _add(per_officer, row.officer_id, row.done, row.target)
        _add(per_desa, row.desa_code, row.done, row.target)
        known = desa.get(row.desa_code)
        _add(per_kecamatan, known.kecamatan_code if known else "-", row.done, row.target)

    sheet = book.create_sheet(PROGRESS_SHEETS[0])
    sheet.append(["officer_id", "officer_name", "pml_id", "kecamatan_code", "done", "target",
                  "percent"])
    for officer_id, (done, target) in sorted(per_officer.items()):
        first = officers[officer_id]
        sheet.append([officer_id, first.officer_name, first.supervisor_id, first.kecamatan_code,
                      done, target, _percent(done, target)])

    sheet = book.create_sheet(PROGRESS_SHEETS[1])
    sheet.append(["desa_code", "desa_name", "kecamatan_code", "done", "target", "percent"])
    for code, (done, target) in sorted(per_desa.items()):
        known = desa.get(code)
        sheet.append([code, known.name if known else "", known.kecamatan_code if known else "",
                      done, target, _percent(done, target)])

    sheet = book.create_sheet(PROGRESS_SHEETS[2])
    sheet.append(["kecamatan_code", "kecamatan_name", "done", "target", "percent"])
    for code, (done, target) in sorted(per_kecamatan.items()):
        sheet.append([code, kecamatan.get(code, ""), done, target, _percent(done, target)])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _add(sums: dict[str, list[int]], key: str, done: int, target: int) -> None:
    acc = sums.setdefault(key, [0, 0])
    acc[0] += done
    acc[1] += target


def _percent(done: int, target: int) -> float | None:
    """Percent of target with one decimal (16.7), empty when there is no target."""
    return round(100 * done / target, 1) if target > 0 else None
