"""Announcements without Telegram: audience rules, draft rules, and the outbox on a real DB."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import make_services
from bot.clock import ManualClock
from bot.messaging.delivery import DeliveryResult, DeliveryStatus, Outgoing
from bot.messaging.outbox import MAX_IN_FLIGHT, Outbox
from bot.messaging.services import Services
from bot.present import announcements as announcement_view
from bot.present.texts import Texts
from bot.rules import announcements as rules
from bot.rules import audience as aud
from bot.rules.report import Problem
from db import broadcasts as repo
from db import models, officers
from db.models import Officer, Role
from tests.support import at, eventually, load_roster, make_settings

KEC = "14.10.01"
OTHER_KEC = "14.10.02"


def officer(officer_id: str, role: Role, supervisor: str | None = None, *, kec: str | None = KEC,
            chat: int | None = None, active: bool = True) -> Officer:
    return Officer(officer_id=officer_id, name=f"Nama {officer_id}", role=role,
                   supervisor_id=supervisor, kecamatan_code=None if role == Role.ADMIN else kec,
                   telegram_user_id=chat, telegram_chat_id=chat, active=active)


# Two kecamatan: K1 (M1: P1, P2; M2: P3) and K2 (M3: P4). P2 is not linked, P5 is inactive.
ROSTER = [
    officer("A1", Role.ADMIN, chat=1),
    officer("A2", Role.ADMIN, chat=2),
    officer("K1", Role.KOSEKA, chat=10),
    officer("M1", Role.PML, "K1", chat=11),
    officer("M2", Role.PML, "K1", chat=12),
    officer("P1", Role.PPL, "M1", chat=21),
    officer("P2", Role.PPL, "M1"),
    officer("P3", Role.PPL, "M2", chat=23),
    officer("P5", Role.PPL, "M2", chat=25, active=False),
    officer("K2", Role.KOSEKA, kec=OTHER_KEC, chat=30),
    officer("M3", Role.PML, "K2", kec=OTHER_KEC, chat=31),
    officer("P4", Role.PPL, "M3", kec=OTHER_KEC, chat=41),
]
BY_ID = {o.officer_id: o for o in ROSTER}
CODES = {KEC, OTHER_KEC}


def ids(officers_: tuple[Officer, ...]) -> list[str]:
    return [o.officer_id for o in officers_]


def resolve(sender: str, audience: str) -> aud.Audience | None:
    return aud.resolve(BY_ID[sender], audience, ROSTER, CODES)


# --- who may send to whom ----------------------------------------------------------------


def test_admin_reaches_everyone_one_role_or_one_kecamatan() -> None:
    everyone = resolve("A1", "all")
    assert everyone is not None
    assert ids(everyone.recipients) == ["A2", "K1", "K2", "M1", "M2", "M3", "P1", "P3", "P4"]
    assert ids(everyone.unlinked) == ["P2"]  # counted as "belum terdaftar", never sent to

    ppl = resolve("A1", "role:PPL")
    assert ppl is not None and ids(ppl.recipients) == ["P1", "P3", "P4"]
    assert ids(ppl.unlinked) == ["P2"]
    koseka = resolve("A1", "role:KOSEKA")
    assert koseka is not None and ids(koseka.recipients) == ["K1", "K2"]

    kec = resolve("A1", f"kec:{KEC}")
    assert kec is not None
    assert ids(kec.recipients) == ["K1", "M1", "M2", "P1", "P3"]  # no admin, no other kecamatan
    other = resolve("A1", f"kec:{OTHER_KEC}")
    assert other is not None and ids(other.recipients) == ["K2", "M3", "P4"]

    assert resolve("A1", "kec:99.99.99") is None  # not in the wilayah table
    assert resolve("A1", "role:ADMIN") is None
    assert resolve("A1", "kec") is None  # the menu button, not an audience
    assert aud.choices_for(BY_ID["A1"]) == ["all", "role:PPL", "role:PML", "role:KOSEKA", "kec"]


def test_koseka_reaches_their_subtree_or_only_its_pml() -> None:
    whole = resolve("K1", "subtree")
    assert whole is not None
    assert ids(whole.recipients) == ["M1", "M2", "P1", "P3"]  # not K2's kecamatan, not P5
    assert ids(whole.unlinked) == ["P2"]
    pml = resolve("K1", "subtree_pml")
    assert pml is not None and ids(pml.recipients) == ["M1", "M2"] and pml.unlinked == ()
    for forbidden in ("all", "role:PPL", f"kec:{KEC}", "team"):
        assert resolve("K1", forbidden) is None, forbidden
    assert aud.choices_for(BY_ID["K1"]) == ["subtree", "subtree_pml"]


def test_pml_reaches_their_ppl_and_ppl_nobody() -> None:
    team = resolve("M2", "team")
    assert team is not None and ids(team.recipients) == ["P3"]  # P5 is inactive
    m1 = resolve("M1", "team")
    assert m1 is not None and ids(m1.recipients) == ["P1"] and ids(m1.unlinked) == ["P2"]
    for forbidden in ("all", "subtree", "subtree_pml", "role:PPL"):
        assert resolve("M1", forbidden) is None, forbidden

    ppl = BY_ID["P1"]
    assert not aud.may_broadcast(ppl) and aud.choices_for(ppl) == []
    for anything in ("all", "team", "subtree", f"kec:{KEC}"):
        assert resolve("P1", anything) is None


def test_a_supervision_cycle_in_a_bad_roster_does_not_hang() -> None:
    loop = [officer("X", Role.PML, "Y", chat=1), officer("Y", Role.PML, "X", chat=2)]
    assert ids(tuple(aud.below("X", loop))) == ["Y"]  # never the officer themself


# --- draft rules -------------------------------------------------------------------------


def test_text_limits() -> None:
    assert rules.check_text("Rapat besok", with_media=False) is None
    assert rules.check_text("   ", with_media=False) == Problem("bc_text_empty")
    assert rules.check_text("a" * 3500, with_media=False) is None
    assert rules.check_text("a" * 3501, with_media=False) == Problem(
        "bc_text_too_long", {"length": 3501, "max": 3500})
    problem = rules.check_text("a" * 901, with_media=True)  # a caption holds 1024 with header
    assert problem is not None and problem.args["max"] == 900


def test_send_time_is_local_and_in_the_future() -> None:
    now = at(17, 18, 0)  # Monday 17 Oct 2022 18:00 WIB
    assert rules.parse_send_at("19:30", now) == at(17, 19, 30)
    assert rules.parse_send_at("19.30", now) == at(17, 19, 30)
    assert rules.parse_send_at("18/10 07:00", now) == at(18, 7, 0)
    assert rules.parse_send_at("1/11/2022 07:05", now) == at(1, 7, 5, month=11)
    assert rules.parse_send_at("17:59", now) == Problem("bc_time_past", {"when": at(17, 17, 59)})
    assert rules.parse_send_at("18:00", now) == Problem("bc_time_past", {"when": now})
    for bad in ("besok", "25:00", "19:75", "32/10 07:00", "18/13 07:00", "", "1930"):
        assert rules.parse_send_at(bad, now) == Problem("bc_bad_time"), bad


def test_announcement_escapes_what_the_sender_typed() -> None:
    text = announcement_view.announcement_text(Texts("id"), sender_name="Mahmud <PML>",
                                   sender_role="PML", text="<b>Ani & Budi</b>")
    assert "&lt;b&gt;Ani &amp; Budi&lt;/b&gt;" in text
    assert "Mahmud &lt;PML&gt;" in text and "<b>Pengumuman</b>" in text


# --- the outbox on a real database ---------------------------------------------------------


class FakeSender:
    """Answers like `Sender.send`; records every message and can hold or refuse chats."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.refuse: dict[int, DeliveryStatus] = {}
        self.gate: asyncio.Event | None = None
        self.entered = 0

    async def send(self, item: Outgoing) -> DeliveryResult:
        self.entered += 1
        if self.gate is not None:
            await self.gate.wait()
        status = self.refuse.get(item.chat_id, DeliveryStatus.SENT)
        if status is not DeliveryStatus.SENT:
            return DeliveryResult(status, error="refused")
        self.sent.append(item)
        return DeliveryResult(DeliveryStatus.SENT, message_id=1000 + len(self.sent))


