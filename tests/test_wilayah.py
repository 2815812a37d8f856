from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db.connection import Database
from db.models import Desa, Kecamatan
from db.wilayah import (
    WilayahError,
    ensure_default_wilayah,
    get_desa,
    get_kecamatan,
    import_wilayah,
    list_desa,
    list_kecamatan,
    parse_wilayah_csv,
    province_zone,
    zone_name,
)
from tests.support import seeded_database

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
ROOT = Path(__file__).resolve().parent.parent

HEADER = "kecamatan_code,kecamatan_name,desa_code,desa_name,kind\n"


@pytest.fixture
async def db(database: Path | str, engine: str) -> AsyncIterator[Database]:
    """A database with an empty wilayah table (the PostgreSQL test template has the list:
    emptied at once, where a DELETE would check each of its 83,762 rows' references)."""
    opened = Database(database)
    await opened.open()
    async with opened.transaction() as conn:
        if engine == "postgres":
            await conn.execute("TRUNCATE wilayah_desa, wilayah_kecamatan CASCADE")
        else:
            await conn.execute("DELETE FROM wilayah_desa")
            await conn.execute("DELETE FROM wilayah_kecamatan")
    yield opened
    await opened.close()


@pytest.fixture
async def national(database: Path | str) -> AsyncIterator[Database]:
    """A database with the national list already loaded, as the test templates have it (the
    loading itself: `test_the_national_list_is_loaded_once`)."""
    opened = await seeded_database(database)
    await opened.open()
    yield opened
    await opened.close()


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "wilayah.csv"
    path.write_text(text, encoding=encoding)
    return path


async def test_the_national_list_is_loaded_once(db: Database) -> None:
    assert await ensure_default_wilayah(db) is True
    kecamatan = await list_kecamatan(db.conn)
    assert len(kecamatan) == 7285
    assert kecamatan[0] == Kecamatan(code="11.01.01", name="Bakongan", timezone=WIB)
    assert len(await list_desa(db.conn)) == 83762
    async with db.conn.execute(
        "SELECT timezone, COUNT(DISTINCT substr(code, 1, 2)) FROM wilayah_kecamatan"
        " GROUP BY timezone ORDER BY timezone"
    ) as cur:  # provinces per zone: all 38, each in one zone
        assert [tuple(row) async for row in cur] == [(WIB, 18), (WIT, 8), (WITA, 12)]
    assert await ensure_default_wilayah(db) is False
    assert len(await list_desa(db.conn)) == 83762


def test_the_meranti_list_is_part_of_the_national_one() -> None:
    meranti = parse_wilayah_csv(ROOT / "db" / "data" / "meranti_wilayah.csv")
    national = parse_wilayah_csv(ROOT / "db" / "data" / "wilayah_indonesia.csv.gz")
    assert set(meranti[0]) <= set(national[0])
    assert set(meranti[1]) <= set(national[1])


def test_zone_names() -> None:
    assert zone_name("Asia/Jayapura") == WIT
    assert zone_name(" wita ") == WITA
    assert province_zone("94.71.01") == WIT and province_zone("64") == WITA
    assert province_zone("14.10") == WIB and province_zone("62.01") == WIB
    with pytest.raises(ValueError, match='"Asia/Papua" tidak dikenal'):
        zone_name("Asia/Papua")


async def test_read_helpers(national: Database) -> None:
    db = national
    assert await ensure_default_wilayah(db) is False  # loaded already
    tebing_tinggi = await list_desa(db.conn, "14.10.01")
    assert [d.code for d in tebing_tinggi][:2] == ["14.10.01.1001", "14.10.01.1002"]
    assert len(tebing_tinggi) == 9
    assert {d.kecamatan_code for d in tebing_tinggi} == {"14.10.01"}
    assert await get_kecamatan(db.conn, "14.10.09") == Kecamatan(
        code="14.10.09", name="Rangsang Pesisir", timezone=WIB
    )
    assert await get_desa(db.conn, "14.10.05.1001") == Desa(
        code="14.10.05.1001", kecamatan_code="14.10.05", name="Teluk Belitung", kind="kelurahan"
    )
    assert await get_kecamatan(db.conn, "14.10.99") is None
    assert await get_desa(db.conn, "14.10.01.9999") is None


async def test_import_upserts(national: Database, tmp_path: Path) -> None:
    db = national
    assert await ensure_default_wilayah(db) is False  # loaded already
    path = write(
        tmp_path,
        HEADER
        + "14.10.01,Tebing Tinggi,14.10.01.2005,Banglas Lama,desa\n"
        + "14.10.10,Kecamatan Baru,14.10.10.2001,Desa Baru,desa\n",
    )
    assert await import_wilayah(db, path) == (2, 2)
    assert await get_desa(db.conn, "14.10.01.2005") == Desa(
        code="14.10.01.2005", kecamatan_code="14.10.01", name="Banglas Lama", kind="desa"
    )
    assert await get_kecamatan(db.conn, "14.10.10") == Kecamatan(
        code="14.10.10", name="Kecamatan Baru", timezone=WIB
    )
    assert len(await list_kecamatan(db.conn)) == 7286
    assert len(await list_desa(db.conn)) == 83763


