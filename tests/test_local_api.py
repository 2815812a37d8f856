"""The local Bot API server, exercised through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import MessageEntityType
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot.localapi import NOT_MODIFIED, FaultPlan, LocalBotApi, parse_html
from tests.support import eventually

USER_ID = 5001
# PTB itself warns whenever it builds a RetryAfter (int -> timedelta migration of retry_after).
ignore_retry_after_deprecation = pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture
async def bot(api: LocalBotApi) -> AsyncIterator[Bot]:
    """A real PTB Bot against the ``api`` fixture (a started LocalBotApi, from conftest.py)."""
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text, callback_data=data)] for text, data in pairs]
    return InlineKeyboardMarkup(rows)


async def test_get_me_parses(api: LocalBotApi, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (api.bot_id, api.bot_username, True)


async def test_send_message_returns_message_with_keyboard_and_reaches_the_user(
    api: LocalBotApi, bot: Bot
) -> None:
    user = api.user(USER_ID, "Andi")
    sent = await bot.send_message(
        USER_ID,
        "<b>Laporan</b> hari ini",
        parse_mode="HTML",
        reply_markup=keyboard(("Setuju", "ok:1")),
    )
    assert sent.text == "Laporan hari ini"
    assert sent.entities[0].type == MessageEntityType.BOLD
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "ok:1"

    received = await user.next_message()
    assert received.message_id == sent.message_id
    assert received.text == "Laporan hari ini"
    assert received.button("Setuju").callback_data == "ok:1"
    assert api.messages_to(USER_ID) == [received]


async def test_reply_keyboard_buttons_are_visible(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    markup = ReplyKeyboardMarkup([[KeyboardButton("Bagikan nomor", request_contact=True)]])
    await bot.send_message(USER_ID, "Kirim nomor HP", reply_markup=markup)
    (button,) = (await user.next_message()).reply_keyboard_buttons()
    assert (button.text, button.request_contact) == ("Bagikan nomor", True)


async def test_edit_message_text_and_not_modified(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    sent = await bot.send_message(USER_ID, "Menunggu", reply_markup=keyboard(("Batal", "cancel")))
    edited = await bot.edit_message_text("Selesai", chat_id=USER_ID, message_id=sent.message_id)
    assert edited.text == "Selesai"  # type: ignore[union-attr]
    stored = api.message(USER_ID, sent.message_id)
    assert (stored.text, stored.edited, stored.buttons()) == ("Selesai", True, [])
    assert (await user.next_message()) is stored

    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Selesai", chat_id=USER_ID, message_id=sent.message_id)
    assert (api.requests[-1].response or {})["description"] == NOT_MODIFIED
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER_ID, message_id=999)


async def test_wait_edit_sees_an_edit_made_later(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    sent = await bot.send_message(USER_ID, "1 dari 3")
    message = await user.next_message()
    waiting = asyncio.create_task(user.wait_edit(message))
    await bot.edit_message_text("2 dari 3", chat_id=USER_ID, message_id=sent.message_id)
    assert (await waiting).text == "2 dari 3"


@pytest.mark.parametrize(
    ("html", "problem"),
    [
        ("<b>tebal", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", "Unmatched end tag"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("nilai < 5", 'Unsupported start tag ""'),
        ("Tom & Jerry", 'Unescaped "&"'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_invalid_html_is_rejected(
    api: LocalBotApi, bot: Bot, html: str, problem: str
) -> None:
    api.user(USER_ID)
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER_ID, html, parse_mode="HTML")
    description = (api.requests[-1].response or {})["description"]
    assert description.startswith("Bad Request: can't parse entities: ")
    assert problem in description
    assert api.messages_to(USER_ID) == []


def test_valid_html_becomes_text_and_utf16_entities() -> None:
    text, entities = parse_html(
        '😀 <b>a<i>b</i></b> &lt;&#38;&gt; <a href="https://x.id/?a=1&amp;b=2">c</a>'
        ' <span class="tg-spoiler">s</span> <pre><code class="language-py">p</code></pre>'
    )
    assert text == "😀 ab <&> c s p"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 2},
        {"type": "italic", "offset": 4, "length": 1},
        {"type": "text_link", "offset": 10, "length": 1, "url": "https://x.id/?a=1&b=2"},
        {"type": "spoiler", "offset": 12, "length": 1},
        {"type": "pre", "offset": 14, "length": 1, "language": "py"},
    ]


async def test_empty_and_too_long_texts_are_rejected(api: LocalBotApi, bot: Bot) -> None:
    api.user(USER_ID)
    # the limit applies to the text after entity parsing
    await bot.send_message(USER_ID, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(USER_ID, "<b> </b>", parse_mode="HTML")


async def test_unknown_chat_and_blocked_user(api: LocalBotApi, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(424242, "halo")
    api.user(USER_ID)
    api.blocked_users.add(USER_ID)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(USER_ID, "halo")


@ignore_retry_after_deprecation
async def test_injected_faults(api: LocalBotApi, bot: Bot) -> None:
    api.user(USER_ID)
    api.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER_ID, "halo")
    assert caught.value.retry_after in (3, timedelta(seconds=3))
    assert api.calls("sendMessage")[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }

    api.fail_next(None, 500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="(?i)Internal Server Error"):
            await bot.send_message(USER_ID, "halo")
    api.fail_next(None, 502)
    with pytest.raises(NetworkError, match="(?i)Bad Gateway"):
        await bot.send_chat_action(USER_ID, "typing")
    assert (await bot.send_message(USER_ID, "akhirnya")).text == "akhirnya"
    assert [m.text for m in api.messages_to(USER_ID)] == ["akhirnya"]

    api.fault_hook = lambda method, params: (
        (400, {"ok": False, "error_code": 400, "description": "Bad Request: hooked"})
        if params.get("text") == "kena"
        else None
    )
    with pytest.raises(BadRequest, match="(?i)hooked"):
        await bot.send_message(USER_ID, "kena")


async def test_slow_and_late_answers(api: LocalBotApi) -> None:
    """Both come after the client's read timeout; a late one was carried out, a slow one not."""
    api.user(USER_ID)
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(api.token, base_url=api.base_url, request=request) as client:
        for kind, text in (("slow", "lambat"), ("late", "terlambat")):
            api.set_faults(FaultPlan(**{f"{kind}_rate": 1.0}, slow_seconds=0.6, limit=1))
            with pytest.raises(TimedOut):
                await client.send_message(USER_ID, text)
        api.clear_faults()
        assert (await client.send_message(USER_ID, "lagi")).text == "lagi"
    assert [m.text for m in api.messages_to(USER_ID)] == ["terlambat", "lagi"]
    held = [r for r in api.calls("sendMessage") if r.fault is not None]
    assert [(r.fault, r.status) for r in held] == [("slow", 0), ("late", 0)]  # never answered
    assert api.fault_counts["late"] == 1


