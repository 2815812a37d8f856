"""Wilayah reference: the kecamatan and desa/kelurahan of Indonesia, each kecamatan with the
time zone of its province, loaded from a CSV list.

A fresh database gets the whole country (`data/wilayah_indonesia.csv.gz`: 38 provinces, 514
kabupaten/kota, 7,285 kecamatan, 83,762 desa/kelurahan); `python -m bot wilayah import FILE`
adds or corrects rows from another list (`.csv` or `.csv.gz`).
"""

from __future__ import annotations

import csv
import gzip
from functools import lru_cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.connection import Database
from db.engine import Connection
from db.models import Desa, Kecamatan

COLUMNS = ("kecamatan_code", "kecamatan_name", "desa_code", "desa_name", "kind")
ZONE_COLUMN = "timezone"  # optional: without it, a kecamatan takes its province's zone
KINDS = ("desa", "kelurahan")
DEFAULT_FILE = "wilayah_indonesia.csv.gz"

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
# Indonesia's three zones by province code (no daylight saving): WITA for Bali, the Nusa
# Tenggara, South/East/North Kalimantan and Sulawesi; WIT for Maluku and Papua; WIB elsewhere.
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96"}
# What a roster or list may write instead of the IANA name.
_ABBREVIATIONS = {"WIB": WIB, "WITA": WITA, "WIT": WIT}

# (code, name, timezone) of each kecamatan; (code, kecamatan_code, name, kind) of each desa.
_KecamatanRow = tuple[str, str, str]
_DesaRow = tuple[str, str, str, str]


def province_zone(code: str) -> str:
    """The IANA zone of the province a wilayah code (`14.10.01`, `94`) belongs to."""
    province = code[:2]
    return WITA if province in _WITA else WIT if province in _WIT else WIB


@lru_cache(maxsize=256)
def zone_name(value: str) -> str:
    """The IANA zone name that `value` means (`Asia/Jayapura`, or WIB/WITA/WIT); ValueError
    with a message for the user when it is none."""
    name = _ABBREVIATIONS.get(value.strip().upper(), value.strip())
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f'zona waktu "{value}" tidak dikenal (time zone unknown); tulis nama IANA seperti '
            f"{WIB}, {WITA}, {WIT}, atau WIB/WITA/WIT"
        ) from None
    return name


