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
)

HEADER = "kecamatan_code,kecamatan_name,desa_code,desa_name,kind\n"


@pytest.fixture
async def db(database: Path | str) -> AsyncIterator[Database]:
    opened = Database(database)
    await opened.open()
    yield opened
    await opened.close()


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "wilayah.csv"
    path.write_text(text, encoding=encoding)
    return path


async def test_default_list_is_loaded_once(db: Database) -> None:
    assert await ensure_default_wilayah(db) is True
    kecamatan = await list_kecamatan(db.conn)
    assert len(kecamatan) == 9
    assert kecamatan[0] == Kecamatan(code="14.10.01", name="Tebing Tinggi")
    assert len(await list_desa(db.conn)) == 101
    assert await ensure_default_wilayah(db) is False
    assert len(await list_desa(db.conn)) == 101


async def test_read_helpers(db: Database) -> None:
    await ensure_default_wilayah(db)
    tebing_tinggi = await list_desa(db.conn, "14.10.01")
    assert [d.code for d in tebing_tinggi][:2] == ["14.10.01.1001", "14.10.01.1002"]
    assert len(tebing_tinggi) == 9
    assert {d.kecamatan_code for d in tebing_tinggi} == {"14.10.01"}
    assert await get_kecamatan(db.conn, "14.10.09") == Kecamatan(
        code="14.10.09", name="Rangsang Pesisir"
    )
    assert await get_desa(db.conn, "14.10.05.1001") == Desa(
        code="14.10.05.1001", kecamatan_code="14.10.05", name="Teluk Belitung", kind="kelurahan"
    )
    assert await get_kecamatan(db.conn, "14.10.99") is None
    assert await get_desa(db.conn, "14.10.01.9999") is None


async def test_import_upserts(db: Database, tmp_path: Path) -> None:
    await ensure_default_wilayah(db)
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
        code="14.10.10", name="Kecamatan Baru"
    )
    assert len(await list_kecamatan(db.conn)) == 10
    assert len(await list_desa(db.conn)) == 102


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
    assert kecamatan == [Kecamatan(code="14.10.01", name="Tebing Tinggi")]
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
