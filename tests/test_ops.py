"""Health and metrics: `/healthz`, `/metrics` and `python -m bot status` of the running bot."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import aiohttp
import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest

from bot import jobs
from bot.app import build_application, services_of
from bot.cli import main
from bot.clock import ManualClock
from bot.localapi import LocalBotApi
from bot.messaging import problem_alerts
from bot.messaging.delivery import Outgoing
from bot.metrics import API_RESULTS, MESSAGE_KINDS, InstrumentedRequest, Metrics
from bot.settings import Settings
from db import broadcasts, officers
from db.migrations import available_migrations
from db.models import Role
from tests.support import (
    Harness,
    database_env,
    eventually,
    load_roster,
    make_settings,
    running_harness,
    webhook_overrides,
)

STALE = 60.0


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def text_of(message) -> str:
    return message.text or ""


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def harness(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock, monotonic: FakeMonotonic,
    database: Path | str,
) -> AsyncIterator[Harness]:
    """Webhook mode, ages on a monotonic clock the test moves; on each engine."""
    settings = make_settings(tmp_path, api, database=database, health_stale_seconds=STALE,
                             **webhook_overrides())
    codes = await load_roster(settings.database, clock.now(), tmp_path)
    h = Harness(api, settings, clock, codes, monotonic=monotonic)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


def base_url(harness: Harness) -> str:
    assert harness.runner is not None and harness.runner.listener is not None
    return f"http://127.0.0.1:{harness.runner.listener.port}"


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, answer.headers.get("Content-Type", ""), await answer.text()


async def health(harness: Harness) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(
        base_url(harness) + "/healthz"
    ) as answer:
        return answer.status, await answer.json()


def sample(harness: Harness, name: str, **labels: str) -> float:
    value = services_of(harness.app).metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def report(harness: Harness, officer_id: str, user_id: int) -> None:
    """Register, report, and wait until the handlers of those 3 updates have returned."""
    metrics = services_of(harness.app).metrics
    before = metrics.updates_handled
    user = await harness.register(officer_id, user_id)
    await user.send("/lapor 12 14 51")
    summary = await user.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
    await user.press(summary, "Kirim")
    await user.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
    await eventually(lambda: metrics.updates_handled == before + 3)


async def test_healthz_tells_database_bot_api_updates_outbox_and_next_job(
    harness: Harness, monotonic: FakeMonotonic
) -> None:
    status, body = await health(harness)
    assert status == 200
    assert body["status"] == "ok" and body["problems"] == [] and body["mode"] == "webhook"
    assert body["database"] == {"reachable": True,
                                "schema_version": len(available_migrations()),
                                "outbox_backlog": 0}
    assert body["bot_api"]["last_success_seconds_ago"] == 0
    assert body["bot_api"]["last_error"] is None
    assert body["updates"] == {"handled": 0, "last_handled_seconds_ago": None}
    assert body["outbox"] == {"backlog": 0}
    assert body["next_job"] is None  # the tests schedule no jobs

    await report(harness, "P2", 502)
    assert harness.app is not None and harness.app.job_queue is not None
    harness.app.job_queue.run_once(lambda _context: None, when=3600, name="digest-pml")
    monotonic.now += 30
    status, body = await health(harness)
    assert status == 200
    assert body["updates"]["handled"] == 3  # /start, /lapor, Kirim
    assert body["updates"]["last_handled_seconds_ago"] == 30
    assert body["bot_api"]["last_success_seconds_ago"] == 30
    assert body["next_job"]["name"] == "digest-pml"
    assert body["next_job"]["at"].endswith("+07:00")  # in the deployment's time zone


async def test_healthz_is_503_once_no_bot_api_call_succeeded_for_the_stale_time(
    harness: Harness, monotonic: FakeMonotonic
) -> None:
    harness.api.fault_hook = lambda _method, _params: (
        500, {"ok": False, "error_code": 500, "description": "Internal Server Error"})
    assert harness.app is not None
    with pytest.raises(NetworkError):
        await harness.app.bot.get_webhook_info()
    monotonic.now += STALE - 1
    status, body = await health(harness)
    assert status == 200  # failing, but not for long yet
    assert body["bot_api"]["last_error"] == {
        "method": "getWebhookInfo", "result": "5xx", "description": "Internal Server Error",
        "seconds_ago": STALE - 1}

    monotonic.now += 2
    status, body = await health(harness)
    assert status == 503 and body["status"] == "unhealthy"
    assert any("Bot API" in problem for problem in body["problems"])

    harness.api.fault_hook = None
    await harness.app.bot.get_webhook_info()
    status, body = await health(harness)
    assert status == 200 and body["bot_api"]["last_success_seconds_ago"] == 0


async def test_healthz_is_503_when_the_database_is_unreachable(harness: Harness) -> None:
    db = services_of(harness.app).db
    await db.close()
    try:
        status, body = await health(harness)
    finally:
        await db.open()
    assert status == 503
    assert body["database"]["reachable"] is False
    assert body["problems"] == ["database unreachable"]
    assert sample(harness, "regsosek_database_errors_total") == 1


async def test_metrics_count_updates_calls_messages_and_reports_without_personal_data(
    harness: Harness,
) -> None:
    await report(harness, "P2", 502)
    refused: list[str] = []

    def once_502(method: str, _params: dict):
        if method == "sendMessage" and not refused:
            refused.append(method)
            return 502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        return None

    harness.api.fault_hook = once_502
    panji = harness.api.user(502)
    metrics = services_of(harness.app).metrics
    await panji.send("/progres")
    await panji.wait_for(lambda m: "Progres" in text_of(m), timeout=10)
    await eventually(lambda: metrics.updates_handled == 4)

    status, content_type, text = await get(base_url(harness) + "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for family in text_string_to_metric_families(text) for s in family.samples}

    def value(name: str, **labels: str) -> float:
        return values.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("regsosek_updates_handled_total", kind="message") >= 3
    assert value("regsosek_updates_handled_total", kind="callback_query") == 1
    assert value("regsosek_update_handling_seconds_count") >= 4
    assert value("regsosek_bot_api_calls_total", method="sendMessage", result="ok") >= 3
    assert value("regsosek_bot_api_calls_total", method="sendMessage", result="5xx") == 1
    assert value("regsosek_bot_api_calls_total", method="setWebhook", result="ok") == 1
    assert value("regsosek_messages_sent_total", kind="reply") >= 3
    assert value("regsosek_messages_sent_total", kind="reminder") == 0
    assert value("regsosek_reports_stored_total") == 1
    assert value("regsosek_outbox_backlog") == 0
    assert value("regsosek_database_errors_total") == 0
    assert value("regsosek_webhook_requests_total", result="accepted") >= 4
    assert value("regsosek_healthy") == 1

    # Labels are kinds, methods and results: never an id, a name, a phone or a text.
    allowed = {"kind": set(MESSAGE_KINDS) | {"message", "callback_query", "edited_message"},
               "result": set(API_RESULTS) | {"accepted", "forbidden", "bad_request"}}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            for key, label in s.labels.items():
                if key == "method":
                    assert re.fullmatch(r"[a-zA-Z]+", label), label
                elif key != "le":
                    assert label in allowed[key], (key, label)
    names_and_labels = "\n".join(line.rsplit(" ", 1)[0] for line in text.splitlines()
                                 if not line.startswith("#"))
    for personal in ("502", "Panji", "081200000006", "12 14 51", harness.api.token):
        assert personal not in names_and_labels


async def test_messages_count_under_the_kind_of_work_that_sent_them(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    mahmud = await harness.register("M1", 601)
    services = services_of(harness.app)
    await eventually(lambda: services.metrics.updates_handled == 2)
    replies = sample(harness, "regsosek_messages_sent_total", kind="reply")

    await jobs.send_reminders(services, day=date(2022, 10, 17), slot="16:00")
    await putri.wait_for(lambda m: "belum masuk" in text_of(m))
    await jobs.send_digests(services, day=date(2022, 10, 17), roles=[Role.PML])
    await mahmud.wait_for(lambda m: "Putri" in text_of(m))
    recipient = await officers.get_officer(services.db.conn, "M1")
    assert recipient is not None
    await problem_alerts.deliver(services, recipient, [Outgoing(601, "Kendala baru")])
    sender = await officers.get_officer(services.db.conn, "M1")
    target = await officers.get_officer(services.db.conn, "P1")
    assert sender is not None and target is not None
    async with services.db.transaction() as conn:
        await broadcasts.create_broadcast(
            conn, sender=sender, sender_chat_id=601, audience="team", text="Rapat besok",
            photo_id=None, document_id=None, send_at=services.clock.now(), recipients=[target],
            unlinked_count=0, now=services.clock.now())
    assert services.outbox is not None
    services.outbox.wake()
    await putri.wait_for(lambda m: "Rapat besok" in text_of(m))
    # Counted once the bot has read the Bot API's answer, a moment after Putri sees it.
    await eventually(lambda: sample(harness, "regsosek_messages_sent_total",
                                    kind="announcement") == 1)

    assert sample(harness, "regsosek_messages_sent_total", kind="reminder") == 1
    assert sample(harness, "regsosek_messages_sent_total", kind="digest") >= 1
    assert sample(harness, "regsosek_messages_sent_total", kind="alert") == 1
    assert sample(harness, "regsosek_messages_sent_total", kind="reply") == replies


async def test_a_failed_write_counts_as_a_database_error(harness: Harness) -> None:
    db = services_of(harness.app).db
    with pytest.raises(Exception, match="no_such_table"):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO no_such_table VALUES (1)")
    assert sample(harness, "regsosek_database_errors_total") == 1


class Answers(BaseRequest):
    """A request that answers from a list: (status, body) or an exception."""

    def __init__(self, answers: list) -> None:
        self.answers = answers

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url, method, request_data=None, **_timeouts):
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


# PTB warns that RetryAfter.retry_after will become a timedelta (the 429 answer below).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_bot_api_calls_are_counted_by_method_and_result() -> None:
    token = "4242:SECRET-token"
    metrics = Metrics()
    request = InstrumentedRequest(Answers([
        (200, b'{"ok": true, "result": true}'),
        (429, b'{"ok": false, "description": "Too Many Requests: retry after 3",'
              b' "parameters": {"retry_after": 3}}'),
        (400, b'{"ok": false, "description": "Bad Request: chat not found"}'),
        (502, b"<html>bad gateway</html>"),
        TimedOut(),
        NetworkError(f"cannot reach https://api.telegram.org/bot{token}/sendMessage"),
    ]), metrics, token=token)
    url = f"https://api.telegram.org/bot{token}/sendMessage"
    for _ in range(6):
        with contextlib.suppress(TelegramError):  # each answer's own error, counted below
            await request.post(url)
    get = metrics.registry.get_sample_value
    for result in ("ok", "429", "4xx", "5xx", "timeout", "network"):
        assert get("regsosek_bot_api_calls_total",
                   {"method": "sendMessage", "result": result}) == 1, result
    assert get("regsosek_messages_sent_total", {"kind": "reply"}) == 1
    assert metrics.last_api_error is not None
    assert metrics.last_api_error.result == "network"
    assert token not in metrics.last_api_error.description
    assert "<token>" in metrics.last_api_error.description


async def test_each_application_counts_in_its_own_registry(
    api: LocalBotApi, tmp_path: Path
) -> None:
    first = build_application(make_settings(tmp_path, api, database_path=tmp_path / "a.db"))
    second = build_application(make_settings(tmp_path, api, database_path=tmp_path / "b.db"))
    one, two = services_of(first).metrics, services_of(second).metrics
    assert one.registry is not two.registry
    one.report_stored()
    assert one.registry.get_sample_value("regsosek_reports_stored_total") == 1
    assert two.registry.get_sample_value("regsosek_reports_stored_total") == 0
    names = [m.name for m in prometheus_client.REGISTRY.collect()]
    assert not any(name.startswith("regsosek") for name in names)


async def test_polling_mode_serves_health_only_on_health_listen(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "quiet").mkdir()
    async with running_harness(api, tmp_path / "quiet", clock) as quiet:
        assert quiet.runner is not None and quiet.runner.listener is None
    async with running_harness(api, tmp_path, clock, health_listen="127.0.0.1:0") as harness:
        status, body = await health(harness)
        assert status == 200 and body["mode"] == "polling"
        status, _, text = await get(base_url(harness) + "/metrics")
        assert status == 200 and "regsosek_bot_api_calls_total" in text
        async with aiohttp.ClientSession() as session, session.post(
            base_url(harness) + "/", data=b"{}"
        ) as answer:
            assert answer.status in (404, 405)  # no webhook in polling mode


def status_env(monkeypatch: pytest.MonkeyPatch, settings: Settings, cwd: Path) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(cwd)
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    for name, value in database_env(settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WEBHOOK_URL", settings.webhook_url)
    monkeypatch.setenv("WEBHOOK_SECRET", settings.webhook_secret.get_secret_value())
    monkeypatch.setenv("WEBHOOK_LISTEN", settings.webhook_listen)


async def test_status_prints_the_running_bots_health(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    status_env(monkeypatch, harness.settings, tmp_path)
    await report(harness, "P2", 502)
    assert await asyncio.to_thread(main, ["status"]) == 0
    out = capsys.readouterr().out
    assert "healthy (webhook mode)" in out
    assert f"database: reachable, schema version {len(available_migrations())}" in out
    assert "Bot API: last success 0 s ago" in out
    assert "updates: 3 handled, the last 0 s ago" in out
    assert "outbox: 0 announcement messages waiting" in out

    await harness.stop()
    assert await asyncio.to_thread(main, ["status"]) == 1
    out = capsys.readouterr().out
    assert "does not answer" in out
    assert f"database: reachable, schema version {len(available_migrations())}" in out


async def test_webhook_mode_asks_the_bot_api_now_and_then_and_tells_telegrams_view(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    from bot.health import describe

    # A quiet bot in webhook mode makes no call by itself: the probe keeps /healthz honest.
    async with running_harness(api, tmp_path, clock, mode="webhook",
                               health_stale_seconds=0.3) as harness:
        await eventually(lambda: len(api.calls("getWebhookInfo")) >= 2)
        _, body = await health(harness)  # 200 or 503: on a busy machine 0.3 s pass quickly
        assert body["webhook"] == {"pending_update_count": 0, "last_error_message": None,
                                   "last_error_date": None}
        assert "Telegram: 0 updates waiting for the webhook" in describe(body)