class FakeBot:
    def __init__(self) -> None:
        self.edits: list[dict[str, Any]] = []

    async def edit_message_text(self, text: str, **kwargs: Any) -> None:
        self.edits.append({"text": text, **kwargs})




@pytest.fixture
async def services(tmp_path: Path, database: Path | str) -> AsyncIterator[Services]:
    clock = ManualClock(at(17))
    settings = make_settings(tmp_path, database=database, broadcast_rate_per_second=30,
                             broadcast_poll_seconds=0.02, broadcast_report_interval=0)
    await load_roster(settings.database, clock.now(), tmp_path)
    services = make_services(settings, clock)
    await services.db.open()
    async with services.db.transaction() as conn:  # link everyone but P2
        for number, officer_id in enumerate(("A1", "K1", "M1", "M2", "P1", "P3"), 1):
            await conn.execute(
                "UPDATE officers SET telegram_user_id = ?, telegram_chat_id = ?"
                " WHERE officer_id = ?", (700 + number, 700 + number, officer_id))
    services.sender = FakeSender()  # type: ignore[assignment]
    try:
        yield services
    finally:
        await services.db.close()


async def new_broadcast(services: Services, sender_id: str, audience: str, *,
                        send_at=None, text: str = "Rapat koordinasi besok") -> models.Broadcast:
    conn = services.db.conn
    sender = await officers.get_officer(conn, sender_id)
    assert sender is not None
    roster = await officers.list_officers(conn, active_only=False)
    resolved = aud.resolve(sender, audience, roster, {KEC})
    assert resolved is not None
    async with services.db.transaction() as tx:
        created = await repo.create_broadcast(
            tx, sender=sender, sender_chat_id=sender.telegram_chat_id or 0, audience=audience,
            text=text, photo_id=None, document_id=None,
            send_at=send_at or services.clock.now(), recipients=resolved.recipients,
            unlinked_count=len(resolved.unlinked), now=services.clock.now(),
        )
        assert created is not None
        await repo.set_report_message(tx, created.id, 555)
    return created


