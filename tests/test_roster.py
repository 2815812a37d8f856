from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from bot.present.roster import import_summary
from db.connection import Database
from db.roster import (
    ImportResult,
    RosterError,
    RosterIssue,
    import_roster,
    read_roster,
    validate_roster,
)
from db.wilayah import ensure_default_wilayah, parse_wilayah_csv

WIB = ZoneInfo("Asia/Jakarta")
NOW = datetime(2022, 10, 10, 9, 0, tzinfo=WIB)
LATER = datetime(2022, 10, 20, 9, 0, tzinfo=WIB)
ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "roster"

_KECAMATAN, _DESA = parse_wilayah_csv(ROOT / "db" / "data" / "meranti_wilayah.csv")
KECAMATAN_CODES = {k.code for k in _KECAMATAN}
DESA_TO_KECAMATAN = {d.code: d.kecamatan_code for d in _DESA}

OFFICERS = [
    "officer_id,name,role,supervisor_id,phone,kecamatan_code,desa_code",
    "A1,Admin Kabupaten,ADMIN,,081200000001,,",  # row 2
    "K1,Kartini,KOSEKA,,081200000002,14.10.01,",  # row 3
    "M1,Mahmud,PML,K1,081200000003,14.10.01,",  # row 4
    "P1,Putri,PPL,M1,0812-0000-0004,14.10.01,14.10.01.2005",  # row 5
    "P2,Panji,PPL,M1,,14.10.01,14.10.01.2006",  # row 6
]
AREAS = [
    "officer_id,sls_code,sls_name,desa_code,target_households",
    "P1,S1,RT 001 Banglas,14.10.01.2005,100",  # row 2
    "P1,S2,RT 002 Banglas,14.10.01.2005,80",  # row 3
    "P2,S3,RT 001 Alah Air,14.10.01.2006,120",  # row 4
]
OFFICER_HEADER = OFFICERS[0].split(",")
AREA_HEADER = AREAS[0].split(",")


@pytest.fixture
async def db(database: Path | str) -> AsyncIterator[Database]:
    opened = Database(database)
    await opened.open()
    await ensure_default_wilayah(opened)
    yield opened
    await opened.close()


def changed(lines: list[str], row: int, line: str | None) -> list[str]:
    """`lines` with spreadsheet row `row` replaced by `line` (appended past the end,
    removed when None)."""
    result = list(lines)
    if line is None:
        del result[row - 1]
    elif row == len(result) + 1:
        result.append(line)
    else:
        result[row - 1] = line
    return result


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def problems(tmp_path: Path, officers: list[str], areas: list[str] | None = None) -> list[str]:
    parsed = read_roster(
        write(tmp_path / "officers.csv", officers),
        None if areas is None else write(tmp_path / "areas.csv", areas),
    )
    _, _, issues = validate_roster(parsed, KECAMATAN_CODES, DESA_TO_KECAMATAN)
    return [str(issue) for issue in issues]


async def officer_rows(db: Database) -> dict[str, dict[str, object]]:
    async with db.conn.execute("SELECT * FROM officers ORDER BY officer_id") as cur:
        return {row["officer_id"]: dict(row) async for row in cur}


async def area_rows(db: Database) -> dict[str, tuple[str, str, str, int, int]]:
    async with db.conn.execute(
        "SELECT sls_code, sls_name, desa_code, officer_id, target_households, active FROM areas"
    ) as cur:
        return {row[0]: tuple(row[1:]) async for row in cur}


# Valid input


def test_valid_roster_has_no_issue(tmp_path: Path) -> None:
    parsed = read_roster(write(tmp_path / "o.csv", OFFICERS), write(tmp_path / "a.csv", AREAS))
    officers, areas, issues = validate_roster(parsed, KECAMATAN_CODES, DESA_TO_KECAMATAN)
    assert issues == []
    assert [o.officer_id for o in officers] == ["A1", "K1", "M1", "P1", "P2"]
    p1 = officers[3]
    assert (p1.row, p1.role, p1.supervisor_id, p1.phone, p1.desa_code) == (
        5,
        "PPL",
        "M1",
        "6281200000004",
        "14.10.01.2005",
    )
    assert officers[0].kecamatan_code is None and officers[4].phone is None
    assert [(a.sls_code, a.target_households, a.row) for a in areas] == [
        ("S1", 100, 2),
        ("S2", 80, 3),
        ("S3", 120, 4),
    ]


