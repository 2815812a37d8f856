"""Announcements: the rules of a draft and the texts around it, as plain functions.

Who may send to whom lives in `bot/audience.py`; storage and the outbox in
`db/broadcasts.py`; sending in `bot/outbox.py`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time, tzinfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import audience as aud
from bot import formatting as fmt
from bot.report_rules import Problem
from bot.texts import Raw, Texts
from db.broadcasts import Broadcast, Counts, Unread

TEXT_MAX = 3500
# Telegram captions hold 1024 characters; the header of the announcement needs some of them.
CAPTION_TEXT_MAX = 900
READ_PREFIX = "baca"
UNREAD_NAMES_SHOWN = 15
PREVIEW_CHARS = 60

_WHEN = re.compile(
    r"^(?:(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})(?:[/.-](?P<y>\d{2}|\d{4}))?\s+)?"
    r"(?P<hh>\d{1,2})[:.](?P<mm>\d{2})$"
)


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


def when_text(moment: datetime, tz: tzinfo | None, language: str) -> str:
    """'Senin, 17 Okt 2022 19:30' in the deployment's time zone."""
    local = moment.astimezone(tz)
    return f"{fmt.day(local.date(), language)} {local:%H:%M}"


def audience_label(t: Texts, audience: str, kecamatan_names: Mapping[str, str]) -> str:
    if audience.startswith(aud.ROLE_PREFIX):
        return t(f"bc_aud_role_{audience.removeprefix(aud.ROLE_PREFIX)}")
    if audience.startswith(aud.KECAMATAN_PREFIX):
        code = audience.removeprefix(aud.KECAMATAN_PREFIX)
        return t("bc_aud_kec", name=kecamatan_names.get(code, code))
    return t(f"bc_aud_{audience}")


def announcement_text(t: Texts, *, sender_name: str, sender_role: str, text: str) -> str:
    """What the recipients read; the sender's text is escaped, never taken as HTML."""
    return t("bc_message", name=sender_name, role=t(f"bc_role_{sender_role}"), text=text)


def read_markup(t: Texts, recipient_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("bc_btn_read"), callback_data=f"{READ_PREFIX}:{recipient_id}")]]
    )


def parse_read_data(data: str) -> int | None:
    prefix, _, rest = data.partition(":")
    if prefix != READ_PREFIX or not re.fullmatch(r"[0-9]{1,18}", rest):  # an id SQLite can hold
        return None
    return int(rest)


def _counts_line(t: Texts, key: str, counts: Counts) -> str:
    lang = t.language
    return t(key, sent=fmt.number(counts.sent, lang), total=fmt.number(counts.total, lang),
             read=fmt.number(counts.read, lang), failed=fmt.number(counts.failed, lang),
             unreachable=fmt.number(counts.unreachable, lang),
             pending=fmt.number(counts.pending, lang))


def report_text(
    t: Texts, broadcast: Broadcast, counts: Counts, now: datetime, audience_name: str
) -> str:
    """The delivery report the sender sees, kept up to date by editing one message."""
    lang = t.language
    if counts.pending == 0:
        state = t("bc_state_done")
    elif broadcast.send_at > now:
        state = t("bc_state_scheduled", when=when_text(broadcast.send_at, now.tzinfo, lang))
    else:
        state = t("bc_state_sending")
    text = t("bc_report", id=broadcast.id, audience=audience_name, state=state,
             counts=Raw(_counts_line(t, "bc_counts", counts)))
    if broadcast.unlinked_count:
        text += t("bc_report_unlinked", count=fmt.number(broadcast.unlinked_count, lang))
    return text


def unread_names(t: Texts, people: list[Unread]) -> str:
    """'Putri PPL, Panji PPL (gagal) dan 3 lainnya'; delivery problems named beside each."""
    shown = []
    for person in people[:UNREAD_NAMES_SHOWN]:
        suffix = "" if person.status == "sent" else t(f"bc_status_{person.status}")
        shown.append(fmt.esc(person.name) + suffix)
    text = ", ".join(shown)
    if len(people) > UNREAD_NAMES_SHOWN:
        text += t("bc_more", count=fmt.number(len(people) - UNREAD_NAMES_SHOWN, t.language))
    return text


def list_item(
    t: Texts,
    broadcast: Broadcast,
    counts: Counts,
    people: list[Unread],
    *,
    tz: tzinfo,
    audience_name: str,
    show_sender: bool,
) -> str:
    """One announcement in `/pengumuman`: when, to whom, counts, and who has not read it."""
    lang = t.language
    preview = " ".join(broadcast.text.split())
    if len(preview) > PREVIEW_CHARS:
        preview = preview[: PREVIEW_CHARS - 1] + "…"
    sender = t("bc_list_sender", name=broadcast.sender_name) if show_sender else ""
    lines = [
        t("bc_list_item", id=broadcast.id, when=when_text(broadcast.send_at, tz, lang),
          audience=audience_name, sender=Raw(sender), preview=preview),
        _counts_line(t, "bc_counts", counts),
    ]
    if not people:
        lines.append(t("bc_list_all_read"))
    else:
        lines.append(t("bc_list_unread", count=fmt.number(len(people), lang),
                       names=Raw(unread_names(t, people))))
    return "\n".join(lines)
