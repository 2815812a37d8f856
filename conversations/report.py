"""`/lapor`: the daily report of a field officer (PPL).

The report is for today: `/lapor` (or the reminder's "Lapor sekarang") asks the SLS (skipped
with one SLS) and each form field, then shows a summary with Kirim, "Ubah tanggal" (a late
catch-up: yesterday or a typed date), "➕ Catatan" (the optional note), Ubah and Batal. A
guided report is `/lapor`, the numbers and Kirim. The draft lives in `user_data` (persisted),
so the flow survives a restart. Whatever is missing from the draft decides the next question,
which also makes "Ubah" simple: forget one part and ask again.
`/lapor 12 14 51` fills the numbers in one message and goes straight to the summary.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.clock import from_real
from bot.commands import names
from bot.context import BotContext
from bot.messaging.replies import say
from bot.present import form_text
from bot.present import formatting as fmt
from bot.present.texts import Raw
from bot.rules.progress import total_progress
from bot.rules.report import (
    NOTE_MAX_CHARS,
    Problem,
    check_report_date,
    check_rules,
    is_implausible,
    offered_dates,
    parse_count,
    parse_date,
)
from conversations.drafts import (
    canceller,
    close_buttons,
    conclude,
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
from db import progress as progress_repo
from db import reports
from db.connection import WRITE_ERRORS
from db.models import Area, Role

log = logging.getLogger(__name__)

ASK_DATE = "ask_date"
ASK_SLS = "ask_sls"
ASK_VALUE = "ask_value"
CONFIRM_VALUE = "confirm_value"
ASK_NOTE = "ask_note"
CONFIRM = "confirm"
END = ConversationHandler.END

DRAFT = "report"
PREFIX = "lapor"
# Which buttons belong to which step; anything else is a stale button.
_ACTIONS = {
    ASK_DATE: {"date"},
    ASK_SLS: {"sls"},
    ASK_VALUE: {"rulefix"},
    CONFIRM_VALUE: {"ok", "fix"},
    ASK_NOTE: {"back"},
    CONFIRM: {"send", "edit", "cancel", "editf", "back", "note"},
}


# --- draft helpers -----------------------------------------------------------------------


def _new_draft(context: BotContext) -> dict[str, Any]:
    return new_draft(context, DRAFT, {
        "date": None,
        "sls": None,
        "values": {},
        "note": None,
        "asking_note": False,
        "pending": None,
    })


def _problem_text(context: BotContext, problem: Problem) -> str:
    return context.t(problem.key, **problem.args)


def _count_problem(context: BotContext, key: str, problem: Problem) -> str:
    """The text of a refused number, with the field's unit filled in."""
    unit = context.form.field(key).unit(context.t.language)
    return _problem_text(context, Problem(problem.key, {**problem.args, "unit": unit}))


def _dates(context: BotContext) -> tuple[date, date, date]:
    s = context.settings
    return context.clock.today(), s.period_start, s.period_end


def _sent_day(update: Update, context: BotContext) -> date:
    """The day the officer sent the message, in the deployment's time zone: a message sent at
    23:59 and handled after midnight (a queue, a restart) belongs to the day it was written."""
    now = context.clock.now()
    message = update.effective_message
    if message is None or message.date is None:
        return now.date()
    sent = min(from_real(context.clock, message.date), now)  # never ahead of the bot's clock
    return sent.astimezone(context.settings.tz).date()


def _as_of(context: BotContext, draft: dict) -> date:
    """The day a report of this draft is late against: the day the fast path's message was
    sent, else today."""
    as_of = draft.get("as_of")
    return date.fromisoformat(as_of) if as_of else context.clock.today()


async def _areas(context: BotContext) -> list[Area]:
    """The officer's SLS, read once per update (several steps of one answer need them)."""
    officer = context.require_officer()
    cached = context.per_update.get("areas")
    if cached is None:
        cached = await areas_repo.areas_of(context.db.conn, officer.officer_id)
        context.per_update["areas"] = cached
    return cached


# --- questions ---------------------------------------------------------------------------


