"""Who may do what: every command and every button kind for every kind of caller.

The table below is the product rule. Each cell runs the real bot against the local Bot API
with a fresh database: the caller performs one action, and the test checks that it was
allowed or refused, that the database changed only when it was allowed, and that nothing the
caller saw (messages, buttons, callback answers, XLSX cells) belongs to someone outside their
scope. The objects that buttons act on belong to the team of PML M1 (PPL P1 and P2), in the
kecamatan Tebing Tinggi of KOSEKA K1; the roster's second kecamatan, Merbau (KOSEKA K2, PML M3,
PPL P4), has a report and a problem of its own. Its KOSEKA has a table of its own below.

Group chats come last: the bot answers a command there with a hint to use a private chat and
ignores everything else.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.app import build_application
from bot.clock import ManualClock
from bot.commands import ALIASES
from bot.localapi import LocalBotApi, SentMessage, SimUser
from bot.settings import Settings
from db import problems as problems_repo
from db import reports as reports_repo
from tests.support import (
    ADMIN_TELEGRAM_ID,
    Harness,
    at,
    eventually,
    live,
    load_roster,
    make_settings,
)

TODAY = date(2022, 10, 17)  # the harness clock: Monday 17 Oct 2022, 18:00 WIB
USER_IDS = {"P1": 501, "P2": 502, "P3": 503, "P4": 504, "M1": 601, "M2": 602, "M3": 603,
            "K1": 701, "K2": 702}
UNREGISTERED_ID = 8001
SLS = {  # P1 has two SLS, P2 and P3 one each
    "P1": "1410012005001", "P1b": "1410012005002", "P2": "1410012006001", "P3": "1410012008001",
    "P4": "1410051001001",
}
P1_PROBLEM = "Tiga ruta di RT 001 Banglas kosong, pemilik ke kebun"
P3_PROBLEM = "Perahu ke Sesap tidak jalan karena angin kencang"
P4_PROBLEM = "Jalan ke Teluk Belitung tergenang setelah hujan"
ANNOUNCEMENT = "Rapat evaluasi tim besok pukul 08.00"

# What belongs to each team: names, officer ids, places, SLS codes, a problem's text.
TEAM_M1 = ("Putri PPL", "Panji PPL", "P1", "P2", "Banglas", "Alah Air", SLS["P1"], SLS["P1b"],
           SLS["P2"], P1_PROBLEM)
TEAM_M2 = ("Prabu PPL", "P3", "Sesap", SLS["P3"], P3_PROBLEM)
# Tebing Tinggi and Merbau, each with its KOSEKA, PML, names and places.
KECAMATAN_K1 = (*TEAM_M1, *TEAM_M2, "Mahmud PML", "Maryam PML", "Kartini Koseka",
                "Tebing Tinggi")
KECAMATAN_K2 = ("Pandu PPL", "P4", "Teluk Belitung", SLS["P4"], P4_PROBLEM, "Melati PML", "M3",
                "Kurnia Koseka", "Merbau")
EVERYONE = (*KECAMATAN_K1, *KECAMATAN_K2, "Admin Kabupaten")


# --- speed ---------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def no_ca_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each cell starts a fresh bot, whose polling HTTP client (httpx) loads the CA store
    named by `SSL_CERT_FILE`, or certifi's (about 25 ms, more than most cells take; unused, as
    the local Bot API is plain HTTP). httpx takes an empty `SSL_CERT_DIR` instead, for free."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SSL_CERT_FILE", raising=False)
        patch.setenv("SSL_CERT_DIR", str(tmp_path_factory.mktemp("no-ca-store")))
        yield


@pytest.fixture(scope="module")
def roster_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The test roster (tests/support.py), imported once; each cell starts from a copy."""
    folder = tmp_path_factory.mktemp("roster")
    path = folder / "regsosek.db"
    codes = asyncio.run(load_roster(path, at(17), folder))
    return path, codes


@pytest.fixture
async def harness(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, roster_db: tuple[Path, dict[str, str]]
) -> AsyncIterator[Harness]:
    """conftest's harness, on a copy of the imported roster, without the pacing of outgoing
    messages (a real deployment sends at most 30 a second; here that would be most of the
    run time)."""
    template, codes = roster_db
    settings = make_settings(tmp_path, api, messages_per_second=5000,
                             broadcast_rate_per_second=30)
    shutil.copyfile(template, settings.database_path)
    h = Harness(api, settings, clock, codes)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


# --- the callers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    label: str  # as shown in the test id
    officer_id: str | None  # None: a Telegram account that is not on the roster
    user_id: int
    never_sees: tuple[str, ...]  # names, places and texts outside this caller's scope


UNREG = Actor("unregistered", None, UNREGISTERED_ID, EVERYONE)
PPL = Actor("PPL", "P1", USER_IDS["P1"],
            ("Panji PPL", "P2", "Alah Air", SLS["P2"], *TEAM_M2, "Maryam PML", "M2",
             *KECAMATAN_K2))
PML = Actor("PML", "M1", USER_IDS["M1"], (*TEAM_M2, "Maryam PML", "M2", *KECAMATAN_K2))
KOSEKA = Actor("KOSEKA", "K1", USER_IDS["K1"], KECAMATAN_K2)  # all of Tebing Tinggi is theirs
ADMIN = Actor("admin", None, ADMIN_TELEGRAM_ID, ())
DEACTIVATED = Actor("deactivated", "P3", USER_IDS["P3"], EVERYONE)
OTHER_PML = Actor("PML-other-team", "M2", USER_IDS["M2"],
                  (*TEAM_M1, "Mahmud PML", "M1", *KECAMATAN_K2))
