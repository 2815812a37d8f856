"""The announcement outbox: a background task that delivers pending rows when they are due.

Why a task and not a repeating JobQueue job: delivery must start the moment an announcement
is committed (`wake()`), run for minutes at a steady pace, and stop in a controlled way
(finish the requests in flight, start no new one). A job would poll on a fixed interval and
be cut off by the JobQueue's own shutdown. The task is started in the application's
`post_init` and stopped in `post_stop` (run_polling calls it while the bot can still send)
or, at the latest, in `post_shutdown` before the database closes.

When an announcement comes due, its audience is computed again from the roster of that
moment (`bot.rules.audience`, as at Kirim): who left it (deactivated by a roster import,
unlinked, moved to another team) does not get it, who joined it does. And each row is claimed
only while its officer is still active and linked, so nobody deactivated later in a long
delivery gets it either.

Per row: claim it (`pending` -> `sending`, committed), send it through the shared `Sender`
(which waits out 429, retries 5xx and network errors, and reports 403 as unreachable),
record the answer (committed). A crash between the claim and the record leaves the row
`sending`; at the next start it becomes `failed` (`interrupted`) instead of being sent again,
because nobody knows whether Telegram delivered it (see `db/broadcasts.py`). For the same
reason a row whose request went out but got no answer in time is `failed` (`unanswered`),
never sent again. Rows never claimed stay `pending`, so a restart continues where the last
run stopped.

Pace: at most BROADCAST_RATE_PER_SECOND new announcements per second, on top of the
Sender's own limits (MESSAGES_PER_SECOND overall, CHAT_MESSAGE_INTERVAL per chat), so
reminders and alerts still find room. With BROADCAST_PAID, announcements go as Telegram's paid
broadcasts (`allow_paid_broadcast`, up to 1000/s, 0.1 Star a message above the free 30/s):
through a Sender of their own, at BROADCAST_RATE_PER_SECOND, outside the bot's 30/s (the
application's rate limiter lets such requests pass), so they neither wait for nor delay
the other messages. Up to `MAX_IN_FLIGHT` requests run at once, which is
also the most rows a crash can leave `sending`.

Delivery reports are edited at most every BROADCAST_REPORT_INTERVAL seconds, and once more
when an announcement is done.

Several bots on one database (BOT_SCOPE, db/bots.py): each bot's outbox sends the rows of the
officers it serves, whoever wrote the announcement, at its own Telegram pace; the claims make
each row go once. The bot an announcement was written in computes its audience when it comes
due and edits the sender's delivery report as the other bots' rows are done. A Telegram file_id
belongs to one bot: that bot also stores the attachment's bytes in the database, and the other
bots upload them once and send their own file_id from then on (an attachment Telegram does not
let it fetch, above 20 MB, goes to the others' officers as a line saying so). The same task
drains the shared outbox (db/outbox.py): messages another bot's process left for this bot's
officers, such as a problem alert across scopes (`hand_over`). On PostgreSQL the process that
writes such rows wakes the others at once (NOTIFY, heard on a LISTEN connection of each,
db/notify.py); on SQLite, or with the listening connection lost, each looks for them every
OUTBOX_POLL_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.messaging import keyboards
from bot.messaging.delivery import DeliveryResult, DeliveryStatus, Outgoing, Sender
from bot.messaging.services import Services
from bot.metrics import sending
from bot.present import announcements as announcement_view
from bot.rules import audience as aud
from db import broadcasts as repo
from db import models, officers, schedule, wilayah
from db import outbox as shared
from db.connection import WRITE_ERRORS
from db.engine import POSTGRES
from db.notify import Listener

log = logging.getLogger(__name__)

MAX_IN_FLIGHT = 10
PUMP_ROWS = 1000
"""Due rows read at a time, kept in memory and started one per slot of the pace over the
next rounds: one query for many rows. With several bots on one database, reading after
every row kept each bot near 10/s; and a scoped bot's read joins the pending rows with its
officers, about as dear for 1000 rows as for 10 (0.1 s at 200,000 recipients)."""
ROUND_SECONDS = 2.0
"""Rows are started for at most this long in one round; then the shared outbox and the
delivery reports have their turn, and the next round goes on with the rows already read."""
FINISH_ATTEMPTS = 6  # the answer of a row stored: tried again for about 3 s in all
DRAIN_SECONDS = 15.0
# Several bots: how long after an announcement is done its report still follows the read
# receipts pressed in other bots.
READS_FOLLOWED = timedelta(days=1)


@dataclass
class _Content:
    text: str
    photo_id: str | None
    document_id: str | None
    # An attachment written in another bot: its bytes, until this bot has a file_id of it.
    data: bytes | None = None
    filename: str | None = None
    upload: asyncio.Lock | None = None


class Outbox:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._services = services
        self._bot = bot
        self._monotonic = monotonic
        self._sleep = sleep
        settings = services.settings
        self._interval = 1.0 / settings.broadcast_rate_per_second
        # Paid broadcasts: their own pace, not the bot's overall MESSAGES_PER_SECOND.
        self.paid_sender: Sender | None = None
        if settings.broadcast_paid:
            self.paid_sender = Sender(bot, per_second=settings.broadcast_rate_per_second,
                                      per_chat_interval=settings.chat_message_interval,
                                      paid=True, monotonic=monotonic, sleep=sleep)
        self._scope = services.scope
        self._poll = settings.broadcast_poll_seconds
        if not self._scope.everything:  # other bots' processes leave rows for this one
            self._poll = min(self._poll, settings.outbox_poll_seconds)
        self._last_look = float("-inf")
        self._listener: Listener | None = None
        self._report_interval = settings.broadcast_report_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._queued: set[int] = set()  # recipient rows handed to a task, not yet finished
        self._backlog: deque[models.Recipient] = deque()  # due rows read, not yet started
        self._audience_done: set[int] = set()  # announcements whose audience was computed again
        self._next_slot = 0.0
        self._content: dict[int, _Content] = {}
        self._dirty: set[int] = set()
        self._last_edit: dict[int, float] = {}
        self._shown: dict[int, str] = {}

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> list[int]:
        """Settle what a crash left behind, then run; returns the announcements it touched."""
        if self.running:
            return []
        db = self._services.db
        scope = self._scope
        async with db.transaction() as conn:
            interrupted = await repo.recover_interrupted(
                conn, None if scope.everything else scope.bot)
            handed = await shared.recover_interrupted(conn, scope.bot)
        if interrupted:
            log.warning("announcements %s had rows in flight at the last stop: marked failed "
                        "(interrupted), not resent", interrupted)
        if handed:
            log.warning("%d messages of the shared outbox were in flight at the last stop:"
                        " marked failed (interrupted), not resent", handed)
        self._dirty.update(await repo.unfinished_broadcasts(db.conn))
        self._dirty.update(interrupted)
        if db.engine == POSTGRES and not scope.everything and self._listener is None:
            listener = Listener(str(db.path), self.wake)  # other processes wake it at once
            if await listener.start():
                self._listener = listener
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="broadcast-outbox")
        return interrupted

    async def stop(self) -> None:
        """Start no new request, let those in flight finish, and return; safe to call twice."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await task
        listener, self._listener = self._listener, None
        if listener is not None:
            await listener.stop()
        self._backlog.clear()  # still pending in the database: read again at the next start

    def wake(self, broadcast_id: int | None = None) -> None:
        """Something changed (a new announcement, a read receipt): look again now."""
        if broadcast_id is not None:
            self._dirty.add(broadcast_id)
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        try:
            while not self._stopping:
                self._wake.clear()
                started = 0
                try:
                    started = await self.pump()
                    await self.drain_shared()
                    await self.flush_reports()
                except Exception:  # a database or network hiccup must not end delivery
                    log.exception("broadcast outbox round failed")
                if not started and not self._stopping:
                    await self._idle()
        finally:
            await self._drain()

    async def _idle(self) -> None:
        timeout = self._poll
        if self._dirty:
            now = self._monotonic()
            waits = [self._last_edit.get(b, float("-inf")) + self._report_interval - now
                     for b in self._dirty]
            timeout = max(0.01, min([timeout, *waits]))
        with contextlib.suppress(TimeoutError):  # nothing woke it: time to look again
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _drain(self) -> None:
        if not self._in_flight:
            return
        _, late = await asyncio.wait(set(self._in_flight), timeout=DRAIN_SECONDS)
        for task in late:  # still waiting on Telegram: left 'sending', settled at next start
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)
            log.warning("%d announcement rows were still in flight at stop", len(late))

    async def pump(self) -> int:
        """Hand due pending rows to sending tasks, for at most ROUND_SECONDS; returns how many
        were started. Rows are read PUMP_ROWS at a time, when those read before are all
        started (a row another process took meanwhile is not claimed: see `_deliver`)."""
        if not self._scope.everything:
            await self._prepare_own()
        if not self._backlog:
            self._backlog.extend(await self._read_due())
        started = 0
        ends = self._monotonic() + ROUND_SECONDS
        while self._backlog and (not started or self._monotonic() < ends):
            await self._slots.acquire()
            if self._stopping:
                self._slots.release()
                break
            await self._pace()
            row = self._backlog.popleft()
            self._queued.add(row.id)
            task = asyncio.create_task(self._deliver(row), name=f"broadcast-row-{row.id}")
            self._in_flight.add(task)
            task.add_done_callback(lambda done, row_id=row.id: self._done(done, row_id))
            started += 1
        return started

    async def _read_due(self) -> list[models.Recipient]:
        """The next due rows; an announcement that has just come due gets its audience
        computed again first (bot.rules.audience), and its rows are read after that."""
        services = self._services
        rows = await repo.due_recipients(
            services.db.conn, services.clock.now(), limit=PUMP_ROWS, exclude=self._queued,
            scope=self._scope,
        )
        due = sorted({row.broadcast_id for row in rows} - self._audience_done)
        if not due:
            return rows
        for broadcast_id in due:
            await self._compute_audience(broadcast_id)
        return await repo.due_recipients(services.db.conn, services.clock.now(),
                                         limit=PUMP_ROWS, exclude=self._queued,
                                         scope=self._scope)

    async def run_until_idle(self) -> None:
        """Deliver every due row and wait for the answers (the CLI and tests, not the loop)."""
        while await self.pump():
            await asyncio.gather(*set(self._in_flight), return_exceptions=True)
        await asyncio.gather(*set(self._in_flight), return_exceptions=True)
        await self.flush_reports(force=True)

    def _done(self, task: asyncio.Task[None], row_id: int) -> None:
        self._in_flight.discard(task)
        self._queued.discard(row_id)
        self._slots.release()
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:  # e.g. the claim failed
            log.error("announcement row %s: %r", row_id, task.exception(),
                      exc_info=task.exception())

    async def _pace(self) -> None:
        """One new row per slot, the slots kept on their schedule: a row that reaches its
        slot late (a busy event loop, a slow query) by less than a slot does not move the
        later slots; after a longer wait a new schedule starts (no burst after a pause)."""
        now = self._monotonic()
        late = now - self._next_slot
        at = now if late >= self._interval else self._next_slot
        self._next_slot = at + self._interval
        if at > now:
            await self._sleep(at - now)

    def _owns(self, broadcast: models.Broadcast) -> bool:
        """Whether this bot edits the announcement's delivery report: it was written here (a
        bot that serves everyone is the only one)."""
        return self._scope.everything or broadcast.bot == self._scope.bot

    async def _prepare_own(self) -> None:
        """Several bots: the announcements written here that came due get their audience
        computed (even when none of it is this bot's) and their attachment stored for the
        others; and, every poll interval, their delivery reports are looked at again (the
        other bots' rows and read receipts change them, for READS_FOLLOWED after the end)."""
        services = self._services
        now = services.clock.now()
        own = await repo.owned_due(services.db.conn, self._scope.bot, now, now - READS_FOLLOWED)
        look = self._monotonic() - self._last_look >= self._poll
        if look:
            self._last_look = self._monotonic()
        for broadcast in own:
            if broadcast.finished_at is None and broadcast.id not in self._audience_done:
                await self._compute_audience(broadcast.id)
            if broadcast.has_attachment and broadcast.attachment_state is None:
                await self._store_attachment(broadcast)
            if look:
                self._dirty.add(broadcast.id)

    async def _store_attachment(self, broadcast: models.Broadcast) -> None:
        file_id = broadcast.photo_id or broadcast.document_id
        assert file_id is not None
        data: bytes | None = None
        name = None
        try:
            found = await self._bot.get_file(file_id)
            data = bytes(await found.download_as_bytearray())
            name = (found.file_path or "").rsplit("/", 1)[-1] or None
        except TelegramError as exc:  # above 20 MB, Telegram does not hand it out
            log.warning("announcement %s: its attachment cannot be fetched for the other bots"
                        " (%s)", broadcast.id, exc)
        async with self._services.db.transaction() as conn:
            await repo.store_attachment(conn, broadcast.id, data, name)

    async def _compute_audience(self, broadcast_id: int) -> None:
        """The announcement came due: its recipients as the roster has them now."""
        services = self._services
        db = services.db
        async with db.transaction() as conn:
            broadcast = await repo.get_broadcast(conn, broadcast_id)
            assert broadcast is not None
            sender = models.Officer(officer_id=broadcast.sender_id, name=broadcast.sender_name,
                                    role=models.Role(broadcast.sender_role))
            roster = await officers.list_officers(conn, active_only=False)
            codes = {k.code for k in await wilayah.list_kecamatan(conn, on_roster=True)}
            audience = aud.resolve(sender, broadcast.audience, roster, codes)
            if audience is None:  # not an audience of that sender (any more): rows as stored
                log.warning("announcement %s: audience %r not computed again", broadcast_id,
                            broadcast.audience)
            else:
                added, dropped = await repo.set_audience(
                    conn, broadcast_id, audience.recipients, len(audience.unlinked))
                if added or dropped:
                    log.info("announcement %s: %d recipients added, %d dropped since it was"
                             " written", broadcast_id, added, dropped)
        self._audience_done.add(broadcast_id)
        self._dirty.add(broadcast_id)

    # ------------------------------------------------------------------ one row

    async def _deliver(self, row: models.Recipient) -> None:
        services = self._services
        db, clock = services.db, services.clock
        # One statement each, the claim and the answer: no writing transaction, so that the
        # bots on one database do not wait for one another's.
        claimed = await repo.claim_alone(db, row.id, clock.now(), self._scope.bot or None)
        if claimed is None:  # taken by another run, done, or its officer left the audience
            self._dirty.add(row.broadcast_id)
            return
        try:
            content = await self._content_of(claimed.broadcast_id)
            result = await self._send(claimed, content)
        except asyncio.CancelledError:
            raise  # stop() gave up waiting: the row stays 'sending' and is settled at start
        except Exception as exc:
            log.exception("announcement row %s could not be sent", claimed.id)
            result = DeliveryResult(DeliveryStatus.FAILED, error=repr(exc)[:200])
        error = models.UNANSWERED if result.maybe_delivered else result.error
        await self._record(claimed, result, error)
        if result.status is DeliveryStatus.UNREACHABLE:
            async with db.transaction() as conn:
                await schedule.mark_unreachable(conn, claimed.officer_id, clock.now())
        self._dirty.add(claimed.broadcast_id)

    async def _record(
        self, claimed: models.Recipient, result: DeliveryResult, error: str | None
    ) -> None:
        """The answer, stored; a write that failed (the database busy with other processes)
        is tried again a few times: a row left `sending` would wait for the next start."""
        services = self._services
        for attempt in range(FINISH_ATTEMPTS):
            try:
                await repo.finish_alone(services.db, claimed, result.status.value,
                                        services.clock.now(), message_id=result.message_id,
                                        error=error)
                return
            except WRITE_ERRORS as exc:
                if attempt + 1 == FINISH_ATTEMPTS:
                    raise
                log.warning("announcement row %s: its answer not stored yet (%r), again",
                            claimed.id, exc)
                await self._sleep(0.1 * 2 ** attempt)

    async def _send(self, row: models.Recipient, content: _Content) -> DeliveryResult:
        if content.upload is None:
            return await self._send_item(row, content)
        async with content.upload:  # the first upload of the bytes gives this bot a file_id
            if content.data is None:
                return await self._send_item(row, content)
            result = await self._send_item(row, content)
            if result.file_id is not None:
                if content.photo_id is not None:
                    content.photo_id = result.file_id
                else:
                    content.document_id = result.file_id
                content.data = None
            return result

    async def _send_item(self, row: models.Recipient, content: _Content) -> DeliveryResult:
        sender = self.paid_sender or self._services.sender
        assert sender is not None, "the sender is created in post_init"
        photo = content.photo_id is not None and content.data is not None
        item = Outgoing(
            row.chat_id,
            content.text,
            photo=content.data if photo else None,
            photo_id=None if photo else content.photo_id,
            document=content.data if not photo else None,
            document_id=None if content.data is not None else content.document_id,
            filename=content.filename,
            reply_markup=keyboards.read_markup(self._services.texts, row.id),
        )
        return await sender.send(item)

    async def _content_of(self, broadcast_id: int) -> _Content:
        content = self._content.get(broadcast_id)
        if content is None:
            services = self._services
            broadcast = await repo.get_broadcast(services.db.conn, broadcast_id)
            assert broadcast is not None
            text = announcement_view.announcement_text(
                services.texts, sender_name=broadcast.sender_name,
                sender_role=broadcast.sender_role, text=broadcast.text,
            )
            content = _Content(text, broadcast.photo_id, broadcast.document_id)
            if broadcast.has_attachment and not self._owns(broadcast):
                # Another bot's file_id: this bot sends the bytes stored for it.
                content.data = await repo.attachment(services.db.conn, broadcast_id)
                content.filename = broadcast.attachment_name
                if content.data is None:
                    content = _Content(text + "\n\n" + services.texts("bc_attachment_elsewhere"),
                                       None, None)
                else:
                    content.upload = asyncio.Lock()
            self._content[broadcast_id] = content
        return content

    # ------------------------------------------------------------------ the shared outbox

    async def hand_over(self, officer_id: str, kind: str, items: list[Outgoing]) -> None:
        """Leave messages for an officer another bot serves: that bot's process sends them.
        A photo this bot knows by file_id goes as bytes (the other bot cannot use the id)."""
        messages = []
        for item in items:
            photo = item.photo
            if photo is None and item.photo_id is not None:
                try:
                    found = await self._bot.get_file(item.photo_id)
                    photo = bytes(await found.download_as_bytearray())
                except TelegramError as exc:  # the text still goes; the photo stays here
                    log.warning("a photo for %s could not be fetched to hand over (%s)",
                                officer_id, exc)
                    continue
            markup = item.reply_markup.to_json() if item.reply_markup is not None else None
            messages.append(shared.Message(item.text, markup, photo, item.location))
        services = self._services
        async with services.db.transaction() as conn:
            await shared.put(conn, officer_id, kind, messages, services.clock.now())

    async def drain_shared(self) -> int:
        """Send the shared outbox's rows of this bot's officers, one after another (in the
        order they were left); how many were tried."""
        services = self._services
        db, clock = services.db, services.clock
        rows = await shared.pending_for(db.conn, self._scope, limit=MAX_IN_FLIGHT)
        tried = 0
        for row in rows:
            if self._stopping:
                break
            async with db.transaction() as conn:
                claimed = await shared.claim(conn, row.id, self._scope.bot, clock.now())
            if claimed is None:  # taken by another process, or its officer left
                continue
            taken, chat = claimed
            result = await self._send_shared(taken, chat)
            tried += 1
            async with db.transaction() as conn:
                await shared.finish(conn, taken, result.status.value, clock.now(),
                                    error=result.error)
                if result.status is DeliveryStatus.UNREACHABLE:
                    await schedule.mark_unreachable(conn, taken.officer_id, clock.now())
        return tried

    async def _send_shared(self, row: shared.Row, chat: int) -> DeliveryResult:
        sender = self._services.sender
        assert sender is not None, "the sender is created in post_init"
        message = row.message
        markup = None
        if message.reply_markup is not None:
            markup = InlineKeyboardMarkup.de_json(json.loads(message.reply_markup), self._bot)
        item = Outgoing(chat, message.text, photo=message.photo, location=message.location,
                        reply_markup=markup)
        try:
            with sending("alert"):
                return await sender.send(item)
        except Exception as exc:
            log.exception("shared outbox row %s could not be sent", row.id)
            return DeliveryResult(DeliveryStatus.FAILED, error=repr(exc)[:200])

    # ------------------------------------------------------------------ delivery reports

    async def flush_reports(self, *, force: bool = False) -> None:
        """Edit the delivery reports that changed: throttled, but always once at the end."""
        services = self._services
        conn = services.db.conn
        for broadcast_id in sorted(self._dirty):
            # Taken off first: a row finishing while this one is read marks it dirty again.
            self._dirty.discard(broadcast_id)
            broadcast = await repo.get_broadcast(conn, broadcast_id)
            if broadcast is None or not self._owns(broadcast):  # another bot reports it
                continue
            counts = await repo.counts(conn, broadcast_id)
            just_finished = counts.pending == 0 and broadcast.finished_at is None
            waited = self._monotonic() - self._last_edit.get(broadcast_id, float("-inf"))
            if not (force or just_finished or waited >= self._report_interval):
                self._dirty.add(broadcast_id)  # throttled: the loop comes back for it
                continue
            if just_finished:
                async with services.db.transaction() as tx:
                    await repo.mark_finished(tx, broadcast_id, services.clock.now())
                self._content.pop(broadcast_id, None)
            await self._edit_report(broadcast, counts)

    async def _edit_report(self, broadcast: models.Broadcast, counts: models.Counts) -> None:
        if broadcast.report_message_id is None:
            return  # the flow has not stored it yet; it marks the report dirty when it does
        services = self._services
        names = {k.code: k.name
                 for k in await wilayah.list_kecamatan(services.db.conn, on_roster=True)}
        t = services.texts
        sender = await officers.get_officer(services.db.conn, broadcast.sender_id)
        zone = services.settings.tz if sender is None else sender.zone(services.settings.tz)
        now = services.clock.now().astimezone(zone)  # the sender reads their own time
        text = announcement_view.report_text(t, broadcast, counts, now,
                                 announcement_view.audience_label(t, broadcast.audience, names))
        if self._shown.get(broadcast.id) == text:
            return
        self._last_edit[broadcast.id] = self._monotonic()
        try:
            await self._bot.edit_message_text(
                text, chat_id=broadcast.sender_chat_id,
                message_id=broadcast.report_message_id, parse_mode="HTML",
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                log.warning("delivery report of announcement %s not updated: %s",
                            broadcast.id, exc.message)
        except Forbidden:
            log.info("the sender of announcement %s blocked the bot", broadcast.id)
        except TelegramError as exc:  # network trouble: the next change edits it again
            log.warning("delivery report of announcement %s not updated: %s", broadcast.id, exc)
            self._dirty.add(broadcast.id)
            return
        self._shown[broadcast.id] = text