async def statuses(services: Services, broadcast_id: int) -> dict[str, str]:
    async with services.db.conn.execute(
        "SELECT officer_id, status FROM broadcast_recipients WHERE broadcast_id = ?",
        (broadcast_id,),
    ) as cur:
        return {row[0]: row[1] async for row in cur}


def sent_chats(services: Services) -> list[int]:
    return sorted(item.chat_id for item in services.sender.sent)  # type: ignore[union-attr]


async def test_a_claimed_row_cannot_be_claimed_again(services: Services) -> None:
    created = await new_broadcast(services, "M1", "team")  # P1 linked, P2 not
    assert created.unlinked_count == 1
    [row] = await repo.due_recipients(services.db.conn, services.clock.now(), limit=10)
    assert row.officer_id == "P1" and row.status == "pending"
    now = services.clock.now()
    async with services.db.transaction() as conn:
        first = await repo.claim(conn, row.id, now)
        second = await repo.claim(conn, row.id, now)
    assert first is not None and first.status == "sending" and first.attempts == 1
    assert second is None
    assert await repo.due_recipients(services.db.conn, now, limit=10) == []
    async with services.db.transaction() as conn:
        stranger = first.model_copy(update={"claim_token": "someone-else"})
        assert not await repo.finish(conn, stranger, "sent", now, message_id=9)
        assert await repo.finish(conn, first, "sent", now, message_id=9)
        assert not await repo.finish(conn, first, "sent", now, message_id=9)  # only once
    assert (await repo.counts(services.db.conn, created.id)).sent == 1