async def test_import_new_roster(db: Database, tmp_path: Path) -> None:
    result = await import_roster(
        db, write(tmp_path / "o.csv", OFFICERS), write(tmp_path / "a.csv", AREAS), now=NOW
    )
    assert result == ImportResult(officers_added=5, areas_added=3, areas_imported=True)
    assert import_summary(result) == (
        "Roster diimpor. Petugas: 5 baru, 0 diperbarui, 0 dinonaktifkan."
        " SLS: 3 baru, 0 diperbarui, 0 dinonaktifkan."
    )
    rows = await officer_rows(db)
    assert rows["P1"] == {
        "officer_id": "P1",
        "name": "Putri",
        "role": "PPL",
        "supervisor_id": "M1",
        "phone": "6281200000004",
        "kecamatan_code": "14.10.01",
        "desa_code": "14.10.01.2005",
        "active": 1,
        "telegram_user_id": None,
        "telegram_chat_id": None,
        "linked_at": None,
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
        "unreachable_at": None,
    }
    assert rows["A1"]["kecamatan_code"] is None
    assert await area_rows(db) == {
        "S1": ("RT 001 Banglas", "14.10.01.2005", "P1", 100, 1),
        "S2": ("RT 002 Banglas", "14.10.01.2005", "P1", 80, 1),
        "S3": ("RT 001 Alah Air", "14.10.01.2006", "P2", 120, 1),
    }


async def test_example_files_import_cleanly(db: Database) -> None:
    result = await import_roster(db, EXAMPLES / "officers.csv", EXAMPLES / "areas.csv", now=NOW)
    assert result == ImportResult(officers_added=9, areas_added=13, areas_imported=True)
    rows = await officer_rows(db)
    roles = Counter(o["role"] for o in rows.values())
    assert roles == {"ADMIN": 1, "KOSEKA": 1, "PML": 2, "PPL": 5}
    assert {o["kecamatan_code"] for o in rows.values() if o["role"] != "ADMIN"} == {"14.10.01"}


async def test_bom_semicolons_blank_lines_and_header_case(db: Database, tmp_path: Path) -> None:
    officers = [
        "\ufeff Officer_ID ;NAME;Role;Supervisor_Id;phone;kecamatan_code;DESA_CODE",
        "",
        "A1;Admin Kabupaten;ADMIN;;;;",
        "K1 ; Kartini ;koseka;;;14.10.01;",
        "   ",
        "M1;Mahmud;PML;K1;+62 812 0000 0003;14.10.01;",
        "P1;Putri;PPL;M1;;14.10.01;14.10.01.2005",
    ]
    path = tmp_path / "officers.csv"
    path.write_text("\r\n".join(officers) + "\r\n", encoding="utf-8")
    result = await import_roster(db, path, None, now=NOW)
    assert result == ImportResult(officers_added=4)
    assert import_summary(result) == (
        "Roster diimpor. Petugas: 4 baru, 0 diperbarui, 0 dinonaktifkan."
        " SLS tidak diubah (tidak ada data areas)."
    )
    rows = await officer_rows(db)
    assert rows["K1"]["name"] == "Kartini" and rows["K1"]["role"] == "KOSEKA"
    assert rows["M1"]["phone"] == "6281200000003"


def test_blank_lines_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    officers = [*OFFICERS[:3], "", "", *OFFICERS[3:5], "P2,Panji,PPLX,M1,,14.10.01,14.10.01.2006"]
    assert problems(tmp_path, officers) == [
        'officers.csv baris 8, kolom role: peran "PPLX" tidak dikenal (PPL, PML, KOSEKA, ADMIN)'
    ]


