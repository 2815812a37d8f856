"""`/kendala`: an officer reports a field problem; their PML is alerted at once.

Steps: category, SLS (skipped for officers without one), description, photo and/or location
(or Lewati), urgency, households to revisit (only for "responden tidak di rumah"), then a
summary with Kirim / Batal. A photo with a caption sent for the description is the photo and
the description at once and goes straight on to the urgency (a location is still taken up to
Kirim). The draft lives in `user_data` (persisted as JSON); whatever it still lacks decides
the next question. Buttons carry the draft's token, so a button from an earlier draft or step
is refused politely.
"""

from __future__ import annotations

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
from bot.messaging import problem_alerts
from bot.messaging.replies import say
from bot.present import problems as problem_view
from bot.rules import problems as rules
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
from db import areas as areas_repo
from db import officers
from db import problems as problems_repo
from db.models import CATEGORIES, REVISIT_CATEGORY, Area, ProblemModel

ASK_CATEGORY = "kendala_category"
ASK_SLS = "kendala_sls"
ASK_DESCRIPTION = "kendala_description"
ASK_ATTACHMENT = "kendala_attachment"
ASK_URGENCY = "kendala_urgency"
ASK_REVISIT = "kendala_revisit"
CONFIRM = "kendala_confirm"
END = ConversationHandler.END

DRAFT = "problem"
PREFIX = "kendala"
GENERAL = "-"  # the "Lainnya/umum" choice of SLS
# Which buttons belong to which step; anything else is a stale button.
_ACTIONS = {
    ASK_CATEGORY: {"cat"},
    ASK_SLS: {"sls"},
    ASK_ATTACHMENT: {"skip"},
    ASK_URGENCY: {"urg"},
    CONFIRM: {"send", "cancel"},
}


# --- draft helpers -----------------------------------------------------------------------


def _new_draft(context: BotContext) -> dict[str, Any]:
    return new_draft(context, DRAFT, {
        "category": None,
        "sls": None,
        "sls_done": False,
        "description": None,
        "photo": None,
        "location": None,  # [latitude, longitude]
        "attach_done": False,
        "urgent": None,
        "revisit": None,
    })


async def _areas(context: BotContext) -> list[Area]:
    context.require_officer()
    return await areas_repo.areas_of(context.db.conn, context.officer.officer_id)


def _preview(context: BotContext, draft: dict[str, Any], areas: list[Area]) -> ProblemModel:
    """The draft as a problem, to show it the way the supervisor will read it."""
    context.require_officer()
    now = context.clock.now()
    area = next((a for a in areas if a.sls_code == draft["sls"]), None)
    location = draft["location"] or [None, None]
    return ProblemModel(
        id=0, officer_id=context.officer.officer_id, officer_name=context.officer.name,
        officer_role=context.officer.role.value,
        category=draft["category"], sls_code=area.sls_code if area else None,
        sls_name=area.sls_name if area else None, description=draft["description"],
        photo_file_id=draft["photo"], latitude=location[0], longitude=location[1],
        urgent=bool(draft["urgent"]), revisit_households=draft["revisit"], status="open",
        created_at=now, updated_at=now,
    )


# --- questions ---------------------------------------------------------------------------


