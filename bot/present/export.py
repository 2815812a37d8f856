"""Exports of the reports for reporting upward: CSV (UTF-8, header row) or XLSX.

`write_export` writes a file for the command line; `scope_workbook` builds the workbook of
one officer's scope that /ekspor sends.

Exports are data, never code: a text that a spreadsheet would take for a formula (it starts
with `=`, `+`, `-`, `@`, a tab or a carriage return) is written as text: with a `'` in front
in CSV, as a string cell with the quote-prefix style in XLSX. Numbers stay numbers.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, WriteOnlyCell

from bot.rules.forms import FormDefinition, load_form
from db.engine import Connection
from db.models import AreaProgress, Desa
from db.progress import area_progress
from db.reports import ExportRow, ReportFilter, count_export_rows, export_rows
from db.wilayah import list_desa, list_kecamatan

LEADING = ["date", "officer_id", "officer_name", "pml_id", "koseka_id", "kecamatan_code",
           "desa_code", "sls_code"]
TRAILING = ["note", "status", "late", "created_at", "updated_at"]

# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575
"""Reports in one XLSX sheet: Excel's 1,048,576 rows, the header included."""


class ExportTooLarge(Exception):
    """More reports than one XLSX sheet holds (`limit`); nothing was written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} reports for one XLSX sheet")
        self.limit = limit


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


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value: object) -> object:
    """A CSV value a spreadsheet shows as written: a formula-like text gets a `'` in front."""
    return f"'{value}" if looks_like_formula(value) else value


def csv_rows(rows: Iterable[Sequence[object]]) -> Iterable[list[object]]:
    return ([csv_cell(value) for value in row] for row in rows)


def xlsx_row(sheet: Any, row: Sequence[object]) -> list[object]:
    """The cells of one XLSX row: a text is always a string cell, never a formula or an error
    value; a formula-like one also gets the quote-prefix style, so editing it keeps it text."""
    cells: list[object] = []
    for value in row:
        if isinstance(value, str) and (looks_like_formula(value) or value in ERROR_CODES):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"  # openpyxl took a leading `=` for a formula
            cell.quotePrefix = looks_like_formula(value)
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def append_rows(sheet: Any, rows: Iterable[Sequence[object]]) -> None:
    for row in rows:
        sheet.append(xlsx_row(sheet, row))


async def write_export(
    conn: Connection,
    out: Path,
    *,
    fmt: str = "csv",
    date_from: date | None = None,
    date_to: date | None = None,
    kecamatan: str | None = None,
    form: FormDefinition | None = None,
) -> int:
    """Write the current version of every matching report; returns how many rows. The rows
    are written as they are read, a report date at a time (`export_rows`): a national
    export is never held in memory. An XLSX sheet holds at most XLSX_MAX_ROWS reports."""
    form = form or load_form()
    wanted = ReportFilter(date_from, date_to, kecamatan_code=kecamatan)
    if fmt == "xlsx" and await count_export_rows(conn, wanted) > XLSX_MAX_ROWS:
        raise ExportTooLarge(XLSX_MAX_ROWS)
    out.parent.mkdir(parents=True, exist_ok=True)
    items = export_rows(conn, wanted)
    count = 0
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet("reports")
        append_rows(sheet, [header(form)])
        async for item in items:
            append_rows(sheet, [as_row(item, form)])
            count += 1
        book.save(out)
    else:
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerows(csv_rows([header(form)]))
            async for item in items:
                writer.writerows(csv_rows([as_row(item, form)]))
                count += 1
    return count


PROGRESS_SHEETS = ("progress per officer", "per desa", "per kecamatan")


@dataclass(frozen=True)
class ScopeData:
    """What the workbook of one scope is made of, read from the database."""

    form: FormDefinition
    items: list[ExportRow]
    areas: list[AreaProgress]
    desa: dict[str, Desa]
    kecamatan: dict[str, str]


async def scope_workbook(
    conn: Connection, officer_ids: list[str] | None, day: date, form: FormDefinition
) -> bytes:
    """An XLSX of one scope up to `day`: the reports and done/target per officer, desa, kecamatan.

    `officer_ids` None means everyone (the admin's regency); otherwise only the reports of
    these officers and the work areas assigned to them are included. The data is read here;
    the workbook is built in a worker thread (`build_scope_workbook`), so that a large export
    does not hold up the other updates.
    """
    data = ScopeData(
        form=form,
        items=[row async for row in export_rows(
            conn, ReportFilter(date_to=day, officer_ids=officer_ids))],
        areas=await area_progress(conn, officer_ids=officer_ids, until=day),
        desa={d.code: d for d in await list_desa(conn, on_roster=True)},
        kecamatan={k.code: k.name for k in await list_kecamatan(conn, on_roster=True)},
    )
    return await asyncio.to_thread(build_scope_workbook, data)


def build_scope_workbook(data: ScopeData) -> bytes:
    """The XLSX bytes of one scope (CPU-bound: run it off the event loop)."""
    form, desa = data.form, data.desa
    book = Workbook(write_only=True)
    sheet = book.create_sheet("reports")
    append_rows(sheet, [header(form), *(as_row(item, form) for item in data.items)])

    officers: dict[str, AreaProgress] = {}  # an area of each officer, for name and PML
    per_officer: dict[str, list[int]] = {}
    per_desa: dict[str, list[int]] = {}
    per_kecamatan: dict[str, list[int]] = {}
    for row in data.areas:
        officers.setdefault(row.officer_id, row)
        _add(per_officer, row.officer_id, row.done, row.target)
        _add(per_desa, row.desa_code, row.done, row.target)
        known = desa.get(row.desa_code)
        _add(per_kecamatan, known.kecamatan_code if known else "-", row.done, row.target)

    sheet = book.create_sheet(PROGRESS_SHEETS[0])
    rows: list[list[object]] = [["officer_id", "officer_name", "pml_id", "kecamatan_code", "done",
                                 "target", "percent"]]
    for officer_id, (done, target) in sorted(per_officer.items()):
        first = officers[officer_id]
        rows.append([officer_id, first.officer_name, first.supervisor_id, first.kecamatan_code,
                     done, target, _percent(done, target)])
    append_rows(sheet, rows)

    sheet = book.create_sheet(PROGRESS_SHEETS[1])
    rows = [["desa_code", "desa_name", "kecamatan_code", "done", "target", "percent"]]
    for code, (done, target) in sorted(per_desa.items()):
        known = desa.get(code)
        rows.append([code, known.name if known else "", known.kecamatan_code if known else "",
                     done, target, _percent(done, target)])
    append_rows(sheet, rows)

    sheet = book.create_sheet(PROGRESS_SHEETS[2])
    rows = [["kecamatan_code", "kecamatan_name", "done", "target", "percent"]]
    for code, (done, target) in sorted(per_kecamatan.items()):
        rows.append([code, data.kecamatan.get(code, ""), done, target, _percent(done, target)])
    append_rows(sheet, rows)

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