async def test_a_row_is_claimed_only_while_its_officer_is_active_and_to_their_chat_of_now(
    services: Services,
) -> None:
    created = await new_broadcast(services, "K1", "subtree")  # M1, M2, P1, P3
    rows = {r.officer_id: r for r in await repo.due_recipients(
        services.db.conn, services.clock.now(), limit=10)}
    async with services.db.transaction() as conn:  # after the announcement was stored:
        await conn.execute("UPDATE officers SET active = 0 WHERE officer_id = 'P1'")
        await officers.unlink_telegram(conn, "M2", services.clock.now())
        await conn.execute("UPDATE officers SET telegram_chat_id = 799 WHERE officer_id = 'P3'")
    now = services.clock.now()
    async with services.db.transaction() as conn:
        assert await repo.claim(conn, rows["P1"].id, now) is None  # deactivated
        assert await repo.claim(conn, rows["M2"].id, now) is None  # no Telegram link any more
        moved = await repo.claim(conn, rows["P3"].id, now)
    assert moved is not None and moved.chat_id == 799
    assert await statuses(services, created.id) == {"M1": "pending", "P3": "sending"}
    assert (await repo.counts(services.db.conn, created.id)).total == 2


async def test_the_audience_is_computed_again_when_the_announcement_comes_due(
    services: Services,
) -> None:
    created = await new_broadcast(services, "M1", "team", send_at=at(17, 19))  # P1 (+ P2)
    async with services.db.transaction() as conn:  # P2 links, P1 leaves the roster
        await conn.execute("UPDATE officers SET telegram_user_id = 722, telegram_chat_id = 722"
                           " WHERE officer_id = 'P2'")
        await conn.execute("UPDATE officers SET active = 0 WHERE officer_id = 'P1'")
    outbox = Outbox(services, FakeBot())  # type: ignore[arg-type]
    await outbox.run_until_idle()
    assert sent_chats(services) == []  # not due yet: nothing computed, nothing sent
    assert await statuses(services, created.id) == {"P1": "pending"}
    services.clock.set(at(17, 19))  # type: ignore[attr-defined]
    await outbox.run_until_idle()
    assert sent_chats(services) == [722]
    assert await statuses(services, created.id) == {"P2": "sent"}
    assert (await repo.get_broadcast(services.db.conn, created.id)).unlinked_count == 0


async def test_two_outboxes_on_one_database_send_each_row_once(services: Services) -> None:
    created = await new_broadcast(services, "A1", "all")
    first = Outbox(services, FakeBot())  # type: ignore[arg-type]
    second = Outbox(services, FakeBot())  # type: ignore[arg-type]
    await asyncio.gather(first.run_until_idle(), second.run_until_idle())
    linked = [702, 703, 704, 705, 706]  # K1, M1, M2, P1, P3 (not A1 himself, not P2)
    assert sent_chats(services) == linked
    counts = await repo.counts(services.db.conn, created.id)
    assert (counts.total, counts.sent, counts.pending) == (5, 5, 0)
    async with services.db.conn.execute(
        "SELECT MAX(attempts), MIN(attempts) FROM broadcast_recipients"
    ) as cur:
        assert tuple(await cur.fetchone()) == (1, 1)
    # Each message carries its own "Sudah dibaca" button with its outbox row.
    rows = {r.chat_id: r.id for r in await recipients_of(services, created.id)}
    for item in services.sender.sent:  # type: ignore[union-attr]
        [[button]] = item.reply_markup.inline_keyboard
        assert button.callback_data == f"baca:{rows[item.chat_id]}"


async def recipients_of(services: Services, broadcast_id: int) -> list[models.Recipient]:
    async with services.db.conn.execute(
        "SELECT id FROM broadcast_recipients WHERE broadcast_id = ?", (broadcast_id,)
    ) as cur:
        ids_ = [row[0] async for row in cur]
    return [r for r in [await repo.get_recipient(services.db.conn, i) for i in ids_] if r]


async def test_rows_left_sending_by_a_crash_are_not_resent(services: Services) -> None:
    created = await new_broadcast(services, "K1", "subtree")  # M1, M2, P1, P3 (+ P2 unlinked)
    rows = await repo.due_recipients(services.db.conn, services.clock.now(), limit=10)
    crashed = next(r for r in rows if r.officer_id == "M2")
    async with services.db.transaction() as conn:  # claimed, then the process died
        assert await repo.claim(conn, crashed.id, services.clock.now()) is not None

    bot = FakeBot()
    outbox = Outbox(services, bot)  # type: ignore[arg-type]
    assert await outbox.start() == [created.id]
    try:
        await eventually(lambda: _done(services, created.id))
    finally:
        await outbox.stop()
    assert await statuses(services, created.id) == {
        "M1": "sent", "M2": "failed", "P1": "sent", "P3": "sent"}
    assert 704 not in sent_chats(services)  # M2 was never sent again
    settled = await repo.get_recipient(services.db.conn, crashed.id)
    assert settled is not None and settled.error == models.INTERRUPTED
    assert "Gagal 1" in bot.edits[-1]["text"] and "Selesai" in bot.edits[-1]["text"]

    # A "Sudah dibaca" from M2 proves that the interrupted message did arrive.
    async with services.db.transaction() as conn:
        assert await repo.mark_read(conn, crashed.id, services.clock.now())
        assert not await repo.mark_read(conn, crashed.id, services.clock.now())
    counts = await repo.counts(services.db.conn, created.id)
    assert (counts.sent, counts.failed, counts.read) == (4, 0, 1)


