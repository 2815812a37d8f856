"""Webhook mode: the local Bot API POSTs updates to the bot's listener; forged and broken
requests are refused; switching between polling and webhook loses no update."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import ALLOWED_UPDATES, services_of
from bot.clock import ManualClock
from bot.localapi import LocalBotApi
from bot.web import MAX_BODY, SECRET_HEADER
from tests.support import (
    WEBHOOK_SECRET,
    Harness,
    eventually,
    load_roster,
    make_settings,
    running_harness,
    webhook_overrides,
)


def text_of(message) -> str:
    return message.text or ""


@pytest.fixture
async def harness(api: LocalBotApi, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Harness]:
    async with running_harness(api, tmp_path, clock, mode="webhook") as h:
        yield h


def webhook_url(harness: Harness) -> str:
    assert harness.settings.webhook_url is not None
    return harness.settings.webhook_url


async def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(
        url, data=body, headers=headers
    ) as answer:
        return answer.status, await answer.text()


def forged_start(user_id: int, update_id: int) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1666000000, "text": "/start",
        "from": {"id": user_id, "is_bot": False, "first_name": "Forged"},
        "chat": {"id": user_id, "type": "private", "first_name": "Forged"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    }}


async def test_the_webhook_is_set_with_its_secret_and_the_update_types_the_bot_needs(
    harness: Harness,
) -> None:
    [call] = harness.api.calls("setWebhook")
    assert call.params["url"] == webhook_url(harness)
    assert call.params["secret_token"] == WEBHOOK_SECRET
    assert sorted(call.params["allowed_updates"]) == sorted(ALLOWED_UPDATES)
    assert not call.params.get("drop_pending_updates")
    assert harness.api.webhook_url == webhook_url(harness)

    putri = await harness.register("P1", 501)  # delivered by the webhook, answered as usual
    await putri.send("/lapor 12 14 51")
    await putri.wait_for(lambda m: "Pilih SLS" in text_of(m))
    assert harness.api.calls("getUpdates") == []
    assert all(d.ok for d in harness.api.webhook_deliveries)


@pytest.mark.parametrize("secret", [None, "wrong-secret", WEBHOOK_SECRET + "x"])
async def test_a_request_without_the_right_secret_is_refused_and_never_handled(
    harness: Harness, secret: str | None
) -> None:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    status, _ = await post(webhook_url(harness), json.dumps(forged_start(777, 90001)).encode(),
                           headers)
    assert status == 403
    # A real update afterwards is handled; the forged one never was.
    panji = await harness.register("P2", 502)
    assert panji.inbox
    assert harness.api.messages_to(777) == []
    assert await harness.scalar(
        "SELECT COUNT(*) FROM processed_updates WHERE update_id = 90001") == 0
    metrics = services_of(harness.app).metrics
    assert metrics.registry.get_sample_value(
        "regsosek_webhook_requests_total", {"result": "forbidden"}) == 1


@pytest.mark.parametrize("body", [
    b"x" * (MAX_BODY + 1),
    b"{not json",
    b"[1, 2, 3]",
    b'{"message": {"text": "/start"}}',  # no update_id
    b'{"update_id": 5, "message": "not a message"}',
    "{\"update_id\": 6, \"message\": {\"text\": \"\u00e9\"}}".encode("latin-1"),
])
async def test_oversized_or_malformed_bodies_get_400_without_a_stack_trace(
    harness: Harness, body: bytes
) -> None:
    headers = {"Content-Type": "application/json", SECRET_HEADER: WEBHOOK_SECRET}
    status, text = await post(webhook_url(harness), body, headers)
    assert status == 400
    assert "Traceback" not in text and "Error" not in text
    putri = await harness.register("P1", 501)  # the bot goes on as before
    assert putri.inbox


async def test_switching_modes_loses_no_pending_update(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    async with running_harness(api, tmp_path, clock) as harness:  # polling first
        panji = await harness.register("P2", 502)
        polling = harness.settings
        webhook = make_settings(tmp_path, api, **webhook_overrides())

        await harness.stop()
        await panji.send("/lapor 12 14 51")  # while the bot is down: stays pending
        harness.settings = webhook
        await harness.start()
        summary = await panji.wait_for(lambda m: "Ringkasan laporan" in text_of(m))
        assert api.webhook_deliveries

        await harness.stop()
        await panji.press(summary, "Kirim")  # pending again, now for the webhook
        assert api.pending_updates == 1
        harness.settings = polling
        await harness.start()  # deletes the webhook without dropping the update
        await panji.wait_for(lambda m: "Laporan tersimpan" in text_of(m))
        [delete] = api.calls("deleteWebhook")[-1:]
        assert not delete.params.get("drop_pending_updates")
        assert await harness.scalar("SELECT COUNT(*) FROM reports") == 1


async def test_an_update_the_bot_could_not_take_is_delivered_again(harness: Harness) -> None:
    putri = await harness.register("P1", 501)
    await harness.stop()  # the webhook stays set; deliveries fail while the bot is down
    await putri.send("/bantuan")
    await eventually(lambda: any(not d.ok for d in harness.api.webhook_deliveries))
    await harness.start()
    await putri.wait_for(lambda m: "/lapor" in text_of(m))
    failed = [d for d in harness.api.webhook_deliveries if not d.ok]
    assert failed[0].status == 0 and "Connection" in (failed[0].error or "")
    await eventually(lambda: any(d.ok and d.update_id == failed[0].update_id
                                 for d in harness.api.webhook_deliveries))


async def test_a_webhook_the_bot_api_refuses_stops_the_start_and_leaves_nothing_running(
    api: LocalBotApi, tmp_path: Path, clock: ManualClock
) -> None:
    from telegram.error import BadRequest

    from bot.app import build_application
    from bot.web import BotRunner

    overrides = webhook_overrides()
    settings = make_settings(tmp_path, api, **overrides)
    await load_roster(settings.database_path, clock.now(), tmp_path)
    api.fault_hook = lambda method, _params: (400, {
        "ok": False, "error_code": 400,
        "description": "Bad Request: bad webhook: Failed to resolve host"},
    ) if method == "setWebhook" else None
    app = build_application(settings, clock=clock)
    runner = BotRunner(app, settings)
    with pytest.raises(BadRequest, match="resolve host"):
        await runner.start()
    await runner.stop()
    assert not app.running and runner.listener is None
    assert not services_of(app).db.is_open
    # The port is free again: a second start, with the webhook accepted, takes it.
    api.fault_hook = None
    second = Harness(api, settings, clock, {})
    await second.start()
    await second.stop()