ACTORS = (UNREG, PPL, PML, KOSEKA, ADMIN, DEACTIVATED, OTHER_PML)
# The KOSEKA of Merbau: nothing of Tebing Tinggi is theirs (its own table, below).
OTHER_KOSEKA = Actor("KOSEKA-other-kecamatan", "K2", USER_IDS["K2"],
                     (*KECAMATAN_K1, "M1", "M2", "K1"))
# What the access gate answers them, whatever they send or press.
GATE_ANSWER = {UNREG.label: "belum terhubung", DEACTIVATED.label: "sudah tidak aktif"}


# --- what a caller saw ---------------------------------------------------------------------


def workbook_text(data: bytes) -> str:
    book = load_workbook(BytesIO(data), read_only=True)
    return "\n".join(
        str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
        for value in row if value is not None
    )


@dataclass
class Seen:
    """Everything the bot showed one caller during one action."""

    messages: list[SentMessage] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # callback query answers

    @property
    def parts(self) -> list[str]:
        out = list(self.answers)
        for m in self.messages:
            out.append(m.text or "")
            out += [b.text for b in m.buttons()] + [b.text for b in m.reply_keyboard_buttons()]
            if m.kind == "document" and (m.file_name or "").endswith(".xlsx"):
                assert m.file_bytes is not None
                out.append(workbook_text(m.file_bytes))
        return out

    @property
    def text(self) -> str:
        return "\n---\n".join(self.parts)


# --- the world of one cell -----------------------------------------------------------------


class World:
    """One fresh bot with the test roster, the objects of M1's team, and the caller."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness
        self.users: dict[str, SimUser] = {}
        self.home: dict[int, SentMessage] = {}  # a bot message in each chat, to press on
        self.ids: dict[str, int] = {}
        self.real: dict[str, SentMessage] = {}  # the genuine message a button came from
        self._queries: list[str] = []
        self._barriers = 0

    # setup

    async def officer(self, officer_id: str) -> SimUser:
        """The officer's account, registered with their code (once)."""
        if officer_id not in self.users:
            user = self.h.api.user(USER_IDS[officer_id], first_name=officer_id)
            await user.send(f"/start {self.h.codes[officer_id]}")
            self.home[user.user_id] = await user.wait_for(
                lambda m: "Selamat datang" in (m.text or ""))
            self.users[officer_id] = user
        return self.users[officer_id]

    async def enter(self, actor: Actor) -> SimUser:
        if actor.officer_id is not None:
            user = await self.officer(actor.officer_id)
        else:
            user = self.h.api.user(actor.user_id, first_name="Tamu")  # not on the roster
            await user.send("/start")
            self.home[user.user_id] = await user.next_message()
        if actor is DEACTIVATED:
            async with self.h.db.transaction() as conn:
                await conn.execute("UPDATE officers SET active = 0 WHERE officer_id = 'P3'")
        return user

    async def seed(self) -> None:
        """Today's reports of P1, P2, P3 and P4 and an open problem of P1, P3 and P4."""
        now = self.h.clock.now()
        async with self.h.db.transaction() as conn:
            for officer_id, households in (("P1", 12), ("P2", 7), ("P3", 9), ("P4", 5)):
                saved = await reports_repo.save_report(
                    conn, officer_id=officer_id, report_date=TODAY, sls_code=SLS[officer_id],
                    values={"households": households, "families": households,
                            "persons": 4 * households},
                    progress_value=households, note=None, late=False, now=now)
                self.ids[f"report_{officer_id}"] = saved.report.id
            for officer_id, category, text, revisit in (
                ("P1", "not_home", P1_PROBLEM, 3), ("P3", "access", P3_PROBLEM, None),
                ("P4", "access", P4_PROBLEM, None),
            ):
                problem = await problems_repo.create_problem(
                    conn, officer_id=officer_id, category=category, description=text, now=now,
                    sls_code=SLS[officer_id], revisit_households=revisit)
                self.ids[f"problem_{officer_id}"] = problem.id

    async def announce(self) -> None:
        """M1 announces to the team through /umumkan; P1 receives it with its read button.
        Done once M1's delivery report is final (a later edit would show in a cell of M1)."""
        putri, mahmud = await self.officer("P1"), await self.officer("M1")
        await mahmud.send("/umumkan")
        await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in (m.text or ""))
        await mahmud.send(ANNOUNCEMENT)
        preview = await mahmud.wait_for(lambda m: "Pratinjau pengumuman" in (m.text or ""))
        await mahmud.press(preview, "Kirim sekarang")
        report = await mahmud.wait_for(lambda m: "Status pengiriman pengumuman" in (m.text or ""))
        self.real["read"] = await putri.wait_for(lambda m: ANNOUNCEMENT in (m.text or ""))
        await eventually(lambda: "Selesai dikirim" in (live(self.h, report).text or ""))
        self.ids["recipient_P1"] = int(await self.h.scalar(
            "SELECT id FROM broadcast_recipients WHERE officer_id = 'P1'"))  # type: ignore[arg-type]

    # acting

    async def press(self, user: SimUser, data: str, real: str | None = None) -> None:
        """Press a button with `data`: on its genuine message when that is in the caller's
        chat, else on a message the caller has (what a forged callback looks like)."""
        message = self.real.get(real) if real else None
        if message is None or message.chat_id != user.chat_id:
            message = self.home[user.user_id]
        self._queries.append(await user.press_data(message, data))

    async def settle(self, user: SimUser) -> None:
        """Return once the bot has handled everything the caller sent so far.

        The updates of one chat are handled in order, so the answer to a callback query
        pressed now comes after every reply to what the caller sent before it."""
        self._barriers += 1
        query = await user.press_data(self.home[user.user_id], f"zz:barrier:{self._barriers}")
        await user.wait_answer(query)

    async def watch(self, user: SimUser, action: Run) -> Seen:
        """Run `action` as `user`; what the bot showed them meanwhile."""
        self._queries = []
        start = len(user.inbox)
        versions = {m.message_id: m.version for m in user.inbox}
        await action(self, user)
        await self.settle(user)
        inbox = user.inbox
        edited = [m for m in inbox[:start] if m.version != versions[m.message_id]]
        answers = []
        for query in self._queries:
            answer = self.h.api.callback_answers.get(query)
            assert answer is not None, f"button press {query} went unanswered"
            answers.append(answer.get("text") or "")
        return Seen(messages=edited + inbox[start:], answers=answers)

    async def saw(self, user: SimUser, text: str, since: int) -> bool:
        await self.settle(user)
        return any(text in (m.text or "") for m in user.inbox[since:])


