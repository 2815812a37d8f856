"""`/ringkasan` (the caller's digest of today) and `/ekspor` (an XLSX of the caller's scope)."""

from __future__ import annotations

import asyncio
import re

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot.commands import names
from bot.context import BotContext
from bot.messaging.replies import say
from bot.present import formatting as fmt
from bot.present.charts import render
from bot.present.digests import area_title, digest_for
from bot.present.export import scope_workbook
from bot.present.texts import Raw
from bot.rules.figures import KABUPATEN, KECAMATAN, PROVINSI, area_level
from db import officers, reports, wilayah
from db.models import Officer, Role

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
EXPORT_MAX_REPORTS = 100_000
"""/ekspor sends at most this many reports: more would not fit in Telegram's 50 MB for a bot
or in the bot's memory (a province, the country); `python -m bot export` on the server
writes any size."""
ADMIN_FILE_PART = {KECAMATAN: "kabupaten", KABUPATEN: "provinsi", PROVINSI: "nasional"}
"""The scope in the name of an admin's export file, after what the roster spans."""
PREPARING_NOTICE_SECONDS = 3.0
"""A /ringkasan that takes longer than this first gets a notice that the digest is coming."""


async def digest_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    me = context.officer
    assert message is not None and me is not None
    building = asyncio.ensure_future(digest_for(
        context.db.conn, me, day=context.today(), settings=context.settings,
        form=context.form, texts=context.t, as_of=context.now(),
    ))
    try:
        # An admin's digest of a national roster reads every group of kecamatan (a minute
        # or more): the caller hears that it is coming.
        done, _ = await asyncio.wait({building}, timeout=PREPARING_NOTICE_SECONDS)
        if not done:
            await say(update, context, context.t("digest_preparing"))
        digest = await building
    finally:
        building.cancel()  # the reply failed: the build is of no use any more
    if digest is None:
        await say(update, context, context.t("digest_not_for_ppl"))
        return
    # The charts are drawn off the event loop while the texts go out.
    pngs = asyncio.gather(*(render(chart.spec) for chart in digest.charts))
    try:
        for chunk in digest.chunks:
            await say(update, context, chunk)
        for chart, png in zip(digest.charts, await pngs, strict=True):
            await context.bot.send_photo(
                message.chat_id, png, caption=chart.caption, parse_mode=ParseMode.HTML
            )
    finally:
        pngs.cancel()


async def scope_of(context: BotContext, me: Officer) -> tuple[list[str] | None, str, str]:
    """(officer ids or None for everyone, file name part, caption text) of the caller's scope."""
    t = context.t
    if me.role == Role.ADMIN:  # the kabupaten/kota, the province or the country
        codes = [k.code for k in await wilayah.list_kecamatan(context.db.conn, on_roster=True)]
        level = area_level(codes)
        return None, ADMIN_FILE_PART[level[0]], fmt.esc(
            area_title(t, level, wilayah.area_names()))
    below = [o.officer_id for o in await officers.subordinates(context.db.conn, me.officer_id)]
    if me.role == Role.PML:
        return below, f"tim_{me.officer_id}", t("export_scope_team", name=me.name)
    return below, f"koseka_{me.officer_id}", t("export_scope_koseka", name=me.name)


async def export_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    me = context.officer
    assert message is not None and me is not None
    if me.role not in (Role.PML, Role.KOSEKA, Role.ADMIN):
        await say(update, context, context.t("export_not_for_ppl"))
        return
    today = context.today()
    officer_ids, scope, caption = await scope_of(context, me)
    count = await reports.count_export_rows(
        context.db.conn, reports.ReportFilter(date_to=today, officer_ids=officer_ids))
    if count > EXPORT_MAX_REPORTS:  # a province's or the country's: not through a chat
        lang = context.t.language
        await say(update, context, context.t(
            "export_too_large", scope=Raw(caption), count=fmt.number(count, lang),
            limit=fmt.number(EXPORT_MAX_REPORTS, lang)))
        return
    # Read here, built in a worker thread: other officers are not kept waiting meanwhile.
    data = await scope_workbook(context.db.conn, officer_ids, today, context.form)
    filename = f"regsosek_{_UNSAFE.sub('-', scope)}_{today.isoformat()}.xlsx"
    day = fmt.day(today, context.t.language)
    await context.bot.send_document(
        message.chat_id, data, filename=filename, parse_mode=ParseMode.HTML,
        caption=context.t("export_caption", scope=Raw(caption), day=day),
    )


def register(app: Application) -> None:
    app.add_handler(CommandHandler(names("ringkasan"), digest_command))
    app.add_handler(CommandHandler(names("ekspor"), export_command))