async def test_cp1252_file_is_read_with_a_warning(db: Database, tmp_path: Path) -> None:
    path = write(
        tmp_path / "officers.csv",
        changed(OFFICERS, 2, "A1,Señora Admin,ADMIN,,,,"),
        encoding="cp1252",
    )
    result = await import_roster(db, path, None, now=NOW)
    assert (await officer_rows(db))["A1"]["name"] == "Señora Admin"
    assert [str(w) for w in result.warnings] == [
        "officers.csv: berkas bukan UTF-8, dibaca sebagai Windows-1252 (cp1252); periksa huruf "
        'khusus pada nama, atau simpan ulang sebagai "CSV UTF-8"'
    ]
    assert import_summary(result).endswith(" 1 peringatan.")


def test_undecodable_file(tmp_path: Path) -> None:
    path = tmp_path / "officers.csv"
    path.write_bytes(OFFICERS[0].encode() + b"\nA1,\x81\xc3,ADMIN,,,,\n")
    _, _, issues = validate_roster(read_roster(path), KECAMATAN_CODES, DESA_TO_KECAMATAN)
    assert issues == [
        RosterIssue(
            file="officers.csv",
            message='berkas bukan teks UTF-8 maupun Windows-1252; simpan ulang sebagai "CSV UTF-8"',
        )
    ]


# Reading problems


def test_missing_required_column(tmp_path: Path) -> None:
    officers = [line.rsplit(",", 1)[0] for line in OFFICERS]  # drop desa_code
    assert problems(tmp_path, officers) == [
        "officers.csv baris 1, kolom desa_code: kolom wajib tidak ada (judul kolom yang ada: "
        "officer_id, name, role, supervisor_id, phone, kecamatan_code)"
    ]


def test_missing_required_area_column(tmp_path: Path) -> None:
    areas = [line.replace("sls_name", "nama_sls") for line in AREAS]
    assert problems(tmp_path, OFFICERS, areas) == [
        "areas.csv baris 1, kolom sls_name: kolom wajib tidak ada (judul kolom yang ada: "
        "officer_id, sls_code, nama_sls, desa_code, target_households)"
    ]


def test_duplicate_header_column(tmp_path: Path) -> None:
    officers = [line + "," for line in OFFICERS]
    officers[0] += "Name"
    assert problems(tmp_path, officers) == [
        "officers.csv baris 1, kolom name: judul kolom muncul dua kali"
    ]


def test_repeated_header_row(tmp_path: Path) -> None:
    officers = [*OFFICERS[:4], OFFICERS[0].upper(), *OFFICERS[4:]]
    assert problems(tmp_path, officers) == [
        "officers.csv baris 5: baris judul kolom berulang di tengah data"
    ]


def test_row_with_too_many_values(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji, S.Pd,PPL,M1,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        "officers.csv baris 6: baris berisi 8 nilai, padahal judul kolom hanya 7; "
        "periksa tanda , atau ; di dalam isian"
    ]


def test_empty_file(tmp_path: Path) -> None:
    assert problems(tmp_path, ["", " "]) == ["officers.csv: berkas kosong: tidak ada judul kolom"]


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "roster.xls"
    path.write_bytes(b"not really")
    parsed = read_roster(path)
    assert parsed.officers is None
    assert [str(i) for i in parsed.issues] == [
        'roster.xls: format ".xls" tidak didukung; gunakan .csv atau .xlsx'
    ]


# Officer rows


def test_unknown_role(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 5, "P1,Putri,PPLX,M1,,14.10.01,14.10.01.2005")
    parsed = read_roster(write(tmp_path / "officers.csv", officers))
    _, _, issues = validate_roster(parsed, KECAMATAN_CODES, DESA_TO_KECAMATAN)
    assert issues == [
        RosterIssue(
            file="officers.csv",
            row=5,
            column="role",
            message='peran "PPLX" tidak dikenal (PPL, PML, KOSEKA, ADMIN)',
        )
    ]
    assert str(issues[0]) == (
        'officers.csv baris 5, kolom role: peran "PPLX" tidak dikenal (PPL, PML, KOSEKA, ADMIN)'
    )