async def _done(services: Services, broadcast_id: int) -> bool:
    broadcast = await repo.get_broadcast(services.db.conn, broadcast_id)
    return broadcast is not None and broadcast.finished_at is not None


async def test_stop_lets_requests_in_flight_finish_and_restart_continues(
    services: Services,
) -> None:
    async with services.db.transaction() as conn:  # 15 more linked PPL in M1's team
        for n in range(15):
            await conn.execute(
                "INSERT INTO officers (officer_id, name, role, supervisor_id, kecamatan_code,"
                " telegram_user_id, telegram_chat_id, created_at, updated_at)"
                " VALUES (?, ?, 'PPL', 'M1', ?, ?, ?, '', '')",
                (f"X{n:02d}", f"Extra {n:02d}", KEC, 800 + n, 800 + n))
    created = await new_broadcast(services, "A1", "all")  # 5 + 15 recipients
    fake: FakeSender = services.sender  # type: ignore[assignment]
    fake.gate = asyncio.Event()
    outbox = Outbox(services, FakeBot())  # type: ignore[arg-type]
    await outbox.start()
    await eventually(lambda: fake.entered == MAX_IN_FLIGHT)
    stopping = asyncio.create_task(outbox.stop())
    await asyncio.sleep(0)  # let stop() begin
    assert not stopping.done()  # it waits for the requests in flight
    fake.gate.set()
    await stopping
    assert len(fake.sent) == MAX_IN_FLIGHT  # in flight: finished and recorded, no new one
    counts = await repo.counts(services.db.conn, created.id)
    assert (counts.sent, counts.pending) == (MAX_IN_FLIGHT, 20 - MAX_IN_FLIGHT)

    again = Outbox(services, FakeBot())  # type: ignore[arg-type]
    assert await again.start() == []  # nothing was left 'sending'
    try:
        await eventually(lambda: _done(services, created.id))
    finally:
        await again.stop()
    assert sent_chats(services) == [702, 703, 704, 705, 706, *range(800, 815)]  # once each


async def test_scheduled_announcements_wait_for_the_injected_clock(services: Services) -> None:
    clock: ManualClock = services.clock  # type: ignore[assignment]
    later = await new_broadcast(services, "M1", "team", send_at=at(17, 19, 30))
    outbox = Outbox(services, FakeBot())  # type: ignore[arg-type]
    await outbox.run_until_idle()
    assert services.sender.sent == []  # type: ignore[union-attr]
    assert (await repo.counts(services.db.conn, later.id)).pending == 1

    clock.set(at(17, 19, 29))
    await outbox.run_until_idle()
    assert services.sender.sent == []  # type: ignore[union-attr]
    clock.advance(timedelta(minutes=1))
    await outbox.run_until_idle()
    assert sent_chats(services) == [705]  # P1
    assert await _done(services, later.id)


async def test_blocked_recipient_is_unreachable_and_marked(services: Services) -> None:
    created = await new_broadcast(services, "M2", "team")  # P3
    services.sender.refuse[706] = DeliveryStatus.UNREACHABLE  # type: ignore[union-attr]
    bot = FakeBot()
    await Outbox(services, bot).run_until_idle()  # type: ignore[arg-type]
    assert await statuses(services, created.id) == {"P3": "unreachable"}
    p3 = await officers.get_officer(services.db.conn, "P3")
    assert p3 is not None and p3.unreachable_at is not None
    [edit] = bot.edits
    assert edit["message_id"] == 555 and "Tidak terjangkau 1" in edit["text"]