FINGERPRINT = (
    "SELECT officer_id, sls_code, status, revision, progress_value FROM reports ORDER BY id",
    "SELECT report_id, reviewer_id, action FROM report_reviews ORDER BY id",
    "SELECT officer_id, day, reason FROM days_off ORDER BY officer_id",
    "SELECT id, status, revisit_households FROM problems ORDER BY id",
    "SELECT problem_id, status, actor_id FROM problem_events ORDER BY id",
    "SELECT problem_id, level, source FROM problem_escalations ORDER BY problem_id",
    "SELECT id, sender_id, audience FROM broadcasts ORDER BY id",
    "SELECT id, officer_id, read_at FROM broadcast_recipients ORDER BY id",
    "SELECT officer_id, telegram_user_id, active FROM officers ORDER BY officer_id",
)


async def fingerprint(h: Harness) -> dict[str, list[tuple]]:
    """The data an action may change; a refused action must leave all of it as it was."""
    out = {}
    for sql in FINGERPRINT:
        async with h.db.conn.execute(sql) as cur:
            out[sql.split(" FROM ")[1].split()[0]] = [tuple(r) for r in await cur.fetchall()]
    return out


# --- the actions ---------------------------------------------------------------------------

Run = Callable[[World, SimUser], Awaitable[None]]
Prepare = Callable[[World], Awaitable[None]]


def sending(text: str) -> Run:
    async def run(_w: World, user: SimUser) -> None:
        await user.send(text)

    return run


def pressing(target: Callable[[World], str], real: str | None = None) -> Run:
    async def run(w: World, user: SimUser) -> None:
        await w.press(user, target(w), real)

    return run


async def return_report(w: World, user: SimUser) -> None:
    """Kembalikan, then the reason when the bot asks for one."""
    since = len(user.inbox)
    await w.press(user, f"rv:back:{w.ids['report_P1']}")
    if await w.saw(user, "alasan pengembalian", since):
        await user.send("Jumlah jiwa perlu dicek lagi")


async def m1_opens_the_review(w: World) -> None:
    """M1's /progres: the review message of today's reports of P1 and P2."""
    mahmud = await w.officer("M1")
    await mahmud.send("/progres")
    w.real["review"] = await mahmud.wait_for(lambda m: "perlu ditinjau" in (m.text or ""))


async def m1_asks_to_approve_all(w: World) -> None:
    """M1 presses "Setujui semua" on the review message: the confirmation takes its place."""
    await m1_opens_the_review(w)
    review = w.real["review"]
    version = review.version
    await w.users["M1"].press(review, "✅ Setujui semua")
    await w.users["M1"].wait_edit(review, since_version=version)


async def p1_drafts_a_report(w: World) -> None:
    """P1 starts /lapor for their second SLS and stops at the summary (Kirim not pressed)."""
    putri = await w.officer("P1")
    await putri.send("/lapor 1 1 4")
    await putri.press(await putri.wait_for(lambda m: "Pilih SLS" in (m.text or "")),
                      "RT 002 Banglas")
    w.real["lapor"] = await putri.wait_for(lambda m: "Ringkasan laporan" in (m.text or ""))


async def p1_asks_for_a_day_off(w: World) -> None:
    """P1 starts /izin: the reasons are offered as buttons (izin:sakit, ...)."""
    putri = await w.officer("P1")
    await putri.send("/izin")
    w.real["izin"] = await putri.wait_for(lambda m: "Izin untuk" in (m.text or ""))


async def p1_gives_a_reason(w: World) -> None:
    """... and picks Sakit: saved at once, with Batalkan izin (izin:undo:<day>)."""
    await p1_asks_for_a_day_off(w)
    putri = w.users["P1"]
    await putri.press(w.real["izin"], "Sakit")
    w.real["izin_saved"] = await putri.wait_for(lambda m: "Izin tercatat" in (m.text or ""))


async def p1_starts_a_problem(w: World) -> None:
    putri = await w.officer("P1")
    await putri.send("/kendala")
    w.real["kendala"] = await putri.wait_for(lambda m: "Pilih kategori" in (m.text or ""))


async def m1_writes_an_announcement(w: World) -> None:
    await w.officer("P1")  # the one recipient on the bot; P2 is not registered
    mahmud = await w.officer("M1")
    await mahmud.send("/umumkan")
    await mahmud.wait_for(lambda m: "Tulis teks pengumuman" in (m.text or ""))
    await mahmud.send(ANNOUNCEMENT)
    w.real["umumkan"] = await mahmud.wait_for(
        lambda m: "Pratinjau pengumuman" in (m.text or ""))


def token_button(key: str, action: str) -> Callable[[World], str]:
    """The data of a button of someone's draft, e.g. lapor:<token>:send."""
    return lambda w: w.real[key].button(action).callback_data or ""


# --- expected effects of allowed actions ---------------------------------------------------

Effect = Callable[[World, Actor, dict, dict], Awaitable[None]]


