"""Field problems after they are reported: the status buttons (Ditangani / Selesai / Teruskan
ke KOSEKA / Sudah dikunjungi), `/kendala_saya` and `/kendala_tim`.

Every press is checked here, whatever message it came from: only the reporter's PML, the
KOSEKA above or an admin may change a status; only the reporter may mark their households
visited, and only those of a not-at-home problem that still has some. A button of a resolved
problem is stale.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.commands import names
from bot.context import BotContext
from bot.messaging import keyboards, problem_alerts
from bot.messaging.replies import say
from bot.present import formatting as fmt
from bot.present import problems as problem_view
from bot.present.texts import Raw
from bot.rules import problems as rules
from db import officers
from db import problems as problems_repo
from db.models import KOSEKA_LEVEL, Role

MY_LIMIT = 10
TEAM_LIMIT = 10
SNIPPET_CHARS = 60


def _without_problem(
    markup: InlineKeyboardMarkup | None, problem_id: int
) -> InlineKeyboardMarkup | None:
    """The same keyboard minus the buttons of one problem (None when nothing is left)."""
    if markup is None:
        return None
    suffix = f":{problem_id}"
    rows = [
        row for row in markup.inline_keyboard
        if not any((b.callback_data or "").endswith(suffix) for b in row)
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def _edit_markup(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest:
        pass  # too old to edit or unchanged: the status itself is saved


async def on_status(update: Update, context: BotContext) -> None:
    query = update.callback_query
    me = context.officer
    assert query is not None and me is not None
    t = context.t
    parsed = rules.parse_callback(query.data or "")
    problem = await problems_repo.get_problem(context.db.conn, parsed[1]) if parsed else None
    if parsed is None or problem is None:
        await query.answer(t("stale_button"), show_alert=True)
        return
    action = parsed[0]
    if action == rules.VISITED:
        refusal = rules.visited_refusal(me, problem)
    else:
        chain = await problem_alerts.chain_of(context.services, problem.officer_id)
        refusal = None if rules.may_press(me, chain, action) else "not_allowed"
        if refusal is None and not problem.is_open:
            refusal = "stale_button"
    if refusal is not None:
        await query.answer(t(refusal), show_alert=True)
        return
    target = rules.next_status(problem.status, action)
    if target is None:
        await query.answer(t("problem_status_same", id=problem.id,
                             status=problem_view.status_label(problem.status, t)), show_alert=True)
        return
    now = context.clock.now()
    async with context.db.transaction() as conn:
        current = await problems_repo.get_problem(conn, problem.id)
        if current is None or current.status != problem.status or (
                action == rules.VISITED and rules.visited_refusal(me, current) is not None):
            updated = None  # changed by someone else since it was read
        else:
            if action == rules.VISITED:
                await problems_repo.clear_revisit(conn, problem.id, now)
            updated = await problems_repo.set_status(conn, problem.id, target,
                                                     actor_id=me.officer_id, now=now)
            if action == rules.FORWARD:
                await problems_repo.claim_escalation(conn, problem.id, KOSEKA_LEVEL,
                                                     now, me.officer_id)
    if updated is None:
        await query.answer(t("stale_button"), show_alert=True)
        return
    services = context.services
    if action == rules.VISITED:
        await query.answer(t("problem_visited", id=updated.id,
                             unit=problem_view.revisit_unit(context.form, t.language)),
                           show_alert=True)
        await _edit_markup(update, _without_problem(
            getattr(query.message, "reply_markup", None), updated.id))
        await problem_alerts.tell_visited(services, updated)
        return
    await query.answer(t("problem_status_set", id=updated.id,
                         status=problem_view.status_label(updated.status, t)))
    await _edit_markup(update, keyboards.status_markup(updated, t, forward=me.role == Role.PML))
    await problem_alerts.tell_reporter(services, updated, me)
    if action == rules.FORWARD:
        await problem_alerts.forward(services, updated, me)


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


async def my_problems(update: Update, context: BotContext) -> None:
    """`/kendala_saya`: the caller's latest problems, with Sudah dikunjungi buttons."""
    message = update.effective_message
    me = context.officer
    assert message is not None and me is not None
    t, lang = context.t, context.t.language
    conn = context.db.conn
    mine = await problems_repo.problems_of(conn, me.officer_id, limit=MY_LIMIT)
    unit = problem_view.revisit_unit(context.form, lang)
    if not mine:
        await say(update, context, t("my_problems_empty"))
        return
    lines = [t("my_problems_header", count=len(mine))]
    for p in mine:
        revisit = ""
        if p.is_open and p.revisit_households:
            revisit = t("my_problems_revisit", count=fmt.number(p.revisit_households, lang),
                        unit=unit)
        lines.append(t("my_problems_line", id=p.id, day=fmt.short_day(p.created_at.date(), lang),
                       category=problem_view.category_label(p.category, t),
                       status=problem_view.status_label(p.status, t), revisit=Raw(revisit),
                       snippet=_snippet(p.description)))
    total = await problems_repo.revisit_households(conn, me.officer_id)
    if total:
        lines += ["", t("my_problems_revisit_total", count=fmt.number(total, lang),
                        unit=problem_view.capitalized(unit))]
    await say(update, context, "\n".join(lines), keyboards.visited_markup(mine, t))


async def team_problems(update: Update, context: BotContext) -> None:
    """`/kendala_tim`: open problems in the caller's scope, urgent first, then oldest first,
    with status buttons."""
    message = update.effective_message
    me = context.officer
    assert message is not None and me is not None
    t, lang = context.t, context.t.language
    if me.role == Role.PPL:
        await say(update, context, t("team_problems_not_allowed"))
        return
    conn = context.db.conn
    scope = None
    if me.role != Role.ADMIN:
        scope = [o.officer_id for o in await officers.subordinates(conn, me.officer_id)]
    found = problem_view.urgent_first(await problems_repo.open_problems(conn, scope))
    if not found:
        await say(update, context, t("team_problems_empty"))
        return
    unit = problem_view.revisit_unit(context.form, lang)
    header = t("team_problems_header", count=fmt.number(len(found), lang))
    if len(found) > TEAM_LIMIT:
        header += "\n" + t("team_problems_more", shown=TEAM_LIMIT)
    await say(update, context, header)
    for p in found[:TEAM_LIMIT]:
        headline = t("problem_item_header", id=p.id,
                     urgent=Raw(t("problem_urgent_flag") if p.urgent else ""))
        await say(
            update, context, problem_view.item(p, t, headline, unit=unit, tz=context.settings.tz),
            keyboards.status_markup(p, t, forward=me.role == Role.PML),
        )


def register(app: Application) -> None:
    app.add_handlers([
        CallbackQueryHandler(on_status, pattern=rf"^{rules.PREFIX}:"),
        CommandHandler(names("kendala_saya"), my_problems),
        CommandHandler(names("kendala_tim"), team_problems),
    ])
