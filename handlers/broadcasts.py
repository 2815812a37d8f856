"""Announcements after they are sent: the "Sudah dibaca" button and `/pengumuman`."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.commands import names
from bot.context import BotContext
from bot.messaging.replies import say
from bot.present import announcements as announcement_view
from bot.present.splitting import split_message
from bot.rules import announcements as rules
from bot.rules import audience as aud
from db import broadcasts as repo
from db import wilayah
from db.models import Role

RECENT = 5


async def on_read(update: Update, context: BotContext) -> None:
    """Only the recipient of the outbox row named in the button can mark it read."""
    query = update.callback_query
    assert query is not None
    t = context.t
    recipient_id = rules.parse_read_data(query.data or "")
    row = await repo.get_recipient(context.db.conn, recipient_id) if recipient_id else None
    if row is None:
        await query.answer(t("stale_button"), show_alert=True)
        return
    if context.officer is None or context.officer.officer_id != row.officer_id:
        await query.answer(t("bc_read_not_yours"), show_alert=True)
        return
    async with context.db.transaction() as conn:
        first = await repo.mark_read(conn, row.id, context.clock.now())
    await query.answer(t("bc_read_thanks" if first else "bc_read_already"))
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest:
        pass  # already without the button, or too old to edit: the receipt is saved
    if first and context.services.outbox is not None:
        context.services.outbox.wake(row.broadcast_id)


async def list_announcements(update: Update, context: BotContext) -> None:
    """The caller's recent announcements (an admin sees everyone's), with who has not read."""
    me = context.officer
    message = update.effective_message
    assert me is not None and message is not None
    t = context.t
    if not aud.may_broadcast(me):
        await say(update, context, t("bc_not_allowed"))
        return
    conn = context.db.conn
    is_admin = me.role == Role.ADMIN
    recent = await repo.recent_broadcasts(conn, sender_id=None if is_admin else me.officer_id,
                                          limit=RECENT)
    if not recent:
        await say(update, context, t("bc_list_empty"))
        return
    kecamatan = {k.code: k.name for k in await wilayah.list_kecamatan(conn, on_roster=True)}
    items = []
    for broadcast in recent:
        items.append(announcement_view.list_item(
            t, broadcast, await repo.counts(conn, broadcast.id),
            await repo.unread(conn, broadcast.id), tz=context.zone,
            audience_name=announcement_view.audience_label(t, broadcast.audience, kecamatan),
            show_sender=is_admin and broadcast.sender_id != me.officer_id,
        ))
    for piece in split_message(t("bc_list_header") + "\n\n" + "\n\n".join(items)):
        await say(update, context, piece)


def register(app: Application) -> None:
    app.add_handlers(
        [
            CallbackQueryHandler(on_read, pattern=rf"^{rules.READ_PREFIX}:"),
            CommandHandler(names("pengumuman"), list_announcements),
        ]
    )