def test_role_is_case_insensitive_but_required(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 5, "P1,Putri,ppl,M1,,14.10.01,14.10.01.2005")
    officers = changed(officers, 6, "P2,Panji,,M1,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        "officers.csv baris 6, kolom role: wajib diisi (PPL, PML, KOSEKA, ADMIN)"
    ]


def test_duplicate_officer_id(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P1,Panji,PPL,M1,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 6, kolom officer_id: "P1" ganda (sudah ada di baris 5)'
    ]


def test_officer_id_may_not_look_like_an_admin_from_the_settings(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 2, "Admin-7,Admin Kabupaten,ADMIN,,081200000001,,")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 2, kolom officer_id: "Admin-7": awalan "admin-" dipakai untuk'
        " admin dari ADMIN_TELEGRAM_IDS"
    ]


def test_empty_name_and_officer_id(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, ",  ,PPL,M1,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        "officers.csv baris 6, kolom officer_id: wajib diisi",
        "officers.csv baris 6, kolom name: wajib diisi",
    ]


def test_ppl_without_supervisor(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPL,,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        "officers.csv baris 6, kolom supervisor_id: wajib diisi untuk PPL (officer_id seorang PML)"
    ]


def test_ppl_supervisor_not_in_file(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPL,M9,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 6, kolom supervisor_id: "M9" tidak ada di daftar petugas'
    ]


def test_ppl_supervisor_not_a_pml(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPL,K1,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 6, kolom supervisor_id: "K1" adalah KOSEKA; atasan PPL harus PML'
    ]


def test_pml_supervisor_not_a_koseka(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 7, "M2,Maryam,PML,A1,,14.10.01,")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 7, kolom supervisor_id: "A1" adalah ADMIN; atasan PML harus KOSEKA'
    ]


def test_koseka_and_admin_have_no_supervisor(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 2, "A1,Admin Kabupaten,ADMIN,K1,,,")
    officers = changed(officers, 3, "K1,Kartini,KOSEKA,A1,,14.10.01,")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 2, kolom supervisor_id: harus kosong untuk ADMIN (berisi "K1")',
        "officers.csv baris 2, kolom supervisor_id: rantai atasan berputar: A1 → K1 → A1",
        'officers.csv baris 3, kolom supervisor_id: harus kosong untuk KOSEKA (berisi "A1")',
    ]


def test_self_supervision_is_a_cycle(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 4, "M1,Mahmud,PML,M1,,14.10.01,")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 4, kolom supervisor_id: "M1" adalah PML; atasan PML harus KOSEKA',
        "officers.csv baris 4, kolom supervisor_id: rantai atasan berputar: M1 → M1",
    ]


def test_longer_cycle_is_reported_once(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 4, "M1,Mahmud,PML,P2,,14.10.01,")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 4, kolom supervisor_id: "P2" adalah PPL; atasan PML harus KOSEKA',
        "officers.csv baris 4, kolom supervisor_id: rantai atasan berputar: M1 → P2 → M1",
    ]


def test_bad_phone(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPL,M1,021-555-0123,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 6, kolom phone: nomor HP "021-555-0123" bukan nomor seluler '
        "Indonesia (harus diawali 08, 628 atau +628)"
    ]


def test_kecamatan_required_except_for_admin(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 2, "A1,Admin Kabupaten,ADMIN,,,14.10.01,")
    officers = changed(officers, 4, "M1,Mahmud,PML,K1,,,")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 2, kolom kecamatan_code: harus kosong untuk ADMIN (berisi "14.10.01")',
        "officers.csv baris 4, kolom kecamatan_code: wajib diisi untuk PML",
    ]


