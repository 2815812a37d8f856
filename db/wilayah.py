"""Wilayah reference: kecamatan and desa/kelurahan of the regency, loaded from a CSV list."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

from db.connection import Database
from db.engine import Connection
from db.models import Desa, Kecamatan

COLUMNS = ("kecamatan_code", "kecamatan_name", "desa_code", "desa_name", "kind")
KINDS = ("desa", "kelurahan")
DEFAULT_FILE = "meranti_wilayah.csv"


class WilayahError(ValueError):
    """The wilayah list is invalid; `problems` lists each one with its row number."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Daftar wilayah tidak valid:\n" + "\n".join(f"- {p}" for p in problems))


def parse_wilayah_csv(path: Path | str) -> tuple[list[Kecamatan], list[Desa]]:
    """Read and check the list; rows are numbered as in a spreadsheet (header = row 1)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise WilayahError(["berkas bukan UTF-8; simpan ulang sebagai CSV UTF-8"]) from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = [
        (number, [cell.strip() for cell in cells])
        for number, cells in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), 1)
        if any(cell.strip() for cell in cells)
    ]
    if not rows:
        raise WilayahError(["berkas kosong"])
    header = [name.lower() for name in rows[0][1]]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise WilayahError([f"baris {rows[0][0]}: kolom wajib tidak ada: {', '.join(missing)}"])
    index = {name: header.index(name) for name in COLUMNS}

    problems: list[str] = []
    kecamatan: dict[str, Kecamatan] = {}
    desa: dict[str, Desa] = {}
    for number, cells in rows[1:]:
        values = {name: cells[i] if i < len(cells) else "" for name, i in index.items()}
        empty = [name for name, value in values.items() if not value]
        if empty:
            problems.append(f"baris {number}: kolom kosong: {', '.join(empty)}")
            continue
        kec_code, kec_name = values["kecamatan_code"], values["kecamatan_name"]
        desa_code = values["desa_code"]
        kind = values["kind"].lower()
        if kind not in KINDS:
            problems.append(f'baris {number}: kind "{values["kind"]}" harus desa atau kelurahan')
        if not (desa_code.startswith(kec_code) and len(desa_code) > len(kec_code)):
            problems.append(
                f'baris {number}: kode desa "{desa_code}" tidak diawali kode kecamatan "{kec_code}"'
            )
        known = kecamatan.setdefault(kec_code, Kecamatan(code=kec_code, name=kec_name))
        if known.name != kec_name:
            problems.append(
                f'baris {number}: kecamatan {kec_code} bernama "{kec_name}", '
                f'sebelumnya "{known.name}"'
            )
        if desa_code in desa:
            problems.append(f'baris {number}: kode desa "{desa_code}" ganda')
            continue
        desa[desa_code] = Desa(
            code=desa_code, kecamatan_code=kec_code, name=values["desa_name"], kind=kind
        )
    if problems:
        raise WilayahError(problems)
    return list(kecamatan.values()), list(desa.values())


async def _upsert(conn: Connection, kecamatan: list[Kecamatan], desa: list[Desa]) -> None:
    await conn.executemany(
        "INSERT INTO wilayah_kecamatan (code, name) VALUES (?, ?)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name",
        [(k.code, k.name) for k in kecamatan],
    )
    await conn.executemany(
        "INSERT INTO wilayah_desa (code, kecamatan_code, name, kind) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (code) DO UPDATE SET kecamatan_code = excluded.kecamatan_code,"
        " name = excluded.name, kind = excluded.kind",
        [(d.code, d.kecamatan_code, d.name, d.kind) for d in desa],
    )


async def import_wilayah(db: Database, path: Path | str) -> tuple[int, int]:
    """Upsert every kecamatan and desa of the file in one transaction; return both counts."""
    kecamatan, desa = parse_wilayah_csv(path)
    async with db.transaction() as conn:
        await _upsert(conn, kecamatan, desa)
    return len(kecamatan), len(desa)


async def ensure_default_wilayah(db: Database) -> bool:
    """Load the shipped Kepulauan Meranti list when no kecamatan is stored yet."""
    with resources.as_file(resources.files("db") / "data" / DEFAULT_FILE) as path:
        kecamatan, desa = parse_wilayah_csv(path)
    async with db.transaction() as conn:
        async with conn.execute("SELECT EXISTS (SELECT 1 FROM wilayah_kecamatan)") as cur:
            row = await cur.fetchone()
        if row is not None and row[0]:
            return False
        await _upsert(conn, kecamatan, desa)
    return True


async def list_kecamatan(conn: Connection) -> list[Kecamatan]:
    async with conn.execute("SELECT code, name FROM wilayah_kecamatan ORDER BY code") as cur:
        return [Kecamatan(**dict(row)) async for row in cur]


async def list_desa(conn: Connection, kecamatan_code: str | None = None) -> list[Desa]:
    sql = "SELECT code, kecamatan_code, name, kind FROM wilayah_desa"
    params: tuple[str, ...] = ()
    if kecamatan_code is not None:
        sql += " WHERE kecamatan_code = ?"
        params = (kecamatan_code,)
    async with conn.execute(sql + " ORDER BY code", params) as cur:
        return [Desa(**dict(row)) async for row in cur]


async def get_kecamatan(conn: Connection, code: str) -> Kecamatan | None:
    async with conn.execute(
        "SELECT code, name FROM wilayah_kecamatan WHERE code = ?", (code,)
    ) as cur:
        row = await cur.fetchone()
    return Kecamatan(**dict(row)) if row else None


async def get_desa(conn: Connection, code: str) -> Desa | None:
    async with conn.execute(
        "SELECT code, kecamatan_code, name, kind FROM wilayah_desa WHERE code = ?", (code,)
    ) as cur:
        row = await cur.fetchone()
    return Desa(**dict(row)) if row else None
