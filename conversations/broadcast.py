"""`/umumkan`: an announcement from a PML, KOSEKA or admin to the officers below them.

Steps: the audience (only those the caller's role allows; an admin choosing "one kecamatan"
then picks it), the text (optionally with a photo or document), then a preview with the exact
number of recipients where "now or later" is chosen: Kirim sekarang / Jadwalkan (which asks
the time and shows the preview again, with Kirim) / Batal. The draft lives in
`user_data` (JSON, persisted), so the flow survives a restart; whatever the draft still lacks
decides the next question. The recipients are computed from the roster on the server at
Kirim, never taken from what the client sends; delivery is the outbox's job
(bot/messaging/outbox.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.commands import names
from bot.context import BotContext
from bot.messaging.replies import say
from bot.present import announcements as announcement_view
from bot.present import formatting as fmt
from bot.present.texts import Raw
from bot.rules import announcements as rules
from bot.rules import audience as aud
from bot.rules.report import Problem
from conversations.drafts import (
    canceller,
    close_buttons,
    drop_draft,
    get_draft,
    keyboard,
    new_draft,
    pressed,
    reask,
    refuse_stale,
)
from conversations.flows import Flow, FlowTracker
from db import broadcasts as repo
from db import officers, wilayah
from db.models import Broadcast

log = logging.getLogger(__name__)

ASK_AUDIENCE = "ask_audience"
ASK_KECAMATAN = "ask_kecamatan"
ASK_TEXT = "ask_text"
ASK_TIME = "ask_time"
CONFIRM = "confirm"
END = ConversationHandler.END

DRAFT = "umumkan"
PREFIX = "umumkan"
LATER = "later"
# Which buttons belong to which step; anything else is a stale button.
_ACTIONS = {
    ASK_AUDIENCE: {"aud"},
    ASK_KECAMATAN: {"kec"},
    CONFIRM: {"send", "cancel", LATER},
}


# --- draft helpers -----------------------------------------------------------------------


def _new_draft(context: BotContext) -> dict[str, Any]:
    return new_draft(context, DRAFT, {
        "audience": None,
        "choosing_kecamatan": False,
        "text": None,
        "photo": None,
        "document": None,
        "when": None,  # LATER once Jadwalkan was pressed (None: now)
        "send_at": None,  # ISO, local time, when LATER
    })


async def _kecamatan_names(context: BotContext) -> dict[str, str]:
    return {k.code: k.name for k in await wilayah.list_kecamatan(context.db.conn, on_roster=True)}


def _has_media(draft: dict[str, Any]) -> bool:
    return draft["photo"] is not None or draft["document"] is not None


def _problem_text(context: BotContext, problem: Problem) -> str:
    """A refusal, with times and numbers written the user's way."""
    lang = context.t.language

    def local(value: object) -> object:
        if isinstance(value, datetime):
            return announcement_view.when_text(value, context.zone, lang)
        return fmt.number(value, lang) if isinstance(value, int) else value

    return context.t(problem.key, **{k: local(v) for k, v in problem.args.items()})


async def _resolve(context: BotContext, audience: str) -> aud.Audience | None:
    context.require_officer()
    conn = context.db.conn
    roster = await officers.list_officers(conn, active_only=False)
    codes = await _kecamatan_names(context)
    return aud.resolve(context.officer, audience, roster, codes)


# --- questions ---------------------------------------------------------------------------