def report_status(status: str) -> Effect:
    async def check(w: World, actor: Actor, before: dict, after: dict) -> None:
        reviewer = actor.officer_id or f"admin-{actor.user_id}"
        report = w.ids["report_P1"]
        assert [r for r in after["reports"] if r[0] == "P1" and r[1] == SLS["P1"]][0][2] == status
        assert after["report_reviews"] == [(report, reviewer, status)]
        assert_only_changed(before, after, "reports", "report_reviews")

    return check


def problem_status(status: str, *, escalated: bool = False) -> Effect:
    async def check(w: World, actor: Actor, before: dict, after: dict) -> None:
        problem = w.ids["problem_P1"]
        assert dict((p[0], p[1]) for p in after["problems"])[problem] == status
        actor_id = actor.officer_id or f"admin-{actor.user_id}"
        assert after["problem_events"][len(before["problem_events"]):] == [
            (problem, status, actor_id)]
        changed = ["problems", "problem_events"]
        if escalated:
            assert after["problem_escalations"] == [(problem, "koseka", actor_id)]
            changed.append("problem_escalations")
        assert_only_changed(before, after, *changed)

    return check


async def team_approved(w: World, _actor: Actor, before: dict, after: dict) -> None:
    """Both reports of M1's review message approved by M1, nothing else."""
    team = {w.ids["report_P1"], w.ids["report_P2"]}
    assert sorted(after["report_reviews"]) == sorted((i, "M1", "approved") for i in team)
    assert [r[2] for r in after["reports"] if r[0] in ("P1", "P2")] == ["approved"] * 2
    assert_only_changed(before, after, "reports", "report_reviews")


async def read_receipt(w: World, _actor: Actor, before: dict, after: dict) -> None:
    [row] = [r for r in after["broadcast_recipients"] if r[0] == w.ids["recipient_P1"]]
    assert row[2] is not None
    assert_only_changed(before, after, "broadcast_recipients")


async def report_saved(_w: World, _actor: Actor, before: dict, after: dict) -> None:
    assert after["reports"][len(before["reports"]):] == [("P1", SLS["P1b"], "submitted", 1, 1)]
    assert_only_changed(before, after, "reports")


async def day_off_saved(_w: World, _actor: Actor, before: dict, after: dict) -> None:
    assert after["days_off"] == [("P1", TODAY.isoformat(), "sakit")]
    assert_only_changed(before, after, "days_off")


async def day_off_undone(_w: World, _actor: Actor, before: dict, after: dict) -> None:
    assert before["days_off"] == [("P1", TODAY.isoformat(), "sakit")]
    assert after["days_off"] == []
    assert_only_changed(before, after, "days_off")


def assert_only_changed(before: dict, after: dict, *tables: str) -> None:
    for table in before:
        if table not in tables:
            assert after[table] == before[table], f"{table} changed"


# --- the table -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    run: Run
    refusal: str  # what a registered officer who may not do it is told
    shows: dict[str, tuple[str, ...]]  # per actor label: what an allowed caller must see
    hides: dict[str, tuple[str, ...]] = field(default_factory=dict)  # more it must not show
    prepare: tuple[Prepare, ...] = ()
    effect: Effect | None = None  # None: changes no data even when allowed
    data: tuple[str, ...] = ()  # for a button: sample callback data of its kind


NOT_YOURS = "tidak berwenang"
STALE = "sudah tidak berlaku"
PPL_MENU = ("/lapor –", "/izin –", "/kendala_saya –", "/progres –")
SUPERVISOR_MENU = ("/ringkasan –", "/ekspor –", "/kendala_tim –", "/umumkan –", "/pengumuman –")
NOT_FOR_SUPERVISORS = ("/lapor –", "/izin –")


def per_role(
    ppl=(), pml=(), koseka=(), admin=(), other=None, other_koseka=None
) -> dict[str, tuple[str, ...]]:
    """Expected texts by actor; the other team's PML sees the same kind of thing as M1's PML
    unless `other` says otherwise, the other kecamatan's KOSEKA the same as K1 unless
    `other_koseka` says otherwise."""
    return {PPL.label: ppl, PML.label: pml, KOSEKA.label: koseka, ADMIN.label: admin,
            OTHER_PML.label: pml if other is None else other,
            OTHER_KOSEKA.label: koseka if other_koseka is None else other_koseka}


def command(text: str, **spec) -> Action:
    return Action(sending(text), **spec)


def button(target: Callable[[World], str], real: str | None = None, **spec) -> Action:
    """A button whose callback data `target` names an object of this cell's world."""
    return Action(pressing(target, real), **spec)


START = dict(refusal="", shows=per_role(
    ("Selamat datang, Bapak/Ibu Putri PPL",), ("Selamat datang, Bapak/Ibu Mahmud PML",),
    ("Selamat datang, Bapak/Ibu Kartini Koseka",), ("Admin BPS Kabupaten",),
    ("Selamat datang, Bapak/Ibu Maryam PML",), ("Selamat datang, Bapak/Ibu Kurnia Koseka",)))
HELP = dict(refusal="", shows=per_role(PPL_MENU, *(SUPERVISOR_MENU,) * 3),
            hides=per_role(SUPERVISOR_MENU, *(NOT_FOR_SUPERVISORS,) * 3))