async def test_import_takes_a_timezone_column_and_checks_it(
    db: Database, tmp_path: Path
) -> None:
    header = HEADER.strip() + ",timezone\n"
    path = write(tmp_path, header + "94.71.99,Uji,94.71.99.2001,Desa Uji,desa,WITA\n")
    assert await import_wilayah(db, path) == (1, 1)
    assert (await get_kecamatan(db.conn, "94.71.99")).timezone == WITA  # type: ignore[union-attr]
    path = write(
        tmp_path,
        header
        + "94.71.98,Uji,94.71.98.2001,Desa Uji,desa,Asia/Papua\n"  # row 2
        + "94.71.97,Dua,94.71.97.2001,Desa Dua,desa,\n"  # row 3: the province's zone
        + "94.71.97,Dua,94.71.97.2002,Desa Tiga,desa,WIB\n",  # row 4
    )
    with pytest.raises(WilayahError) as excinfo:
        await import_wilayah(db, path)
    assert excinfo.value.problems == [
        'baris 2: zona waktu "Asia/Papua" tidak dikenal (time zone unknown); tulis nama IANA'
        " seperti Asia/Jakarta, Asia/Makassar, Asia/Jayapura, atau WIB/WITA/WIT",
        'baris 4: kecamatan 94.71.97 berzona "Asia/Jakarta", sebelumnya "Asia/Jayapura"',
    ]


async def test_import_of_invalid_file_changes_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + "14.10.01,Tebing Tinggi,14.10.01.2005,Banglas,dusun\n")
    with pytest.raises(WilayahError):
        await import_wilayah(db, path)
    assert await list_kecamatan(db.conn) == []


def test_parse_bom_semicolon_blank_lines_and_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Kecamatan_Code;KECAMATAN_NAME;desa_code;desa_name;Kind\n\n"
        " 14.10.01 ; Tebing Tinggi ;14.10.01.1001;Selatpanjang Kota;Kelurahan\n"
        "\n"
        "14.10.01;Tebing Tinggi;14.10.01.2005;Banglas;desa\n",
        encoding="utf-8-sig",
    )
    kecamatan, desa = parse_wilayah_csv(path)
    assert kecamatan == [Kecamatan(code="14.10.01", name="Tebing Tinggi", timezone=WIB)]
    assert desa == [
        Desa(
            code="14.10.01.1001",
            kecamatan_code="14.10.01",
            name="Selatpanjang Kota",
            kind="kelurahan",
        ),
        Desa(code="14.10.01.2005", kecamatan_code="14.10.01", name="Banglas", kind="desa"),
    ]


def test_parse_reports_every_problem_with_row_numbers(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "14.10.01,Tebing Tinggi,14.10.01.1001,Selatpanjang Kota,kelurahan\n"  # row 2
        + "14.10.01,Tebing Tinggi,14.10.01.2005,Banglas,dusun\n"  # row 3
        + "14.10.01,Tebing Tinggi,14.10.02.2001,Segomeng,desa\n"  # row 4
        + "14.10.01,Tebing Tingi,14.10.01.2006,Alah Air,desa\n"  # row 5
        + "14.10.01,Tebing Tinggi,14.10.01.1001,Selatpanjang Kota,kelurahan\n"  # row 6
        + "14.10.01,,14.10.01.2007,,desa\n",  # row 7
    )
    with pytest.raises(WilayahError) as excinfo:
        parse_wilayah_csv(path)
    assert excinfo.value.problems == [
        'baris 3: kind "dusun" harus desa atau kelurahan',
        'baris 4: kode desa "14.10.02.2001" tidak diawali kode kecamatan "14.10.01"',
        'baris 5: kecamatan 14.10.01 bernama "Tebing Tingi", sebelumnya "Tebing Tinggi"',
        'baris 6: kode desa "14.10.01.1001" ganda',
        "baris 7: kolom kosong: kecamatan_name, desa_name",
    ]
    assert "baris 4" in str(excinfo.value)


def test_parse_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "kecamatan_code,desa_code,desa_name\n14.10.01,14.10.01.1001,X\n")
    with pytest.raises(WilayahError) as excinfo:
        parse_wilayah_csv(path)
    assert excinfo.value.problems == ["baris 1: kolom wajib tidak ada: kecamatan_name, kind"]


def test_parse_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "wilayah.csv"
    path.write_bytes(HEADER.encode() + b"14.10.01,Tebing Tinggi,14.10.01.1001,\x81,desa\n")
    with pytest.raises(WilayahError) as excinfo:
        parse_wilayah_csv(path)
    assert excinfo.value.problems == ["berkas bukan UTF-8; simpan ulang sebagai CSV UTF-8"]
