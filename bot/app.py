"""Wiring: `build_application()` puts settings, storage and handlers together."""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections.abc import Callable

from telegram import Bot, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot import commands, jobs
from bot.clock import Clock, clock_for
from bot.context import BotContext
from bot.messaging.concurrency import PerChatUpdateProcessor
from bot.messaging.delivery import PacedRateLimiter, Sender
from bot.messaging.outbox import Outbox
from bot.messaging.persistence import DatabasePersistence
from bot.messaging.problem_alerts import schedule_problem_jobs
from bot.messaging.services import SERVICES_KEY, Services
from bot.messaging.transport import AiohttpRequest
from bot.metrics import InstrumentedRequest, Metrics, sending
from bot.present.texts import Texts
from bot.rules.forms import load_form
from bot.settings import Settings
from conversations import broadcast, dayoff, problem, report
from conversations import review as review_flow
from conversations.flows import FLOWS_KEY, FlowTracker, schedule_flow_expiry
from db import updates
from db.connection import Database
from db.updates import UpdateLog
from db.wilayah import ensure_default_wilayah
from handlers import (
    access,
    broadcasts,
    common,
    digest,
    errors,
    problems,
    progress,
    registration,
    review,
)

log = logging.getLogger(__name__)

# The flows mix text answers and buttons in one conversation per chat, so their callback
# handlers are deliberately not tracked per message (stale buttons are checked by token).
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)

# The update types the handlers use; the Bot API delivers no other (polling and webhook alike).
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


def services_of(app: Application) -> Services:
    return app.bot_data[SERVICES_KEY]


async def _post_init(app: Application) -> None:
    services = services_of(app)
    await services.db.open()
    await ensure_default_wilayah(services.db)
    async with services.db.transaction() as conn:
        await updates.forget_old(conn, services.clock.now())
    services.sender = make_sender(app.bot, services.settings)
    services.outbox = Outbox(services, app.bot)
    with sending("announcement"):  # the outbox's task, started here, sends announcements
        await services.outbox.start()
    await commands.set_default_menu(app.bot, services.texts)
    if services.settings.schedule_jobs:
        jobs.schedule_jobs(app)
        schedule_problem_jobs(app)
        schedule_flow_expiry(app)


def settle_memory() -> None:
    """Collect once, then leave everything alive so far out of later garbage collections.

    For a process that runs one bot, right after start-up: modules, matplotlib and the
    application live as long as the process, yet each full collection walked all of them,
    about 0.1 s in the middle of a burst of reports. (Objects frozen here are never collected
    as cycles, so a process that starts many bots, like the test suite, does not call it.)
    """
    gc.collect()
    gc.freeze()


async def _post_init_settled(app: Application) -> None:
    await _post_init(app)
    settle_memory()


async def _stop_outbox(app: Application) -> None:
    """Stop announcements while the bot can still send: run_polling calls post_stop before it
    shuts the bot down. post_shutdown calls it again (a no-op then) before the database closes."""
    outbox = services_of(app).outbox
    if outbox is not None:
        await outbox.stop()


async def _post_shutdown(app: Application) -> None:
    await _stop_outbox(app)
    await services_of(app).db.close()


def make_services(
    settings: Settings, clock: Clock | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> Services:
    db = Database(settings.database)
    metrics = Metrics(monotonic)
    db.on_error = metrics.db_error
    return Services(
        settings=settings,
        db=db,
        clock=clock or clock_for(settings.tz, settings.rehearsal_start),
        form=load_form(settings.form_file),
        texts=Texts(settings.language),
        update_log=UpdateLog(db),
        metrics=metrics,
    )


def make_sender(bot: Bot, settings: Settings) -> Sender:
    return Sender(bot, per_second=settings.messages_per_second,
                  per_chat_interval=settings.chat_message_interval)


def bot_api_request(settings: Settings) -> AiohttpRequest:
    """The HTTP client of the bot's requests (getUpdates has its own):
    `bot.messaging.transport`, with `TELEGRAM_CONNECTIONS` connections.

    A request waits up to twice the read timeout for a free connection, then fails unsent."""
    return AiohttpRequest(
        settings.telegram_connections,
        read_timeout=settings.telegram_read_timeout,
        pool_timeout=2 * settings.telegram_read_timeout,
    )


def build_application(
    settings: Settings, *, clock: Clock | None = None, settle: bool = False,
    monotonic: Callable[[], float] = time.monotonic,
) -> Application:
    """The whole bot, not yet started. Importing this module needs no token or environment.

    `settle`: the process runs this bot alone (`python -m bot run`): `settle_memory()` once
    it has started. `monotonic`: the clock of the ages in /healthz (tests move it by hand)."""
    services = make_services(settings, clock, monotonic)
    db = services.db
    metrics, token = services.metrics, settings.token()
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_file_url)
        # Every Bot API call is counted (bot.metrics), getUpdates' too.
        .request(InstrumentedRequest(bot_api_request(settings), metrics, token=token))
        .get_updates_request(InstrumentedRequest(
            HTTPXRequest(connection_pool_size=1), metrics, token=token))
        .context_types(ContextTypes(context=BotContext))
        .persistence(DatabasePersistence(db, update_interval=settings.persistence_flush_seconds))
        .rate_limiter(PacedRateLimiter(settings.messages_per_second, max_retries=5))
        .concurrent_updates(
            PerChatUpdateProcessor(settings.concurrent_updates, metrics.handling))
        .post_init(_post_init_settled if settle else _post_init)
        .post_stop(_stop_outbox)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data[SERVICES_KEY] = services
    access.register(app)
    # Group 0, in this order: the flows, then single commands, then the catch-alls.
    # One flow at a time in a chat: they share one tracker (conversations/flows.py).
    tracker = FlowTracker(app)
    app.bot_data[FLOWS_KEY] = tracker
    app.add_handler(report.build(tracker))
    app.add_handler(dayoff.build(tracker))
    app.add_handler(review_flow.build(tracker))
    app.add_handler(problem.build(tracker))
    app.add_handler(broadcast.build(tracker))
    registration.register(app)
    review.register(app)
    dayoff.register(app)
    progress.register(app)
    problems.register(app)
    digest.register(app)
    broadcasts.register(app)
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
    await app.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, drop_pending_updates=False,
        allowed_updates=ALLOWED_UPDATES,
    )


async def stop_application(app: Application) -> None:
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    if app.post_stop:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