async def test_outbox_keeps_the_broadcast_pace(services: Services) -> None:
    services.settings.broadcast_rate_per_second = 4  # one new message every 0.25 s
    await new_broadcast(services, "K1", "subtree")  # M1, M2, P1, P3
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    outbox = Outbox(services, FakeBot(),  # type: ignore[arg-type]
                    monotonic=lambda: 100.0, sleep=record)
    await outbox.run_until_idle()
    assert waits == [0.25, 0.5, 0.75]  # the first goes at once, then one slot each
    assert len(services.sender.sent) == 4  # type: ignore[union-attr]


def test_report_text_counts_and_states() -> None:
    t = Texts("id")
    broadcast = models.Broadcast(
        id=7, sender_id="K1", sender_name="Kartini", sender_role="KOSEKA", sender_chat_id=1,
        audience="subtree", text="x", send_at=at(17, 19, 30), created_at=at(17),
        unlinked_count=2,
    )
    waiting = models.Counts(total=1234, pending=1234)
    text = announcement_view.report_text(t, broadcast, waiting, at(17), "Seluruh kecamatan")
    assert "Dijadwalkan Senin, 17 Okt 2022 pukul 19.30 WIB" in text
    assert "Terkirim 0/1.234" in text and "Belum terdaftar di bot (tidak menerima): 2" in text
    sending = announcement_view.report_text(
        t, broadcast, models.Counts(total=3, sent=1, pending=2), at(17, 19, 31), "x"
    )
    assert "Sedang dikirim" in sending
    done = announcement_view.report_text(
        t, broadcast, models.Counts(total=3, sent=2, failed=1, read=1), at(17, 20), "x"
    )
    assert "Selesai" in done and "Dibaca 1 · Gagal 1" in done


async def test_outbox_pace_keeps_its_schedule_after_a_hiccup(services: Services) -> None:
    """A row that reaches its slot a little late (the event loop was busy, a query took a
    while) does not push every later slot back: the schedule of one row per 0.25 s goes on.
    After a pause longer than a slot there is no burst: a new schedule starts."""
    services.settings.broadcast_rate_per_second = 4
    now = [100.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    outbox = Outbox(services, FakeBot(),  # type: ignore[arg-type]
                    monotonic=lambda: now[0], sleep=sleep)
    sent_at: list[float] = []
    for hiccup in (0.0, 0.3, 0.0, 0.0, 10.0, 0.0):
        now[0] += hiccup
        await outbox._pace()
        sent_at.append(round(now[0] - 100.0, 3))
    # The second row's slot was 0.25: it went at 0.3, the third still at 0.5.
    assert sent_at[:4] == [0.0, 0.3, 0.5, 0.75]
    assert sent_at[4:] == [10.75, 11.0]  # after the pause: at once, then one slot later


async def test_outbox_reads_due_rows_once_and_starts_them_round_by_round(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The due rows are read once and started over several rounds of at most ROUND_SECONDS:
    between rounds the loop looks at the shared outbox and the delivery reports, without
    reading the due rows again."""
    services.settings.broadcast_rate_per_second = 1  # one row a second: 4 rows, 3 s
    await new_broadcast(services, "K1", "subtree")  # M1, M2, P1, P3
    reads = 0
    due_recipients = repo.due_recipients

    async def counted(*args: Any, **kwargs: Any) -> list[models.Recipient]:
        nonlocal reads
        reads += 1
        return await due_recipients(*args, **kwargs)

    monkeypatch.setattr(repo, "due_recipients", counted)
    now = [100.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    outbox = Outbox(services, FakeBot(),  # type: ignore[arg-type]
                    monotonic=lambda: now[0], sleep=sleep)
    assert await outbox.pump() == 3  # at 100, 101 and 102 s: the round of 2 s is over
    first_reads = reads  # the read, and again once the audience was computed
    assert await outbox.pump() == 1
    assert reads == first_reads
    await outbox.run_until_idle()
    assert len(services.sender.sent) == 4  # type: ignore[union-attr]
    assert reads == first_reads + 1  # nothing more was due
