"""Roster import: officers and their SLS work areas from CSV or XLSX, all or nothing.

Reading (`read_roster`) and checking (`validate_roster`) are pure; `import_roster` applies a
roster that has no problem at all in one transaction, or raises `RosterError` listing every
problem found.
"""

from __future__ import annotations

import csv
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.worksheet import Worksheet
from pydantic import BaseModel, ConfigDict

from db.connection import Database
from db.engine import Connection
from db.models import SETTINGS_ADMIN_PREFIX, Role
from db.phone import normalize_phone
from db.wilayah import zone_name

OFFICER_COLUMNS = (
    "officer_id",
    "name",
    "role",
    "supervisor_id",
    "phone",
    "kecamatan_code",
    "desa_code",
)
# Read when present: the officer's time zone (IANA name or WIB/WITA/WIT), when it is not the
# one of their kecamatan's province.
OFFICER_OPTIONAL_COLUMNS = ("timezone",)
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


# A national roster has about 465,000 officers and 900,000 SLS: rows are slotted dataclasses
# of tuples (not models or dicts), and repeated texts (codes, roles) are shared.


@dataclass(slots=True)
class RawRow:
    row: int
    values: tuple[str, ...]  # the cells of the table's `columns`, in that order
    readable: bool = True  # False when a cell had no usable value (already reported)


@dataclass(slots=True)
class RawTable:
    """The required (and present optional) columns of one CSV file or sheet, as stripped text."""

    file: str
    columns: tuple[str, ...]
    rows: list[RawRow] = field(default_factory=list)


@dataclass(slots=True)
class ParsedRoster:
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


def _zone(value: str) -> str | None:
    return zone_name(value) if value else None


@dataclass(frozen=True, slots=True)
class OfficerRow:
    row: int
    officer_id: str
    name: str
    role: Role
    supervisor_id: str | None
    phone: str | None
    kecamatan_code: str | None
    desa_code: str | None
    timezone: str | None = None  # the `timezone` column; None: the kecamatan's zone


@dataclass(frozen=True, slots=True)
class AreaRow:
    row: int
    officer_id: str
    sls_code: str
    sls_name: str
    desa_code: str
    target_households: int


# How each column's text becomes a value; a ValueError's message is the cell's problem.
_CONVERT: dict[str, Callable[[str], object]] = {
    "officer_id": _required,
    "name": _required,
    "role": _role,
    "supervisor_id": _optional,
    "phone": _phone,
    "kecamatan_code": _optional,
    "desa_code": _optional,
    "timezone": _zone,
    "sls_code": _required,
    "sls_name": _required,
    "target_households": _households,
}
# Columns whose texts repeat across many rows: one string object each (sys.intern).
_SHARED = frozenset({"officer_id", "role", "supervisor_id", "kecamatan_code", "desa_code",
                     "timezone"})


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
    rows: Iterable[Sequence[str]],
    required: Sequence[str],
    issues: list[RosterIssue],
    bad_cells: dict[tuple[int, int], str] | None = None,
    optional: Sequence[str] = (),
) -> RawTable | None:
    """Turn rows of cells (row 1 first) into a table of the required columns and of the
    `optional` ones the header has. `rows` is read once, one row at a time.

    `bad_cells` maps (row, column index) to the problem of a cell that has no usable value;
    those rows are kept out of validation (their problem is already reported).
    """
    bad_cells = bad_cells or {}
    numbered = (
        (n, [cell.strip() for cell in cells])
        for n, cells in enumerate(rows, 1)
        if "".join(cells).strip()
    )
    header_row, header_cells = next(numbered, (1, []))
    header = [cell.lower() for cell in header_cells]
    for (n, i), message in sorted(bad_cells.items()):
        column = header[i] if i < len(header) and header[i] else None
        issues.append(RosterIssue(file=file, row=n, column=column, message=message))
    if not header:
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

    columns = (*required, *(name for name in optional if name in header))
    at = [header.index(name) for name in columns]
    shared = [name in _SHARED for name in columns]
    bad_rows = {n for n, _ in bad_cells}
    table = RawTable(file=file, columns=columns)
    intern = sys.intern
    for n, cells in numbered:
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
        if len(cells) < len(header):
            cells += [""] * (len(header) - len(cells))
        values = tuple(
            intern(cells[i]) if share else cells[i] for i, share in zip(at, shared, strict=True)
        )
        if all(value.lower() == name for value, name in zip(values, columns, strict=False)):
            issues.append(
                RosterIssue(file=file, row=n, message="baris judul kolom berulang di tengah data")
            )
            continue
        table.rows.append(RawRow(n, values, n not in bad_rows))
    return table


