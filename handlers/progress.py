"""`/progres`: households done against target, in the caller's own scope."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.commands import names
from bot.context import BotContext
from bot.messaging.keyboards import review_markup
from bot.messaging.replies import say
from bot.present import formatting as fmt
from bot.present.digests import area_title
from bot.present.review import review_items, review_pages
from bot.present.texts import Texts
from bot.rules.figures import KECAMATAN, area_level, part_code
from bot.rules.progress import Counted, ProgressLine, group_progress, total_progress
from db import officers, wilayah
from db.models import Officer, Role
from db.progress import area_progress, kecamatan_progress


async def progress_view(context: BotContext, me: Officer) -> str:
    """The progress message for one officer, whatever their role."""
    conn = context.db.conn
    t = context.t
    if me.role == Role.ADMIN:  # per kecamatan, kabupaten/kota or province, as the digest
        rows = await kecamatan_progress(conn)
        level = area_level(r.kecamatan_code or "-" for r in rows)
        lists, areas = level[0], wilayah.area_names()
        names = areas if lists != KECAMATAN else {
            k.code: k.name for k in await wilayah.list_kecamatan(conn)}
        header = t("progress_area_header", name=area_title(t, level, areas))
        lines = group_progress(rows, lambda r: part_code(lists, r.kecamatan_code or "-"),
                               lambda k: names.get(k, k))
    elif me.role == Role.PPL:
        rows = await area_progress(conn, officer_ids=[me.officer_id])
        header = t("progress_ppl_header", name=me.name)
        names_by_sls = {r.sls_code: f"{r.sls_name} ({r.sls_code})" for r in rows}
        lines = group_progress(rows, lambda r: r.sls_code, lambda k: names_by_sls[k])
    else:
        team = await officers.subordinates(conn, me.officer_id)
        rows = await area_progress(conn, officer_ids=[o.officer_id for o in team])
        if me.role == Role.PML:
            header = t("progress_team_header", name=me.name)
            lines = group_progress(rows, lambda r: r.officer_id, _name_of(team))
        else:
            kec = await wilayah.get_kecamatan(conn, me.kecamatan_code or "")
            header = t("progress_kec_header", name=kec.name if kec else me.kecamatan_code)
            lines = group_progress(rows, lambda r: r.supervisor_id, _name_of(team))
    return _render(t, header, lines, rows, context.today())


def _name_of(team: list[Officer]):
    by_id = {o.officer_id: o.name for o in team}
    return lambda officer_id: by_id.get(officer_id, officer_id)


def _render(
    t: Texts, header: str, lines: list[ProgressLine], rows: Sequence[Counted], today
) -> str:
    lang = t.language
    if not rows:
        return header + "\n" + t("progress_empty")

    def line(key: str, item: ProgressLine, **extra: str) -> str:
        return t(key, done=fmt.number(item.done, lang), target=fmt.number(item.target, lang),
                 percent=fmt.percent(item.done, item.target, lang), **extra)

    body = [line("progress_line", item, label=item.label) for item in lines]
    total = line("progress_total", total_progress(rows))
    as_of = t("progress_as_of", day=fmt.day(today, lang))
    return "\n".join([header, as_of, "", *body, "", total])


async def progress_command(update: Update, context: BotContext) -> None:
    me = context.officer
    assert update.effective_message is not None and me is not None
    await say(update, context, await progress_view(context, me))
    if me.role == Role.PML:  # today's reports of the team, to approve or return
        team = await officers.subordinates(context.db.conn, me.officer_id)
        items = await review_items(context.db.conn, team, context.today())
        for page in review_pages(items, context.t, context.form):
            await say(update, context, page.text, review_markup(page, context.t))


def register(app: Application) -> None:
    app.add_handler(CommandHandler(names("progres"), progress_command))