def test_unknown_kecamatan(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 3, "K1,Kartini,KOSEKA,,,14.10.99,")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 3, kolom kecamatan_code: kecamatan "14.10.99" tidak ada di daftar '
        "wilayah"
    ]


def test_desa_required_for_ppl_only(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 4, "M1,Mahmud,PML,K1,,14.10.01,14.10.01.2005")
    officers = changed(officers, 6, "P2,Panji,PPL,M1,,14.10.01,")
    assert problems(tmp_path, officers) == [
        "officers.csv baris 4, kolom desa_code: hanya untuk PPL; kosongkan untuk PML "
        '(berisi "14.10.01.2005")',
        "officers.csv baris 6, kolom desa_code: wajib diisi untuk PPL",
    ]


def test_unknown_desa(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPL,M1,,14.10.01,14.10.01.2999")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 6, kolom desa_code: desa "14.10.01.2999" tidak ada di daftar wilayah'
    ]


def test_desa_outside_kecamatan(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPL,M1,,14.10.01,14.10.02.2001")
    assert problems(tmp_path, officers) == [
        'officers.csv baris 6, kolom desa_code: desa "14.10.02.2001" berada di kecamatan '
        "14.10.02, bukan 14.10.01"
    ]


def test_every_problem_is_reported_in_row_order(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,,PPL,M9,12,14.10.01,")
    officers = changed(officers, 3, "K1,Kartini,KOSEKA,,,,")
    assert problems(tmp_path, officers) == [
        "officers.csv baris 3, kolom kecamatan_code: wajib diisi untuk KOSEKA",
        "officers.csv baris 6, kolom name: wajib diisi",
        'officers.csv baris 6, kolom phone: nomor HP "12" bukan nomor seluler Indonesia '
        "(harus diawali 08, 628 atau +628)",
    ]


# Area rows


def test_area_officer_not_in_file(tmp_path: Path) -> None:
    areas = changed(AREAS, 4, "P9,S3,RT 001 Alah Air,14.10.01.2006,120")
    assert problems(tmp_path, OFFICERS, areas) == [
        'areas.csv baris 4, kolom officer_id: "P9" tidak ada di daftar petugas'
    ]


def test_area_officer_not_a_ppl(tmp_path: Path) -> None:
    areas = changed(AREAS, 4, "M1,S3,RT 001 Alah Air,14.10.01.2006,120")
    assert problems(tmp_path, OFFICERS, areas) == [
        'areas.csv baris 4, kolom officer_id: "M1" adalah PML; SLS hanya untuk PPL'
    ]


def test_area_of_an_invalid_officer_row_is_not_reported_again(tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPLX,M1,,14.10.01,14.10.01.2006")
    assert problems(tmp_path, officers, AREAS) == [
        'officers.csv baris 6, kolom role: peran "PPLX" tidak dikenal (PPL, PML, KOSEKA, ADMIN)'
    ]


def test_duplicate_sls_code(tmp_path: Path) -> None:
    areas = changed(AREAS, 4, "P2,S1,RT 001 Alah Air,14.10.01.2006,120")
    assert problems(tmp_path, OFFICERS, areas) == [
        'areas.csv baris 4, kolom sls_code: "S1" ganda (sudah ada di baris 2)'
    ]


def test_empty_sls_name(tmp_path: Path) -> None:
    areas = changed(AREAS, 3, "P1,S2, ,14.10.01.2005,80")
    assert problems(tmp_path, OFFICERS, areas) == ["areas.csv baris 3, kolom sls_name: wajib diisi"]


def test_area_unknown_desa(tmp_path: Path) -> None:
    areas = changed(AREAS, 3, "P1,S2,RT 002 Banglas,14.10.01.2999,80")
    assert problems(tmp_path, OFFICERS, areas) == [
        'areas.csv baris 3, kolom desa_code: desa "14.10.01.2999" tidak ada di daftar wilayah'
    ]


def test_area_desa_outside_officer_kecamatan(tmp_path: Path) -> None:
    areas = changed(AREAS, 3, "P1,S2,RT 002 Segomeng,14.10.02.2001,80")
    assert problems(tmp_path, OFFICERS, areas) == [
        'areas.csv baris 3, kolom desa_code: desa "14.10.02.2001" berada di kecamatan 14.10.02, '
        "bukan 14.10.01 (kecamatan petugas P1)"
    ]


def test_area_in_another_desa_of_the_same_kecamatan_is_fine(tmp_path: Path) -> None:
    areas = changed(AREAS, 5, "P1,S4,RT 001 Sesap,14.10.01.2008,60")
    assert problems(tmp_path, OFFICERS, areas) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", '"-5" tidak boleh negatif'),
        ("12.5", '"12.5" bukan bilangan bulat'),
        ("dua", '"dua" bukan bilangan bulat'),
        ("", "wajib diisi"),
    ],
)
def test_bad_target_households(tmp_path: Path, value: str, message: str) -> None:
    areas = changed(AREAS, 3, f"P1,S2,RT 002 Banglas,14.10.01.2005,{value}")
    assert problems(tmp_path, OFFICERS, areas) == [
        f"areas.csv baris 3, kolom target_households: {message}"
    ]


def test_zero_target_is_allowed(tmp_path: Path) -> None:
    areas = changed(AREAS, 3, "P1,S2,RT 002 Banglas,14.10.01.2005,0")
    assert problems(tmp_path, OFFICERS, areas) == []


# XLSX


def xlsx(
    path: Path, officers: Sequence[Sequence[object]], areas: Sequence[Sequence[object]] | None
) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Petugas"
    for row in [OFFICER_HEADER, *officers]:
        sheet.append(list(row))
    if areas is not None:
        area_sheet = book.create_sheet("Areas")
        for row in [AREA_HEADER, *areas]:
            area_sheet.append(list(row))
    book.save(path)
    return path


async def test_xlsx_with_both_sheets_and_numeric_cells(db: Database, tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "roster.xlsx",
        [
            ["A1", "Admin Kabupaten", "ADMIN", None, 81200000001, None, None],
            ["K1", "Kartini", "KOSEKA", None, 6281200000002, "14.10.01", None],
            [101.0, "Mahmud", "PML", "K1", None, "14.10.01", None],
            [None, None, None, None, None, None, None],
            [201, " Putri ", "PPL", 101, "0812 0000 0004", "14.10.01", "14.10.01.2005"],
        ],
        [[201, 1410012005001, "RT 001 Banglas", "14.10.01.2005", 100.0]],
    )
    result = await import_roster(db, path, None, now=NOW)
    assert result == ImportResult(officers_added=4, areas_added=1, areas_imported=True)
    rows = await officer_rows(db)
    assert rows["A1"]["phone"] == "6281200000001"
    assert rows["K1"]["phone"] == "6281200000002"
    assert rows["201"]["supervisor_id"] == "101"
    assert rows["201"]["name"] == "Putri"
    assert await area_rows(db) == {
        "1410012005001": ("RT 001 Banglas", "14.10.01.2005", "201", 100, 1)
    }


def test_xlsx_officers_sheet_found_by_name(tmp_path: Path) -> None:
    book = Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "Catatan"
    notes.append(["bukan data"])
    sheet = book.create_sheet("Officers")
    for line in OFFICERS:
        sheet.append(line.split(","))
    book.save(tmp_path / "roster.xlsx")
    parsed = read_roster(tmp_path / "roster.xlsx")
    officers, areas, issues = validate_roster(parsed, KECAMATAN_CODES, DESA_TO_KECAMATAN)
    assert issues == [] and areas == []
    assert parsed.areas is None
    assert [o.officer_id for o in officers] == ["A1", "K1", "M1", "P1", "P2"]


def test_xlsx_formula_without_cached_value(tmp_path: Path) -> None:
    path = xlsx(
        tmp_path / "roster.xlsx",
        [line.split(",") for line in OFFICERS[1:]],
        [["P1", "S1", "RT 001 Banglas", "14.10.01.2005", "=40+60"]],
    )
    parsed = read_roster(path)
    _, areas, issues = validate_roster(parsed, KECAMATAN_CODES, DESA_TO_KECAMATAN)
    assert areas == []
    assert [str(i) for i in issues] == [
        "roster.xlsx [Areas] baris 2, kolom target_households: sel E2 berisi rumus =40+60 tanpa "
        "nilai tersimpan; buka dan simpan ulang berkas di Excel, atau tempel sebagai nilai"
    ]


def test_xlsx_error_value(tmp_path: Path) -> None:
    officers = [line.split(",") for line in OFFICERS[1:]]
    officers[4][1] = "#REF!"
    parsed = read_roster(xlsx(tmp_path / "roster.xlsx", officers, None))
    _, _, issues = validate_roster(parsed, KECAMATAN_CODES, DESA_TO_KECAMATAN)
    assert [str(i) for i in issues] == [
        "roster.xlsx [Petugas] baris 6, kolom name: sel B6 berisi galat Excel #REF!"
    ]


def test_xlsx_with_separate_areas_file(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "roster.xlsx", [line.split(",") for line in OFFICERS[1:]], None)
    parsed = read_roster(path, write(tmp_path / "areas.csv", AREAS))
    assert [str(i) for i in parsed.issues] == [
        'areas.csv: data areas diambil dari sheet "areas" berkas .xlsx; '
        "jangan kirim berkas areas terpisah"
    ]


def test_broken_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"this is not a zip file")
    parsed = read_roster(path)
    assert parsed.officers is None
    assert len(parsed.issues) == 1
    assert str(parsed.issues[0]).startswith("roster.xlsx: berkas .xlsx tidak dapat dibuka")