async def test_the_answer_hook_is_told_of_every_answered_call(api: LocalBotApi, bot: Bot) -> None:
    api.user(USER_ID)
    told: list[tuple[str, int, object]] = []
    api.answer_hook = lambda method, params, status, body: told.append(
        (method, status, body["result"]["text"] if status == 200 else params.get("text")))
    api.fail_next("sendMessage", 502)
    with pytest.raises(NetworkError):
        await bot.send_message(USER_ID, "pertama")
    await bot.send_message(USER_ID, "kedua")
    assert [t for t in told if t[0] == "sendMessage"] == [
        ("sendMessage", 502, "pertama"), ("sendMessage", 200, "kedua")]


@ignore_retry_after_deprecation
async def test_rate_limits_answer_429(api: LocalBotApi, bot: Bot) -> None:
    api.user(USER_ID)
    api.user(USER_ID + 1)
    api.enforce_rate_limits(per_second=30, per_chat_per_second=1)
    await bot.send_message(USER_ID, "satu")
    await bot.send_message(USER_ID + 1, "chat lain")
    with pytest.raises(RetryAfter):
        await bot.send_message(USER_ID, "dua")


@ignore_retry_after_deprecation
async def test_a_429_for_one_chat_refuses_that_chat_only_until_its_retry_after(
    api: LocalBotApi, bot: Bot
) -> None:
    api.user(USER_ID)
    api.user(USER_ID + 1)
    api.fail_next("sendMessage", 429, chat_id=USER_ID, retry_after=2)
    await bot.send_message(USER_ID + 1, "chat lain dulu")  # not the chat of the fault
    with pytest.raises(RetryAfter) as first:
        await bot.send_message(USER_ID, "satu")
    assert first.value.retry_after in (2, timedelta(seconds=2))
    # Like Telegram: that chat stays refused, edits too, while the others are served.
    with pytest.raises(RetryAfter):
        await bot.send_message(USER_ID, "dua")
    assert (await bot.send_message(USER_ID + 1, "chat lain")).text == "chat lain"
    assert [m.text for m in api.messages_to(USER_ID)] == []

    async def delivered() -> bool:
        try:
            await bot.send_message(USER_ID, "tiga")
        except RetryAfter:
            return False
        return True

    await eventually(delivered, timeout=5)  # the refusal ends with its retry_after
    assert [m.text for m in api.messages_to(USER_ID)] == ["tiga"]
    assert api.fault_counts["429"] >= 2