async def _ask_date(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    t, lang = context.t, context.t.language
    today, start, end = _dates(context)
    buttons = [
        (t("btn_today" if d == today else "btn_yesterday", day=fmt.short_day(d, lang)),
         f"date:{d.isoformat()}")
        for d in offered_dates(today, start, end)
    ]
    await say(
        update, context, prefix + t("ask_date"),
        keyboard(PREFIX, draft, [buttons]) if buttons else None,
    )
    return ASK_DATE


async def _ask_sls(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    rows = [[(f"{a.sls_name} ({a.sls_code})", f"sls:{a.sls_code}")] for a in await _areas(context)]
    await say(update, context, prefix + context.t("ask_sls"), keyboard(PREFIX, draft, rows))
    return ASK_SLS


def _when(context: BotContext, draft: dict) -> str:
    """The day the numbers are about, as the questions name it: "hari ini" or "pada Minggu,
    16 Okt" (a late report never asks about "hari ini")."""
    t = context.t
    day = date.fromisoformat(draft["date"])
    if day == _as_of(context, draft):
        return t("when_today")
    return t("when_day", day=fmt.short_day(day, t.language))


async def _ask_value(
    update: Update, context: BotContext, draft: dict, key: str, prefix: str
) -> str:
    lang = context.t.language
    spec = context.form.field(key)
    text = context.t("ask_value", unit=spec.unit(lang), when=_when(context, draft),
                     min=spec.min, max=spec.max)
    await say(update, context, prefix + text, _rule_fix_markup(context, draft, key))
    return ASK_VALUE


# --- a broken cross-field rule: either number may be the wrong one ------------------------


def _rule_fix_markup(
    context: BotContext, draft: dict, key: str
) -> InlineKeyboardMarkup | None:
    """ "Ubah jiwa (13)" / "Ubah keluarga (14)" under the question of a number that broke a
    cross-field rule (`draft["rule"]`): the officer corrects whichever of the two is wrong."""
    broken = draft.get("rule")
    if not broken or broken["key"] != key:
        return None
    lang = context.t.language
    shown = {key: broken["value"], broken["other"]: draft["values"][broken["other"]]}
    buttons = [
        (context.t("btn_fix_field", unit=context.form.field(k).unit(lang),
                   value=fmt.number(v, lang)), f"rulefix:{k}")
        for k, v in shown.items()
    ]
    return keyboard(PREFIX, draft, [buttons])


def _note_broken_rule(context: BotContext, draft: dict, key: str, value: int) -> None:
    """Remember the number that broke a rule and the other number of that rule."""
    rule = context.form.broken_rule({**draft["values"], key: value})
    draft["rule"] = None
    if rule is not None:
        other = next(k for k in rule.greater_or_equal if k != key)
        if other in draft["values"]:
            draft["rule"] = {"key": key, "value": value, "other": other}


def _fix_rule(context: BotContext, draft: dict, field: str) -> None:
    """The officer chose which number of a broken rule to correct: the one just typed is asked
    again; or the other one is, the one just typed kept meanwhile (checked again with it)."""
    broken = draft.pop("rule", None)
    if broken is None or field != broken["other"] or field not in draft["values"]:
        return  # the number just typed: asked again as it is
    draft["values"][broken["key"]] = broken["value"]
    draft["values"].pop(field)


async def _ask_confirm_value(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    t, lang = context.t, context.t.language
    pending = draft["pending"]
    spec = context.form.field(pending["key"])
    text = t("implausible", value=fmt.number(pending["value"], lang), unit=spec.unit(lang),
             usual=fmt.whole(pending["usual"], lang))
    await say(update, context, prefix + text,
               keyboard(PREFIX, draft, [[(t("btn_yes_correct"), "ok"), (t("btn_fix"), "fix")]]))
    return CONFIRM_VALUE


async def _ask_note(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    await say(update, context, prefix + context.t("ask_note", max=NOTE_MAX_CHARS),
               keyboard(PREFIX, draft, [[(context.t("btn_back"), "back")]]))
    return ASK_NOTE


def _values_text(context: BotContext, values: dict[str, int]) -> str:
    """ "<b>12</b> ruta, <b>14</b> keluarga, <b>51</b> jiwa": every field with its unit."""
    return form_text.values_text(context.form, values, context.t.language)


def fast_example(context: BotContext) -> tuple[str, str]:
    """The fast path's example, the same everywhere (`/lapor 12 14 51`), and which number is
    which ("12 ruta, 14 keluarga, 51 jiwa")."""
    return form_text.fast_example(context.form, context.t.language)


async def _show_summary(update: Update, context: BotContext, draft: dict, prefix: str) -> str:
    t, lang = context.t, context.t.language
    context.require_officer()
    report_date = date.fromisoformat(draft["date"])
    existing = await reports.get_report(
        context.db.conn, context.officer.officer_id, report_date, draft["sls"]
    )
    draft["replaces"] = existing.revision if existing else None
    area = next((a for a in await _areas(context) if a.sls_code == draft["sls"]), None)
    text = t(
        "summary",
        day=fmt.day(report_date, lang),
        late=t("late_flag") if report_date < _as_of(context, draft) else "",
        sls=f"{area.sls_name} ({area.sls_code})" if area else draft["sls"],
        values=Raw(_values_text(context, draft["values"])),
        note=draft["note"] or "-",
    )
    send_label = "btn_send"
    if existing is not None:
        progress = context.form.progress_field
        unit = context.form.field(progress).unit(lang)
        text += t(
            "replace_warning", day=fmt.short_day(report_date, lang),
            old=f"{fmt.number(existing.progress_value, lang)} {unit}",
            new=f"{fmt.number(draft['values'][progress], lang)} {unit}",
        )
        send_label = "btn_replace"
    markup = keyboard(PREFIX, draft, [
        [(t(send_label), "send")],
        [(t("btn_change_date"), "editf:date"), (t("btn_note"), "note")],
        [(t("btn_edit"), "edit"), (t("btn_cancel"), "cancel")],
    ])
    await say(update, context, prefix + text, markup)
    return CONFIRM


async def _next(update: Update, context: BotContext, prefix: str = "") -> str:
    """Ask for whatever the draft still lacks; the summary once it is complete."""
    draft = get_draft(context, DRAFT)
    assert draft is not None
    if draft["pending"] is not None:
        step = await _ask_confirm_value(update, context, draft, prefix)
    elif draft["date"] is None:
        step = await _ask_date(update, context, draft, prefix)
    elif draft["sls"] is None:
        areas = await _areas(context)
        if len(areas) == 1:
            draft["sls"] = areas[0].sls_code
            return await _next(update, context, prefix)
        step = await _ask_sls(update, context, draft, prefix)
    elif missing := [k for k in context.form.keys if k not in draft["values"]]:
        step = await _ask_value(update, context, draft, missing[0], prefix)
    elif draft.get("asking_note"):
        step = await _ask_note(update, context, draft, prefix)
    else:
        step = await _show_summary(update, context, draft, prefix)
    draft["step"] = step
    return step


# --- accepting answers -------------------------------------------------------------------


async def _accept_value(
    update: Update, context: BotContext, draft: dict, key: str, value: int
) -> Problem | None:
    """Put a number in the draft, or park it for confirmation when it is implausible."""
    problem = check_rules(context.form, {**draft["values"], key: value}, context.t.language)
    if problem is not None:
        return problem
    if key == context.form.progress_field:
        context.require_officer()
        history = await reports.daily_totals(
            context.db.conn, context.officer.officer_id, before=date.fromisoformat(draft["date"])
        )
        usual = is_implausible(value, history, context.settings.implausible_factor)
        if usual is not None:
            draft["pending"] = {"key": key, "value": value, "usual": usual}
            return None
    draft["values"][key] = value
    return None


async def start_report(update: Update, context: BotContext) -> str:
    officer = context.require_officer()
    t = context.t
    if update.callback_query is not None:
        await update.callback_query.answer()
    if officer.role != Role.PPL:
        await say(update, context, t("report_ppl_only"))
        return END
    today, start, end = _dates(context)
    if today < start:
        await say(update, context, t("report_before_period", start=fmt.day(start, t.language)))
        return END
    if not await _areas(context):
        await say(update, context, t("report_no_area"))
        return END
    if context.args:
        return await _fast_path(update, context, _new_draft(context), context.args)
    if get_draft(context, DRAFT) is not None:  # set aside by another flow, or idle too long
        return await _next(update, context, t("report_resumed") + "\n\n")
    draft = _new_draft(context)
    if check_report_date(today, today, start, end) is None:  # today; "Ubah tanggal" for another
        draft["date"] = today.isoformat()
    return await _next(update, context)


async def _fast_path(update: Update, context: BotContext, draft: dict, args: list[str]) -> str:
    t, lang, form = context.t, context.t.language, context.form
    example, meaning = fast_example(context)
    usage = t("fast_usage", keys=" ".join(f.unit(lang) for f in form.fields),
              example=example, meaning=meaning)
    if len(args) != len(form.fields):
        drop_draft(context, DRAFT)
        await say(update, context, usage)
        return END
    values: dict[str, int] = {}
    for spec, arg in zip(form.fields, args, strict=True):
        parsed = parse_count(arg, spec)
        if isinstance(parsed, Problem):
            drop_draft(context, DRAFT)
            problem = t("fast_problem", label=spec.label(lang),
                        problem=Raw(_count_problem(context, spec.key, parsed)))
            await say(update, context, problem + "\n" + usage)
            return END
        values[spec.key] = parsed
    today, start, end = _dates(context)
    sent = _sent_day(update, context)  # the report's day, and the day it is late against
    date_problem = check_report_date(sent, today, start, end)
    problem = date_problem or check_rules(form, values, lang)
    if problem is not None:
        drop_draft(context, DRAFT)
        await say(update, context, _problem_text(context, _localise(context, problem)))
        return END
    draft["date"] = draft["as_of"] = sent.isoformat()
    progress_key = form.progress_field
    draft["values"] = {k: v for k, v in values.items() if k != progress_key}
    await _accept_value(update, context, draft, progress_key, values[progress_key])
    return await _next(update, context)


def _localise(context: BotContext, problem: Problem) -> Problem:
    """Dates in a problem's arguments, written the user's way."""
    args = {
        k: fmt.day(v, context.t.language) if isinstance(v, date) else v
        for k, v in problem.args.items()
    }
    return Problem(problem.key, args)


async def on_date_text(update: Update, context: BotContext) -> str:
    draft = get_draft(context, DRAFT)
    assert draft is not None and update.effective_message is not None
    today, start, end = _dates(context)
    value = parse_date(update.effective_message.text or "", today)
    if value is None:
        return await _next(update, context, context.t("bad_date") + "\n\n")
    problem = check_report_date(value, today, start, end)
    if problem is not None:
        return await _next(
            update, context, _problem_text(context, _localise(context, problem)) + "\n\n"
        )
    draft["date"] = value.isoformat()
    return await _next(update, context)


async def on_value_text(update: Update, context: BotContext) -> str:
    draft = get_draft(context, DRAFT)
    assert draft is not None and update.effective_message is not None
    key = next(k for k in context.form.keys if k not in draft["values"])
    parsed = parse_count(update.effective_message.text or "", context.form.field(key))
    if isinstance(parsed, Problem):
        return await _next(update, context, _count_problem(context, key, parsed) + "\n\n")
    problem = await _accept_value(update, context, draft, key, parsed)
    prefix = ""
    if problem is not None:
        _note_broken_rule(context, draft, key, parsed)
        prefix = _problem_text(context, problem) + "\n\n"
        if draft.get("rule"):
            lang = context.t.language
            prefix += context.t("rule_fix_hint", unit=context.form.field(key).unit(lang),
                                other=context.form.field(draft["rule"]["other"]).unit(lang))
            prefix += "\n\n"
    else:
        draft["rule"] = None
    return await _next(update, context, prefix)


async def on_note_text(update: Update, context: BotContext) -> str:
    draft = get_draft(context, DRAFT)
    assert draft is not None and update.effective_message is not None
    note = (update.effective_message.text or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        return await _next(update, context, context.t("note_too_long", max=NOTE_MAX_CHARS) + "\n\n")
    draft["note"] = note or None
    draft["asking_note"] = False
    return await _next(update, context)



# --- buttons -----------------------------------------------------------------------------


async def on_button(update: Update, context: BotContext) -> str | None:
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
    if action == "date":
        today, start, end = _dates(context)
        try:
            value = date.fromisoformat(arg)
        except ValueError:  # not a date of our buttons (altered data): ask again
            value = None
        if value is None or check_report_date(value, today, start, end) is not None:
            draft["date"] = None
        else:
            draft["date"] = value.isoformat()
    elif action == "sls":
        if arg in {a.sls_code for a in await _areas(context)}:
            draft["sls"] = arg
    elif action == "ok":
        pending = draft["pending"]
        draft["values"][pending["key"]] = pending["value"]
        draft["pending"] = None
    elif action == "fix":
        draft["pending"] = None
    elif action == "note":
        draft["asking_note"] = True
    elif action == "back":
        draft["asking_note"] = False
    elif action == "cancel":
        return await cancel(update, context)
    elif action == "edit":
        return await _ask_edit(update, context, draft)
    elif action == "editf":
        _forget(context, draft, arg)
    elif action == "rulefix":
        _fix_rule(context, draft, arg)
    return await _next(update, context)


async def _ask_edit(update: Update, context: BotContext, draft: dict) -> str:
    t, lang = context.t, context.t.language
    rows = [[(t("edit_date"), "editf:date")]]
    if len(await _areas(context)) > 1:
        rows.append([(t("edit_sls"), "editf:sls")])
    rows += [[(f.label(lang), f"editf:{f.key}")] for f in context.form.fields]
    rows += [[(t("edit_note"), "editf:note")], [(t("btn_back"), "back")]]
    await say(update, context, t("ask_edit"), keyboard(PREFIX, draft, rows))
    return CONFIRM


def _forget(context: BotContext, draft: dict, part: str) -> None:
    if part in ("date", "sls"):
        draft[part] = None
    elif part == "note":
        draft["asking_note"] = True
    elif part in context.form.keys:
        draft["values"].pop(part, None)


async def _send(update: Update, context: BotContext, draft: dict) -> str | None:
    query = update.callback_query
    officer = context.require_officer()
    assert query is not None and update.effective_user is not None
    t, lang = context.t, context.t.language
    report_date = date.fromisoformat(draft["date"])
    token = f"{update.effective_user.id}:{draft['token']}"
    try:
        async with context.db.statement() as conn:
            saved = await reports.save_report(
                conn,
                officer_id=officer.officer_id,
                report_date=report_date,
                sls_code=draft["sls"],
                values=draft["values"],
                progress_value=draft["values"][context.form.progress_field],
                note=draft["note"],
                late=report_date < _as_of(context, draft),
                now=context.clock.now(),
                telegram_user_id=update.effective_user.id,
                submission_token=token,
                replaces=draft.get("replaces"),
            )
    except WRITE_ERRORS:
        # Nothing was stored (disk full, I/O error, busy: rolled back). The officer reads so;
        # the draft and the summary with its Kirim button stay, to be pressed again.
        log.exception("report of %s not saved", officer.officer_id)
        await query.answer()
        await say(update, context, t("report_not_saved"))
        return None
    # Not saved: this draft was saved before (a second press), or the report changed since.
    already = saved is None and await reports.submission_saved(context.db.conn, token)
    await query.answer()
    if not already and saved is None:  # changed since the summary was shown: show it again
        await close_buttons(update)
        return await _next(update, context)
    drop_draft(context, DRAFT)
    if saved is None:
        await close_buttons(update)
        await say(update, context, t("already_saved"))
        return END
    context.services.metrics.report_stored()
    # Committed: only now is the officer told, under the summary they confirmed.
    rows = await progress_repo.area_progress(context.db.conn, officer_ids=[officer.officer_id])
    total = total_progress(rows)
    unit = context.form.field(context.form.progress_field).unit(lang)
    await conclude(update, context, t(
        "saved_replaced" if saved.replaced else "saved",
        done=fmt.number(total.done, lang), target=fmt.number(total.target, lang), unit=unit,
        percent=fmt.percent(total.done, total.target, lang),
    ))
    return END


cancel = canceller(DRAFT)


def build(tracker: FlowTracker) -> Flow:
    button = CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:")
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.COMMAND
    return Flow(
        tracker,
        draft=DRAFT,
        entry_points=[
            CommandHandler(names("lapor"), start_report),
            CallbackQueryHandler(start_report, pattern=rf"^{PREFIX}:start$"),
        ],
        states={
            ASK_DATE: [button, MessageHandler(text, on_date_text),
                       MessageHandler(other, reask(_next, "bad_date"))],
            ASK_SLS: [button, MessageHandler(other, reask(_next, "use_buttons"))],
            ASK_VALUE: [MessageHandler(text, on_value_text),
                        MessageHandler(other, reask(_next, "not_a_number")), button],
            CONFIRM_VALUE: [button, MessageHandler(other, reask(_next, "use_buttons"))],
            ASK_NOTE: [button, MessageHandler(text, on_note_text),
                       MessageHandler(other, reask(_next, "note_text_expected"))],
            CONFIRM: [button, MessageHandler(other, reask(_next, "use_buttons"))],
        },
        fallbacks=[CommandHandler(names("batal"), cancel)],
        name="lapor",
        persistent=True,
        allow_reentry=True,
    )