# Import into the database


async def test_one_bad_row_imports_nothing(db: Database, tmp_path: Path) -> None:
    await import_roster(
        db, write(tmp_path / "o.csv", OFFICERS), write(tmp_path / "a.csv", AREAS), now=NOW
    )
    before_officers, before_areas = await officer_rows(db), await area_rows(db)
    officers = changed(OFFICERS, 5, "P1,Putri Baru,PPL,M1,,14.10.01,14.10.01.2005")
    officers = changed(officers, 7, "P3,Prabu,PPL,M1,,14.10.01,14.10.01.2008")
    officers = changed(officers, 8, "P4,Puspa,PPL,M1,123,14.10.01,14.10.01.2008")
    areas = changed(AREAS, 5, "P3,S4,RT 001 Sesap,14.10.01.2008,90")
    with pytest.raises(RosterError) as excinfo:
        await import_roster(
            db, write(tmp_path / "o2.csv", officers), write(tmp_path / "a2.csv", areas), now=LATER
        )
    assert [str(i) for i in excinfo.value.issues] == [
        'o2.csv baris 8, kolom phone: nomor HP "123" bukan nomor seluler Indonesia '
        "(harus diawali 08, 628 atau +628)"
    ]
    assert str(excinfo.value).startswith("Roster tidak diimpor, 1 masalah:\n- o2.csv baris 8")
    assert await officer_rows(db) == before_officers
    assert await area_rows(db) == before_areas
    assert not db.conn.in_transaction


