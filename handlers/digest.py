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
from bot.present.digests import digest_for
from bot.present.export import scope_workbook
from bot.present.texts import Raw
from db import officers
from db.models import Officer, Role

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
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
    if me.role == Role.ADMIN:
        return None, "kabupaten", t("export_scope_all")
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
