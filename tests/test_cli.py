"""The command line, run in-process: database, wilayah, roster, registration codes, exports."""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import socket
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.localapi import LocalBotApi
from bot.present import export
from db.connection import Database
from db.migrations import available_migrations
from db.reports import save_report
from tests.support import AREAS_CSV, OFFICERS_CSV, WIB, clear_settings_env

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "roster"
EXPORT_HEADER = (
    "date,officer_id,officer_name,pml_id,koseka_id,kecamatan_code,desa_code,sls_code,"
    "households,families,persons,note,status,late,created_at,updated_at"
)
CODE_HEADER = ["officer_id", "name", "role", "code", "link"]


@dataclass
class Cli:
    """Runs `main()` in tmp_path with a clean environment and returns (exit code, out, err)."""

    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    root: Path
    db_path: Path

    def __call__(self, *args: str | Path) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([str(a) for a in args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def rows(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, *params: object) -> object:
        return self.rows(sql, *params)[0][0]

    def execute(self, sql: str, *params: object) -> None:
        conn = sqlite3.connect(self.db_path)
        try:
            with conn:
                conn.execute(sql, params)
        finally:
            conn.close()

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text, encoding="utf-8")
        return path

    def import_examples(self) -> None:
        code, out, err = self(
            "roster", "import", EXAMPLES / "officers.csv", "--areas", EXAMPLES / "areas.csv"
        )
        assert code == 0, err


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    clear_settings_env(monkeypatch, tmp_path)
    db_path = tmp_path / "db" / "regsosek.db"
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    return Cli(monkeypatch, capsys, tmp_path, db_path)


# db migrate


def test_db_migrate_creates_the_default_database_and_is_idempotent(cli: Cli) -> None:
    cli.monkeypatch.delenv("DATABASE_PATH")  # the default: data/regsosek.db under cwd
    cli.db_path = cli.root / "data" / "regsosek.db"
    assert not cli.db_path.exists()
    expected = [(m.version, m.name) for m in available_migrations()]

    code, out, _ = cli("db", "migrate")
    assert code == 0
    assert cli.db_path.exists()
    assert f"schema version {expected[-1][0]}" in out
    applied = cli.rows("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    assert [(v, n) for v, n, _ in applied] == expected
    assert cli.scalar("PRAGMA journal_mode") == "wal"
    assert cli.scalar("SELECT COUNT(*) FROM wilayah_kecamatan") == 7285  # shipped list loaded

    code, out, _ = cli("db", "migrate")
    assert code == 0
    assert f"schema version {expected[-1][0]}" in out
    assert cli.rows(
        "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
    ) == applied
    assert cli.scalar("SELECT COUNT(*) FROM wilayah_kecamatan") == 7285


def test_a_database_where_sqlite_cannot_keep_a_wal_is_refused_in_one_line(cli: Cli) -> None:
    from tests.support import no_wal

    cli.monkeypatch.setattr("db.connection.open_sqlite", no_wal)  # the project's default opener
    cli.monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-TOKEN")
    cli.monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")  # never reached
    for args in (("db", "migrate"), ("run",)):
        code, out, err = cli(*args)
        assert code == 2, args
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "WAL" in lines[0] and str(cli.db_path) in lines[0], err
        assert "Traceback" not in err and out == ""


# wilayah import


def test_wilayah_import(cli: Cli) -> None:
    path = cli.write(
        "wilayah.csv",
        "kecamatan_code,kecamatan_name,desa_code,desa_name,kind\n"
        "14.10.99,Pulau Uji,14.10.99.2001,Tanjung Uji,desa\n"
        "14.10.99,Pulau Uji,14.10.99.1001,Uji Kota,kelurahan\n"
        "14.10.01,Tebing Tinggi,14.10.01.1001,Selatpanjang Kota Lama,kelurahan\n",
    )
    code, out, err = cli("wilayah", "import", path)
    assert (code, err) == (0, "")
    assert "2 kecamatan, 3 desa/kelurahan dimuat" in out
    assert cli.scalar("SELECT name FROM wilayah_kecamatan WHERE code = '14.10.99'") == "Pulau Uji"
    assert cli.rows(
        "SELECT code, name, kind FROM wilayah_desa WHERE kecamatan_code = '14.10.99' ORDER BY code"
    ) == [("14.10.99.1001", "Uji Kota", "kelurahan"), ("14.10.99.2001", "Tanjung Uji", "desa")]
    assert cli.scalar("SELECT name FROM wilayah_desa WHERE code = '14.10.01.1001'") == (
        "Selatpanjang Kota Lama"
    )
    assert cli.scalar("SELECT COUNT(*) FROM wilayah_kecamatan") == 7286
    assert cli.scalar("SELECT timezone FROM wilayah_kecamatan WHERE code = '14.10.99'") == (
        "Asia/Jakarta"  # no timezone column: the province's zone
    )


def test_wilayah_import_with_errors_changes_nothing(cli: Cli) -> None:
    path = cli.write(
        "wilayah.csv",
        "kecamatan_code,kecamatan_name,desa_code,desa_name,kind\n"
        "14.10.99,Pulau Uji,14.10.99.2001,Tanjung Uji,desa\n"
        "14.10.99,Pulau Uji,14.10.98.2002,Salah Kode,dusun\n",
    )
    code, out, err = cli("wilayah", "import", path)
    assert code == 1
    assert "baris 3" in err and "dusun" in err and "14.10.98.2002" in err
    assert "dimuat" not in out
    assert cli.scalar("SELECT COUNT(*) FROM wilayah_kecamatan WHERE code = '14.10.99'") == 0


# roster import


def test_roster_import_of_the_examples(cli: Cli) -> None:
    code, out, err = cli(
        "roster", "import", EXAMPLES / "officers.csv", "--areas", EXAMPLES / "areas.csv"
    )
    assert (code, err) == (0, "")
    assert out.strip() == (
        "Roster diimpor. Petugas: 9 baru, 0 diperbarui, 0 dinonaktifkan."
        " SLS: 13 baru, 0 diperbarui, 0 dinonaktifkan."
    )
    assert cli.scalar("SELECT COUNT(*) FROM officers WHERE active = 1") == 9
    assert cli.scalar("SELECT COUNT(*) FROM areas WHERE active = 1") == 13
    assert cli.rows(
        "SELECT name, role, supervisor_id, phone, desa_code FROM officers"
        " WHERE officer_id = 'PPL04'"
    ) == [("Rina Marlina", "PPL", "PML02", "6281270000304", "14.10.01.2005")]
    assert cli.rows(
        "SELECT sls_code, target_households FROM areas WHERE officer_id = 'PPL05' ORDER BY sls_code"
    ) == [("14.10.01.2006.0001", 55), ("14.10.01.2006.0002", 49), ("14.10.01.2016.0001", 52)]


def test_roster_import_with_errors_lists_each_and_changes_nothing(cli: Cli) -> None:
    cli.import_examples()
    snapshot = cli.rows("SELECT * FROM officers ORDER BY officer_id")
    areas_snapshot = cli.rows("SELECT * FROM areas ORDER BY sls_code")
    officers = (EXAMPLES / "officers.csv").read_text(encoding="utf-8").splitlines()
    # A valid change (row 2 renamed) next to the broken rows: it must not be applied either.
    officers[1] = officers[1].replace("Rahmat Hidayat", "Rahmat Diganti")
    officers[5] = officers[5].replace(",PPL,", ",TUKANG,")  # row 6: unknown role
    officers.append("PPL06,Baru Sekali,PPL,PML09,,14.10.01,14.10.01.1001")  # row 11
    bad_officers = cli.write("petugas_salah.csv", "\n".join(officers) + "\n")
    bad_areas = cli.write(
        "sls_salah.csv",
        (EXAMPLES / "areas.csv").read_text(encoding="utf-8")
        + "PPL02,14.10.01.1002.0009,RT 009 RW 001,14.10.01.1002,-5\n",  # row 15
    )

    code, out, err = cli("roster", "import", bad_officers, "--areas", bad_areas)
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert "3 kesalahan" in lines[0] and "tidak ada yang berubah" in lines[0]
    issues = [line.strip() for line in lines[1:]]
    assert len(issues) == 3
    assert issues[0].startswith("petugas_salah.csv baris 6, kolom role:")
    assert "TUKANG" in issues[0]
    assert issues[1].startswith("petugas_salah.csv baris 11, kolom supervisor_id:")
    assert "PML09" in issues[1]
    assert issues[2].startswith("sls_salah.csv baris 15, kolom target_households:")
    assert cli.rows("SELECT * FROM officers ORDER BY officer_id") == snapshot
    assert cli.rows("SELECT * FROM areas ORDER BY sls_code") == areas_snapshot
    assert cli.scalar("SELECT COUNT(*) FROM officers") == 9


@pytest.mark.parametrize(
    "args",
    [("roster", "import", "tidak_ada.csv"),
     ("roster", "import", "officers.csv", "--areas", "tidak_ada.csv"),
     ("wilayah", "import", "tidak_ada.csv")],
)
def test_a_missing_input_file_is_one_line(cli: Cli, args: tuple[str, ...]) -> None:
    cli.write("officers.csv", (EXAMPLES / "officers.csv").read_text(encoding="utf-8"))
    code, out, err = cli(*args)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "tidak_ada.csv" in lines[0], err
    assert "Traceback" not in err and out == ""
    assert cli.scalar("SELECT COUNT(*) FROM officers") == 0


def test_an_unwritable_export_path_is_one_line(cli: Cli) -> None:
    cli.write("berkas", "not a folder")
    code, out, err = cli("export", "--out", cli.root / "berkas" / "laporan.csv")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "berkas" in lines[0], err
    assert out == ""


def test_reimport_keeps_telegram_links(cli: Cli) -> None:
    cli.import_examples()
    cli.execute(
        "UPDATE officers SET telegram_user_id = 5001, telegram_chat_id = 5001,"
        " linked_at = '2022-10-16T08:00:00+07:00' WHERE officer_id = 'PPL01'"
    )
    officers = (EXAMPLES / "officers.csv").read_text(encoding="utf-8")
    renamed = cli.write("officers.csv", officers.replace("Andi Saputra", "Andi S. Saputra"))

    code, out, err = cli("roster", "import", renamed)
    assert (code, err) == (0, "")
    assert "0 baru, 1 diperbarui, 0 dinonaktifkan" in out
    assert "SLS tidak diubah" in out
    assert cli.rows(
        "SELECT name, telegram_user_id, telegram_chat_id, linked_at FROM officers"
        " WHERE officer_id = 'PPL01'"
    ) == [("Andi S. Saputra", 5001, 5001, "2022-10-16T08:00:00+07:00")]
    assert cli.scalar("SELECT COUNT(*) FROM areas WHERE active = 1") == 13


# roster codes


def parse_codes(out: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(out))
    assert next(reader) == CODE_HEADER
    return [dict(zip(CODE_HEADER, row, strict=True)) for row in reader]


def test_roster_codes_with_bot_username(cli: Cli) -> None:
    cli.import_examples()
    cli.execute("UPDATE officers SET telegram_user_id = 5001 WHERE officer_id = 'PPL01'")
    cli.execute("UPDATE officers SET active = 0 WHERE officer_id = 'PPL05'")
    cli.monkeypatch.setenv("BOT_USERNAME", "@meranti_lapor_bot")

    code, out, err = cli("roster", "codes")
    assert (code, err) == (0, "")
    rows = parse_codes(out)
    expected_ids = ["ADM01", "KSK01", "PML01", "PML02", "PPL02", "PPL03", "PPL04"]
    assert [r["officer_id"] for r in rows] == expected_ids
    assert rows[0]["name"] == "Rahmat Hidayat" and rows[0]["role"] == "ADMIN"
    assert rows[-1]["role"] == "PPL"
    for row in rows:
        assert row["link"] == f"https://t.me/meranti_lapor_bot?start={row['code']}"
    stored = dict(cli.rows("SELECT code, officer_id FROM registration_codes WHERE used_at IS NULL"))
    assert {r["code"]: r["officer_id"] for r in rows} == stored
    assert len(stored) == len(expected_ids)

    code, again, _ = cli("roster", "codes")
    assert code == 0
    assert again == out  # the same codes, not new ones
    assert cli.scalar("SELECT COUNT(*) FROM registration_codes") == len(expected_ids)


async def test_roster_codes_asks_the_bot_api_for_the_username(cli: Cli) -> None:
    async with LocalBotApi(bot_username="meranti_getme_bot") as api:
        cli.monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api.token)
        cli.monkeypatch.setenv("TELEGRAM_API_BASE_URL", api.base_url)
        cli.monkeypatch.setenv("TELEGRAM_API_BASE_FILE_URL", api.base_file_url)
        cli.capsys.readouterr()
        assert await asyncio.to_thread(main, ["db", "migrate"]) == 0
        await asyncio.to_thread(cli.import_examples)
        code = await asyncio.to_thread(main, ["roster", "codes"])
        captured = cli.capsys.readouterr()
        assert (code, captured.err) == (0, "")
        assert api.calls("getMe"), "the username was not asked from the Bot API"
    rows = parse_codes(captured.out)
    assert len(rows) == 9
    for row in rows:
        assert row["link"] == f"https://t.me/meranti_getme_bot?start={row['code']}"
    assert api.token not in captured.out


def test_roster_codes_when_get_me_fails(cli: Cli) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "123456:NOT-A-REAL-TOKEN-for-this-test"
    cli.monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    cli.monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{port}/bot")
    code, out, err = cli("roster", "codes")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "BOT_USERNAME" in lines[0]
    assert token not in err + out


def test_roster_codes_without_username_or_token(cli: Cli) -> None:
    code, _, err = cli("roster", "codes")
    assert code == 2
    assert "TELEGRAM_BOT_TOKEN" in err


# roster unlink


def test_roster_unlink_removes_the_link_and_replaces_the_codes(cli: Cli) -> None:
    cli.import_examples()
    cli.monkeypatch.setenv("BOT_USERNAME", "meranti_lapor_bot")
    code, out, _ = cli("roster", "codes")
    old_code = next(r["code"] for r in parse_codes(out) if r["officer_id"] == "PPL02")
    cli.execute(
        "UPDATE officers SET telegram_user_id = 5002, telegram_chat_id = 5002,"
        " linked_at = '2022-10-16T08:00:00+07:00', unreachable_at = '2022-10-17T08:00:00+07:00'"
        " WHERE officer_id = 'PPL02'"
    )

    code, out, err = cli("roster", "unlink", "PPL02")
    assert code == 0
    [row] = parse_codes(out)
    assert (row["officer_id"], row["role"]) == ("PPL02", "PPL")
    assert row["code"] != old_code
    assert row["link"] == f"https://t.me/meranti_lapor_bot?start={row['code']}"
    assert err.strip() == (
        f"Akun Telegram 5002 dilepas dari PPL02 ({row['name']}). Kode pendaftaran baru dibuat;"
        " kode lama tidak berlaku lagi."
    )
    assert cli.rows(
        "SELECT telegram_user_id, telegram_chat_id, linked_at, unreachable_at FROM officers"
        " WHERE officer_id = 'PPL02'"
    ) == [(None, None, None, None)]
    assert cli.rows(
        "SELECT code FROM registration_codes WHERE officer_id = 'PPL02' AND used_at IS NULL"
    ) == [(row["code"],)]  # the code printed before no longer works
    code, out, _ = cli("roster", "codes")
    assert {r["officer_id"]: r["code"] for r in parse_codes(out)}["PPL02"] == row["code"]

    # Unlinking an officer without an account gives a new code too (a lost printed code).
    code, out, err = cli("roster", "unlink", "PPL02")
    assert code == 0 and parse_codes(out)[0]["code"] != row["code"]
    assert "belum terhubung ke akun Telegram" in err


def test_roster_unlink_of_an_unknown_or_inactive_officer(cli: Cli) -> None:
    cli.import_examples()
    cli.monkeypatch.setenv("BOT_USERNAME", "meranti_lapor_bot")
    snapshot = cli.rows("SELECT * FROM officers ORDER BY officer_id")
    code, out, err = cli("roster", "unlink", "PPL99")
    assert (code, out) == (1, "")
    assert "PPL99 tidak ada di roster" in err
    assert cli.rows("SELECT * FROM officers ORDER BY officer_id") == snapshot
    assert cli.scalar("SELECT COUNT(*) FROM registration_codes") == 0

    cli.execute(
        "UPDATE officers SET active = 0, telegram_user_id = 5005 WHERE officer_id = 'PPL05'"
    )
    code, out, err = cli("roster", "unlink", "PPL05")
    assert (code, out) == (0, "")
    assert "Akun Telegram 5005 dilepas" in err and "tidak ada kode baru" in err
    assert cli.scalar("SELECT telegram_user_id FROM officers WHERE officer_id = 'PPL05'") is None
    assert cli.scalar("SELECT COUNT(*) FROM registration_codes") == 0


# export

async def _insert_reports(db_path: Path) -> None:
    db = Database(db_path)
    await db.open()
    try:
        async with db.transaction() as conn:
            await save_report(
                conn, officer_id="P1", report_date=date(2022, 10, 17), sls_code="1410012005001",
                values={"households": 5, "families": 6, "persons": 20}, progress_value=5,
                note=None, late=False, now=datetime(2022, 10, 17, 18, 0, tzinfo=WIB),
            )
            await save_report(
                conn, officer_id="P1", report_date=date(2022, 10, 17), sls_code="1410012005001",
                values={"households": 7, "families": 8, "persons": 25}, progress_value=7,
                note="revisi, hujan", late=False, now=datetime(2022, 10, 17, 20, 0, tzinfo=WIB),
            )
            await save_report(
                conn, officer_id="P2", report_date=date(2022, 10, 18), sls_code="1410012006001",
                values={"households": 9, "families": 9, "persons": 30}, progress_value=9,
                note=None, late=True, now=datetime(2022, 10, 19, 9, 0, tzinfo=WIB),
            )
            await save_report(
                conn, officer_id="P4", report_date=date(2022, 10, 20), sls_code="1410051001001",
                values={"households": 11, "families": 12, "persons": 40}, progress_value=11,
                note=None, late=False, now=datetime(2022, 10, 20, 17, 0, tzinfo=WIB),
            )
    finally:
        await db.close()


@pytest.fixture
def reports(cli: Cli) -> Cli:
    officers = cli.write("officers.csv", OFFICERS_CSV)  # P4 is in the second kecamatan
    areas = cli.write("areas.csv", AREAS_CSV)
    code, _, err = cli("roster", "import", officers, "--areas", areas)
    assert code == 0, err
    asyncio.run(_insert_reports(cli.db_path))
    assert cli.scalar("SELECT COUNT(*) FROM reports") == 3
    assert cli.scalar("SELECT COUNT(*) FROM report_revisions") == 4
    return cli


def read_csv(path: Path) -> tuple[str, list[dict[str, str]]]:
    text = path.read_text(encoding="utf-8")
    header_line = text.splitlines()[0]
    return header_line, list(csv.DictReader(io.StringIO(text)))


def test_export_csv(reports: Cli) -> None:
    out_file = reports.root / "keluar" / "laporan.csv"
    code, out, err = reports("export", "--format", "csv", "--out", out_file)
    assert (code, err) == (0, "")
    assert "3 laporan diekspor" in out
    header, rows = read_csv(out_file)
    assert header == EXPORT_HEADER
    assert [(r["date"], r["officer_id"]) for r in rows] == [
        ("2022-10-17", "P1"), ("2022-10-18", "P2"), ("2022-10-20", "P4")
    ]
    putri = rows[0]  # replaced once: one row, the latest values
    assert {k: putri[k] for k in ("households", "families", "persons", "note")} == {
        "households": "7", "families": "8", "persons": "25", "note": "revisi, hujan"
    }
    assert putri["officer_name"] == "Putri PPL"
    assert (putri["pml_id"], putri["koseka_id"]) == ("M1", "K1")
    assert (putri["kecamatan_code"], putri["desa_code"], putri["sls_code"]) == (
        "14.10.01", "14.10.01.2005", "1410012005001"
    )
    assert (putri["status"], putri["late"]) == ("submitted", "0")
    assert putri["created_at"] == "2022-10-17T18:00:00+07:00"
    assert putri["updated_at"] == "2022-10-17T20:00:00+07:00"
    assert (rows[1]["late"], rows[1]["note"]) == ("1", "")
    assert (rows[2]["pml_id"], rows[2]["koseka_id"], rows[2]["kecamatan_code"]) == (
        "M3", "K2", "14.10.05"
    )


def test_export_filters(reports: Cli) -> None:
    out_file = reports.root / "periode.csv"
    code, out, _ = reports(
        "export", "--out", out_file, "--from", "2022-10-18", "--to", "2022-10-19"
    )
    assert code == 0 and "1 laporan diekspor" in out
    header, rows = read_csv(out_file)
    assert header == EXPORT_HEADER
    assert [(r["date"], r["officer_id"]) for r in rows] == [("2022-10-18", "P2")]

    code, _, _ = reports("export", "--out", out_file, "--from", "2022-10-18")
    assert [r["officer_id"] for r in read_csv(out_file)[1]] == ["P2", "P4"]
    code, _, _ = reports("export", "--out", out_file, "--to", "2022-10-17")
    assert [r["officer_id"] for r in read_csv(out_file)[1]] == ["P1"]

    code, out, _ = reports("export", "--out", out_file, "--kecamatan", "14.10.05")
    assert code == 0 and "1 laporan diekspor" in out
    assert [r["officer_id"] for r in read_csv(out_file)[1]] == ["P4"]

    code, out, _ = reports(
        "export", "--out", out_file, "--kecamatan", "14.10.01", "--from", "2022-10-21"
    )
    assert code == 0 and "0 laporan diekspor" in out
    header, rows = read_csv(out_file)
    assert (header, rows) == (EXPORT_HEADER, [])


def test_export_rejects_a_malformed_date(reports: Cli) -> None:
    with pytest.raises(SystemExit) as exit_info:
        reports("export", "--out", reports.root / "x.csv", "--from", "18/10/2022")
    assert exit_info.value.code == 2
    assert not (reports.root / "x.csv").exists()


def test_export_xlsx(reports: Cli) -> None:
    out_file = reports.root / "laporan.xlsx"
    code, out, err = reports("export", "--format", "xlsx", "--out", out_file)
    assert (code, err) == (0, "")
    assert "3 laporan diekspor" in out
    book = load_workbook(out_file, read_only=True)
    try:
        sheet = book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    assert ",".join(rows[0]) == EXPORT_HEADER
    assert len(rows) == 4
    putri = dict(zip(rows[0], rows[1], strict=True))
    assert (putri["date"], putri["officer_id"], putri["sls_code"]) == (
        "2022-10-17", "P1", "1410012005001"
    )
    assert (putri["households"], putri["families"], putri["persons"]) == (7, 8, 25)
    assert [r[1] for r in rows[1:]] == ["P1", "P2", "P4"]


def test_export_xlsx_beyond_one_sheet_writes_nothing_and_says_what_to_do(
    reports: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "XLSX_MAX_ROWS", 2)  # Excel's 1,048,575 reports, here 2
    out_file = reports.root / "laporan.xlsx"
    code, out, err = reports("export", "--format", "xlsx", "--out", out_file)
    assert code == 1 and out == ""
    assert "Lebih dari 2 laporan" in err and "--format csv" in err
    assert not out_file.exists()
    code, out, _ = reports("export", "--format", "csv", "--out", reports.root / "semua.csv")
    assert code == 0 and "3 laporan diekspor" in out  # CSV has no such limit


FORMULA_NOTE = '=HYPERLINK("http://x","klik")'


def _formula_texts(cli: Cli) -> None:
    """A note and names that a spreadsheet would run as formulas if written as they are."""
    cli.execute("UPDATE reports SET note = ? WHERE officer_id = 'P1'", FORMULA_NOTE)
    cli.execute("UPDATE officers SET name = '@SUM(1+1)' WHERE officer_id = 'P2'")
    cli.execute("UPDATE reports SET note = '-2+3' WHERE officer_id = 'P2'")
    cli.execute("UPDATE reports SET note = ? WHERE officer_id = 'P4'", "\t=1+1")


def test_export_csv_writes_formula_like_texts_as_text(reports: Cli) -> None:
    _formula_texts(reports)
    out_file = reports.root / "laporan.csv"
    code, _, err = reports("export", "--out", out_file)
    assert (code, err) == (0, "")
    _, rows = read_csv(out_file)
    assert rows[0]["note"] == "'" + FORMULA_NOTE
    assert (rows[1]["officer_name"], rows[1]["note"]) == ("'@SUM(1+1)", "'-2+3")
    assert rows[2]["note"] == "'\t=1+1"
    assert rows[0]["officer_name"] == "Putri PPL"  # other texts as they are
    assert (rows[0]["households"], rows[0]["late"]) == ("7", "0")  # numbers stay numbers


def test_export_xlsx_writes_formula_like_texts_as_text(reports: Cli) -> None:
    _formula_texts(reports)
    out_file = reports.root / "laporan.xlsx"
    code, _, err = reports("export", "--format", "xlsx", "--out", out_file)
    assert (code, err) == (0, "")
    book = load_workbook(out_file)  # not read-only: the cell types and styles are read too
    try:
        sheet = book.worksheets[0]
        names = [cell.value for cell in sheet[1]]
        rows = [dict(zip(names, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    finally:
        book.close()
    note = rows[0]["note"]
    assert (note.value, note.data_type, note.quotePrefix) == (FORMULA_NOTE, "s", True)
    name = rows[1]["officer_name"]
    assert (name.value, name.data_type, name.quotePrefix) == ("@SUM(1+1)", "s", True)
    assert (rows[1]["note"].value, rows[1]["note"].data_type) == ("-2+3", "s")
    assert (rows[2]["note"].value, rows[2]["note"].data_type) == ("\t=1+1", "s")
    assert all(cell.data_type != "f" for row in rows for cell in row.values())
    households = rows[0]["households"]
    assert (households.value, households.data_type) == (7, "n")  # numbers stay numbers
    assert rows[0]["officer_name"].quotePrefix is False


def test_export_before_any_report(cli: Cli) -> None:
    out_file = cli.root / "kosong.csv"
    code, out, _ = cli("export", "--out", out_file)
    assert code == 0 and "0 laporan diekspor" in out
    assert out_file.read_text(encoding="utf-8").splitlines() == [EXPORT_HEADER]


async def test_run_with_a_rejected_token_says_so_without_showing_it(tmp_path: Path) -> None:
    import sys

    from bot.localapi import LocalBotApi
    from tests.support import bot_env

    wrong = "654321:WRONG-TOKEN-abcdefghijklmnopqrstuvwxyz"
    async with LocalBotApi(token="123456:RIGHT-TOKEN") as api:
        env = bot_env(api, tmp_path / "bot.db")
        env["TELEGRAM_BOT_TOKEN"] = wrong
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
    assert process.returncode == 2
    output = (out + err).decode()
    assert "rejected TELEGRAM_BOT_TOKEN" in output
    assert "WRONG-TOKEN" not in output  # not in the last line, nor in the logged traceback


async def test_only_a_bot_alone_in_its_process_settles_its_memory(
    api: LocalBotApi, tmp_path: Path
) -> None:
    from bot.app import build_application, start_application, stop_application
    from tests.support import make_settings

    gc.unfreeze()
    for settle, frozen in ((False, False), (True, True)):  # `bot run` builds it settled
        app = build_application(make_settings(tmp_path, api), settle=settle)
        try:
            await start_application(app, poll_timeout=1)
            assert (gc.get_freeze_count() > 0) is frozen
        finally:
            await stop_application(app)
            gc.unfreeze()  # this process starts many bots