async def test_first_import_with_errors_leaves_database_empty(db: Database, tmp_path: Path) -> None:
    officers = changed(OFFICERS, 6, "P2,Panji,PPL,M1,,14.10.01,14.10.99.2001")
    with pytest.raises(RosterError):
        await import_roster(db, write(tmp_path / "o.csv", officers), None, now=NOW)
    assert await officer_rows(db) == {}


async def test_reimport_keeps_links_and_deactivates_missing(db: Database, tmp_path: Path) -> None:
    await import_roster(
        db, write(tmp_path / "o.csv", OFFICERS), write(tmp_path / "a.csv", AREAS), now=NOW
    )
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE officers SET telegram_user_id = 555, telegram_chat_id = 556,"
            " linked_at = ? WHERE officer_id = 'P1'",
            (NOW.isoformat(),),
        )
    officers = changed(OFFICERS, 5, "P1,Putri Ayu,PPL,M1,0812-0000-0004,14.10.01,14.10.01.2008")
    officers = changed(officers, 6, None)  # P2 leaves
    officers = changed(officers, 6, "P3,Prabu,PPL,M1,,14.10.01,14.10.01.2006")
    areas = changed(AREAS, 4, "P3,S3,RT 001 Alah Air,14.10.01.2006,120")
    result = await import_roster(
        db, write(tmp_path / "o.csv", officers), write(tmp_path / "a.csv", areas), now=LATER
    )
    assert result == ImportResult(
        officers_added=1,
        officers_updated=1,
        officers_deactivated=1,
        areas_updated=1,
        areas_imported=True,
    )
    rows = await officer_rows(db)
    p1 = rows["P1"]
    assert (p1["name"], p1["desa_code"], p1["active"]) == ("Putri Ayu", "14.10.01.2008", 1)
    assert (p1["telegram_user_id"], p1["telegram_chat_id"], p1["linked_at"]) == (
        555,
        556,
        NOW.isoformat(),
    )
    assert (p1["created_at"], p1["updated_at"]) == (NOW.isoformat(), LATER.isoformat())
    assert (rows["P2"]["active"], rows["P2"]["updated_at"]) == (0, LATER.isoformat())
    assert rows["M1"]["updated_at"] == NOW.isoformat()  # unchanged row left as it was
    assert rows["P3"]["active"] == 1

    # The officer comes back: reactivated, counted as updated.
    result = await import_roster(db, write(tmp_path / "o.csv", OFFICERS), None, now=LATER)
    assert (result.officers_updated, result.officers_deactivated) == (2, 1)
    rows = await officer_rows(db)
    assert (rows["P2"]["active"], rows["P3"]["active"]) == (1, 0)
    assert rows["P1"]["telegram_user_id"] == 555