async def _ask_category(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    t = context.t
    rows = [[(t(f"problem_cat_{c}"), f"cat:{c}")] for c in CATEGORIES]
    await say(update, context, prefix + t("problem_ask_category"), keyboard(PREFIX, draft, rows))
    return ASK_CATEGORY


async def _ask_sls(
    update: Update, context: BotContext, draft: dict, areas: list[Area], prefix: str
) -> str:
    rows = [[(f"{a.sls_name} ({a.sls_code})", f"sls:{a.sls_code}")] for a in areas]
    rows.append([(context.t("problem_general"), f"sls:{GENERAL}")])
    await say(update, context, prefix + context.t("problem_ask_sls"), keyboard(PREFIX, draft, rows))
    return ASK_SLS


async def _ask_description(update: Update, context: BotContext, prefix: str) -> str:
    text = context.t("problem_ask_description", min=rules.DESCRIPTION_MIN_CHARS,
                     max=rules.DESCRIPTION_MAX_CHARS)
    await say(update, context, prefix + text)
    return ASK_DESCRIPTION


async def _ask_attachment(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    t = context.t
    have = [t("problem_item_photo")] if draft["photo"] else []
    have += [t("problem_item_location")] if draft["location"] else []
    if not have:
        text, button = t("problem_ask_attachment"), t("btn_skip")
    else:
        missing = t("problem_item_location") if draft["photo"] else t("problem_item_photo")
        text = t("problem_ask_attachment_more", items=", ".join(have), missing=missing)
        button = t("btn_problem_continue")
    await say(update, context, prefix + text, keyboard(PREFIX, draft, [[(button, "skip")]]))
    return ASK_ATTACHMENT


async def _ask_urgency(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    t = context.t
    rows = [[(t("problem_urgency_normal"), "urg:0"), (t("problem_urgency_urgent"), "urg:1")]]
    await say(update, context, prefix + t("problem_ask_urgency"), keyboard(PREFIX, draft, rows))
    return ASK_URGENCY


async def _ask_revisit(update: Update, context: BotContext, prefix: str) -> str:
    await say(update, context, prefix + context.t("problem_ask_revisit", max=rules.REVISIT_MAX))
    return ASK_REVISIT


async def _show_summary(
    update: Update, context: BotContext, draft: dict, areas: list[Area], prefix: str
) -> str:
    t = context.t
    problem = _preview(context, draft, areas)
    text = t("problem_summary", details=problem_view.details(
        problem, t, unit=problem_view.revisit_unit(context.form, t.language), preview=True))
    markup = keyboard(PREFIX, draft, [[(t("btn_send"), "send"), (t("btn_cancel"), "cancel")]])
    await say(update, context, prefix + text, markup)
    return CONFIRM


async def _next(update: Update, context: BotContext, prefix: str = "") -> str:
    """Ask for whatever the draft still lacks; the summary once it is complete."""
    draft = get_draft(context, DRAFT)
    assert draft is not None
    areas = await _areas(context)
    if not areas:
        draft["sls_done"] = True
    if draft["photo"] and draft["location"]:
        draft["attach_done"] = True
    if draft["category"] is None:
        step = await _ask_category(update, context, draft, prefix)
    elif not draft["sls_done"]:
        step = await _ask_sls(update, context, draft, areas, prefix)
    elif draft["description"] is None:
        step = await _ask_description(update, context, prefix)
    elif not draft["attach_done"]:
        step = await _ask_attachment(update, context, draft, prefix)
    elif draft["urgent"] is None:
        step = await _ask_urgency(update, context, draft, prefix)
    elif draft["category"] == REVISIT_CATEGORY and draft["revisit"] is None:
        step = await _ask_revisit(update, context, prefix)
    else:
        step = await _show_summary(update, context, draft, areas, prefix)
    draft["step"] = step
    return step


# --- accepting answers -------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> str | int:
    me = context.officer
    assert me is not None
    if await officers.get_officer(context.db.conn, me.officer_id) is None:
        await say(update, context, context.t("problem_not_on_roster"))  # an admin by setting
        return END
    _new_draft(context)
    return await _next(update, context)


async def on_description(update: Update, context: BotContext) -> str:
    draft = get_draft(context, DRAFT)
    assert draft is not None and update.effective_message is not None
    text = (update.effective_message.text or "").strip()
    refused = rules.check_description(text)
    if refused is not None:
        key, values = refused
        return await _next(update, context, context.t(key, **values) + "\n\n")
    draft["description"] = text
    return await _next(update, context)


async def on_photo_description(update: Update, context: BotContext) -> str:
    """A photo sent for the description: kept, and its caption is the description."""
    draft = get_draft(context, DRAFT)
    message = update.effective_message
    assert draft is not None and message is not None and message.photo
    draft["photo"] = message.photo[-1].file_id  # the largest size
    caption = (message.caption or "").strip()
    if not caption:  # the photo alone: the description is still asked
        return await _next(update, context)
    refused = rules.check_description(caption)
    if refused is not None:
        key, values = refused
        return await _next(update, context, context.t(key, **values) + "\n\n")
    draft["description"] = caption
    draft["attach_done"] = True  # photo and description at once: no attachment step
    return await _next(update, context, context.t("problem_photo_and_description") + "\n\n")


async def on_photo(update: Update, context: BotContext) -> str:
    draft = get_draft(context, DRAFT)
    message = update.effective_message
    assert draft is not None and message is not None and message.photo
    draft["photo"] = message.photo[-1].file_id  # the largest size
    return await _next(update, context)


async def on_location(update: Update, context: BotContext) -> str:
    """A location at the attachment step, or later up to Kirim (after a captioned photo there
    is no attachment step): kept, and the question asked again."""
    draft = get_draft(context, DRAFT)
    message = update.effective_message
    assert draft is not None and message is not None and message.location is not None
    late = draft["attach_done"]
    draft["location"] = [message.location.latitude, message.location.longitude]
    prefix = context.t("problem_location_received") + "\n\n" if late else ""
    return await _next(update, context, prefix)


async def on_revisit(update: Update, context: BotContext) -> str:
    draft = get_draft(context, DRAFT)
    assert draft is not None and update.effective_message is not None
    value = rules.parse_revisit(update.effective_message.text or "")
    if value is None:
        problem = context.t("problem_revisit_invalid", max=rules.REVISIT_MAX)
        return await _next(update, context, problem + "\n\n")
    draft["revisit"] = value
    return await _next(update, context)



# --- buttons -----------------------------------------------------------------------------


async def on_button(update: Update, context: BotContext) -> str | int | None:
    query = update.callback_query
    assert query is not None and query.data is not None
    button = pressed(context, DRAFT, query.data, _ACTIONS)
    if button is None:
        await refuse_stale(update, context)
        return None
    draft, action, arg = button
    if action == "send":
        return await _send(update, context, draft)
    await query.answer()
    await close_buttons(update)
    if action == "cat" and arg in CATEGORIES:
        draft["category"] = arg
    elif action == "sls":
        if arg == GENERAL:
            draft["sls"], draft["sls_done"] = None, True
        elif arg in {a.sls_code for a in await _areas(context)}:
            draft["sls"], draft["sls_done"] = arg, True
    elif action == "skip":
        draft["attach_done"] = True
    elif action == "urg" and arg in ("0", "1"):
        draft["urgent"] = arg == "1"
    elif action == "cancel":
        return await cancel(update, context)
    return await _next(update, context)


async def _send(update: Update, context: BotContext, draft: dict) -> str | int:
    query = update.callback_query
    me = context.officer
    assert query is not None and me is not None and update.effective_user is not None
    t = context.t
    token = f"{update.effective_user.id}:{draft['token']}"
    areas = await _areas(context)
    area = next((a for a in areas if a.sls_code == draft["sls"]), None)
    location = draft["location"] or [None, None]
    async with context.db.transaction() as conn:
        if await problems_repo.submission_saved(conn, token) is not None:
            problem = None
        else:
            problem = await problems_repo.create_problem(
                conn,
                officer_id=me.officer_id,
                category=draft["category"],
                sls_code=area.sls_code if area else None,
                desa_code=area.desa_code if area else me.desa_code,
                description=draft["description"],
                photo_file_id=draft["photo"],
                latitude=location[0],
                longitude=location[1],
                urgent=bool(draft["urgent"]),
                revisit_households=(
                    draft["revisit"] if draft["category"] == REVISIT_CATEGORY else None
                ),
                now=context.clock.now(),
                submission_token=token,
            )
    # Committed: only now is anyone told, the supervisors first. Their alerts go through the
    # retrying Sender; a failed answer to this press below must not cost them their alert.
    reached = None if problem is None else await problem_alerts.alert_new_problem(
        context.services, problem)
    await query.answer()
    await close_buttons(update)
    drop_draft(context, DRAFT)
    if problem is None:
        await say(update, context, t("problem_already_saved"))
        return END
    if reached:
        text = t("problem_saved_sent", id=problem.id, names=", ".join(o.name for o in reached))
    else:
        text = t("problem_saved", id=problem.id)
    await say(update, context, text)
    return END


cancel = canceller(DRAFT)


def build(tracker: FlowTracker) -> Flow:
    button = CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:")
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND
    location = MessageHandler(filters.LOCATION, on_location)
    return Flow(
        tracker,
        draft=DRAFT,
        entry_points=[CommandHandler(names("kendala"), start)],
        states={
            ASK_CATEGORY: [button, MessageHandler(other, reask(_next, "use_buttons"))],
            ASK_SLS: [button, MessageHandler(other, reask(_next, "use_buttons"))],
            ASK_DESCRIPTION: [MessageHandler(text, on_description),
                              MessageHandler(filters.PHOTO, on_photo_description),
                              MessageHandler(other, reask(_next, "problem_text_expected")),
                              button],
            ASK_ATTACHMENT: [button, MessageHandler(filters.PHOTO, on_photo),
                             location,
                             MessageHandler(other, reask(_next, "problem_attachment_expected"))],
            ASK_URGENCY: [button, location,
                          MessageHandler(other, reask(_next, "use_buttons"))],
            ASK_REVISIT: [MessageHandler(text, on_revisit), location,
                          MessageHandler(other, reask(_next, "problem_revisit_invalid",
                                                             max=rules.REVISIT_MAX)),
                          button],
            CONFIRM: [button, location, MessageHandler(other, reask(_next, "use_buttons"))],
        },
        fallbacks=[CommandHandler(names("batal"), cancel)],
        name="kendala",
        persistent=True,
        allow_reentry=True,
    )