def _read_csv(
    path: Path,
    required: Sequence[str],
    issues: list[RosterIssue],
    warnings: list[RosterIssue],
    optional: Sequence[str] = (),
) -> RawTable | None:
    data = path.read_bytes()
    encoding = "utf-8-sig"
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
        try:
            data.decode(encoding)
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
    del data
    # Read again as a stream: a national roster's text is never held whole.
    with path.open(encoding=encoding, newline="") as f:
        first_line = next((line for line in f if line.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    with path.open(encoding=encoding, newline="") as f:
        try:
            return _table(path.name, csv.reader(f, delimiter=delimiter), required, issues,
                          optional=optional)
        except csv.Error as exc:
            issues.append(RosterIssue(file=path.name, message=f"berkas CSV rusak: {exc}"))
            return None


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
    optional: Sequence[str] = (),
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
    return _table(f"{book} [{values.title}]", rows, required, issues, bad_cells, optional)


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
        path.name, values[officers_title], formulas[officers_title], OFFICER_COLUMNS, issues,
        OFFICER_OPTIONAL_COLUMNS,
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
        officers = _read_csv(
            officers_path, OFFICER_COLUMNS, issues, warnings, OFFICER_OPTIONAL_COLUMNS
        )
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


def _drain(rows: list[RawRow]) -> Iterator[RawRow]:
    """The rows in order, each let go of by the list as it is handed out."""
    rows.reverse()
    while rows:
        yield rows.pop()


def _rows(
    table: RawTable, model: type[_Row], issues: list[RosterIssue], consume: bool = False
) -> list[_Row]:
    """Each readable row converted to `model`; a cell that cannot be is an issue. With
    `consume`, the table's rows are dropped as they are converted (memory)."""
    names = [f.name for f in fields(model)][1:]  # after `row`
    converters = [(table.columns.index(name), _CONVERT[name]) if name in table.columns
                  else (None, None) for name in names]
    parsed: list[_Row] = []
    raws: Iterable[RawRow] = table.rows
    if consume:
        raws, table.rows = _drain(table.rows), []
    for raw in raws:
        if not raw.readable:
            continue
        values: list[object] = [raw.row]
        bad = False
        for name, (at, convert) in zip(names, converters, strict=True):
            if at is None or convert is None:
                values.append(None)
                continue
            try:
                values.append(convert(raw.values[at]))
            except ValueError as exc:
                issues.append(RosterIssue(file=table.file, row=raw.row, column=name,
                                          message=str(exc)))
                bad = True
        if not bad:
            parsed.append(model(*values))
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
    parsed: ParsedRoster, kecamatan_codes: set[str], desa_to_kecamatan: dict[str, str],
    *, consume: bool = False,
) -> tuple[list[OfficerRow], list[AreaRow], list[RosterIssue]]:
    """Check every row and every relation; the roster may be imported only if no issue.
    With `consume`, `parsed`'s raw rows are let go of as they are converted."""
    issues = list(parsed.issues)
    officers: list[OfficerRow] = []
    areas: list[AreaRow] = []
    by_id: dict[str, OfficerRow] | None = None
    known_ids: set[str] = set()
    if parsed.officers is not None:
        at = parsed.officers.columns.index("officer_id")
        known_ids = {r.values[at] for r in parsed.officers.rows} - {""}
        officers = _rows(parsed.officers, OfficerRow, issues, consume)
        by_id = _check_officers(
            parsed.officers.file, officers, known_ids, kecamatan_codes, desa_to_kecamatan, issues
        )
    if parsed.areas is not None:
        areas = _rows(parsed.areas, AreaRow, issues, consume)
        _check_areas(parsed.areas.file, areas, by_id, known_ids, desa_to_kecamatan, issues)
    files = list(dict.fromkeys(issue.file for issue in issues))
    issues.sort(key=lambda issue: (files.index(issue.file), issue.row or 0))
    return officers, areas, issues


# Import

# Applying: the roster goes into two temporary tables (one executemany each), and everything
# else is a handful of set-wide statements between them and the real tables: the counts, one
# upsert of every officer, one of every SLS, the deactivation of the rest. No per-row query.

_OFFICER_FIELDS = ("name", "role", "supervisor_id", "phone", "kecamatan_code", "desa_code",
                   "timezone")
_AREA_FIELDS = ("sls_name", "desa_code", "officer_id", "target_households")


def _differs(table: str, other: str, names: Sequence[str]) -> str:
    """SQL: a row of `table` differs from its row in `other` (or is inactive)."""
    mine = ", ".join(f"{table}.{n}" for n in names)
    theirs = ", ".join(f"{other}.{n}" for n in names)
    return f"({mine}, {table}.active) IS DISTINCT FROM ({theirs}, 1)"


_STAGE = (
    "DROP TABLE IF EXISTS roster_officers",
    "DROP TABLE IF EXISTS roster_areas",
    "CREATE TEMPORARY TABLE roster_officers (officer_id TEXT PRIMARY KEY, name TEXT,"
    " role TEXT, supervisor_id TEXT, phone TEXT, kecamatan_code TEXT, desa_code TEXT,"
    " timezone TEXT, write_order INTEGER)",
    "CREATE TEMPORARY TABLE roster_areas (sls_code TEXT PRIMARY KEY, sls_name TEXT,"
    " desa_code TEXT, officer_id TEXT, target_households INTEGER)",
)
_UNSTAGE = ("DROP TABLE roster_officers", "DROP TABLE roster_areas")

_NEW_OFFICERS = """
SELECT COUNT(*) FROM roster_officers r
WHERE NOT EXISTS (SELECT 1 FROM officers o WHERE o.officer_id = r.officer_id)
"""
_CHANGED_OFFICERS = f"""
SELECT COUNT(*) FROM roster_officers r JOIN officers o ON o.officer_id = r.officer_id
WHERE {_differs("o", "r", _OFFICER_FIELDS)}
"""
# Supervisors are written before the officers they supervise (`write_order`).
_UPSERT_OFFICERS = f"""
INSERT INTO officers (officer_id, name, role, supervisor_id, phone, kecamatan_code, desa_code,
                      timezone, active, created_at, updated_at)
SELECT officer_id, name, role, supervisor_id, phone, kecamatan_code, desa_code, timezone, 1,
       CAST(? AS TEXT), CAST(? AS TEXT)
FROM roster_officers WHERE 1 = 1 ORDER BY write_order, officer_id
ON CONFLICT (officer_id) DO UPDATE SET
    name = excluded.name, role = excluded.role, supervisor_id = excluded.supervisor_id,
    phone = excluded.phone, kecamatan_code = excluded.kecamatan_code,
    desa_code = excluded.desa_code, timezone = excluded.timezone, active = 1,
    updated_at = excluded.updated_at
WHERE {_differs("officers", "excluded", _OFFICER_FIELDS)}
"""
_DEACTIVATE_OFFICERS = """
UPDATE officers SET active = 0, updated_at = ?
WHERE active = 1
  AND NOT EXISTS (SELECT 1 FROM roster_officers r WHERE r.officer_id = officers.officer_id)
"""

_NEW_AREAS = """
SELECT COUNT(*) FROM roster_areas r
WHERE NOT EXISTS (SELECT 1 FROM areas a WHERE a.sls_code = r.sls_code)
"""
_CHANGED_AREAS = f"""
SELECT COUNT(*) FROM roster_areas r JOIN areas a ON a.sls_code = r.sls_code
WHERE {_differs("a", "r", _AREA_FIELDS)}
"""
_UPSERT_AREAS = f"""
INSERT INTO areas (sls_code, sls_name, desa_code, officer_id, target_households, active)
SELECT sls_code, sls_name, desa_code, officer_id, target_households, 1
FROM roster_areas WHERE 1 = 1
ON CONFLICT (sls_code) DO UPDATE SET
    sls_name = excluded.sls_name, desa_code = excluded.desa_code,
    officer_id = excluded.officer_id, target_households = excluded.target_households, active = 1
WHERE {_differs("areas", "excluded", _AREA_FIELDS)}
"""
_DEACTIVATE_AREAS = """
UPDATE areas SET active = 0
WHERE active = 1
  AND NOT EXISTS (SELECT 1 FROM roster_areas r WHERE r.sls_code = areas.sls_code)
"""

_WRITE_ORDER = {Role.ADMIN: 0, Role.KOSEKA: 1, Role.PML: 2, Role.PPL: 3}


async def _count(conn: Connection, sql: str) -> int:
    async with conn.execute(sql) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _changes(conn: Connection, sql: str, params: Sequence[object] = ()) -> int:
    async with conn.execute(sql, params) as cur:
        return cur.rowcount


async def _apply(
    conn: Connection,
    officers: list[OfficerRow],
    areas: list[AreaRow] | None,
    zones: dict[str, str],
    stamp: str,
) -> ImportResult:
    """Write the roster (see above); `zones`: each kecamatan's time zone."""
    result = ImportResult(areas_imported=areas is not None)
    for statement in _STAGE:
        await conn.execute(statement)
    await conn.executemany(
        "INSERT INTO roster_officers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ((o.officer_id, o.name, o.role.value, o.supervisor_id, o.phone, o.kecamatan_code,
          o.desa_code, o.timezone or zones.get(o.kecamatan_code or ""), _WRITE_ORDER[o.role])
         for o in officers),
    )
    result.officers_added = await _count(conn, _NEW_OFFICERS)
    result.officers_updated = await _count(conn, _CHANGED_OFFICERS)
    await conn.execute(_UPSERT_OFFICERS, (stamp, stamp))
    result.officers_deactivated = await _changes(conn, _DEACTIVATE_OFFICERS, (stamp,))
    if areas is not None:
        await conn.executemany(
            "INSERT INTO roster_areas VALUES (?, ?, ?, ?, ?)",
            ((a.sls_code, a.sls_name, a.desa_code, a.officer_id, a.target_households)
             for a in areas),
        )
        result.areas_added = await _count(conn, _NEW_AREAS)
        result.areas_updated = await _count(conn, _CHANGED_AREAS)
        await conn.execute(_UPSERT_AREAS)
        result.areas_deactivated = await _changes(conn, _DEACTIVATE_AREAS)
    for statement in _UNSTAGE:
        await conn.execute(statement)
    return result