LAPOR = dict(refusal="Perintah /lapor hanya untuk PPL", shows={PPL.label: ("Pilih SLS",)})
IZIN = dict(refusal="Perintah /izin hanya untuk PPL", shows={PPL.label: ("Izin untuk",)})
PROGRES = dict(refusal="", shows=per_role(
    ppl=("Progres Putri PPL", "RT 001 Banglas", "RT 002 Banglas", "Total: 12/180"),
    pml=("Progres tim Mahmud PML", "Putri PPL: 12/180", "Panji PPL: 7/120", "Total: 19/300",
         "perlu ditinjau", "1. Putri PPL · RT 001 Banglas\n12 ruta, 12 keluarga, 48 jiwa",
         "2. Panji PPL", "✅ Setujui 2", "✅ Setujui semua"),
    other=("Progres tim Maryam PML", "Prabu PPL: 9/90", "Total: 9/90", "perlu ditinjau",
           "1. Prabu PPL", "✅ Setujui 1"),
    koseka=("Progres kecamatan Tebing Tinggi", "Mahmud PML: 19/300", "Maryam PML: 9/90",
            "Total: 28/390"),
    other_koseka=("Progres kecamatan Merbau", "Melati PML: 5/70", "Total: 5/70"),
    admin=("Progres Kabupaten Kepulauan Meranti", "Tebing Tinggi: 28/390", "Merbau: 5/70"),
))
BATAL = dict(refusal="", shows=per_role(*(("Tidak ada proses",),) * 4))
# The admin of ADMIN_TELEGRAM_IDS is not on the roster, so cannot report a problem.
KENDALA = dict(refusal="hanya untuk petugas yang ada di daftar petugas",
               shows=per_role(*(("Pilih kategori",),) * 3))
KENDALA_SAYA = dict(refusal="", shows=per_role(
    ppl=("Kendala Bapak/Ibu", "Responden tidak di rumah", "Sudah dikunjungi #1"),
    pml=("belum pernah melaporkan kendala",), koseka=("belum pernah melaporkan kendala",),
    admin=("belum pernah melaporkan kendala",)))
KENDALA_TIM = dict(
    refusal="Perintah /kendala_tim hanya untuk PML, KOSEKA dan admin",
    shows=per_role(
        pml=("Kendala terbuka: 1", "Kendala #1", "Pelapor: Putri PPL", "Teruskan ke KOSEKA"),
        other=("Kendala terbuka: 1", "Kendala #2", "Pelapor: Prabu PPL"),
        koseka=("Kendala terbuka: 2", "Pelapor: Putri PPL", "Pelapor: Prabu PPL"),
        other_koseka=("Kendala terbuka: 1", "Kendala #3", "Pelapor: Pandu PPL"),
        admin=("Kendala terbuka: 3", "Pelapor: Putri PPL", "Pelapor: Prabu PPL",
               "Pelapor: Pandu PPL"),
    ),
)
RINGKASAN = dict(refusal="Ringkasan harian hanya untuk PML, KOSEKA dan admin", shows=per_role(
    pml=("Ringkasan harian tim Mahmud PML", "Putri PPL: 12/180 (6,7%), +12 hari ini",
         "Panji PPL: 7/120 (5,8%), +7 hari ini", "Tim: 19/300 ruta"),
    other=("Ringkasan harian tim Maryam PML", "Prabu PPL: 9/90 (10,0%), +9 hari ini",
           "Tim: 9/90 ruta"),
    koseka=("Ringkasan harian Kecamatan Tebing Tinggi", "Tim Mahmud PML", "Tim Maryam PML"),
    other_koseka=("Ringkasan harian Kecamatan Merbau", "Tim Melati PML"),
    admin=("Ringkasan harian Kabupaten", "Total kabupaten: 33/460", "Tebing Tinggi", "Merbau"),
))
# In the workbook text every cell is a line: the per-kecamatan sheet ends with the totals.
EKSPOR = dict(refusal="Ekspor data hanya untuk PML, KOSEKA dan admin", shows=per_role(
    pml=("Data laporan tim Mahmud PML", "Putri PPL", "Panji PPL", "Tebing Tinggi\n19\n300"),
    other=("Data laporan tim Maryam PML", "Prabu PPL", "Tebing Tinggi\n9\n90"),
    koseka=("Putri PPL", "Panji PPL", "Prabu PPL", "Tebing Tinggi\n28\n390"),
    other_koseka=("Pandu PPL", "Merbau\n5\n70"),
    admin=("Putri PPL", "Panji PPL", "Prabu PPL", "Pandu PPL", "Tebing Tinggi\n28\n390",
           "Merbau\n5\n70"),
))
UMUMKAN = dict(refusal="pengumuman hanya dapat dikirim oleh PML, KOSEKA dan admin", shows=per_role(
    pml=("Pengumuman untuk: PPL tim Bapak/Ibu",),
    koseka=("Untuk siapa pengumuman ini?", "Seluruh kecamatan (PML dan PPL)", "Hanya PML"),
    admin=("Untuk siapa pengumuman ini?", "Semua petugas", "Satu kecamatan…"),
), hides={KOSEKA.label: ("Semua petugas", "Satu kecamatan"),
          OTHER_KOSEKA.label: ("Semua petugas", "Satu kecamatan")})
PENGUMUMAN = dict(
    refusal="pengumuman hanya dapat dikirim oleh PML, KOSEKA dan admin",
    shows=per_role(pml=("Pengumuman terakhir", ANNOUNCEMENT, "Belum membaca (1): Putri PPL"),
                   other=("Belum ada pengumuman",), koseka=("Belum ada pengumuman",),
                   admin=("Pengumuman terakhir", ANNOUNCEMENT, "dari Mahmud PML")),
    prepare=(World.announce,),
)


def review_by_supervisor(effect: Effect, *shown: str) -> dict:
    """Allowed to M1 (the reporter's PML), K1 (the KOSEKA above) and an admin."""
    return dict(refusal=NOT_YOURS, shows=per_role((), *(shown,) * 3), effect=effect)


