"""How announcements read: the message the recipients get, the sender's delivery status, and
the list of `/pengumuman`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo

from bot.present import formatting as fmt
from bot.present.texts import Raw, Texts
from bot.rules import announcements as rules
from bot.rules import audience as aud
from db.models import Broadcast, Counts, Unread

UNREAD_NAMES_SHOWN = 15
PREVIEW_CHARS = 60


def when_text(moment: datetime, tz: tzinfo | None, language: str) -> str:
    """'Senin, 17 Okt 2022 pukul 19.30 WIB' in the deployment's time zone, with the zone."""
    return fmt.day_time(moment, tz, language)


def paid_cost(t: Texts, recipients: int) -> str:
    """The preview's line on what a paid broadcast to `recipients` may cost, at most."""
    stars = rules.paid_broadcast_stars(recipients)
    return t("bc_preview_paid_cost", stars=fmt.number(stars, t.language))


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


def _counts_line(t: Texts, key: str, counts: Counts) -> str:
    lang = t.language
    return t(key, sent=fmt.number(counts.sent, lang), total=fmt.number(counts.total, lang),
             read=fmt.number(counts.read, lang), failed=fmt.number(counts.failed, lang),
             unreachable=fmt.number(counts.unreachable, lang),
             pending=fmt.number(counts.pending, lang))


def report_text(
    t: Texts, broadcast: Broadcast, counts: Counts, now: datetime, audience_name: str
) -> str:
    """The delivery status the sender sees ("Status pengiriman pengumuman #1", never called a
    report: that is the daily report), kept up to date by editing one message."""
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
