"""Roster import: officers and their SLS work areas from CSV or XLSX, all or nothing.

Reading (`read_roster`) and checking (`validate_roster`) are pure; `import_roster` applies a
roster that has no problem at all in one transaction, or raises `RosterError` listing every
problem found.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from db.connection import Database
from db.engine import Connection, dialect
from db.models import SETTINGS_ADMIN_PREFIX, Role
from db.phone import normalize_phone
from db.wilayah import list_desa, list_kecamatan

OFFICER_COLUMNS = (
    "officer_id",
    "name",
    "role",
    "supervisor_id",
    "phone",
    "kecamatan_code",
    "desa_code",
)
AREA_COLUMNS = ("officer_id", "sls_code", "sls_name", "desa_code", "target_households")
OFFICERS_SHEET = "officers"
AREAS_SHEET = "areas"

_ROLES = ", ".join(Role)
# The role an officer's supervisor must have; KOSEKA and ADMIN have no supervisor.
_SUPERVISOR_ROLE = {Role.PPL: Role.PML, Role.PML: Role.KOSEKA}
_INTEGER = re.compile(r"-?[0-9]+")


class RosterIssue(BaseModel):
    """One problem; `row` uses spreadsheet numbering (header = 1, first data row = 2)."""

    model_config = ConfigDict(frozen=True)

    file: str
    row: int | None = None
    column: str | None = None
    message: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} baris {self.row}"
        if self.column is not None:
            where += f", kolom {self.column}"
        return f"{where}: {self.message}"


class RosterError(Exception):
    """The roster was not imported; `issues` lists every problem."""

    def __init__(self, issues: list[RosterIssue]) -> None:
        self.issues = issues
        lines = "\n".join(f"- {issue}" for issue in issues)
        super().__init__(f"Roster tidak diimpor, {len(issues)} masalah:\n{lines}")


class RawRow(BaseModel):
    row: int
    values: dict[str, str]
    readable: bool = True  # False when a cell had no usable value (already reported)


class RawTable(BaseModel):
    """The required columns of one CSV file or sheet, as stripped text."""

    file: str
    rows: list[RawRow]


class ParsedRoster(BaseModel):
    """What was read. A table is None when it was not given or could not be read; in the
    second case `issues` says why. `warnings` do not stop an import."""

    officers: RawTable | None
    areas: RawTable | None
    issues: list[RosterIssue]
    warnings: list[RosterIssue]


def _required(value: str) -> str:
    if not value:
        raise ValueError("wajib diisi")
    return value


def _optional(value: str) -> str | None:
    return value or None


def _role(value: str) -> Role:
    if not value:
        raise ValueError(f"wajib diisi ({_ROLES})")
    try:
        return Role(value.upper())
    except ValueError:
        raise ValueError(f'peran "{value}" tidak dikenal ({_ROLES})') from None


def _phone(value: str) -> str | None:
    return normalize_phone(value) if value else None


def _households(value: str) -> int:
    if not value:
        raise ValueError("wajib diisi")
    if not _INTEGER.fullmatch(value):
        raise ValueError(f'"{value}" bukan bilangan bulat')
    if int(value) < 0:
        raise ValueError(f'"{value}" tidak boleh negatif')
    return int(value)


_Text = Annotated[str, BeforeValidator(_required)]
_OptionalText = Annotated[str | None, BeforeValidator(_optional)]


class OfficerRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int
    officer_id: _Text
    name: _Text
    role: Annotated[Role, BeforeValidator(_role)]
    supervisor_id: _OptionalText
    phone: Annotated[str | None, BeforeValidator(_phone)]
    kecamatan_code: _OptionalText
    desa_code: _OptionalText


class AreaRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int
    officer_id: _Text
    sls_code: _Text
    sls_name: _Text
    desa_code: _Text
    target_households: Annotated[int, BeforeValidator(_households)]


class ImportResult(BaseModel):
    officers_added: int = 0
    officers_updated: int = 0
    officers_deactivated: int = 0
    areas_added: int = 0
    areas_updated: int = 0
    areas_deactivated: int = 0
    areas_imported: bool = False
    warnings: list[RosterIssue] = []


# Reading


def _table(
    file: str,
    rows: Sequence[Sequence[str]],
    required: Sequence[str],
    issues: list[RosterIssue],
    bad_cells: dict[tuple[int, int], str] | None = None,
) -> RawTable | None:
    """Turn rows of cells (row 1 first) into a table of the required columns.

    `bad_cells` maps (row, column index) to the problem of a cell that has no usable value;
    those rows are kept out of validation (their problem is already reported).
    """
    bad_cells = bad_cells or {}
    numbered = [
        (n, [cell.strip() for cell in cells])
        for n, cells in enumerate(rows, 1)
        if any(cell.strip() for cell in cells)
    ]
    header_row, header_cells = numbered[0] if numbered else (1, [])
    header = [cell.lower() for cell in header_cells]
    for (n, i), message in sorted(bad_cells.items()):
        column = header[i] if i < len(header) and header[i] else None
        issues.append(RosterIssue(file=file, row=n, column=column, message=message))
    if not numbered:
        issues.append(RosterIssue(file=file, message="berkas kosong: tidak ada judul kolom"))
        return None

    found = len(issues)
    for name in dict.fromkeys(h for h in header if h and header.count(h) > 1):
        issues.append(
            RosterIssue(
                file=file, row=header_row, column=name, message="judul kolom muncul dua kali"
            )
        )
    present = ", ".join(h for h in header if h)
    for name in required:
        if name not in header:
            issues.append(
                RosterIssue(
                    file=file,
                    row=header_row,
                    column=name,
                    message=f"kolom wajib tidak ada (judul kolom yang ada: {present})",
                )
            )
    if len(issues) > found:
        return None

    index = {name: header.index(name) for name in required}
    bad_rows = {n for n, _ in bad_cells}
    table = RawTable(file=file, rows=[])
    for n, cells in numbered[1:]:
        if len(cells) > len(header) and any(cells[len(header) :]):
            issues.append(
                RosterIssue(
                    file=file,
                    row=n,
                    message=(
                        f"baris berisi {len(cells)} nilai, padahal judul kolom hanya "
                        f"{len(header)}; periksa tanda , atau ; di dalam isian"
                    ),
                )
            )
            continue
        values = {name: cells[i] if i < len(cells) else "" for name, i in index.items()}
        if all(values[name].lower() == name for name in required):
            issues.append(
                RosterIssue(file=file, row=n, message="baris judul kolom berulang di tengah data")
            )
            continue
        table.rows.append(RawRow(row=n, values=values, readable=n not in bad_rows))
    return table


def _read_csv(
    path: Path,
    required: Sequence[str],
    issues: list[RosterIssue],
    warnings: list[RosterIssue],
) -> RawTable | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            issues.append(
                RosterIssue(
                    file=path.name,
                    message=(
                        "berkas bukan teks UTF-8 maupun Windows-1252; "
                        'simpan ulang sebagai "CSV UTF-8"'
                    ),
                )
            )
            return None
        warnings.append(
            RosterIssue(
                file=path.name,
                message=(
                    "berkas bukan UTF-8, dibaca sebagai Windows-1252 (cp1252); periksa huruf "
                    'khusus pada nama, atau simpan ulang sebagai "CSV UTF-8"'
                ),
            )
        )
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        issues.append(RosterIssue(file=path.name, message=f"berkas CSV rusak: {exc}"))
        return None
    return _table(path.name, rows, required, issues)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_sheet(
    book: str,
    values: Worksheet,
    formulas: Worksheet,
    required: Sequence[str],
    issues: list[RosterIssue],
) -> RawTable | None:
    rows: list[list[str]] = []
    bad_cells: dict[tuple[int, int], str] = {}
    last_row = max(values.max_row, formulas.max_row)
    last_col = max(values.max_column, formulas.max_column)
    for n, (value_row, formula_row) in enumerate(
        zip(
            values.iter_rows(max_row=last_row, max_col=last_col),
            formulas.iter_rows(max_row=last_row, max_col=last_col),
            strict=True,
        ),
        1,
    ):
        cells: list[str] = []
        for i, (cell, formula) in enumerate(zip(value_row, formula_row, strict=True)):
            if cell.data_type == "e":
                bad_cells[n, i] = f"sel {cell.coordinate} berisi galat Excel {cell.value}"
                cells.append("")
            elif cell.value is None and formula.data_type == "f":
                bad_cells[n, i] = (
                    f"sel {cell.coordinate} berisi rumus {formula.value} tanpa nilai tersimpan; "
                    "buka dan simpan ulang berkas di Excel, atau tempel sebagai nilai"
                )
                cells.append("")
            else:
                cells.append(_cell_text(cell.value))
        rows.append(cells)
    return _table(f"{book} [{values.title}]", rows, required, issues, bad_cells)


def _read_xlsx(path: Path, issues: list[RosterIssue]) -> tuple[RawTable | None, RawTable | None]:
    try:
        values = load_workbook(path, data_only=True)
        formulas = load_workbook(path, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        issues.append(
            RosterIssue(file=path.name, message=f"berkas .xlsx tidak dapat dibuka ({exc})")
        )
        return None, None
    titles = {sheet.title.strip().lower(): sheet.title for sheet in values.worksheets}
    officers_title = titles.get(OFFICERS_SHEET, values.worksheets[0].title)
    officers = _read_sheet(
        path.name, values[officers_title], formulas[officers_title], OFFICER_COLUMNS, issues
    )
    areas_title = titles.get(AREAS_SHEET)
    if areas_title is None:
        return officers, None
    areas = _read_sheet(path.name, values[areas_title], formulas[areas_title], AREA_COLUMNS, issues)
    return officers, areas


def read_roster(officers_path: Path | str, areas_path: Path | str | None = None) -> ParsedRoster:
    """Read a `.csv` officers file (+ optional areas `.csv`) or one `.xlsx` with both sheets."""
    officers_path = Path(officers_path)
    issues: list[RosterIssue] = []
    warnings: list[RosterIssue] = []
    officers: RawTable | None = None
    areas: RawTable | None = None
    suffix = officers_path.suffix.lower()
    if suffix == ".xlsx":
        officers, areas = _read_xlsx(officers_path, issues)
        if areas_path is not None:
            issues.append(
                RosterIssue(
                    file=Path(areas_path).name,
                    message=f'data areas diambil dari sheet "{AREAS_SHEET}" berkas .xlsx; '
                    "jangan kirim berkas areas terpisah",
                )
            )
    elif suffix == ".csv":
        officers = _read_csv(officers_path, OFFICER_COLUMNS, issues, warnings)
        if areas_path is not None:
            areas_path = Path(areas_path)
            if areas_path.suffix.lower() == ".csv":
                areas = _read_csv(areas_path, AREA_COLUMNS, issues, warnings)
            else:
                issues.append(
                    RosterIssue(file=areas_path.name, message="berkas areas harus berformat .csv")
                )
    else:
        issues.append(
            RosterIssue(
                file=officers_path.name,
                message=f'format "{suffix or "tanpa ekstensi"}" tidak didukung; '
                "gunakan .csv atau .xlsx",
            )
        )
    return ParsedRoster(officers=officers, areas=areas, issues=issues, warnings=warnings)


# Validation

_Row = TypeVar("_Row", OfficerRow, AreaRow)


def _message(error: ErrorDetails) -> str:
    ctx = error.get("ctx") or {}
    return str(ctx["error"]) if "error" in ctx else error["msg"]


def _rows(table: RawTable, model: type[_Row], issues: list[RosterIssue]) -> list[_Row]:
    parsed: list[_Row] = []
    for raw in table.rows:
        if not raw.readable:
            continue
        try:
            parsed.append(model.model_validate({**raw.values, "row": raw.row}))
        except ValidationError as exc:
            issues.extend(
                RosterIssue(
                    file=table.file, row=raw.row, column=str(err["loc"][0]), message=_message(err)
                )
                for err in exc.errors()
            )
    return parsed


def _desa_problem(
    desa: str, kecamatan: str | None, desa_to_kecamatan: dict[str, str], whose: str = ""
) -> str | None:
    actual = desa_to_kecamatan.get(desa)
    if actual is None:
        return f'desa "{desa}" tidak ada di daftar wilayah'
    if kecamatan is not None and actual != kecamatan:
        return f'desa "{desa}" berada di kecamatan {actual}, bukan {kecamatan}{whose}'
    return None


def _cycles(supervisor_of: dict[str, str | None]) -> list[list[str]]:
    """Every cycle in the officer -> supervisor graph (each officer has at most one edge)."""
    done: set[str] = set()
    cycles: list[list[str]] = []
    for start in supervisor_of:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in supervisor_of and node not in done:
            if node in path:
                cycles.append(path[path.index(node) :])
                break
            path.append(node)
            node = supervisor_of[node]
        done.update(path)
    return cycles


def _check_officers(
    file: str,
    officers: list[OfficerRow],
    known_ids: set[str],
    kecamatan_codes: set[str],
    desa_to_kecamatan: dict[str, str],
    issues: list[RosterIssue],
) -> dict[str, OfficerRow]:
    def issue(officer: OfficerRow, column: str, message: str) -> None:
        issues.append(RosterIssue(file=file, row=officer.row, column=column, message=message))

    by_id: dict[str, OfficerRow] = {}
    for officer in officers:
        if officer.officer_id.lower().startswith(SETTINGS_ADMIN_PREFIX):
            issue(officer, "officer_id", f'"{officer.officer_id}": awalan "{SETTINGS_ADMIN_PREFIX}"'
                  " dipakai untuk admin dari ADMIN_TELEGRAM_IDS")
        first = by_id.setdefault(officer.officer_id, officer)
        if first is not officer:
            issue(
                officer,
                "officer_id",
                f'"{officer.officer_id}" ganda (sudah ada di baris {first.row})',
            )

    for officer in officers:
        role, supervisor = officer.role, officer.supervisor_id
        expected = _SUPERVISOR_ROLE.get(role)
        if expected is None:
            if supervisor is not None:
                issue(
                    officer, "supervisor_id", f'harus kosong untuk {role} (berisi "{supervisor}")'
                )
        elif supervisor is None:
            issue(
                officer,
                "supervisor_id",
                f"wajib diisi untuk {role} (officer_id seorang {expected})",
            )
        elif supervisor in by_id:
            actual = by_id[supervisor].role
            if actual is not expected:
                issue(
                    officer,
                    "supervisor_id",
                    f'"{supervisor}" adalah {actual}; atasan {role} harus {expected}',
                )
        elif supervisor not in known_ids:
            issue(officer, "supervisor_id", f'"{supervisor}" tidak ada di daftar petugas')

        kecamatan, desa = officer.kecamatan_code, officer.desa_code
        if role is Role.ADMIN:
            if kecamatan is not None:
                issue(officer, "kecamatan_code", f'harus kosong untuk ADMIN (berisi "{kecamatan}")')
        elif kecamatan is None:
            issue(officer, "kecamatan_code", f"wajib diisi untuk {role}")
        elif kecamatan not in kecamatan_codes:
            issue(officer, "kecamatan_code", f'kecamatan "{kecamatan}" tidak ada di daftar wilayah')
        if role is not Role.PPL:
            if desa is not None:
                issue(
                    officer,
                    "desa_code",
                    f'hanya untuk PPL; kosongkan untuk {role} (berisi "{desa}")',
                )
        elif desa is None:
            issue(officer, "desa_code", "wajib diisi untuk PPL")
        elif problem := _desa_problem(desa, kecamatan, desa_to_kecamatan):
            issue(officer, "desa_code", problem)

    supervisor_of = {o.officer_id: o.supervisor_id for o in by_id.values()}
    for cycle in _cycles(supervisor_of):
        members = sorted((by_id[i] for i in cycle), key=lambda o: o.row)
        start = cycle.index(members[0].officer_id)
        chain = cycle[start:] + cycle[:start]
        issue(
            members[0], "supervisor_id", "rantai atasan berputar: " + " → ".join([*chain, chain[0]])
        )
    return by_id


def _check_areas(
    file: str,
    areas: list[AreaRow],
    officers: dict[str, OfficerRow] | None,
    known_ids: set[str],
    desa_to_kecamatan: dict[str, str],
    issues: list[RosterIssue],
) -> None:
    def issue(area: AreaRow, column: str, message: str) -> None:
        issues.append(RosterIssue(file=file, row=area.row, column=column, message=message))

    seen: dict[str, AreaRow] = {}
    for area in areas:
        first = seen.setdefault(area.sls_code, area)
        if first is not area:
            issue(area, "sls_code", f'"{area.sls_code}" ganda (sudah ada di baris {first.row})')
        officer = None if officers is None else officers.get(area.officer_id)
        if officers is not None and officer is None and area.officer_id not in known_ids:
            issue(area, "officer_id", f'"{area.officer_id}" tidak ada di daftar petugas')
        elif officer is not None and officer.role is not Role.PPL:
            issue(
                area,
                "officer_id",
                f'"{area.officer_id}" adalah {officer.role}; SLS hanya untuk PPL',
            )
            officer = None
        kecamatan = officer.kecamatan_code if officer is not None else None
        whose = f" (kecamatan petugas {area.officer_id})"
        if problem := _desa_problem(area.desa_code, kecamatan, desa_to_kecamatan, whose):
            issue(area, "desa_code", problem)


def validate_roster(
    parsed: ParsedRoster, kecamatan_codes: set[str], desa_to_kecamatan: dict[str, str]
) -> tuple[list[OfficerRow], list[AreaRow], list[RosterIssue]]:
    """Check every row and every relation; the roster may be imported only if no issue."""
    issues = list(parsed.issues)
    officers: list[OfficerRow] = []
    areas: list[AreaRow] = []
    by_id: dict[str, OfficerRow] | None = None
    known_ids: set[str] = set()
    if parsed.officers is not None:
        known_ids = {r.values["officer_id"] for r in parsed.officers.rows} - {""}
        officers = _rows(parsed.officers, OfficerRow, issues)
        by_id = _check_officers(
            parsed.officers.file, officers, known_ids, kecamatan_codes, desa_to_kecamatan, issues
        )
    if parsed.areas is not None:
        areas = _rows(parsed.areas, AreaRow, issues)
        _check_areas(parsed.areas.file, areas, by_id, known_ids, desa_to_kecamatan, issues)
    files = list(dict.fromkeys(issue.file for issue in issues))
    issues.sort(key=lambda issue: (files.index(issue.file), issue.row or 0))
    return officers, areas, issues


# Import

_UPSERT_OFFICER = """
INSERT INTO officers (officer_id, name, role, supervisor_id, phone, kecamatan_code, desa_code,
                      active, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
ON CONFLICT (officer_id) DO UPDATE SET
    name = excluded.name, role = excluded.role, supervisor_id = excluded.supervisor_id,
    phone = excluded.phone, kecamatan_code = excluded.kecamatan_code,
    desa_code = excluded.desa_code, active = 1, updated_at = excluded.updated_at
WHERE (officers.name, officers.role, officers.supervisor_id, officers.phone,
       officers.kecamatan_code, officers.desa_code, officers.active)
   IS DISTINCT FROM (excluded.name, excluded.role, excluded.supervisor_id, excluded.phone,
           excluded.kecamatan_code, excluded.desa_code, 1)
"""

_UPSERT_AREA = """
INSERT INTO areas (sls_code, sls_name, desa_code, officer_id, target_households, active)
VALUES (?, ?, ?, ?, ?, 1)
ON CONFLICT (sls_code) DO UPDATE SET
    sls_name = excluded.sls_name, desa_code = excluded.desa_code,
    officer_id = excluded.officer_id, target_households = excluded.target_households, active = 1
WHERE (areas.sls_name, areas.desa_code, areas.officer_id, areas.target_households, areas.active)
   IS DISTINCT FROM (excluded.sls_name, excluded.desa_code, excluded.officer_id,
           excluded.target_households, 1)
"""

# Supervisors are written before the officers they supervise (foreign keys are immediate).
_WRITE_ORDER = {Role.ADMIN: 0, Role.KOSEKA: 1, Role.PML: 2, Role.PPL: 3}


async def _changes(conn: Connection, sql: str, params: Sequence[object]) -> int:
    async with conn.execute(sql, params) as cur:
        return cur.rowcount


async def _ids(conn: Connection, sql: str) -> set[str]:
    async with conn.execute(sql) as cur:
        return {row[0] async for row in cur}


async def _apply(
    conn: Connection,
    officers: list[OfficerRow],
    areas: list[AreaRow] | None,
    stamp: str,
) -> ImportResult:
    result = ImportResult(areas_imported=areas is not None)
    existing = await _ids(conn, "SELECT officer_id FROM officers")
    for o in sorted(officers, key=lambda o: _WRITE_ORDER[o.role]):
        changed = await _changes(
            conn,
            _UPSERT_OFFICER,
            (
                o.officer_id,
                o.name,
                o.role.value,
                o.supervisor_id,
                o.phone,
                o.kecamatan_code,
                o.desa_code,
                stamp,
                stamp,
            ),
        )
        if o.officer_id not in existing:
            result.officers_added += 1
        else:
            result.officers_updated += changed
    result.officers_deactivated = await _changes(
        conn,
        "UPDATE officers SET active = 0, updated_at = ?"
        f" WHERE active = 1 AND officer_id NOT IN ({dialect(conn).json_texts})",
        (stamp, json.dumps([o.officer_id for o in officers])),
    )
    if areas is None:
        return result

    existing = await _ids(conn, "SELECT sls_code FROM areas")
    for a in areas:
        changed = await _changes(
            conn,
            _UPSERT_AREA,
            (a.sls_code, a.sls_name, a.desa_code, a.officer_id, a.target_households),
        )
        if a.sls_code not in existing:
            result.areas_added += 1
        else:
            result.areas_updated += changed
    result.areas_deactivated = await _changes(
        conn,
        "UPDATE areas SET active = 0"
        f" WHERE active = 1 AND sls_code NOT IN ({dialect(conn).json_texts})",
        (json.dumps([a.sls_code for a in areas]),),
    )
    return result


async def import_roster(
    db: Database,
    officers_path: Path | str,
    areas_path: Path | str | None = None,
    *,
    now: datetime,
) -> ImportResult:
    """Validate the whole roster, then apply it in one transaction or raise `RosterError`.

    Officers are upserted by officer_id (Telegram links kept) and those missing from the file
    deactivated; areas likewise by sls_code, but only when areas were given.
    """
    parsed = read_roster(officers_path, areas_path)
    async with db.transaction() as conn:
        kecamatan_codes = {k.code for k in await list_kecamatan(conn)}
        desa_to_kecamatan = {d.code: d.kecamatan_code for d in await list_desa(conn)}
        officers, areas, issues = validate_roster(parsed, kecamatan_codes, desa_to_kecamatan)
        if issues:
            raise RosterError(issues)
        result = await _apply(
            conn, officers, areas if parsed.areas is not None else None, now.isoformat()
        )
    return result.model_copy(update={"warnings": parsed.warnings})