ACTIONS: dict[str, Action] = {
    "/start": command("/start", **START),
    "/bantuan": command("/bantuan", **HELP),
    "/help": command("/help", **HELP),
    "/lapor": command("/lapor", **LAPOR),
    "/report": command("/report", **LAPOR),
    "/lapor 1 1 4": command("/lapor 1 1 4", refusal=LAPOR["refusal"], shows={
        PPL.label: ("Pilih SLS", "RT 001 Banglas (1410012005001)", "RT 002 Banglas")}),
    "/izin": command("/izin", **IZIN),
    "/dayoff": command("/dayoff", **IZIN),
    "/progres": command("/progres", **PROGRES),
    "/progress": command("/progress", **PROGRES),
    "/batal": command("/batal", **BATAL),
    "/cancel": command("/cancel", **BATAL),
    "/kendala": command("/kendala", **KENDALA),
    "/issue": command("/issue", **KENDALA),
    "/kendala_saya": command("/kendala_saya", **KENDALA_SAYA),
    "/my_issues": command("/my_issues", **KENDALA_SAYA),
    "/kendala_tim": command("/kendala_tim", **KENDALA_TIM),
    "/team_issues": command("/team_issues", **KENDALA_TIM),
    "/ringkasan": command("/ringkasan", **RINGKASAN),
    "/digest": command("/digest", **RINGKASAN),
    "/ekspor": command("/ekspor", **EKSPOR),
    "/export": command("/export", **EKSPOR),
    "/umumkan": command("/umumkan", **UMUMKAN),
    "/broadcast": command("/broadcast", **UMUMKAN),
    "/pengumuman": command("/pengumuman", **PENGUMUMAN),
    "/announcements": command("/announcements", **PENGUMUMAN),
    # Buttons on objects of M1's team: a report and a problem of P1, the announcement P1
    # received, the drafts of P1 and M1. A caller without the genuine message presses the
    # same data on a message of their own chat (a forged callback).
    "rv:ok": button(lambda w: f"rv:ok:{w.ids['report_P1']}", data=("rv:ok:1",),
                    **review_by_supervisor(report_status("approved"),
                                           "Laporan Putri PPL disetujui")),
    "rv:back": Action(return_report, data=("rv:back:1",), **review_by_supervisor(
        report_status("returned"), "alasan pengembalian laporan Putri PPL",
        # Putri's account is not linked in this world: the reviewer reads that she was not told.
        "Laporan Putri PPL dikembalikan", "Putri PPL belum diberi tahu")),
    # Setujui semua, then Ya or Batal, on M1's review message: the reports are those of the
    # message's rows, so a press anywhere else names none.
    "rv:all": button(lambda _w: "rv:all", "review", data=("rv:all",), refusal=STALE,
                     shows={PML.label: ("Setujui 2 laporan?", "✅ Ya, setujui 2 laporan")},
                     prepare=(m1_opens_the_review,)),
    "rv:yes": button(lambda _w: "rv:yes", "review", data=("rv:yes",), refusal=STALE,
                     shows={PML.label: ("2 laporan disetujui: Putri PPL · RT 001 Banglas",)},
                     prepare=(m1_asks_to_approve_all,), effect=team_approved),
    "rv:no": button(lambda _w: "rv:no", "review", data=("rv:no",), refusal=STALE,
                    shows={PML.label: ("✅ Setujui semua",)},
                    prepare=(m1_asks_to_approve_all,)),
    "kd:take": button(lambda w: f"kd:take:{w.ids['problem_P1']}", data=("kd:take:1",),
                      **review_by_supervisor(problem_status("in_progress"),
                                             "Kendala #1: Ditangani")),
    "kd:done": button(lambda w: f"kd:done:{w.ids['problem_P1']}", data=("kd:done:1",),
                      **review_by_supervisor(problem_status("resolved"), "Kendala #1: Selesai")),
    "kd:fwd": button(lambda w: f"kd:fwd:{w.ids['problem_P1']}", data=("kd:fwd:1",),
                     refusal=NOT_YOURS, effect=problem_status("escalated", escalated=True),
                     shows=per_role(pml=("Kendala #1: Diteruskan ke KOSEKA",))),
    "kd:visit": button(lambda w: f"kd:visit:{w.ids['problem_P1']}", data=("kd:visit:1",),
                       refusal=NOT_YOURS, shows={PPL.label: ("Kendala #1 selesai",)},
                       effect=problem_status("resolved")),
    "baca": button(lambda w: f"baca:{w.ids['recipient_P1']}", "read", data=("baca:1",),
                   refusal="untuk penerima pengumuman tersebut",
                   shows={PPL.label: ("sudah tercatat",)}, prepare=(World.announce,),
                   effect=read_receipt),
    "lapor:send": button(token_button("lapor", "Kirim"), "lapor", data=("lapor:0a1b:send",),
                         refusal=STALE, shows={PPL.label: ("Laporan tersimpan",)},
                         prepare=(p1_drafts_a_report,), effect=report_saved),
    "lapor:start": button(lambda _w: "lapor:start", data=("lapor:start",),
                          refusal=LAPOR["refusal"], shows={PPL.label: ("Pilih SLS",)}),
    "izin:sakit": button(lambda _w: "izin:sakit", "izin", data=("izin:sakit",), refusal=STALE,
                         shows={PPL.label: ("Izin tercatat: Sakit",)},
                         prepare=(p1_asks_for_a_day_off,), effect=day_off_saved),
    "izin:undo": button(lambda _w: f"izin:undo:{TODAY.isoformat()}", "izin_saved",
                        data=("izin:undo:2022-10-17", "izin:undo:x"), refusal=STALE,
                        shows={PPL.label: ("Izin Senin, 17 Okt 2022 dibatalkan",)},
                        prepare=(p1_gives_a_reason,), effect=day_off_undone),
    "kendala": button(token_button("kendala", "Responden tidak di rumah"), "kendala",
                      data=("kendala:0a1b:cat:not_home",), refusal=STALE,
                      shows={PPL.label: ("terkait SLS mana",)}, prepare=(p1_starts_a_problem,)),
    "umumkan": button(token_button("umumkan", "Jadwalkan"), "umumkan",
                      data=("umumkan:0a1b:later",), refusal=STALE,
                      shows={PML.label: ("Kapan dikirim",)},
                      prepare=(m1_writes_an_announcement,)),
}

