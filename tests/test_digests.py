"""Digests of one evening against hand-computed numbers, from a real database.

The test roster (tests/support.py) plus two PPL in Mahmud's team, on Monday 17 Oct 2022:

| PPL   | team   | desa     | target | 15 Okt | 16 Okt | 17 Okt              |
| Putri | Mahmud | Banglas  | 180    | 10     | 12     | 8                   |
| Panji | Mahmud | Alah Air | 120    | 20     | -      | izin (sakit)        |
| Bima  | Mahmud | Alah Air | 100    | 10     | 10     | 10, a catch-up      |
| Zaki  | Mahmud | Banglas  | 100    | -      | -      | -                   |
| Prabu | Maryam | Sesap    | 90     | 3      | -      | -                   |
| Pandu | Melati | Teluk B. | 70     | -      | -      | -                   |

Pandu is the roster's one PPL in the second kecamatan, Merbau (KOSEKA Kurnia). Bima reports
the same numbers every day; Panji has blocked the bot.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.localapi import parse_html
from bot.present import export
from bot.present.charts import CumulativeChart, ProgressBars
from bot.present.digests import (
    AT_RISK_LIMIT,
    Digest,
    DigestBuilder,
    ReviewItem,
    build_digests,
    digest_for,
    load_data,
    period_of,
)
from bot.present.export import scope_workbook
from bot.present.review import review_pages
from bot.present.splitting import TELEGRAM_LIMIT
from bot.present.texts import Texts
from bot.rules.attendance import DayStatus
from bot.rules.figures import KABUPATEN, DigestFigures
from bot.rules.forms import load_form
from bot.rules.quality import Flag
from bot.settings import Settings
from db.connection import Database
from db.digest_queries import digest_shards
from db.digest_totals import read_totals, rebuild_totals
from db.models import Officer, Role
from db.problems import create_problem
from db.reports import save_report
from db.schedule import DayOff, mark_unreachable, set_day_off
from tests.support import ADMIN_TELEGRAM_ID, at, load_roster, make_settings

PNG = b"\x89PNG\r\n\x1a\n"
DAY = date(2022, 10, 17)
PERIOD = tuple(date(2022, 10, 15) + timedelta(days=k) for k in range(31))
SUNDAYS = [date(2022, 10, 16), date(2022, 10, 23), date(2022, 10, 30), date(2022, 11, 6),
           date(2022, 11, 13)]
FORM = load_form()
ID = Texts("id")


def okt(day: int) -> date:
    return date(2022, 10, day)


def is_png(data: bytes, at_least: int = 1) -> bool:
    return data.startswith(PNG) and len(data) >= at_least


async def add_ppl(conn, officer_id: str, name: str, pml: str, desa: str, sls: str,
                  target: int) -> None:
    stamp = at(15).isoformat()
    await conn.execute(
        "INSERT INTO officers (officer_id, name, role, supervisor_id, kecamatan_code, desa_code,"
        " created_at, updated_at) VALUES (?, ?, 'PPL', ?, '14.10.01', ?, ?, ?)",
        (officer_id, name, pml, desa, stamp, stamp),
    )
    await conn.execute(
        "INSERT INTO areas (sls_code, sls_name, desa_code, officer_id, target_households)"
        " VALUES (?, ?, ?, ?, ?)",
        (sls, f"RT 009 {officer_id}", desa, officer_id, target),
    )


async def report(conn, officer_id: str, sls: str, day: int, households: int, *,
                 late: bool = False) -> int:
    saved = await save_report(
        conn, officer_id=officer_id, report_date=okt(day), sls_code=sls,
        values={"households": households, "families": households, "persons": 4 * households},
        progress_value=households, note=None, late=late, now=at(day + 1 if late else day),
    )
    return saved.report.id


@pytest.fixture
async def db(tmp_path: Path, database: Path | str) -> AsyncIterator[Database]:
    await load_roster(database, at(15), tmp_path)
    opened = Database(database)
    await opened.open()
    async with opened.transaction() as conn:
        await add_ppl(conn, "P5", "Bima PPL", "M1", "14.10.01.2006", "1410012006009", 100)
        await add_ppl(conn, "P6", "Zaki PPL", "M1", "14.10.01.2005", "1410012005009", 100)
        for day, households in [(15, 10), (16, 12), (17, 8)]:
            await report(conn, "P1", "1410012005001", day, households)
        await report(conn, "P2", "1410012006001", 15, 20)
        await set_day_off(conn, DayOff(officer_id="P2", day=okt(17), reason="sakit"), at(17, 7))
        await mark_unreachable(conn, "P2", at(16, 20))
        await report(conn, "P5", "1410012006009", 15, 10)
        await report(conn, "P5", "1410012006009", 16, 10)
        await report(conn, "P5", "1410012006009", 17, 10, late=True)
        await report(conn, "P3", "1410012008001", 15, 3)
        # Reported after the digest day: not in it.
        await report(conn, "P3", "1410012008001", 18, 40)
        # Everyone who gets digests has a chat.
        rows = await conn.execute_fetchall(
            "SELECT officer_id FROM officers WHERE role IN ('PML', 'KOSEKA') ORDER BY officer_id")
        await conn.executemany(
            "UPDATE officers SET telegram_user_id = ?, telegram_chat_id = ? WHERE officer_id = ?",
            [(601 + n, 601 + n, row[0]) for n, row in enumerate(rows)])
    try:
        yield opened
    finally:
        await opened.close()


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(tmp_path, **overrides)


async def digests(
    db: Database, settings: Settings, texts: Texts = ID, **kwargs: object
) -> dict[str, Digest]:
    built = await build_digests(db.conn, day=DAY, settings=settings, form=FORM, texts=texts,
                                **kwargs)
    return {d.recipient.officer_id: d for d in built}


def text(digest: Digest) -> str:
    return "\n".join(digest.chunks)


def lines(digest: Digest) -> list[str]:
    return text(digest).split("\n")


def assert_valid_chunks(digest: Digest) -> None:
    assert digest.chunks
    for chunk in digest.chunks:
        assert len(chunk) <= TELEGRAM_LIMIT
        parse_html(chunk)  # raises on anything Telegram would refuse


# ------------------------------------------------------------------------------ PML


async def test_pml_digest_lists_missing_first_with_each_status(
    db: Database, tmp_path: Path
) -> None:
    digest = (await digests(db, settings_for(tmp_path)))["M1"]
    assert digest.kind == "digest_pml"
    assert digest.charts == []
    assert_valid_chunks(digest)
    assert len(digest.chunks) == 1
    got = lines(digest)
    assert got[:2] == ["<b>Ringkasan harian tim Mahmud PML</b>", "Senin, 17 Okt 2022"]
    # What needs action comes right under the header: Zaki missed 15, 16 and 17 Okt (Panji's
    # izin breaks his run), Panji blocked the bot.
    assert got[2:6] == [
        "",
        "<b>Perlu tindakan</b>",
        "❌ Zaki PPL: 3 hari kerja tidak lapor",
        "⛔ Panji PPL: tidak terjangkau (bot diblokir)",
    ]
    ppl = got.index("<b>Per PPL</b> · ruta selesai/target")
    # Missing first, then the flagged (Bima's repeated numbers, Panji unreachable), then the
    # rest; no slow pace on the third day of the period.
    assert got[ppl + 1 : ppl + 6] == [
        "❌ Zaki PPL: 0/100 (0,0%)",
        "🕓 Bima PPL: 30/100 (30,0%), +10 hari ini",
        "🟡 Panji PPL: 20/120 (16,7%)",
        "✅ Putri PPL: 30/180 (16,7%), +8 hari ini",
        "",
    ]
    # 18 today; 80 of 500 households.
    assert "<b>Tim: 80/500 ruta (16,0%), +18 hari ini</b>" in got
    assert "❌ belum lapor 1 · 🕓 susulan 1 · 🟡 izin 1 · ✅ sudah lapor 1" in got
    assert "• Bima PPL: angka sama 3 hari berturut-turut" in got
    assert "laju lambat" not in text(digest)
    assert "Prabu" not in text(digest)  # another team
    # No open problems: no line and no section about them, not even a message.
    assert "Kendala" not in text(digest)


async def test_counts_per_day_are_whole_numbers(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await add_ppl(conn, "P7", "Gita PPL", "M2", "14.10.01.2008", "1410012008009", 45_760)
    # Tebing Tinggi: 46,267 households left over the 24 working days left (Sundays off):
    # 1,927.8 a day, rounded up.
    settings = settings_for(tmp_path, days_off=SUNDAYS)
    [admin] = await build_digests(db.conn, day=DAY, settings=settings, form=FORM, texts=ID,
                                  roles=[Role.ADMIN], with_charts=False)
    assert ("<b>Tebing Tinggi</b>: 83/46.350 (0,2%), seharusnya 3.565 (7,7%), kurang 3.482 ruta"
            in lines(admin))
    assert ("   ↳ perkiraan selesai Rabu, 16 Des 2026, perlu 1.928 ruta/hari – ⚠️ berisiko"
            in lines(admin))

    async with db.transaction() as conn:  # Zaki: 10, 10, 15 and 15, then 40 on the 22nd
        for day, households in [(18, 10), (19, 10), (20, 15), (21, 15), (22, 40)]:
            await report(conn, "P6", "1410012005009", day, households)
    [pml] = [d for d in await build_digests(
        db.conn, day=okt(22), settings=settings_for(tmp_path), form=FORM, texts=ID,
        roles=[Role.PML], with_charts=False) if d.recipient.officer_id == "M1"]
    # The usual day is the median of 10, 10, 15, 15: 12.5, written 13.
    assert "lonjakan (40 ruta hari ini, biasanya 13)" in text(pml)


async def test_pml_review_items_are_todays_unreviewed_reports(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE reports SET status = 'approved' WHERE officer_id = 'P1' AND report_date = ?",
            (DAY.isoformat(),),
        )
        bima = await conn.execute_fetchall(
            "SELECT id FROM reports WHERE officer_id = 'P5' AND report_date = ?", (DAY.isoformat(),)
        )
    digest = (await digests(db, settings_for(tmp_path)))["M1"]
    [item] = digest.review
    assert isinstance(item, ReviewItem)
    assert (item.report_id, item.revision, item.name, item.sls) == (
        bima[0][0], 1, "Bima PPL", "RT 009 P5")
    assert item.values["households"] == 10  # every field of the form, for the review message
    assert (await digests(db, settings_for(tmp_path)))["M2"].review == []


async def test_second_team_sees_only_itself(db: Database, tmp_path: Path) -> None:
    digest = (await digests(db, settings_for(tmp_path)))["M2"]
    body = text(digest)
    assert "❌ Prabu PPL: 3/90 (3,3%)" in lines(digest)
    for other in ("Putri", "Panji", "Bima", "Zaki"):
        assert other not in body
    # Missing on 16 and 17 Okt: the PML is told, the KOSEKA not yet.
    assert lines(digest)[3:5] == ["<b>Perlu tindakan</b>", "❌ Prabu PPL: 2 hari kerja tidak lapor"]
    # Only what there is: no counts of 0, no quality section, no unreachable line.
    assert "❌ belum lapor 1" in lines(digest)
    for empty in ("sudah lapor", "susulan", "izin", "kualitas", "terjangkau"):
        assert empty not in body


# ------------------------------------------------------------------------------ KOSEKA


async def test_koseka_digest_per_team_and_desa_with_charts(db: Database, tmp_path: Path) -> None:
    digest = (await digests(db, settings_for(tmp_path)))["K1"]
    assert digest.kind == "digest_koseka"
    assert_valid_chunks(digest)
    assert len(digest.chunks) == 1
    got = lines(digest)
    assert got[0] == "<b>Ringkasan harian Kecamatan Tebing Tinggi</b>"
    assert got[1] == "KOSEKA Kartini Koseka · Senin, 17 Okt 2022"
    # Escalated from 3 missing working days (threshold 2 + 1): Zaki, not Prabu (2 days).
    assert got[2:5] == ["", "<b>Perlu tindakan</b>",
                        "❌ Zaki PPL (tim Mahmud PML): 3 hari kerja tidak lapor"]
    # 590 * 3 / 31 = 57.1 -> 57 (9,7%) by a steady pace; 83 done, 26 more.
    total = got.index("<b>Total kecamatan: 83/590 (14,1%)</b>, seharusnya 57 (9,7%), "
                      "lebih cepat 26 ruta")
    assert got[total + 2] == "Hari ini: +18 ruta · ❌ belum lapor 2 PPL"
    # Worst first against the pace each needs: Maryam's team added nothing lately.
    teams = got.index("<b>Per tim PML</b>, paling lambat dulu · ruta")
    assert got[teams + 1 : teams + 3] == [
        "• Tim Maryam PML: 3/90 (3,3%), +0 hari ini, ❌ 1",
        "• Tim Mahmud PML: 80/500 (16,0%), +18 hari ini, ❌ 1",
    ]
    desa = got.index("<b>Per desa/kelurahan</b>, terendah dulu · ruta")
    assert got[desa + 1 :] == [
        "• Sesap: 3/90 (3,3%)",
        "• Banglas: 30/280 (10,7%)",
        "• Alah Air: 50/220 (22,7%)",
    ]
    assert "Kendala" not in text(digest)

    # The charts are described, and drawn only when sent.
    cumulative, teams = digest.charts
    assert cumulative.caption == "Kumulatif ruta Tebing Tinggi dan garis ideal"
    assert cumulative.spec == CumulativeChart(
        title=cumulative.caption, days=PERIOD, cumulative=(43, 65, 83),
        ideal=tuple(590 * k / 31 for k in range(1, 32)), deadline=date(2022, 11, 14),
    )
    assert teams.caption == "Progres per tim PML, Kecamatan Tebing Tinggi"
    assert teams.spec == ProgressBars(title=teams.caption, labels=("Maryam PML", "Mahmud PML"),
                                      percents=(100 * 3 / 90, 16.0))
    assert all(is_png(chart.spec.render(), 5_000) for chart in digest.charts)


# ------------------------------------------------------------------------------ admin


async def test_admin_forecast_with_days_off(db: Database, tmp_path: Path) -> None:
    # Sundays off: 26 working days, 2 of them (15 and 17 Okt) done by the 17th.
    settings = settings_for(tmp_path, days_off=SUNDAYS)
    digest = (await digests(db, settings))[f"admin-{ADMIN_TELEGRAM_ID}"]
    assert digest.kind == "digest_admin"
    assert digest.recipient.telegram_chat_id == ADMIN_TELEGRAM_ID
    assert_valid_chunks(digest)
    got = lines(digest)
    assert got[:2] == ["<b>Ringkasan harian Kabupaten Kepulauan Meranti</b>", "Senin, 17 Okt 2022"]
    # Tebing Tinggi per day: 43 on the 15th, 22 on the 16th (a Sunday), 18 on the 17th: 83 of
    # 590. Ideal: 590 * 2 / 26 = 45.4 -> 45 (7,7%), 38 ahead.
    # Pace over the working days 15 and 17 Okt: 61 / 2; 507 left -> ceil(507 * 2 / 61) = 17
    # working days after the 17th -> Sat 5 Nov. Needed: 507 / 24 working days left = 21.1 -> 22.
    # Merbau (Pandu alone) has nothing yet: ideal 70 * 2 / 26 = 5.4 -> 5; 70 / 24 = 2.9 -> 3.
    # Worst first against the pace needed: Merbau has no pace at all.
    kecamatan = got.index("<b>Per kecamatan</b>, paling lambat dulu")
    assert got[kecamatan + 1 : kecamatan + 5] == [
        "<b>Merbau</b>: 0/70 (0,0%), seharusnya 5 (7,7%), kurang 5 ruta",
        "   ↳ perkiraan selesai tidak terproyeksi, perlu 3 ruta/hari – ⚠️ berisiko",
        "<b>Tebing Tinggi</b>: 83/590 (14,1%), seharusnya 45 (7,7%), lebih cepat 38 ruta",
        "   ↳ perkiraan selesai Sabtu, 5 Nov 2022, perlu 22 ruta/hari",
    ]
    # The regency: 83 of 660, ideal 660 * 2 / 26 = 50.8 -> 51.
    total = next(i for i, line in enumerate(got) if line.startswith("<b>Total kabupaten"))
    assert got[total] == (
        "<b>Total kabupaten: 83/660 (12,6%)</b>, seharusnya 51 (7,7%), lebih cepat 32 ruta"
    )
    assert got[total + 2] == "Hari ini: +18 ruta · ❌ belum lapor 3 PPL"

    # Pandu and Zaki have no pace at all (the least done first, then by name); Prabu (3 in
    # the window, 87 left) needs 58 working days: the 24 left in the period, then 34
    # calendar days after 14 Nov -> Sun 18 Des.
    # Per day, rounded up: Zaki 100 / 24 = 4.2 -> 5, Prabu 87 / 24 = 3.6 -> 4.
    at_risk = got.index("<b>PPL berisiko tidak selesai tepat waktu: 3</b>")
    assert got[at_risk + 1 :] == [
        "• Pandu PPL (Merbau): 0,0%, tanpa kemajuan",
        "• Zaki PPL (Tebing Tinggi): 0,0%, tanpa kemajuan",
        "• Prabu PPL (Tebing Tinggi): 3,3%, selesai Min, 18 Des",
        "Per kecamatan: Tebing Tinggi 2, Merbau 1",
    ]  # and nothing about open problems: there are none
    assert len(digest.chunks) == 1
    cumulative, per_kecamatan = digest.charts
    assert cumulative.caption == "Kumulatif ruta Kabupaten Kepulauan Meranti dan garis ideal"
    assert cumulative.spec.cumulative == (43, 65, 83)
    # The ideal line stays flat on Sundays: 660 / 26 per working day.
    assert cumulative.spec.ideal[:3] == pytest.approx((660 / 26, 660 / 26, 2 * 660 / 26))
    assert per_kecamatan.caption == "Progres per kecamatan"
    assert per_kecamatan.spec == ProgressBars(title="Progres per kecamatan",
                                              labels=("Merbau", "Tebing Tinggi"),
                                              percents=(0.0, 100 * 83 / 590))
    assert all(is_png(chart.spec.render()) for chart in digest.charts)


async def test_admin_kecamatan_at_risk_when_pace_is_too_slow(db: Database, tmp_path: Path) -> None:
    # Seen from 24 Okt, with nothing reported since Prabu's 40 on the 18th: no pace left.
    built = await build_digests(db.conn, day=okt(24), settings=settings_for(tmp_path),
                                form=FORM, texts=ID, roles=[Role.ADMIN], with_charts=False)
    got = lines(built[0])
    kecamatan = got.index("<b>Per kecamatan</b>, paling lambat dulu")
    # 590 * 10 / 31 = 190.3 -> 190 (32,3%); 123 done, 67 behind; 467 over 21 days = 22.2 -> 23.
    # Merbau: 70 * 10 / 31 = 22.6 -> 23; 70 over 21 days = 3.3 -> 4. Neither has a pace left:
    # the least done first.
    assert got[kecamatan + 1 : kecamatan + 5] == [
        "<b>Merbau</b>: 0/70 (0,0%), seharusnya 23 (32,3%), kurang 23 ruta",
        "   ↳ perkiraan selesai tidak terproyeksi, perlu 4 ruta/hari – ⚠️ berisiko",
        "<b>Tebing Tinggi</b>: 123/590 (20,8%), seharusnya 190 (32,3%), kurang 67 ruta",
        "   ↳ perkiraan selesai tidak terproyeksi, perlu 23 ruta/hari – ⚠️ berisiko",
    ]
    assert built[0].charts == []


async def test_admins_linked_and_from_settings(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE officers SET telegram_user_id = 7001, telegram_chat_id = 7001"
            " WHERE officer_id = 'A1'"
        )
    # 7001 is linked to A1, so it is not added a second time as a synthetic admin.
    data = await load_data(db.conn, DAY,
                           settings_for(tmp_path, admin_telegram_ids=[ADMIN_TELEGRAM_ID, 7001]))
    assert [(a.officer_id, a.telegram_chat_id) for a in data.admins] == [
        ("A1", 7001), (f"admin-{ADMIN_TELEGRAM_ID}", ADMIN_TELEGRAM_ID)
    ]
    built = await digests(db, settings_for(tmp_path, admin_telegram_ids=[ADMIN_TELEGRAM_ID, 7001]),
                          roles=[Role.ADMIN], with_charts=False)
    assert sorted(built) == ["A1", f"admin-{ADMIN_TELEGRAM_ID}"]
    assert text(built["A1"]) == text(built[f"admin-{ADMIN_TELEGRAM_ID}"])


async def test_huge_admin_digest_is_split_into_valid_messages(db: Database, tmp_path: Path) -> None:
    stamp = at(15).isoformat()
    many = 400
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO officers (officer_id, name, role, supervisor_id, kecamatan_code,"
            " created_at, updated_at) VALUES (?, ?, 'PPL', 'M2', '14.10.01', ?, ?)",
            [(f"X{k:03}", f"<i>Petugas & Pendata Lapangan Nomor {k:03}</i> " + "panjang " * 8,
              stamp, stamp) for k in range(many)],
        )
        await conn.executemany(
            "INSERT INTO areas (sls_code, sls_name, desa_code, officer_id, target_households)"
            " VALUES (?, 'RT', '14.10.01.2008', ?, 500)",
            [(f"99{k:03}", f"X{k:03}") for k in range(many)],
        )
        # Each of them reports a field problem: the open problems go in the same messages.
        for k in range(many):
            await create_problem(conn, officer_id=f"X{k:03}", category="not_home",
                                 description="-", now=at(17, 9))
    digest = (await digests(db, settings_for(tmp_path), roles=[Role.ADMIN],
                            with_charts=False))[f"admin-{ADMIN_TELEGRAM_ID}"]
    assert len(digest.chunks) >= 2
    assert_valid_chunks(digest)
    body = text(digest)
    assert f"🔔 Kendala terbuka: {many}, rinciannya di bawah" in body
    assert f"<b>Kendala terbuka ({many})</b>" in body
    # And Pandu, Zaki and Prabu.
    assert f"<b>PPL berisiko tidak selesai tepat waktu: {many + 3}</b>" in body
    # The 10 most urgent by name (their names in the problems too), all counted per kecamatan.
    at_risk = body[body.index("PPL berisiko") : body.index("<b>Kendala terbuka (")]
    assert at_risk.count("&lt;i&gt;Petugas &amp; Pendata") == AT_RISK_LIMIT == 10
    assert f"Per kecamatan: Tebing Tinggi {many + 2}, Merbau 1" in at_risk


# ------------------------------------------------------------------------------ safety and scope


async def test_names_are_escaped_everywhere(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE officers SET name = '<b>Ani & Budi</b>' WHERE officer_id = 'P1'")
        await conn.execute("UPDATE officers SET name = 'Tim <Satu> & Dua' WHERE officer_id = 'M1'")
    built = await digests(db, settings_for(tmp_path))
    pml = built["M1"]
    assert "&lt;b&gt;Ani &amp; Budi&lt;/b&gt;" in text(pml)
    assert "<b>Ringkasan harian tim Tim &lt;Satu&gt; &amp; Dua</b>" in text(pml)
    plain, _ = parse_html(pml.chunks[0])
    assert "✅ <b>Ani & Budi</b>: 30/180 (16,7%), +8 hari ini" in plain  # shown as typed
    # The review message escapes the name too.
    [page] = review_pages(pml.review, Texts("id"), load_form())
    assert "&lt;b&gt;Ani &amp; Budi&lt;/b&gt; · " in page.text
    for digest in built.values():
        assert_valid_chunks(digest)
        assert "<b>Ani & Budi</b>" not in text(digest)
    assert "Tim Tim &lt;Satu&gt; &amp; Dua" in text(built["K1"])


async def test_what_is_read_is_the_state_at_the_end_of_the_day(
    db: Database, tmp_path: Path
) -> None:
    data = await load_data(db.conn, DAY, settings_for(tmp_path, admin_telegram_ids=[]))
    # Prabu's 40 of the 18th are taken back out of the totals.
    assert data.areas["1410012008001"].done == 3
    assert data.own["P3"].done == 3
    # Per SLS: households so far, on the pace window (15, 16, 17 Okt) and the last day that
    # added some.
    putri = data.areas["1410012005001"]
    assert (putri.done, putri.recent, putri.last_positive) == (30, (10, 12, 8), okt(17))
    # Bima's own reports: a catch-up on the 17th, the same 10 on each day of the run.
    bima = data.own["P5"]
    assert bima.late_before == 0
    assert {d: (r.reports, r.late_reports, r.households) for d, r in bima.days.items()} == {
        okt(17): (1, 1, 10), okt(16): (1, 0, 10), okt(15): (1, 0, 10)}
    # Only Bima may have a repeated run: nobody else's history is read.
    assert sorted(data.history) == ["P5"]
    assert [r.values for r in sorted(data.history["P5"])][0] == {
        "households": 10, "families": 10, "persons": 40}
    assert data.last_reported == {"P1": okt(17), "P2": okt(15), "P3": okt(15), "P5": okt(17)}
    assert data.izin == {"P2": {okt(17)}}
    assert data.kecamatan_daily == {"14.10.01": {okt(15): 43, okt(16): 22, okt(17): 18}}
    assert data.subtree("M1") == ["P1", "P2", "P5", "P6"]
    assert data.subtree("K1") == ["M1", "M2", "P1", "P2", "P5", "P6", "P3"]
    assert sum(a.target for a in data.areas_by_officer["P1"]) == 180
    assert data.desa_kecamatan["14.10.01.2008"] == "14.10.01"
    assert data.kecamatan_names["14.10.01"] == "Tebing Tinggi"
    assert data.desa_names["14.10.01.2005"] == "Banglas"
    assert data.officers["P2"].unreachable_at is not None
    assert data.admins == []
    synthetic = (await load_data(db.conn, DAY,
                                 settings_for(tmp_path, admin_telegram_ids=[5]))).admins
    assert synthetic == [Officer(officer_id="admin-5", name="Admin", role=Role.ADMIN,
                                 telegram_user_id=5, telegram_chat_id=5)]


def _everything(built: list[Digest]) -> list[tuple[object, ...]]:
    return sorted((d.recipient.officer_id, d.kind, d.chunks, d.charts, d.review) for d in built)


@pytest.mark.parametrize("moved", [False, True], ids=["by-kecamatan", "team-across-kecamatan"])
async def test_digests_built_a_few_kecamatan_at_a_time_are_the_same(
    db: Database, tmp_path: Path, moved: bool
) -> None:
    settings = settings_for(tmp_path)
    async with db.transaction() as conn:
        await create_problem(conn, officer_id="P4", category="access",
                             sls_code="1410051001001", description="Jalan putus", now=at(17, 9))
        # After the digest day, in Merbau as in Tebing Tinggi (P3): left out of each group's
        # totals by what that group reads of the days after.
        await report(conn, "P4", "1410051001001", 18, 9)
        if moved:  # Prabu lives in Merbau, his PML and KOSEKA in Tebing Tinggi
            await conn.execute(
                "UPDATE officers SET kecamatan_code = '14.10.05' WHERE officer_id = 'P3'")
    shards = await digest_shards(db.conn, 1)
    groups = [("14.10.01", "14.10.05")] if moved else [("14.10.01",), ("14.10.05",)]
    assert [s.kecamatan for s in shards if s is not None] == [*groups, ()]
    assert await digest_shards(db.conn, 100) == [None]
    # Every active officer is read in exactly one shard; the last one holds those with no
    # kecamatan (the admin).
    settings_all = settings_for(tmp_path, admin_telegram_ids=[])
    read = [set((await load_data(db.conn, DAY, settings_all, shard=s)).officers)
            for s in shards]
    everyone = set((await load_data(db.conn, DAY, settings_all)).officers)
    assert sum(map(len, read)) == len(everyone) and set().union(*read) == everyone
    assert read[-1] == {"A1"}
    whole = await build_digests(db.conn, day=DAY, settings=settings, form=FORM, texts=ID,
                                as_of=at(17, 21))
    pieces = await build_digests(db.conn, day=DAY, settings=settings, form=FORM, texts=ID,
                                 as_of=at(17, 21), shard_officers=1)
    assert _everything(pieces) == _everything(whole)
    assert sorted(d.recipient.officer_id for d in whole) == [
        "K1", "K2", "M1", "M2", "M3", f"admin-{ADMIN_TELEGRAM_ID}"]
    admin = next(d for d in pieces if d.kind == "digest_admin")
    assert "Pandu PPL · Akses/geografis/cuaca" in text(admin)
    assert "Total kabupaten: 83/660" in text(admin)
    for officer_id in ("M2", "K1"):  # on demand, from the shard of the officer's kecamatan
        officer = next(d.recipient for d in whole if d.recipient.officer_id == officer_id)
        alone = await digest_for(db.conn, officer, day=DAY, settings=settings, form=FORM,
                                 texts=ID, as_of=at(17, 21), shard_officers=1)
        assert alone is not None
        assert alone.chunks == next(d.chunks for d in whole if d.recipient == officer)


async def test_an_admin_digest_over_two_kabupaten_lists_them_under_their_province(
    db: Database, tmp_path: Path
) -> None:
    async with db.transaction() as conn:  # Pandu's SLS in Kota Pekanbaru, also in Riau
        await conn.execute("UPDATE areas SET desa_code = '14.71.01.1002'"
                           " WHERE sls_code = '1410051001001'")
    figures = await figures_of(db, settings_for(tmp_path))
    assert figures.level == (KABUPATEN, "14")
    regency = figures.regency("Provinsi Riau")
    assert (regency.level, regency.area) == (KABUPATEN, "14")
    assert [(o.name, o.done, o.target) for o in regency.parts] == [
        ("Kota Pekanbaru", 0, 70), ("Kabupaten Kepulauan Meranti", 83, 590)]
    # At risk counted where the PPL lives (Pandu in Merbau, Meranti), not where the SLS is.
    assert regency.at_risk_by_part == (("Kabupaten Kepulauan Meranti", 3),)
    admin = (await digests(db, settings_for(tmp_path)))[f"admin-{ADMIN_TELEGRAM_ID}"]
    got = lines(admin)
    assert got[0] == "<b>Ringkasan harian Provinsi Riau</b>"
    assert "<b>Total provinsi: 83/660 (12,6%)</b>" in got[got.index("") + 1]
    listed = got.index("<b>Per kabupaten/kota</b>, paling lambat dulu")
    assert got[listed + 1].startswith("<b>Kota Pekanbaru</b>: 0/70 (0,0%)")
    assert got[listed + 3].startswith("<b>Kabupaten Kepulauan Meranti</b>: 83/590")
    assert [chart.caption for chart in admin.charts] == [
        "Kumulatif ruta Provinsi Riau dan garis ideal", "Progres per kabupaten/kota"]


async def test_nothing_of_an_evening_is_kept_once_its_digests_are_built(
    db: Database, tmp_path: Path
) -> None:
    built = await digests(db, settings_for(tmp_path), with_charts=False)
    assert f"admin-{ADMIN_TELEGRAM_ID}" in built  # the admin digest was built too
    gc.collect()
    # A bot runs for a month: no builder (nor the evening it holds) outlives its run.
    assert not [o for o in gc.get_objects() if isinstance(o, DigestBuilder)]


async def test_inactive_officers_and_missing_chats_get_nothing(
    db: Database, tmp_path: Path
) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE officers SET telegram_chat_id = NULL WHERE officer_id = 'M2'")
        await conn.execute("UPDATE officers SET active = 0 WHERE officer_id = 'P6'")
    built = await digests(db, settings_for(tmp_path), with_charts=False)
    assert sorted(built) == ["K1", "K2", "M1", "M3", f"admin-{ADMIN_TELEGRAM_ID}"]
    assert "Zaki" not in text(built["M1"])
    only_pml = await digests(db, settings_for(tmp_path), roles=[Role.PML], with_charts=False)
    assert sorted(only_pml) == ["M1", "M3"]


async def test_digest_on_demand(db: Database, tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    data = await load_data(db.conn, DAY, settings)
    putri, mahmud = data.officers["P1"].officer(), data.officers["M1"].officer()
    assert await digest_for(db.conn, putri, day=DAY, settings=settings, form=FORM,
                            texts=ID) is None
    mine = await digest_for(db.conn, mahmud, day=DAY, settings=settings, form=FORM, texts=ID)
    assert mine is not None
    assert mine.chunks == (await digests(db, settings))["M1"].chunks
    # An admin from ADMIN_TELEGRAM_IDS, as the access gate builds them.
    admin = Officer(officer_id="admin-42", name="Budi", role=Role.ADMIN, telegram_user_id=42,
                    telegram_chat_id=42)
    regency = await digest_for(db.conn, admin, day=DAY, settings=settings, form=FORM, texts=ID,
                               with_charts=False)
    assert regency is not None and regency.kind == "digest_admin" and regency.charts == []
    assert "<b>Total kabupaten: 83/660 (12,6%)</b>" in text(regency)


async def test_english_digests(db: Database, tmp_path: Path) -> None:
    built = await digests(db, settings_for(tmp_path, language="en"), texts=Texts("en"),
                          with_charts=False)
    assert lines(built["M1"])[:2] == ["<b>Daily digest of team Mahmud PML</b>",
                                      "Monday, 17 Oct 2022"]
    assert "🟡 Panji PPL: 20/120 (16.7%)" in lines(built["M1"])
    assert "<b>Per PPL</b> · households done/target" in lines(built["M1"])
    assert "• Team Mahmud PML: 80/500 (16.0%), +18 today, ❌ 1" in lines(built["K1"])
    assert ("<b>Kecamatan total: 83/590 (14.1%)</b>, should be 57 (9.7%), 26 households faster"
            in lines(built["K1"]))
    for digest in built.values():
        assert_valid_chunks(digest)


# ------------------------------------------------------------------------------ export


async def test_scope_workbook_of_a_team(db: Database) -> None:
    data = await scope_workbook(db.conn, ["P1", "P2", "P5", "P6"], DAY, FORM)
    book = load_workbook(BytesIO(data), read_only=True)
    assert book.sheetnames == ["reports", "progress per officer", "per desa", "per kecamatan"]
    reports = list(book["reports"].values)
    assert reports[0][:8] == ("date", "officer_id", "officer_name", "pml_id", "koseka_id",
                              "kecamatan_code", "desa_code", "sls_code")
    assert {row[1] for row in reports[1:]} == {"P1", "P2", "P5"}
    assert len(reports) == 1 + 3 + 1 + 3
    per_officer = {row[0]: row[4:] for row in list(book["progress per officer"].values)[1:]}
    assert per_officer == {"P1": (30, 180, 16.7), "P2": (20, 120, 16.7), "P5": (30, 100, 30.0),
                           "P6": (0, 100, 0.0)}
    per_desa = {row[0]: row[3:] for row in list(book["per desa"].values)[1:]}
    assert per_desa == {"14.10.01.2005": (30, 280, 10.7), "14.10.01.2006": (50, 220, 22.7)}
    assert list(book["per kecamatan"].values)[1:] == [("14.10.01", "Tebing Tinggi", 80, 500, 16.0)]


async def test_scope_workbook_writes_formula_like_texts_as_text(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("UPDATE reports SET note = '=HYPERLINK(\"http://x\",\"klik\")'"
                           " WHERE officer_id = 'P1'")
        await conn.execute("UPDATE officers SET name = '+Bima PPL' WHERE officer_id = 'P5'")
        await conn.execute("UPDATE wilayah_desa SET name = '@Alah Air'"
                           " WHERE code = '14.10.01.2006'")
    data = await scope_workbook(db.conn, ["P1", "P5"], DAY, FORM)
    book = load_workbook(BytesIO(data))  # not read-only: the cell types and styles too
    sheets = {name: list(book[name].iter_rows()) for name in book.sheetnames}
    cells = [cell for rows in sheets.values() for row in rows for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = {cell.value: cell for cell in cells if isinstance(cell.value, str)}
    for text in ('=HYPERLINK("http://x","klik")', "+Bima PPL", "@Alah Air"):
        assert (texts[text].data_type, texts[text].quotePrefix) == ("s", True), text
    assert texts["Putri PPL"].quotePrefix is False
    per_officer = {row[0].value: row for row in sheets["progress per officer"][1:]}
    assert [(c.value, c.data_type) for c in per_officer["P5"][4:]] == [
        (30, "n"), (100, "n"), (30.0, "n")]  # numbers stay numbers


async def test_scope_workbook_is_built_off_the_event_loop(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_in: list[int] = []

    def recording(data: export.ScopeData) -> bytes:
        built_in.append(threading.get_ident())
        return build(data)

    build = export.build_scope_workbook
    monkeypatch.setattr(export, "build_scope_workbook", recording)
    data = await scope_workbook(db.conn, None, DAY, FORM)
    assert built_in and built_in[0] != threading.get_ident()  # not the event loop's thread
    book = load_workbook(BytesIO(data), read_only=True)
    assert len(list(book["reports"].values)) == 1 + 8  # everyone's, up to the day


# ------------------------------------------------------------------------------ read in seconds


def officer_lines(digest: Digest) -> list[str]:
    """The lines about one officer: the PML's PPL list and action lines, the admin's at-risk."""
    status = ("✅ ", "❌ ", "🕓 ", "🟡 ", "➖ ", "⛔ ")
    return [line for line in lines(digest)
            if line.startswith(status) or (line.startswith("• ") and "PPL (" in line)]


@pytest.mark.parametrize("day", [17, 19, 24])
async def test_a_line_about_one_officer_fits_a_phone_screen(
    db: Database, tmp_path: Path, day: int
) -> None:
    async with db.transaction() as conn:  # a usual full name, longer than the fixtures'
        await conn.execute("UPDATE officers SET name = 'Siti Nurhaliza' WHERE officer_id = 'P1'")
    built = {d.recipient.officer_id: d for d in await build_digests(
        db.conn, day=okt(day), settings=settings_for(tmp_path), form=FORM, texts=ID,
        with_charts=False)}
    found = officer_lines(built["M1"]) + officer_lines(built["M2"])
    found += officer_lines(built[f"admin-{ADMIN_TELEGRAM_ID}"])
    assert len(found) >= 8
    assert any("laju lambat" in line for line in found) == (day >= 19)
    too_long = [line for line in found if len(line) > 60]
    assert not too_long


async def test_slow_pace_is_said_only_from_five_working_days(db: Database, tmp_path: Path) -> None:
    # Zaki never reports. 15-18 Okt are 4 working days: no judgement of his pace yet; the
    # 19th is the fifth.
    async def zaki(day: date, **overrides: object) -> str:
        built = await build_digests(db.conn, day=day, settings=settings_for(tmp_path, **overrides),
                                    form=FORM, texts=ID, roles=[Role.PML], with_charts=False)
        [line] = [line for line in lines(built[0]) if line.startswith("❌ Zaki PPL: 0/100")]
        return line

    assert await zaki(okt(18)) == "❌ Zaki PPL: 0/100 (0,0%)"
    assert await zaki(okt(19)) == "❌ Zaki PPL: 0/100 (0,0%) · ⚠️ laju lambat"
    # With Sundays off, 16 Okt does not count: the fifth working day is the 20th.
    assert await zaki(okt(19), days_off=SUNDAYS) == "❌ Zaki PPL: 0/100 (0,0%)"
    assert await zaki(okt(20), days_off=SUNDAYS) == "❌ Zaki PPL: 0/100 (0,0%) · ⚠️ laju lambat"
    built = await build_digests(db.conn, day=okt(19), settings=settings_for(tmp_path),
                                form=FORM, texts=ID, roles=[Role.PML], with_charts=False)
    counts = next(line for line in lines(built[0]) if line.startswith("❌ belum lapor"))
    assert " · ⚠️ laju lambat " in counts


async def test_pml_digest_puts_missing_then_flagged_before_the_rest(
    db: Database, tmp_path: Path
) -> None:
    # Putri, reported and without a note, sorts after Bima (repeated numbers) and Panji
    # (unreachable) even with a name that comes first.
    async with db.transaction() as conn:
        await conn.execute("UPDATE officers SET name = 'Ani PPL' WHERE officer_id = 'P1'")
    got = lines((await digests(db, settings_for(tmp_path)))["M1"])
    names = [line.split(":")[0] for line in got if line.startswith(("✅ ", "❌ ", "🕓 ", "🟡 "))
             and "/" in line]
    assert names == ["❌ Zaki PPL", "🕓 Bima PPL", "🟡 Panji PPL", "✅ Ani PPL"]


async def test_admin_kecamatan_worst_first_against_the_pace_they_need(
    db: Database, tmp_path: Path
) -> None:
    # Rangsang Barat (before Tebing Tinggi by name) is well ahead: 60 of 100 at 20 a day;
    # Merbau has no pace at all.
    stamp = at(15).isoformat()
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO officers (officer_id, name, role, supervisor_id, kecamatan_code,"
            " created_at, updated_at) VALUES ('R1', 'Rudi PPL', 'PPL', 'M2', '14.10.02', ?, ?)",
            (stamp, stamp),
        )
        await conn.execute(
            "INSERT INTO areas (sls_code, sls_name, desa_code, officer_id, target_households)"
            " VALUES ('1410022001001', 'RT 001', '14.10.02.2001', 'R1', 100)"
        )
        for day in (15, 16, 17):
            await report(conn, "R1", "1410022001001", day, 20)
    built = await build_digests(db.conn, day=DAY, settings=settings_for(tmp_path), form=FORM,
                                texts=ID, roles=[Role.ADMIN])
    got = lines(built[0])
    kecamatan = got.index("<b>Per kecamatan</b>, paling lambat dulu")
    names = [line.split(":")[0] for line in got[kecamatan + 1 : kecamatan + 7 : 2]]
    assert names == ["<b>Merbau</b>", "<b>Tebing Tinggi</b>", "<b>Rangsang Barat</b>"]
    assert built[0].charts[1].spec.labels == ("Merbau", "Tebing Tinggi", "Rangsang Barat")


async def test_open_problems_share_the_digest_message(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await create_problem(conn, officer_id="P5", category="not_home", description="kosong",
                             now=at(17, 9))
    digest = (await digests(db, settings_for(tmp_path)))["M1"]
    assert len(digest.chunks) == 1
    got = lines(digest)
    # Counted with the other lines that need action, listed at the end of the same message.
    assert got[3:7] == [
        "<b>Perlu tindakan</b>",
        "❌ Zaki PPL: 3 hari kerja tidak lapor",
        "⛔ Panji PPL: tidak terjangkau (bot diblokir)",
        "🔔 Kendala terbuka: 1, rinciannya di bawah",
    ]
    assert got[-2] == "<b>Kendala terbuka (1)</b>"
    assert got[-1].startswith("• #1 ") and "Bima PPL" in got[-1]
    # Maryam's team has no problem and nothing to act on: no action block at all.
    other = lines((await digests(db, settings_for(tmp_path)))["M2"])
    assert "🚨" not in "\n".join(other) and "Kendala" not in "\n".join(other)


@pytest.mark.parametrize(("zone", "shown"), [
    ("Asia/Jakarta", "pukul 20.30 WIB"),
    ("Asia/Makassar", "pukul 21.30 WITA"),
    ("Asia/Jayapura", "pukul 22.30 WIT"),
])
async def test_digest_says_when_its_data_was_read_with_the_zone(
    db: Database, tmp_path: Path, zone: str, shown: str
) -> None:
    moment = at(17, 20, 30)  # 20.30 WIB
    settings = settings_for(tmp_path, timezone=zone)  # the admin's zone
    async with db.transaction() as conn:  # each officer reads their own zone's time
        await conn.execute("UPDATE officers SET timezone = ?", (zone,))
    built = {d.recipient.officer_id: d for d in await build_digests(
        db.conn, day=DAY, settings=settings, form=FORM, texts=ID, with_charts=False,
        as_of=moment)}
    assert lines(built["M1"])[1] == f"Senin, 17 Okt 2022 · data {shown}"
    assert lines(built["K1"])[1] == f"KOSEKA Kartini Koseka · Senin, 17 Okt 2022 · data {shown}"
    assert lines(built[f"admin-{ADMIN_TELEGRAM_ID}"])[1] == f"Senin, 17 Okt 2022 · data {shown}"
    # Built the next morning (a digest sent again): the day of the data is said too.
    later = await build_digests(db.conn, day=DAY, settings=settings, form=FORM, texts=ID,
                                roles=[Role.PML], with_charts=False, as_of=at(18, 7, 5))
    assert lines(later[0])[1].startswith("Senin, 17 Okt 2022 · data per Sel, 18 Okt pukul ")


# ------------------------------------------------------------------------------ figures


async def figures_of(db: Database, settings: Settings, day: date = DAY) -> DigestFigures:
    return DigestFigures(await load_data(db.conn, day, settings), period_of(settings))


async def test_figures_of_a_pml_team_without_any_text(db: Database, tmp_path: Path) -> None:
    figures = await figures_of(db, settings_for(tmp_path))
    team = figures.team(figures.source.officers["M1"].officer())
    members = {s.officer.officer_id: s for s in team.members}
    # Missing first, then the flagged (Bima's repeated numbers, Panji unreachable), the rest.
    assert list(members) == ["P6", "P5", "P2", "P1"]
    assert (team.total.today, team.total.done, team.total.target, team.total.missing) == (
        18, 80, 500, 1)
    assert team.counts == {"missing": 1, "late": 1, "izin": 1, "reported": 1, "slow": 0}
    zaki, bima, panji, putri = (members[i] for i in ("P6", "P5", "P2", "P1"))
    assert team.missing_runs == (zaki,) and team.unreachable == (panji,)
    assert (zaki.status, zaki.missing_run, zaki.done, zaki.target) == (
        DayStatus.MISSING, 3, 0, 100)
    # 28 working days are left after 17 Okt: 100 / 28 = 3.6 -> 4 a day, and no pace at all.
    assert (zaki.forecast.finish_date, zaki.forecast.needed_per_day, zaki.forecast.at_risk) == (
        None, 4, True)
    assert (panji.status, panji.missing_run) == (DayStatus.IZIN, 0)
    # Bima: the same numbers three days in a row, the last one a catch-up on the day itself.
    assert (bima.status, bima.today, bima.done) == (DayStatus.LATE, 10, 30)
    assert bima.flags == (Flag("repeated", {
        "values": {"households": 10, "families": 10, "persons": 40}, "days": 3}),)
    # Putri: 30 of 180 at 10 a day -> the 150 left take 15 working days: Tue 1 Nov.
    assert (putri.status, putri.today, putri.done, putri.flags) == (DayStatus.REPORTED, 8, 30, ())
    assert (putri.forecast.pace, putri.forecast.finish_date, putri.forecast.at_risk) == (
        10.0, okt(17) + timedelta(days=15), False)
    assert [(e.officer.officer_id, e.revision, e.values["households"]) for e in team.review] == [
        ("P5", 1, 10), ("P1", 1, 8)]
    assert team.problems == ()


async def test_figures_of_a_kecamatan_and_the_regency(db: Database, tmp_path: Path) -> None:
    figures = await figures_of(db, settings_for(tmp_path))
    kec = figures.kecamatan(figures.source.officers["K1"].officer())
    assert (kec.name, kec.total.done, kec.total.target, kec.total.today) == (
        "Tebing Tinggi", 83, 590, 18)
    assert [(e.ppl.officer.officer_id, e.team) for e in kec.escalated] == [("P6", "Mahmud PML")]
    assert [line.pml.officer_id for line in kec.teams] == ["M2", "M1"]
    assert [(d.name, d.done, d.target) for d in kec.desa] == [
        ("Sesap", 3, 90), ("Banglas", 30, 280), ("Alah Air", 50, 220)]
    assert kec.series is not None and kec.series.cumulative == (43, 65, 83)
    # With Sundays off, Zaki's run is 15 and 17 Okt: two days, the PML's alone.
    figures = await figures_of(db, settings_for(tmp_path, days_off=SUNDAYS))
    assert figures.kecamatan(figures.source.officers["K1"].officer()).escalated == ()
    regency = figures.regency("Kabupaten")
    # Sundays off: ideal 660 * 2 / 26 = 50.8; the pace of 15 and 17 Okt finishes on 5 Nov.
    assert (regency.outlook.done, regency.outlook.target, round(regency.outlook.ideal)) == (
        83, 660, 51)
    assert regency.outlook.gap == 32
    assert [o.name for o in regency.parts] == ["Merbau", "Tebing Tinggi"]
    assert regency.parts[1].forecast.finish_date == date(2022, 11, 5)
    assert [(a.ppl.officer.officer_id, a.kecamatan) for a in regency.at_risk] == [
        ("P4", "Merbau"), ("P6", "Tebing Tinggi"), ("P3", "Tebing Tinggi")]
    assert regency.at_risk_by_part == (("Tebing Tinggi", 2), ("Merbau", 1))
    assert (regency.today, regency.missing) == (18, 3)


async def test_totals_follow_every_change_of_the_reports(db: Database) -> None:
    async with db.transaction() as conn:
        # A correction of Putri's 16th, Bima's 15th moved to the 14th, Panji's report removed,
        # and a review (no change of any total).
        await save_report(
            conn, officer_id="P1", report_date=okt(16), sls_code="1410012005001",
            values={"households": 20, "families": 20, "persons": 80}, progress_value=20,
            note=None, late=True, now=at(17),
        )
        await conn.execute("UPDATE reports SET report_date = ? WHERE officer_id = 'P5'"
                           " AND report_date = ?", (okt(14).isoformat(), okt(15).isoformat()))
        await conn.execute("DELETE FROM report_revisions WHERE report_id IN"
                           " (SELECT id FROM reports WHERE officer_id = 'P2')")
        await conn.execute("DELETE FROM reports WHERE officer_id = 'P2'")
        await conn.execute("UPDATE reports SET status = 'approved' WHERE officer_id = 'P1'")
    kept = await read_totals(db.conn)
    async with db.transaction() as conn:
        await rebuild_totals(conn)
    assert await read_totals(db.conn) == kept
    assert ("P1", "2022-10-16", 1, 1, 20) in kept["officer_days"]
    assert ("P1", 3, 1, 38) in kept["officer_totals"]
    assert not [row for row in kept["officer_days"] if row[0] == "P2"]
    assert not [row for row in kept["area_totals"] if row[0] == "1410012006001"]
    assert ("14.10.01", "2022-10-14", 1, 10) in kept["kecamatan_days"]