async def _wilayah(conn: Connection) -> tuple[dict[str, str], dict[str, str]]:
    """Each kecamatan's time zone, and each desa's kecamatan."""
    async with conn.execute("SELECT code, timezone FROM wilayah_kecamatan") as cur:
        zones = {code: zone for code, zone in await cur.fetchall()}
    async with conn.execute("SELECT code, kecamatan_code FROM wilayah_desa") as cur:
        desa = {code: kecamatan for code, kecamatan in await cur.fetchall()}
    return zones, desa


async def import_roster(
    db: Database,
    officers_path: Path | str,
    areas_path: Path | str | None = None,
    *,
    now: datetime,
) -> ImportResult:
    """Validate the whole roster, then apply it in one transaction or raise `RosterError`.

    Officers are upserted by officer_id (Telegram links kept) and those missing from the file
    deactivated; areas likewise by sls_code, but only when areas were given. Each officer
    gets the time zone of the roster's `timezone` column, else of their kecamatan (an admin
    without either: none, the deployment's TIMEZONE).
    """
    parsed = read_roster(officers_path, areas_path)
    async with db.transaction() as conn:
        zones, desa_to_kecamatan = await _wilayah(conn)
        officers, areas, issues = validate_roster(parsed, set(zones), desa_to_kecamatan,
                                                  consume=True)
        if issues:
            raise RosterError(issues)
        warnings, with_areas = parsed.warnings, parsed.areas is not None
        del parsed, desa_to_kecamatan
        result = await _apply(conn, officers, areas if with_areas else None, zones,
                              now.isoformat())
    return result.model_copy(update={"warnings": warnings})
