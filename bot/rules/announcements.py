"""Announcements: the rules of a draft (text length, the time it is sent at, the read button).

Who may send to whom lives in `bot/rules/audience.py`; how an announcement and its delivery
report read in `bot/present/announcements.py`; storage in `db/broadcasts.py`; sending in
`bot/messaging/outbox.py`.
"""

from __future__ import annotations

import re
from datetime import datetime, time

from bot.rules.report import Problem

TEXT_MAX = 3500
# Telegram captions hold 1024 characters; the header of the announcement needs some of them.
CAPTION_TEXT_MAX = 900
READ_PREFIX = "baca"

_WHEN = re.compile(
    r"^(?:(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2}|\d{4}))?\s+)?"
    r"(?P<hh>\d{1,2})[:.](?P<mm>\d{2})$"
)


# Telegram's paid broadcasts: 0.1 Star a message above the free 30 a second.
PAID_STARS_PER_TEN_MESSAGES = 1


def paid_broadcast_stars(recipients: int) -> int:
    """The most Stars an announcement to `recipients` may cost as a paid broadcast: 0.1 Star a
    message, rounded up. An upper bound: the messages within the free 30/s cost nothing."""
    return -(-recipients * PAID_STARS_PER_TEN_MESSAGES // 10)


def text_limit(with_media: bool) -> int:
    return CAPTION_TEXT_MAX if with_media else TEXT_MAX


def check_text(text: str, *, with_media: bool) -> Problem | None:
    """An announcement text must have 1..3500 characters (900 as a photo/document caption)."""
    limit = text_limit(with_media)
    if not text.strip():
        return Problem("bc_text_empty")
    if len(text) > limit:
        return Problem("bc_text_too_long", {"length": len(text), "max": limit})
    return None


def parse_send_at(text: str, now: datetime) -> datetime | Problem:
    """'HH:MM' today or 'DD/MM HH:MM' (also with '.'), local time; it must be in the future."""
    match = _WHEN.match(text.strip())
    if match is None:
        return Problem("bc_bad_time")
    try:
        clock = time(int(match["hh"]), int(match["mm"]))
        day = now.date()
        if match["d"] is not None:
            year = match["y"] or str(now.year)
            year = f"20{year}" if len(year) == 2 else year
            day = day.replace(year=int(year), month=int(match["m"]), day=int(match["d"]))
    except ValueError:
        return Problem("bc_bad_time")
    moment = datetime.combine(day, clock, now.tzinfo)
    if moment <= now:
        return Problem("bc_time_past", {"when": moment})
    return moment


def parse_read_data(data: str) -> int | None:
    prefix, _, rest = data.partition(":")
    if prefix != READ_PREFIX or not re.fullmatch(r"[0-9]{1,18}", rest):  # an id SQLite can hold
        return None
    return int(rest)


