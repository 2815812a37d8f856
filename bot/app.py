"""Wiring: `build_application()` puts settings, storage and handlers together."""

from __future__ import annotations

import logging

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from bot import commands
from bot.clock import Clock, SystemClock
from bot.context import SERVICES_KEY, BotContext, Services
from bot.forms import load_form
from bot.persistence import SQLitePersistence
from bot.settings import Settings
from bot.texts import Texts
from conversations import report
from db.connection import Database
from db.wilayah import ensure_default_wilayah
from handlers import access, common, errors, progress, registration

log = logging.getLogger(__name__)


def services_of(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]


async def _post_init(app: Application) -> None:
    services = services_of(app)
    await services.db.open()
    await ensure_default_wilayah(services.db)
    await commands.set_default_menu(app.bot, services.texts)


async def _post_shutdown(app: Application) -> None:
    await services_of(app).db.close()


def build_application(settings: Settings, *, clock: Clock | None = None) -> Application:
    """The whole bot, not yet started. Importing this module needs no token or environment."""
    db = Database(settings.database_path)
    services = Services(
        settings=settings,
        db=db,
        clock=clock or SystemClock(settings.tz),
        form=load_form(settings.form_file),
        texts=Texts(settings.language),
    )
    app = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_file_url)
        .context_types(ContextTypes(context=BotContext))
        .persistence(SQLitePersistence(db, update_interval=settings.persistence_flush_seconds))
        .rate_limiter(AIORateLimiter(overall_max_rate=settings.messages_per_second, max_retries=5))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data[SERVICES_KEY] = services
    access.register(app)
    # Group 0, in this order: the flows, then single commands, then the catch-alls.
    app.add_handler(report.build())
    registration.register(app)
    progress.register(app)
    common.register(app)
    errors.register(app)
    return app


async def start_application(app: Application, *, poll_timeout: float = 10) -> None:
    """Start a built application and its polling inside a running event loop."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=poll_timeout, drop_pending_updates=False)


async def stop_application(app: Application) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