async def test_area_reassignment_and_deactivation(db: Database, tmp_path: Path) -> None:
    await import_roster(
        db, write(tmp_path / "o.csv", OFFICERS), write(tmp_path / "a.csv", AREAS), now=NOW
    )
    areas = changed(AREAS, 3, "P2,S2,RT 002 Banglas,14.10.01.2005,85")  # S2 moves to P2
    areas = changed(areas, 2, None)  # S1 dropped
    result = await import_roster(
        db, write(tmp_path / "o.csv", OFFICERS), write(tmp_path / "a.csv", areas), now=LATER
    )
    assert result == ImportResult(areas_updated=1, areas_deactivated=1, areas_imported=True)
    assert await area_rows(db) == {
        "S1": ("RT 001 Banglas", "14.10.01.2005", "P1", 100, 0),
        "S2": ("RT 002 Banglas", "14.10.01.2005", "P2", 85, 1),
        "S3": ("RT 001 Alah Air", "14.10.01.2006", "P2", 120, 1),
    }

    # Without an areas file the stored areas stay as they are.
    result = await import_roster(db, write(tmp_path / "o.csv", OFFICERS), None, now=LATER)
    assert result == ImportResult()
    assert (await area_rows(db))["S1"][-1] == 0
    assert (await area_rows(db))["S2"][-1] == 1

    # The dropped SLS comes back.
    result = await import_roster(
        db, write(tmp_path / "o.csv", OFFICERS), write(tmp_path / "a.csv", AREAS), now=LATER
    )
    assert (result.areas_added, result.areas_updated) == (0, 2)
    assert (await area_rows(db))["S1"] == ("RT 001 Banglas", "14.10.01.2005", "P1", 100, 1)


def test_issue_without_row_or_column() -> None:
    assert str(RosterIssue(file="a.csv", message="x")) == "a.csv: x"
    assert str(RosterIssue(file="a.csv", column="c", message="x")) == "a.csv, kolom c: x"