# Who may do what: + allowed, - refused, . not asked. The English aliases run the very
# handlers of the Indonesian commands; three callers each show that they are wired alike.
# The admin here is an account of ADMIN_TELEGRAM_IDS, not on the roster: no /kendala.
# Only the PML may forward a problem to the KOSEKA (the KOSEKA and admins are above it).
RULES = """
action         unregistered PPL PML KOSEKA admin deactivated PML-other-team
/start              -        +   +    +      +       -            +
/bantuan            -        +   +    +      +       -            +
/help               .        +   .    .      +       .            +
/lapor              -        +   -    -      -       -            -
/report             .        +   .    .      -       .            -
/lapor 1 1 4        -        +   -    -      -       -            -
/izin               -        +   -    -      -       -            -
/dayoff             .        +   .    .      -       .            -
/progres            -        +   +    +      +       -            +
/progress           .        +   .    .      +       .            +
/batal              -        +   +    +      +       -            +
/cancel             .        +   .    .      +       .            +
/kendala            -        +   +    +      -       -            +
/issue              .        +   .    .      -       .            +
/kendala_saya       -        +   +    +      +       -            +
/my_issues          .        +   .    .      +       .            +
/kendala_tim        -        -   +    +      +       -            +
/team_issues        .        -   .    .      +       .            +
/ringkasan          -        -   +    +      +       -            +
/digest             .        -   .    .      +       .            +
/ekspor             -        -   +    +      +       -            +
/export             .        -   .    .      +       .            +
/umumkan            -        -   +    +      +       -            +
/broadcast          .        -   .    .      +       .            +
/pengumuman         -        -   +    +      +       -            +
/announcements      .        -   .    .      +       .            +
rv:ok               -        -   +    +      +       -            -
rv:back             -        -   +    +      +       -            -
rv:all              -        -   +    -      -       -            -
rv:yes              -        -   +    -      -       -            -
rv:no               -        -   +    -      -       -            -
kd:take             -        -   +    +      +       -            -
kd:done             -        -   +    +      +       -            -
kd:fwd              -        -   +    -      -       -            -
kd:visit            -        +   -    -      -       -            -
baca                -        +   -    -      -       -            -
lapor:send          -        +   -    -      -       -            -
lapor:start         -        +   -    -      -       -            -
izin:sakit          -        +   -    -      -       -            -
izin:undo           -        +   -    -      -       -            -
kendala             -        +   -    -      -       -            -
umumkan             -        -   +    -      -       -            -
"""

# The KOSEKA of Merbau, K2: what K1 may do, over Merbau only. The buttons act on objects of
# Tebing Tinggi, so each one is refused: a KOSEKA reviews the reports of their own PML's teams
# only, and changes the status of those teams' problems only.
RULES_OTHER_KECAMATAN = """
action         KOSEKA-other-kecamatan
/start                   +
/bantuan                 +
/lapor                   -
/lapor 1 1 4             -
/izin                    -
/progres                 +
/batal                   +
/kendala                 +
/kendala_saya            +
/kendala_tim             +
/ringkasan               +
/ekspor                  +
/umumkan                 +
/pengumuman              +
rv:ok                    -
rv:back                  -
rv:all                   -
rv:yes                   -
rv:no                    -
kd:take                  -
kd:done                  -
kd:fwd                   -
kd:visit                 -
baca                     -
lapor:send               -
lapor:start              -
izin:sakit               -
izin:undo                -
kendala                  -
umumkan                  -
"""


@dataclass(frozen=True)
class Case:
    actor: Actor
    name: str
    allowed: bool

    @property
    def action(self) -> Action:
        return ACTIONS[self.name]

    @property
    def id(self) -> str:
        return f"{self.actor.label}-{self.name}-{'allowed' if self.allowed else 'refused'}"

    @property
    def must_show(self) -> tuple[str, ...]:
        if self.actor.label in GATE_ANSWER:
            return (GATE_ANSWER[self.actor.label],)
        if self.allowed:
            return self.action.shows.get(self.actor.label, ())
        return (self.action.refusal,)

    @property
    def must_not_show(self) -> tuple[str, ...]:
        extra = self.action.hides.get(self.actor.label, ()) if self.allowed else ()
        return (*self.actor.never_sees, *extra)


def parse_rules(rules: str, actors: tuple[Actor, ...]) -> list[Case]:
    header, *rows = rules.strip().splitlines()
    assert header.split()[1:] == [a.label for a in actors]
    cases = []
    for row in rows:
        words = row.split()
        name, marks = " ".join(words[:-len(actors)]), words[-len(actors):]
        assert set(marks) <= {"+", "-", "."}, row
        cases += [Case(actor, name, mark == "+")
                  for actor, mark in zip(actors, marks, strict=True) if mark != "."]
    return cases


ALL_ACTORS = (*ACTORS, OTHER_KOSEKA)
CASES = parse_rules(RULES, ACTORS) + parse_rules(RULES_OTHER_KECAMATAN, (OTHER_KOSEKA,))


def wired(settings: Settings) -> tuple[set[str], list[str]]:
    """The commands and the callback data patterns the real application handles."""
    commands: set[str] = set()
    patterns: list[str] = []

    def visit(handler: BaseHandler) -> None:
        if isinstance(handler, ConversationHandler):
            for inner in (*handler.entry_points, *handler.fallbacks,
                          *(h for state in handler.states.values() for h in state)):
                visit(inner)
        elif isinstance(handler, CommandHandler):
            commands.update(handler.commands)
        elif isinstance(handler, CallbackQueryHandler) and handler.pattern is not None:
            patterns.append(getattr(handler.pattern, "pattern", str(handler.pattern)))

    for group in build_application(settings).handlers.values():
        for handler in group:
            visit(handler)
    return commands, patterns