async def _ask_audience(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    context.require_officer()
    t = context.t
    rows = [[(t("bc_aud_kec_choice") if c == aud.KECAMATAN_CHOICE
              else announcement_view.audience_label(t, c, {}), f"aud:{c}")]
            for c in aud.choices_for(context.officer)]
    await say(update, context, prefix + t("bc_ask_audience"), keyboard(PREFIX, draft, rows))
    return ASK_AUDIENCE


async def _ask_kecamatan(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    kecamatan = await wilayah.list_kecamatan(context.db.conn, on_roster=True)
    rows = [[(k.name, f"kec:{k.code}")] for k in kecamatan]
    await say(
        update, context, prefix + context.t("bc_ask_kecamatan"), keyboard(PREFIX, draft, rows)
    )
    return ASK_KECAMATAN


async def _ask_text(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    t = context.t
    limit = rules.text_limit(_has_media(draft))
    if _has_media(draft):
        text = t("bc_ask_text_for_media", max=fmt.number(limit, t.language))
    else:
        names = await _kecamatan_names(context)
        label = announcement_view.audience_label(t, draft["audience"], names)
        text = t("bc_ask_text", audience=label, max=fmt.number(limit, t.language))
    await say(update, context, prefix + text)
    return ASK_TEXT


async def _ask_time(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    await say(update, context, prefix + context.t("bc_ask_time"))
    return ASK_TIME


def _announcement(context: BotContext, draft: dict) -> str:
    context.require_officer()
    return announcement_view.announcement_text(context.t, sender_name=context.officer.name,
                                   sender_role=context.officer.role.value, text=draft["text"])


async def _show_preview(update: Update, context: BotContext, draft: dict, prefix: str) -> int | str:
    t, lang = context.t, context.t.language
    audience = await _resolve(context, draft["audience"])
    if audience is None:  # the role changed since the question: start again
        drop_draft(context, DRAFT)
        await say(update, context, t("not_allowed"))
        return END
    if not audience.recipients:
        drop_draft(context, DRAFT)
        await say(update, context, prefix + t("bc_no_recipients",
                                               unlinked=fmt.number(len(audience.unlinked), lang)))
        return END
    unlinked = ""
    if audience.unlinked:
        unlinked = t("bc_preview_unlinked", count=fmt.number(len(audience.unlinked), lang))
    later = draft["when"] == LATER
    when = announcement_view.when_text(
        datetime.fromisoformat(draft["send_at"]), context.zone, lang
    ) if later else t("bc_when_now")
    summary = t(
        "bc_preview",
        audience=announcement_view.audience_label(
            t, draft["audience"], await _kecamatan_names(context)
        ),
        count=fmt.number(len(audience.recipients), lang),
        unlinked=Raw(unlinked),
        when=when,
    )
    if context.settings.broadcast_paid:
        summary += "\n" + announcement_view.paid_cost(t, len(audience.recipients))
    # Now or later is chosen here: Kirim sekarang sends, Jadwalkan asks the time first.
    send = [(t("bc_btn_send"), "send"), (t("bc_btn_other_time"), LATER)] if later else [
        (t("bc_btn_now"), "send"), (t("bc_btn_schedule"), LATER)]
    markup = keyboard(PREFIX, draft, [send, [(t("bc_btn_cancel"), "cancel")]])
    body = _announcement(context, draft)
    chat = update.effective_chat
    assert chat is not None
    if draft["photo"] is not None:
        await context.bot.send_photo(chat.id, draft["photo"], caption=body, parse_mode="HTML")
    elif draft["document"] is not None:
        await context.bot.send_document(chat.id, draft["document"], caption=body,
                                        parse_mode="HTML")
    else:
        summary = summary + "\n\n" + body
    await say(update, context, prefix + summary, markup)
    return CONFIRM


async def _next(update: Update, context: BotContext, prefix: str = "") -> int | str:
    """Ask for whatever the draft still lacks; the preview once it is complete."""
    context.require_officer()
    draft = get_draft(context, DRAFT)
    assert draft is not None
    if draft["audience"] is None:
        choices = aud.choices_for(context.officer)
        if len(choices) == 1 and choices[0] != aud.KECAMATAN_CHOICE:
            draft["audience"] = choices[0]  # a PML has only their team: no question
            return await _next(update, context, prefix)
        if draft["choosing_kecamatan"]:
            step = await _ask_kecamatan(update, context, draft, prefix)
        else:
            step = await _ask_audience(update, context, draft, prefix)
    elif draft["text"] is None:
        step = await _ask_text(update, context, draft, prefix)
    elif draft["when"] == LATER and draft["send_at"] is None:
        step = await _ask_time(update, context, draft, prefix)
    else:
        step = await _show_preview(update, context, draft, prefix)
    if step != END:
        draft["step"] = step
    return step


# --- entry and answers -------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> int | str:
    officer = context.require_officer()
    if not aud.may_broadcast(officer):
        drop_draft(context, DRAFT)
        await say(update, context, context.t("bc_not_allowed"))
        return END
    _new_draft(context)
    return await _next(update, context)


async def on_text(update: Update, context: BotContext) -> int | str:
    draft = get_draft(context, DRAFT)
    assert draft is not None and update.effective_message is not None
    text = update.effective_message.text or ""
    problem = rules.check_text(text, with_media=_has_media(draft))
    if problem is not None:
        return await _next(update, context, _problem_text(context, problem) + "\n\n")
    draft["text"] = text.strip()
    return await _next(update, context)


async def on_media(update: Update, context: BotContext) -> int | str:
    draft = get_draft(context, DRAFT)
    message = update.effective_message
    assert draft is not None and message is not None
    if message.photo:
        draft["photo"], draft["document"] = message.photo[-1].file_id, None
    elif message.document is not None:
        draft["photo"], draft["document"] = None, message.document.file_id
    caption = message.caption or ""
    if not caption.strip():
        return await _next(update, context)  # asks for the text of the attachment
    problem = rules.check_text(caption, with_media=True)
    if problem is not None:
        return await _next(update, context, _problem_text(context, problem) + "\n\n")
    draft["text"] = caption.strip()
    return await _next(update, context)


async def on_time_text(update: Update, context: BotContext) -> int | str:
    draft = get_draft(context, DRAFT)
    assert draft is not None and update.effective_message is not None
    parsed = rules.parse_send_at(update.effective_message.text or "", context.now())
    if isinstance(parsed, Problem):
        return await _next(update, context, _problem_text(context, parsed) + "\n\n")
    draft["send_at"] = parsed.isoformat()
    return await _next(update, context)



async def on_button(update: Update, context: BotContext) -> int | str | None:
    query = update.callback_query
    context.require_officer()
    assert query is not None and query.data is not None
    button = pressed(context, DRAFT, query.data, _ACTIONS)
    if button is None:
        await refuse_stale(update, context)
        return None
    draft, action, arg = button
    if action == "send":
        return await _send(update, context, draft)
    if action == "aud" and arg not in aud.choices_for(context.officer):
        await query.answer(context.t("not_allowed"), show_alert=True)
        return None
    await query.answer()
    await close_buttons(update)
    if action == "aud":
        if arg == aud.KECAMATAN_CHOICE:
            draft["choosing_kecamatan"] = True
        else:
            draft["audience"] = arg
    elif action == "kec":
        audience = f"{aud.KECAMATAN_PREFIX}{arg}"
        if aud.is_allowed(context.officer, audience, await _kecamatan_names(context)):
            draft["audience"] = audience
    elif action == LATER:
        draft["when"], draft["send_at"] = LATER, None
    elif action == "cancel":
        return await cancel(update, context)
    return await _next(update, context)


async def _send(update: Update, context: BotContext, draft: dict) -> int | str | None:
    query = update.callback_query
    me = context.officer
    chat = update.effective_chat
    assert query is not None and me is not None and chat is not None
    assert update.effective_user is not None
    t = context.t
    now = context.now()  # in the sender's zone: what they read is their time
    send_at = now if draft["when"] != LATER else datetime.fromisoformat(draft["send_at"])
    if send_at < now:  # the preview waited past the chosen time: ask for a new one
        await query.answer()
        await close_buttons(update)
        draft["send_at"] = None
        problem = Problem("bc_time_past", {"when": send_at})
        return await _next(update, context, _problem_text(context, problem) + "\n\n")
    audience = await _resolve(context, draft["audience"])
    token = f"{update.effective_user.id}:{draft['token']}"
    created = None
    if audience is not None and audience.recipients:
        async with context.db.transaction() as conn:
            created = await repo.create_broadcast(
                conn, sender=me, sender_chat_id=chat.id, audience=draft["audience"],
                text=draft["text"], photo_id=draft["photo"], document_id=draft["document"],
                send_at=send_at, recipients=audience.recipients,
                unlinked_count=len(audience.unlinked), now=now, draft_token=token,
                bot=context.services.scope.bot or None,
            )
    if created is not None:  # committed: from here on, nothing may ask for it again
        drop_draft(context, DRAFT)
        if context.services.outbox is not None:
            context.services.outbox.wake(created.id)
        try:
            await query.answer()
            await close_buttons(update)
            await _show_report(context, chat.id, created, now)
        except Exception:
            # Telling the sender to try again would make a second announcement: they are told
            # it is stored, and /pengumuman shows how its delivery goes.
            log.exception("announcement %s is stored; its delivery report was not shown",
                          created.id)
            await _tell_stored(update, context, created.id)
        return END
    await query.answer()
    await close_buttons(update)
    drop_draft(context, DRAFT)
    if audience is None or not audience.recipients:  # the roster changed since the preview
        unlinked = len(audience.unlinked) if audience is not None else 0
        await say(update, context, t("bc_no_recipients", unlinked=unlinked))
        return END
    await say(update, context, t("bc_already_created"))
    return END


async def _show_report(
    context: BotContext, chat_id: int, created: Broadcast, now: datetime
) -> None:
    """The delivery report message, remembered so that the outbox can edit it."""
    t = context.t
    counts = await repo.counts(context.db.conn, created.id)
    label = announcement_view.audience_label(t, created.audience, await _kecamatan_names(context))
    report = await context.bot.send_message(
        chat_id, announcement_view.report_text(t, created, counts, now, label), parse_mode="HTML"
    )
    async with context.db.transaction() as conn:
        await repo.set_report_message(conn, created.id, report.message_id)
    if context.services.outbox is not None:
        context.services.outbox.wake(created.id)  # to edit it from now on


async def _tell_stored(update: Update, context: BotContext, broadcast_id: int) -> None:
    try:
        await say(update, context, context.t("bc_stored_report_failed", id=broadcast_id))
    except Exception:  # the network is down: the log has it, the announcement goes out
        log.warning("could not tell the sender that announcement %s is stored", broadcast_id,
                    exc_info=True)


cancel = canceller(DRAFT, "bc_cancelled")


def build(tracker: FlowTracker) -> Flow:
    button = CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:")
    text = filters.TEXT & ~filters.COMMAND
    media = filters.PHOTO | filters.Document.ALL
    other = ~filters.COMMAND
    return Flow(
        tracker,
        draft=DRAFT,
        entry_points=[CommandHandler(names("umumkan"), start)],
        states={
            ASK_AUDIENCE: [button, MessageHandler(other, reask(_next, "use_buttons"))],
            ASK_KECAMATAN: [button, MessageHandler(other, reask(_next, "use_buttons"))],
            ASK_TEXT: [MessageHandler(text, on_text), MessageHandler(media, on_media),
                       MessageHandler(other, reask(_next, "bc_text_expected")), button],
            ASK_TIME: [MessageHandler(text, on_time_text),
                       MessageHandler(other, reask(_next, "bc_bad_time")), button],
            CONFIRM: [button, MessageHandler(other, reask(_next, "use_buttons"))],
        },
        fallbacks=[CommandHandler(names("batal"), cancel)],
        name="umumkan",
        persistent=True,
        allow_reentry=True,
    )