class WilayahError(ValueError):
    """The wilayah list is invalid; `problems` lists each one with its row number."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("Daftar wilayah tidak valid:\n" + "\n".join(f"- {p}" for p in problems))


def _read_text(path: Path) -> str:
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig") as f:
                return f.read()
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise WilayahError(["berkas bukan UTF-8; simpan ulang sebagai CSV UTF-8"]) from None
    except (gzip.BadGzipFile, EOFError) as exc:
        raise WilayahError([f"berkas tidak dapat dibaca ({exc})"]) from None


def _parse(path: Path | str) -> tuple[dict[str, _KecamatanRow], list[_DesaRow]]:
    """Read and check the list; rows are numbered as in a spreadsheet (header = row 1)."""
    text = _read_text(Path(path))
    lines = text.splitlines()
    first_line = next((line for line in lines if line.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # Only the needed cells are stripped: the national list has 83,762 rows to read at each
    # fresh start.
    rows = (
        (number, cells)
        for number, cells in enumerate(csv.reader(lines, delimiter=delimiter), 1)
        if "".join(cells).strip()
    )
    header_row = next(rows, None)
    if header_row is None:
        raise WilayahError(["berkas kosong"])
    header = [name.strip().lower() for name in header_row[1]]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise WilayahError([f"baris {header_row[0]}: kolom wajib tidak ada: {', '.join(missing)}"])
    at = [header.index(name) for name in COLUMNS]
    width = max(at) + 1
    zone_at = header.index(ZONE_COLUMN) if ZONE_COLUMN in header else None

    problems: list[str] = []
    kecamatan: dict[str, _KecamatanRow] = {}
    desa: dict[str, _DesaRow] = {}
    for number, cells in rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        values = [cells[i].strip() for i in at]
        kec_code, kec_name, desa_code, desa_name, kind = values
        if not all(values):
            empty = [name for name, value in zip(COLUMNS, values, strict=True) if not value]
            problems.append(f"baris {number}: kolom kosong: {', '.join(empty)}")
            continue
        kind = kind.lower()
        if kind not in KINDS:
            problems.append(f'baris {number}: kind "{values[4]}" harus desa atau kelurahan')
        if not (desa_code.startswith(kec_code) and len(desa_code) > len(kec_code)):
            problems.append(
                f'baris {number}: kode desa "{desa_code}" tidak diawali kode kecamatan "{kec_code}"'
            )
        zone = cells[zone_at].strip() if zone_at is not None and zone_at < len(cells) else ""
        try:
            zone = zone_name(zone) if zone else province_zone(kec_code)
        except ValueError as exc:
            problems.append(f"baris {number}: {exc}")
        known = kecamatan.get(kec_code)
        if known is None:
            kecamatan[kec_code] = (kec_code, kec_name, zone)
        elif known[1] != kec_name:
            problems.append(
                f'baris {number}: kecamatan {kec_code} bernama "{kec_name}", '
                f'sebelumnya "{known[1]}"'
            )
        elif known[2] != zone:
            problems.append(
                f'baris {number}: kecamatan {kec_code} berzona "{zone}", sebelumnya "{known[2]}"'
            )
        if desa_code in desa:
            problems.append(f'baris {number}: kode desa "{desa_code}" ganda')
            continue
        desa[desa_code] = (desa_code, kec_code, desa_name, kind)
    if problems:
        raise WilayahError(problems)
    return kecamatan, list(desa.values())


def parse_wilayah_csv(path: Path | str) -> tuple[list[Kecamatan], list[Desa]]:
    """Read and check the list (`.csv` or `.csv.gz`); `WilayahError` lists every problem."""
    kecamatan, desa = _parse(path)
    return (
        [Kecamatan(code=c, name=n, timezone=z) for c, n, z in kecamatan.values()],
        [Desa(code=c, kecamatan_code=k, name=n, kind=kind) for c, k, n, kind in desa],
    )


async def _upsert(
    conn: Connection, kecamatan: dict[str, _KecamatanRow], desa: list[_DesaRow]
) -> None:
    await conn.executemany(
        "INSERT INTO wilayah_kecamatan (code, name, timezone) VALUES (?, ?, ?)"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name, timezone = excluded.timezone",
        list(kecamatan.values()),
    )
    await conn.executemany(
        "INSERT INTO wilayah_desa (code, kecamatan_code, name, kind) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (code) DO UPDATE SET kecamatan_code = excluded.kecamatan_code,"
        " name = excluded.name, kind = excluded.kind",
        desa,
    )


async def import_wilayah(db: Database, path: Path | str) -> tuple[int, int]:
    """Upsert every kecamatan and desa of the file in one transaction; return both counts."""
    kecamatan, desa = _parse(path)
    async with db.transaction() as conn:
        await _upsert(conn, kecamatan, desa)
    return len(kecamatan), len(desa)


AREAS_FILE = "wilayah_areas.csv"


@lru_cache(maxsize=1)
def area_names() -> dict[str, str]:
    """The name of every province (`14`: Riau) and kabupaten/kota (`14.10`: Kabupaten
    Kepulauan Meranti) of Indonesia, from the shipped list's `province_*` and `kabupaten_*`
    columns (`data/wilayah_areas.csv`, made from `data/wilayah_indonesia.csv.gz`)."""
    text = (resources.files("db") / "data" / AREAS_FILE).read_text(encoding="utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(text.splitlines())}


def default_file() -> Path:
    """The shipped list of all of Indonesia."""
    with resources.as_file(resources.files("db") / "data" / DEFAULT_FILE) as path:
        return path


async def ensure_default_wilayah(db: Database) -> bool:
    """Load the shipped list of all of Indonesia when no kecamatan is stored yet."""
    async with db.transaction() as conn:
        async with conn.execute("SELECT EXISTS (SELECT 1 FROM wilayah_kecamatan)") as cur:
            row = await cur.fetchone()
        if row is not None and row[0]:
            return False
        await _upsert(conn, *_parse(default_file()))  # read only when needed: 83,762 rows
    return True


# The national list is long (7,285 kecamatan, 83,762 desa): what a deployment shows or
# looks up is the part its roster uses.
_ON_ROSTER_KECAMATAN = " WHERE code IN (SELECT kecamatan_code FROM officers)"
_ON_ROSTER_DESA = (
    " AND code IN (SELECT desa_code FROM areas UNION SELECT desa_code FROM officers)"
)


async def list_kecamatan(
    conn: Connection, *, on_roster: bool = False
) -> list[Kecamatan]:
    """Every kecamatan, or (`on_roster`) those of an officer of the roster."""
    where = _ON_ROSTER_KECAMATAN if on_roster else ""
    async with conn.execute(
        f"SELECT code, name, timezone FROM wilayah_kecamatan{where} ORDER BY code"
    ) as cur:
        return [Kecamatan(**dict(row)) async for row in cur]


async def list_desa(
    conn: Connection, kecamatan_code: str | None = None, *, on_roster: bool = False
) -> list[Desa]:
    """Every desa (of one kecamatan), or (`on_roster`) those of an SLS or officer."""
    sql = "SELECT code, kecamatan_code, name, kind FROM wilayah_desa WHERE 1 = 1"
    params: tuple[str, ...] = ()
    if kecamatan_code is not None:
        sql += " AND kecamatan_code = ?"
        params = (kecamatan_code,)
    if on_roster:
        sql += _ON_ROSTER_DESA
    async with conn.execute(sql + " ORDER BY code", params) as cur:
        return [Desa(**dict(row)) async for row in cur]


async def get_kecamatan(conn: Connection, code: str) -> Kecamatan | None:
    async with conn.execute(
        "SELECT code, name, timezone FROM wilayah_kecamatan WHERE code = ?", (code,)
    ) as cur:
        row = await cur.fetchone()
    return Kecamatan(**dict(row)) if row else None


async def get_desa(conn: Connection, code: str) -> Desa | None:
    async with conn.execute(
        "SELECT code, kecamatan_code, name, kind FROM wilayah_desa WHERE code = ?", (code,)
    ) as cur:
        row = await cur.fetchone()
    return Desa(**dict(row)) if row else None
