"""Delivery under a faulty Bot API: the real bot against the local API answering about 10% of
the requests with 429 (retry_after=1), 500 or 502, holding some beyond the client's read
timeout (carried out or not), dropping some connections, and delivering getUpdates batches
twice.

Error answers are retried: every digest, problem alert and announcement still arrives exactly
once. A request that may have been carried out (no answer in time, a connection closed
without one) is never sent again: a message arrives at most once, and the ones that failed
are recorded. The recorded requests keep to the per-chat interval and the overall rate. The
fault plans are seeded: each phase gets the same faults on every run (how many of each kind
depends only on the number of requests, not on their order), and each test checks that they
happened.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from datetime import date
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot import jobs
from bot.app import services_of
from bot.clock import ManualClock
from bot.localapi import FaultPlan, LocalBotApi, RecordedRequest, SentMessage, parse_html
from bot.present.digests import build_digests
from db.models import Role
from db.problems import create_problem
from tests.support import (
    ADMIN_TELEGRAM_ID,
    Harness,
    add_team,
    load_roster,
    make_settings,
    report_problem,
    report_says,
    write_announcement,
)

pytestmark = pytest.mark.filterwarnings(  # PTB warns whenever it builds a RetryAfter
    "ignore::telegram.warnings.PTBDeprecationWarning"
)

TODAY = date(2022, 10, 17)
EXTRA = 40  # linked PPL under M1, on top of the roster's P1..P3
CHAT_INTERVAL = 0.15
PER_SECOND = 20
READ_TIMEOUT = 0.5
GAP_TOLERANCE = 0.05  # seconds: the HTTP hop between the sender's slot and the server
RATE_TOLERANCE = 2  # requests in one second above PER_SECOND
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "sendLocation"})
REGISTERED = {"A1": 801, "K1": 701, "M1": 601, "M2": 602, "P1": 501, "P2": 502, "P3": 503}


def plan(seed: int, **overrides: object) -> FaultPlan:
    """10% of the bot's messages disturbed: 8% error answers, 1% slow, 1% dropped (each
    replaceable, e.g. by late answers of messages carried out)."""
    values: dict[str, object] = {
        "rate_429": 0.03, "rate_500": 0.03, "rate_502": 0.02, "retry_after": 1,
        "slow_rate": 0.01, "slow_seconds": READ_TIMEOUT * 2, "drop_rate": 0.01, "seed": seed,
    }
    values.update(overrides)
    return FaultPlan(**values)  # type: ignore[arg-type]


@pytest.fixture
async def harness(api: LocalBotApi, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    """The real bot with small but real pacing, a short read timeout, and everyone linked."""
    settings = make_settings(
        tmp_path, api, chat_message_interval=CHAT_INTERVAL, messages_per_second=PER_SECOND,
        broadcast_rate_per_second=PER_SECOND, broadcast_poll_seconds=0.05,
        broadcast_report_interval=0.2, telegram_read_timeout=READ_TIMEOUT,
    )
    codes = await load_roster(settings.database_path, clock.now(), tmp_path)
    h = Harness(api, settings, clock, codes)
    await h.start()
    try:
        for officer_id, user_id in REGISTERED.items():
            await h.register(officer_id, user_id)
        api.user(ADMIN_TELEGRAM_ID, "Admin")  # an admin by setting, without a roster code
        yield h
    finally:
        api.clear_faults()
        await h.stop()


def text_of(message: SentMessage) -> str:
    return message.text or ""


def plain(html: str) -> str:
    """What a recipient reads of an HTML text (the local API stores it parsed and trimmed)."""
    return parse_html(html)[0].strip()


def new_messages(api: LocalBotApi, chats: Iterable[int], since: dict[int, int]) -> dict:
    return {chat: api.messages_to(chat)[since.get(chat, 0):] for chat in chats}


def inbox_sizes(api: LocalBotApi, chats: Iterable[int]) -> dict[int, int]:
    return {chat: len(api.messages_to(chat)) for chat in chats}


def sends(api: LocalBotApi, since: int) -> list[RecordedRequest]:
    return [r for r in api.requests[since:] if r.method in SEND_METHODS]


def assert_paced(requests: list[RecordedRequest], chats: Iterable[int]) -> None:
    """No chat got two messages closer than the interval; no second held more than the rate."""
    delivered: dict[int, list[float]] = defaultdict(list)
    for request in requests:
        if request.ok:
            delivered[int(request.params["chat_id"])].append(request.at)
    for chat in chats:
        stamps = sorted(delivered[chat])
        gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
        assert min(gaps, default=CHAT_INTERVAL) >= CHAT_INTERVAL - GAP_TOLERANCE, (chat, gaps)
    stamps = sorted(r.at for r in requests)  # every attempt that reached the server
    busiest, first = 0, 0
    for last, moment in enumerate(stamps):
        while stamps[first] <= moment - 1.0:
            first += 1
        busiest = max(busiest, last - first + 1)
    assert busiest <= PER_SECOND + RATE_TOLERANCE, f"{busiest} requests within one second"


def faults_since(api: LocalBotApi, before: dict[str, int]) -> dict[str, int]:
    return {kind: count - before.get(kind, 0) for kind, count in api.fault_counts.items()
            if count > before.get(kind, 0)}


async def test_reminders_at_most_once_and_digests_exactly_once_under_faults(
    harness: Harness,
) -> None:
    api = harness.api
    extras = await add_team(harness, EXTRA)
    ppl_chats = [*extras, REGISTERED["P1"], REGISTERED["P2"], REGISTERED["P3"]]
    services = services_of(harness.app)

    # Reminders: every PPL has not reported today. A reminder whose request may have been
    # carried out is not sent again (slow, dropped, or delivered and answered late).
    start, before = len(api.requests), dict(api.fault_counts)
    api.set_faults(plan(seed=40, late_rate=0.03))
    summary = await jobs.send_reminders(services, day=TODAY, slot="16:00")
    api.clear_faults()
    reminder_faults = faults_since(api, before)
    assert set(reminder_faults) == {"429", "500", "502", "slow", "drop", "late"}, reminder_faults
    uncertain = sum(reminder_faults[kind] for kind in ("slow", "drop", "late"))
    assert (summary.sent, summary.failed, summary.unreachable) == (
        len(ppl_chats) - uncertain, uncertain, 0)
    received = {chat: len([m for m in api.messages_to(chat) if "belum masuk" in text_of(m)])
                for chat in ppl_chats}
    assert set(received.values()) == {0, 1}  # never twice
    assert sum(received.values()) == summary.sent + reminder_faults["late"]
    assert await harness.scalar(
        "SELECT COUNT(*) FROM sent_log WHERE kind = 'reminder' AND status = 'failed'"
    ) == uncertain
    assert_paced(sends(api, start), ppl_chats)

    # Digests: PML, KOSEKA and admin, each with every chunk, chart and review prompt once.
    # Every extra PPL has an open field problem: they make M1's digest longer than one message.
    async with harness.db.transaction() as conn:
        for n in range(EXTRA):
            await create_problem(conn, officer_id=f"X{n:03d}", category="not_home",
                                 description="-", now=harness.clock.now())
    roles = [Role.PML, Role.KOSEKA, Role.ADMIN]
    expected = await build_digests(harness.db.conn, day=TODAY, settings=services.settings,
                                   form=services.form, texts=services.texts, roles=roles,
                                   as_of=harness.clock.now())
    recipients = {d.recipient.telegram_chat_id: d for d in expected}
    assert set(recipients) == {601, 602, 701, 801, ADMIN_TELEGRAM_ID}
    assert any(len(d.chunks) > 1 for d in expected) and any(d.charts for d in expected)
    sizes = inbox_sizes(api, recipients)
    start, before = len(api.requests), dict(api.fault_counts)
    api.set_faults(plan(seed=9, slow_rate=0, drop_rate=0))  # error answers only: retried
    # And a 429 on the first chunk: the rate limiter retries it a second later, and the
    # second chunk must still keep its distance from that retry, not from the first attempt.
    api.fail_next("sendMessage", 429)
    digests = await jobs.send_digests(services, day=TODAY, roles=roles)
    api.clear_faults()
    assert (digests.sent, digests.failed) == (len(expected), 0)
    for chat, received in new_messages(api, recipients, sizes).items():
        digest = recipients[chat]
        wanted = [("text", plain(chunk)) for chunk in digest.chunks]
        wanted += [("photo", plain(chart.caption)) for chart in digest.charts]
        if digest.review:
            wanted.append(("text", plain(services.texts("review_prompt"))))
        assert [(m.kind, text_of(m)) for m in received] == wanted, chat
    digest_faults = faults_since(api, before)
    assert {"429", "500"} <= set(digest_faults) and digest_faults["429"] >= 2
    assert_paced(sends(api, start), recipients)

    timed_out = [r for r in api.requests if r.fault in ("slow", "late")]
    assert timed_out and all(r.status == 0 for r in timed_out)  # the bot stopped waiting
    for request in timed_out:  # and did not send that message again
        chat, text = request.params["chat_id"], request.params["text"]
        assert [r.params["text"] for r in sends(api, 0)
                if r.params["chat_id"] == chat].count(text) == 1


async def test_problem_alerts_arrive_once_under_faults_and_duplicate_updates(
    harness: Harness,
) -> None:
    api = harness.api
    putri, panji, prabu = (api.user(REGISTERED[p]) for p in ("P1", "P2", "P3"))
    supervisors = [REGISTERED["M1"], REGISTERED["M2"], REGISTERED["K1"]]
    sizes = inbox_sizes(api, supervisors)
    start, before = len(api.requests), dict(api.fault_counts)
    # Faults on the supervisors' chats (the reporters' own flow answers are not retried by
    # design): error answers, and alerts delivered but answered late (not sent again); every
    # getUpdates batch is delivered twice, the whole flow long.
    api.set_faults(plan(seed=2, chats=frozenset(supervisors), duplicate_updates_rate=1.0,
                        slow_rate=0, drop_rate=0, late_rate=0.05))
    first = await report_problem(putri, "Keamanan", "Jembatan putus di dusun",
                                 sls="RT 001 Banglas", urgent=True, photo=True,
                                 location=(1.01, 102.7))
    second = await report_problem(panji, "Dokumen KK tidak ada", "KK dibawa ke Selatpanjang",
                                  sls="Lainnya/umum")
    third = await report_problem(prabu, "Akses/geografis/cuaca", "Air pasang tinggi",
                                 sls="Lainnya/umum", urgent=True)
    for user, summary in ((putri, first), (panji, second), (prabu, third)):
        # Taking the buttons off the summary fails once: the problem is saved all the same.
        api.fail_next("editMessageReplyMarkup", 502)
        await user.press(summary, "Kirim")
        await user.wait_for(lambda m: "tercatat" in text_of(m), timeout=10)
    api.clear_faults()

    def alerts(chat: int, problem_id: int) -> list[SentMessage]:
        return [m for m in new_messages(api, [chat], sizes)[chat]
                if f"Kendala baru #{problem_id}" in text_of(m)]

    assert [len(alerts(601, n)) for n in (1, 2, 3)] == [1, 1, 0]  # M1: Putri's and Panji's
    assert [len(alerts(602, n)) for n in (1, 2, 3)] == [0, 0, 1]  # M2: Prabu's
    assert [len(alerts(701, n)) for n in (1, 2, 3)] == [1, 0, 1]  # K1: the urgent ones
    for chat in (601, 701):  # Putri's photo and location, once each
        kinds = [m.kind for m in new_messages(api, [chat], sizes)[chat]]
        assert kinds.count("photo") == 1 and kinds.count("location") == 1, (chat, kinds)
    assert await harness.scalar("SELECT COUNT(*) FROM problems") == 3
    for user in (putri, panji, prabu):
        asked = [m for m in api.messages_to(user.chat_id) if "Pilih kategori" in text_of(m)]
        assert len(asked) == 1  # each /kendala handled once, though delivered twice
        assert len([m for m in api.messages_to(user.chat_id) if "tercatat" in text_of(m)]) == 1

    polls = [r for r in api.requests[start:] if r.method == "getUpdates" and r.ok]
    delivered = [u["update_id"] for r in polls for u in (r.response or {}).get("result", [])]
    twice = {u for u in delivered if delivered.count(u) > 1}
    assert twice, "no update was delivered twice"
    assert await harness.scalar(
        "SELECT COUNT(*) FROM processed_updates WHERE update_id >= ?", min(delivered)
    ) == len(set(delivered))
    happened = faults_since(api, before)
    assert happened["duplicate"] >= len(twice)
    assert {"500", "late"} <= set(happened), happened  # on the alerts (seed 2)
    failed_edits = [r for r in api.requests[start:]
                    if r.method == "editMessageReplyMarkup" and r.status == 502]
    assert len(failed_edits) == 3
    assert_paced(sends(api, start), supervisors)


async def test_announcement_to_all_arrives_at_most_once_each_under_faults(
    harness: Harness,
) -> None:
    api = harness.api
    extras = await add_team(harness, EXTRA)
    admin = api.user(ADMIN_TELEGRAM_ID, "Admin")
    recipients = [*extras, *REGISTERED.values()]
    total = len(recipients)

    await admin.send("/umumkan")
    choice = await admin.wait_for(lambda m: "Untuk siapa" in text_of(m))
    await admin.press(choice, "Semua petugas")
    await admin.wait_for(lambda m: "Tulis teks pengumuman" in text_of(m))
    preview = await write_announcement(admin, "Rapat evaluasi Jumat 08.00 di kantor camat")
    assert f"Penerima: {total} petugas" in preview.text

    start, before = len(api.requests), dict(api.fault_counts)
    # Error answers (retried), and announcements delivered but answered late (not again).
    api.set_faults(plan(seed=2, chats=frozenset(recipients), slow_rate=0, drop_rate=0,
                        late_rate=0.03))
    api.fail_next("editMessageText", 500)  # the first edit of the delivery report fails
    await admin.press(preview, "Kirim")
    report = await admin.wait_for(lambda m: "Status pengiriman pengumuman" in text_of(m))
    report = await report_says(harness, report, "Selesai dikirim")
    api.clear_faults()
    happened = faults_since(api, before)
    assert {"429", "500", "late"} <= set(happened) and happened["500"] >= 2, happened
    late = happened["late"]
    assert f"Terkirim {total - late}/{total}" in report.text
    assert f"Gagal {late} · Tidak terjangkau 0 · Menunggu 0" in report.text
    for chat in recipients:
        got = [m for m in api.messages_to(chat) if "Pengumuman dari" in text_of(m)]
        assert len(got) == 1, chat  # the late ones too: delivered once, never sent again
    assert await harness.scalar(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE status = 'sent' AND attempts = 1"
    ) == total - late
    assert await harness.scalar(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE status = 'failed'"
        " AND error = 'unanswered' AND attempts = 1"
    ) == late
    assert_paced(sends(api, start), recipients)

    # "Sudah dibaca" on one of them proves that it arrived.
    chat = next(int(r.params["chat_id"]) for r in api.requests[start:] if r.fault == "late")
    reader = api.user(chat)
    [message] = [m for m in api.messages_to(chat) if "Pengumuman dari" in text_of(m)]
    await reader.wait_answer(await reader.press(message, "Sudah dibaca"))
    await report_says(harness, report, f"Terkirim {total - late + 1}/{total}", "Dibaca 1")


async def test_fault_plan_is_seeded_and_limited(api: LocalBotApi) -> None:
    """The same seed gives the same faults; `limit` caps each kind; other methods are spared."""
    user = api.user(4242)

    async def run(seed: int) -> list[str | None]:
        outcomes: list[str | None] = []
        api.set_faults(plan(seed, rate_429=0.2, rate_500=0.2, slow_rate=0.1, drop_rate=0.1,
                            slow_seconds=0.3, limit=3))
        request = HTTPXRequest(read_timeout=0.1)
        async with Bot(api.token, base_url=api.base_url, request=request) as bot:
            for n in range(30):
                try:
                    await bot.send_message(user.chat_id, f"pesan {n}")
                    outcomes.append(None)
                except RetryAfter:
                    outcomes.append("429")
                except TimedOut:
                    outcomes.append("timeout")
                except NetworkError:
                    outcomes.append("error")
            await bot.get_me()  # not in the plan's methods
        api.clear_faults()
        return outcomes

    first = await run(7)
    counts = dict(api.fault_counts)
    assert counts["429"] == 3  # 20% of 30 would be 6
    assert all(0 < counts.get(kind, 0) <= 3 for kind in ("500", "slow", "drop"))
    assert first.count("429") == 3 and first.count("timeout") == counts["slow"]
    assert first.count("error") == counts["500"] + counts.get("502", 0) + counts["drop"]
    api.fault_counts.clear()
    assert await run(7) == first
    assert api.calls("getMe")[-1].fault is None
    # A slow answer the client gave up on was never carried out; the others were, once each.
    texts = [m.text for m in api.messages_to(user.chat_id)]
    assert len(texts) == 2 * first.count(None) and len(set(texts)) == first.count(None)