async def test_wrong_token_and_unknown_method(api: LocalBotApi, bot: Bot) -> None:
    stranger = Bot("999:WRONG", base_url=api.base_url, base_file_url=api.base_file_url)
    with pytest.raises(InvalidToken):
        await stranger.initialize()
    await stranger.shutdown()
    assert api.requests[-1].status == 401
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    assert api.requests[-1].response == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_send_document_stores_upload_and_serves_it_back(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    content = b"kode,jumlah\n1401,12\n"
    sent = await bot.send_document(USER_ID, content, filename="rekap.csv", caption="Rekap")
    assert sent.document is not None and sent.document.file_name == "rekap.csv"
    stored = await user.next_message()
    assert (stored.kind, stored.file_name, stored.file_bytes, stored.text) == (
        "document",
        "rekap.csv",
        content,
        "Rekap",
    )
    upload = api.calls("sendDocument")[0].params["document"]
    assert upload.data == content

    again = await bot.send_document(USER_ID, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content


async def test_set_my_commands_per_scope(api: LocalBotApi, bot: Bot) -> None:
    scope = BotCommandScopeChat(USER_ID)
    await bot.set_my_commands([BotCommand("lapor", "Kirim laporan")], scope=scope)
    await bot.set_my_commands([BotCommand("start", "Mulai")])
    assert api.commands_for({"type": "chat", "chat_id": USER_ID}) == [
        {"command": "lapor", "description": "Kirim laporan"}
    ]
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["lapor"]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Lapor", "huruf besar")])


async def test_get_updates_parses_injected_updates(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID, "Andi", username="andi_pcl")
    await user.send("/lapor 1 2 3")
    await user.send_contact("+6281234567890")
    sent = await bot.send_message(USER_ID, "Pilih", reply_markup=keyboard(("Kirim", "send:7")))
    query_id = await user.press(await user.next_message(), "Kirim")

    command, contact, callback = await bot.get_updates()
    assert isinstance(command, Update) and command.message is not None
    assert command.message.text == "/lapor 1 2 3"
    assert command.message.entities[0].type == MessageEntityType.BOT_COMMAND
    assert command.message.entities[0].length == len("/lapor")
    assert command.message.from_user is not None
    assert command.message.from_user.username == "andi_pcl"
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.user_id == USER_ID
    assert callback.callback_query is not None
    assert callback.callback_query.id == query_id
    assert callback.callback_query.data == "send:7"
    assert callback.callback_query.message is not None
    assert callback.callback_query.message.message_id == sent.message_id

    await bot.answer_callback_query(query_id, "Terkirim", show_alert=True)
    assert await user.wait_answer(query_id) == {
        "callback_query_id": query_id,
        "text": "Terkirim",
        "show_alert": True,
    }
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query_id)


async def test_offset_confirms_and_drops_older_updates(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    for text in ("satu", "dua", "tiga"):
        await user.send(text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["satu", "dua"]
    assert [u.update_id for u in await bot.get_updates()] == [u.update_id for u in first] + [
        first[-1].update_id + 1
    ]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["tiga"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_duplicate_delivery_and_allowed_updates(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    await user.send("sekali")
    api.duplicate_next_delivery()
    (first,) = await bot.get_updates()
    (again,) = await bot.get_updates(offset=first.update_id + 1)
    assert again.update_id == first.update_id
    assert await bot.get_updates(offset=first.update_id + 1) == ()

    sent = await bot.send_message(USER_ID, "Pilih", reply_markup=keyboard(("A", "a")))
    await user.press(api.message(USER_ID, sent.message_id), "A")
    await user.send("teks")
    updates = await bot.get_updates(allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["teks"]
    assert all(u.callback_query is None for u in updates)


async def test_long_poll_returns_when_an_update_arrives(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    polling = asyncio.create_task(bot.get_updates(timeout=30))
    pending = await api.wait_request("getUpdates")
    assert pending.status == 0  # still long-polling
    await user.send("halo")
    (update,) = await asyncio.wait_for(polling, timeout=5)
    assert update.message is not None and update.message.text == "halo"


async def test_stop_ends_a_pending_long_poll() -> None:
    server = LocalBotApi()
    await server.start()
    client = Bot(server.token, base_url=server.base_url, base_file_url=server.base_file_url)
    polling = asyncio.create_task(client.get_updates(timeout=30))
    await server.wait_request("getUpdates")
    await asyncio.wait_for(server.stop(), timeout=5)
    assert await asyncio.wait_for(polling, timeout=5) == ()
    await client.shutdown()


async def test_group_messages(api: LocalBotApi, bot: Bot) -> None:
    group = api.group(-100123, "PCL Tebing Tinggi")
    andi = api.user(USER_ID, "Andi")
    await group.send(andi, f"/rekap@{api.bot_username}")
    (update,) = await bot.get_updates()
    assert update.effective_chat is not None and update.effective_chat.id == -100123
    assert update.message is not None and update.message.entities[0].length == len(
        f"/rekap@{api.bot_username}"
    )
    await bot.send_message(-100123, "Rekap grup")
    assert (await group.next_message()).text == "Rekap grup"
    assert api.messages_to(-100123)[0].text == "Rekap grup"
    assert andi.inbox == []


async def test_next_message_times_out_with_history(api: LocalBotApi, bot: Bot) -> None:
    user = api.user(USER_ID)
    await bot.send_message(USER_ID, "sudah dibaca")
    await user.next_message()
    with pytest.raises(AssertionError, match="(?i)sudah dibaca"):
        await user.next_message(timeout=0.05)


async def test_application_polls_and_answers_a_command(api: LocalBotApi) -> None:
    async def start(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_user is not None
        await update.effective_message.reply_text(f"Halo {update.effective_user.first_name}")

    app = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    user = api.user(USER_ID, "Sari")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=30)
        await user.send("/start")
        assert (await user.next_message()).text == "Halo Sari"
        await app.updater.stop()
        await app.stop()
    assert [r.method for r in api.requests[:2]] == ["getMe", "deleteWebhook"]



async def test_a_text_edit_comes_again_to_the_user_a_markup_edit_does_not(
    api: LocalBotApi, bot: Bot
) -> None:
    user = api.user(USER_ID)
    first = await bot.send_message(USER_ID, "Ringkasan", reply_markup=keyboard(("Kirim", "send")))
    await bot.send_message(USER_ID, "lain")
    assert (await user.next_message()).text == "Ringkasan"
    assert (await user.next_message()).text == "lain"
    await bot.edit_message_reply_markup(USER_ID, first.message_id, reply_markup=None)
    await bot.edit_message_text(
        "Ringkasan\n\nTersimpan", chat_id=USER_ID, message_id=first.message_id
    )
    again = await user.next_message()
    assert (again.message_id, again.text) == (first.message_id, "Ringkasan\n\nTersimpan")
    assert [m.text for m in api.messages_to(USER_ID)] == ["Ringkasan\n\nTersimpan", "lain"]


async def test_webhook_delivery_sends_the_secret_and_retries_until_the_bot_takes_it(
    api: LocalBotApi, bot: Bot
) -> None:
    from aiohttp import web

    from tests.support import eventually

    received: list[tuple[str | None, dict]] = []
    answers = [500, 200, 200]

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                         await request.json()))
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    user = api.user(USER_ID, "Sari")
    try:
        await user.send("sent before the webhook: kept")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret_-X",
                                     allowed_updates=["message"])
        await eventually(lambda: len(api.webhook_deliveries) == 2)
        assert [secret for secret, _ in received] == ["s3cret_-X", "s3cret_-X"]
        assert received[0][1] == received[1][1]  # the same update, again after the 500
        assert received[1][1]["message"]["text"] == "sent before the webhook: kept"
        assert [(d.status, d.ok) for d in api.webhook_deliveries] == [(500, False), (200, True)]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        with pytest.raises(Conflict):
            await bot.get_updates()

        await runner.cleanup()  # the bot is gone: the next update waits, retried
        await user.send("sent while the webhook is down")
        await eventually(lambda: any(d.status == 0 for d in api.webhook_deliveries))
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert "Connection failed" in (info.last_error_message or "")

        assert await bot.delete_webhook(drop_pending_updates=False)
        [update] = await bot.get_updates(timeout=0)
        assert update.message is not None
        assert update.message.text == "sent while the webhook is down"
    finally:
        await runner.cleanup()


async def test_a_webhook_needs_a_url_and_a_secret_telegram_accepts(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)https url"):
        await bot.set_webhook("ftp://example.org/hook")
    with pytest.raises(BadRequest, match="unallowed characters"):
        await bot.set_webhook("https://example.org/hook", secret_token="no spaces")