def test_the_table_covers_every_command_and_button_kind(tmp_path: Path) -> None:
    commands, patterns = wired(make_settings(tmp_path))
    names = {case.name for case in CASES}
    assert names == set(ACTIONS)
    assert {n.split()[0].lstrip("/") for n in names if n.startswith("/")} == commands
    indonesian = {c for c in commands if c in ALIASES}  # the alias of "start" is itself
    for case_name in names:  # each Indonesian command and each button: all seven callers
        if case_name.startswith("/") and case_name.split()[0][1:] not in indonesian:
            continue
        assert {c.actor for c in CASES if c.name == case_name} == set(ALL_ACTORS), case_name
    samples = [d for action in ACTIONS.values() for d in action.data]
    for pattern in patterns:  # every kind of button the bot reacts to is in the table ...
        assert any(re.search(pattern, d) for d in samples), pattern
    for sample in samples:  # ... and every button in the table is one the bot reacts to
        assert any(re.search(pattern, sample) for pattern in patterns), sample
    for case in CASES:  # every cell asserts something
        assert case.must_show and all(case.must_show), case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_access(harness: Harness, case: Case) -> None:
    world = World(harness)
    await world.seed()
    for prepare in case.action.prepare:
        await prepare(world)
    user = await world.enter(case.actor)
    before = await fingerprint(harness)

    seen = await world.watch(user, case.action.run)

    text = seen.text
    for wanted in case.must_show:
        assert wanted in text, f"{case.id}: {wanted!r} not shown in:\n{text}"
    for unwanted in case.must_not_show:
        assert unwanted not in text, f"{case.id}: {unwanted!r} shown in:\n{text}"
    after = await fingerprint(harness)
    if case.allowed and case.action.effect is not None:
        await case.action.effect(world, case.actor, before, after)
    else:
        assert after == before
    if not case.allowed:  # the refusal, and nothing else
        said = [m.text or "" for m in seen.messages] + [a for a in seen.answers if a]
        assert said and all(case.must_show[0] in s for s in said), f"{case.id}: {said}"


# --- group chats ---------------------------------------------------------------------------

GROUP_HINT = "Mohon gunakan chat pribadi dengan bot"
GROUP_COMMANDS = [  # (who sends it, what): reports, data and a registration code
    ("P1", "/lapor 1 1 4"), ("P1", "/kendala"), ("M1", "/progres"), ("M1", "/ekspor"),
    ("M1", "/umumkan"), (None, "/start {code}"),
]


@pytest.mark.parametrize(("sender", "text"), GROUP_COMMANDS,
                         ids=[f"group-{text.split()[0]}" for _, text in GROUP_COMMANDS])
async def test_a_command_in_a_group_gets_only_the_private_chat_hint(
    harness: Harness, sender: str | None, text: str
) -> None:
    world = World(harness)
    await world.seed()
    if sender is None:  # someone not registered yet posts P2's code for all to see
        user = harness.api.user(UNREGISTERED_ID, first_name="Tamu")
        text = text.format(code=harness.codes["P2"])
    else:
        user = await world.officer(sender)
    group = harness.api.group(-100123, "Tim")
    private_before = len(user.inbox)
    before = await fingerprint(harness)

    first_id = await group.send(user, text)
    hint = await group.wait_for(lambda m: m.reply_to_message_id == first_id)
    # The group hint comes once per HINT_INTERVAL_MINUTES.
    harness.clock.advance(timedelta(minutes=harness.settings.hint_interval_minutes))
    # Updates are handled one at a time: once this one is answered, the first is done.
    last_id = await group.send(user, "/bantuan")
    second = await group.wait_for(lambda m: m.reply_to_message_id == last_id)

    assert hint.text == second.text == GROUP_HINT + " untuk melapor dan melihat data."
    assert hint.kind == "text" and not hint.buttons() and not hint.reply_keyboard_buttons()
    assert harness.api.messages_to(group.chat_id) == [hint, second]
    assert len(user.inbox) == private_before  # nothing went to the private chat either
    assert harness.api.calls("sendDocument") == []
    assert await fingerprint(harness) == before  # no report, no link, no draft sent


async def test_chatter_in_a_group_is_ignored_and_leaves_a_private_flow_alone(
    harness: Harness,
) -> None:
    putri = await World(harness).officer("P1")
    await putri.send("/lapor")
    await putri.press(await putri.wait_for(lambda m: "Pilih SLS" in (m.text or "")),
                      "RT 001 Banglas")
    await putri.wait_for(lambda m: "Berapa ruta" in (m.text or ""))
    group = harness.api.group(-100123, "Tim")
    private_before = len(putri.inbox)
    before = await fingerprint(harness)

    for text in ("17/10", "12", "Selamat pagi Bapak/Ibu, hari ini kita ke Banglas"):
        await group.send(putri, text)
    # The one answer in the group; updates are handled one at a time, so by then the three
    # above have been handled too.
    last_id = await group.send(putri, "/batal")
    hint = await group.wait_for(lambda m: m.reply_to_message_id == last_id)

    assert GROUP_HINT in (hint.text or "")
    assert harness.api.messages_to(group.chat_id) == [hint]  # no answer to plain text
    assert len(putri.inbox) == private_before
    assert await fingerprint(harness) == before
    # The report flow in the private chat still waits for its first number: neither the
    # number typed in the group nor the group's /batal reached it.
    await putri.send("12")
    await putri.wait_for(lambda m: "Berapa keluarga" in (m.text or ""))
